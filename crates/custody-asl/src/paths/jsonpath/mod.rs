//! JSONPath as Step Functions evaluates it: the Java Jayway library's semantics.
//!
//! Why our own: every Rust JSONPath crate differs from Jayway on exactly the cases that decide
//! whether an AWS execution fails. Jayway rules reproduced here:
//! - a *definite* path (only names and single indexes) yields one value, and finding nothing is an
//!   error (`No results for path: $['a']`, or `Missing property in path $['a']` when an
//!   intermediate property is absent);
//! - an *indefinite* path (`..`, `*`, slices, unions, filters) yields an array of every match,
//!   possibly empty, and silently skips branches that do not match;
//! - paths are printed in Jayway's bracket notation (`$['a'][0]`) in messages.

use serde_json::Value;
use std::fmt;

/// Which document a path reads: the state input (`$`) or the context object (`$$`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// `$`: the effective input of the state.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable (the name is the path's first property).
    Variable,
}

/// The key under which the executor puts the visible workflow variables into the context
/// document it hands to evaluation. A NUL cannot appear in a name a definition reads, and the
/// key is removed wherever `$$` is read whole or handed out.
pub(crate) const VARS_KEY: &str = "\u{0}variables";

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Segment {
    /// `.name` or `['name']`.
    Property(String),
    /// `['a','b']`: several properties (merged into one object when last).
    Properties(Vec<String>),
    /// `[n]` (negative counts from the end).
    Index(i64),
    /// `[n,m]`.
    Indexes(Vec<i64>),
    /// `.*` or `[*]`.
    Wildcard,
    /// `[start:end]`.
    Slice(Option<i64>, Option<i64>),
    /// `..` followed by the segment applied at every depth.
    DeepScan(Box<Segment>),
    /// `[?(...)]`.
    Filter(Box<FilterExpr>),
}

/// A filter expression inside `[?(...)]`: enough of Jayway's predicate language for the paths
/// people write in Step Functions (`@.a`, comparisons, `&&`, `||`, `!`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FilterExpr {
    /// `a && b`.
    And(Box<FilterExpr>, Box<FilterExpr>),
    /// `a || b`.
    Or(Box<FilterExpr>, Box<FilterExpr>),
    /// `!a`.
    Not(Box<FilterExpr>),
    /// `@.a` alone: the property exists (and is not false/null in Jayway's truthiness).
    Exists(FilterOperand),
    /// `left op right`.
    Compare(FilterOperand, CompareOp, FilterOperand),
}

/// An operand of a filter comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FilterOperand {
    /// `@...` relative to the element under test.
    Current(Vec<Segment>),
    /// `$...` relative to the document root.
    Root(Vec<Segment>),
    /// A JSON literal (string, number, boolean, null).
    Literal(Value),
}

/// Comparison operators in filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A compiled JSONPath expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    source: String,
    root: Root,
    segments: Vec<Segment>,
    definite: bool,
}

/// Why a path could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at offset {offset}")]
pub struct PathSyntaxError {
    /// What is wrong.
    pub reason: String,
    /// Byte offset in the path string.
    pub offset: usize,
}

/// Why a definite path found nothing, worded as Jayway words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PathNotFound(pub String);

impl JsonPath {
    /// Parses `$...` or `$$...`.
    ///
    /// # Errors
    /// [`PathSyntaxError`] when the text is not a JSONPath.
    pub fn parse(source: &str) -> Result<Self, PathSyntaxError> {
        let (root, segments) = parser::parse(source)?;
        let definite = segments.iter().all(Segment::is_definite);
        Ok(Self {
            source: source.to_owned(),
            root,
            segments,
            definite,
        })
    }

    /// The text the path was parsed from.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether it reads the context object (`$$`).
    pub fn root(&self) -> Root {
        self.root
    }

    /// A definite path returns one value; an indefinite one an array of matches.
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// Whether the path is just the root (`$` or `$$`).
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// Whether this is a *reference path* as Step Functions defines it: only names and single
    /// indexes (no `@ .. , : ? *`).
    pub fn is_reference(&self) -> bool {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Property(_) | Segment::Index(_)))
    }

    /// The document this path reads: the effective input, the context object, or the
    /// variables (carried inside the context document under [`VARS_KEY`]).
    pub(crate) fn document<'a>(
        &self,
        input: &'a Value,
        context: &'a Value,
    ) -> std::borrow::Cow<'a, Value> {
        use std::borrow::Cow;
        static NO_VARIABLES: std::sync::LazyLock<Value> =
            std::sync::LazyLock::new(|| Value::Object(serde_json::Map::new()));
        match self.root {
            Root::Input => Cow::Borrowed(input),
            Root::Variable => Cow::Borrowed(context.get(VARS_KEY).unwrap_or(&NO_VARIABLES)),
            Root::Context => match (self.segments.first(), context.get(VARS_KEY)) {
                (Some(Segment::Property(_)), _) | (_, None) => Cow::Borrowed(context),
                _ => Cow::Owned(without_variables(context)),
            },
        }
    }

    pub(crate) fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Evaluates the path against `doc`.
    ///
    /// # Errors
    /// [`PathNotFound`] when a definite path matches nothing (Jayway's `PathNotFoundException`).
    pub fn read(&self, doc: &Value) -> Result<Value, PathNotFound> {
        if self.definite {
            return self.read_definite(doc).cloned();
        }
        let mut out = Vec::new();
        walk(&self.segments, 0, doc, doc, true, &mut out)?;
        Ok(Value::Array(out.into_iter().cloned().collect()))
    }

    /// Evaluates a definite path without copying the result.
    ///
    /// # Errors
    /// [`PathNotFound`] as [`JsonPath::read`]; an indefinite path is read into a fresh array, so
    /// callers that need a reference must check [`JsonPath::is_definite`] first.
    pub fn read_definite<'v>(&self, doc: &'v Value) -> Result<&'v Value, PathNotFound> {
        let mut node = doc;
        let last = self.segments.len().saturating_sub(1);
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Property(name) => match node {
                    Value::Object(map) => match map.get(name) {
                        Some(v) => node = v,
                        None if i == last => {
                            return Err(PathNotFound(format!(
                                "No results for path: {}",
                                self.display_prefix(i + 1)
                            )));
                        }
                        None => {
                            return Err(PathNotFound(format!(
                                "Missing property in path {}",
                                self.display_prefix(i + 1)
                            )));
                        }
                    },
                    other => {
                        return Err(PathNotFound(format!(
                            "Expected to find an object with property {} in path {} but found '{}'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JsonSmartJsonProvider'.",
                            seg,
                            self.display_prefix(i),
                            java_class(other)
                        )));
                    }
                },
                Segment::Index(idx) => match node {
                    Value::Array(items) => match resolve_index(*idx, items.len()) {
                        Some(j) => node = &items[j],
                        None => {
                            return Err(PathNotFound(format!(
                                "No results for path: {}",
                                self.display_prefix(self.segments.len())
                            )));
                        }
                    },
                    Value::Null => {
                        return Err(PathNotFound(format!(
                            "The path {} is null",
                            self.display_prefix(i)
                        )));
                    }
                    other => {
                        return Err(PathNotFound(format!(
                            "Filter: {} can only be applied to arrays. Current context is: {}",
                            seg, other
                        )));
                    }
                },
                // Only reachable for `Properties` as the last segment (the merge case).
                Segment::Properties(_) => {
                    return Err(PathNotFound(format!(
                        "No results for path: {}",
                        self.display_prefix(i + 1)
                    )));
                }
                _ => {
                    return Err(PathNotFound(format!(
                        "No results for path: {}",
                        self.display_prefix(i + 1)
                    )));
                }
            }
        }
        Ok(node)
    }

    fn display_prefix(&self, n: usize) -> String {
        let mut s = String::from("$");
        for seg in &self.segments[..n.min(self.segments.len())] {
            s.push_str(&seg.to_string());
        }
        s
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Segment {
    fn is_definite(&self) -> bool {
        matches!(self, Segment::Property(_) | Segment::Index(_))
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Property(n) => write!(f, "['{n}']"),
            Segment::Properties(ns) => {
                let parts: Vec<String> = ns.iter().map(|n| format!("'{n}'")).collect();
                write!(f, "[{}]", parts.join(","))
            }
            Segment::Index(i) => write!(f, "[{i}]"),
            Segment::Indexes(is) => {
                let parts: Vec<String> = is.iter().map(i64::to_string).collect();
                write!(f, "[{}]", parts.join(","))
            }
            Segment::Wildcard => f.write_str("[*]"),
            Segment::Slice(a, b) => {
                let a = a.map(|v| v.to_string()).unwrap_or_default();
                let b = b.map(|v| v.to_string()).unwrap_or_default();
                write!(f, "[{a}:{b}]")
            }
            Segment::DeepScan(inner) => write!(f, "..{inner}"),
            Segment::Filter(_) => f.write_str("[?]"),
        }
    }
}

/// The Java class json-smart would hold this value as, for Jayway-worded messages.
fn java_class(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(n) if n.is_f64() => "java.lang.Double",
        Value::Number(_) => "java.lang.Integer",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "net.minidev.json.JSONArray",
        Value::Object(_) => "net.minidev.json.JSONObject",
    }
}

fn resolve_index(idx: i64, len: usize) -> Option<usize> {
    let len_i = i64::try_from(len).ok()?;
    let eff = if idx < 0 { len_i + idx } else { idx };
    if eff < 0 || eff >= len_i {
        None
    } else {
        usize::try_from(eff).ok()
    }
}

/// The indefinite walk. `upstream_definite` follows Jayway: while every segment so far was
/// definite, a missing intermediate property is still an error.
fn walk<'v>(
    segs: &[Segment],
    i: usize,
    node: &'v Value,
    root: &'v Value,
    upstream_definite: bool,
    out: &mut Vec<&'v Value>,
) -> Result<(), PathNotFound> {
    let Some(seg) = segs.get(i) else {
        out.push(node);
        return Ok(());
    };
    let leaf = i + 1 == segs.len();
    let next_definite = upstream_definite && seg.is_definite();
    match seg {
        Segment::Property(name) => {
            if let Value::Object(map) = node {
                match map.get(name) {
                    Some(v) => walk(segs, i + 1, v, root, next_definite, out)?,
                    None if !leaf && upstream_definite => {
                        let mut p = String::from("$");
                        for s in &segs[..=i] {
                            p.push_str(&s.to_string());
                        }
                        return Err(PathNotFound(format!("Missing property in path {p}")));
                    }
                    None => {}
                }
            }
        }
        Segment::Properties(names) => {
            if let Value::Object(map) = node {
                for n in names {
                    if let Some(v) = map.get(n) {
                        walk(segs, i + 1, v, root, false, out)?;
                    }
                }
            }
        }
        Segment::Index(idx) => {
            if let Value::Array(items) = node
                && let Some(j) = resolve_index(*idx, items.len())
            {
                walk(segs, i + 1, &items[j], root, next_definite, out)?;
            }
        }
        Segment::Indexes(idxs) => {
            if let Value::Array(items) = node {
                for idx in idxs {
                    if let Some(j) = resolve_index(*idx, items.len()) {
                        walk(segs, i + 1, &items[j], root, false, out)?;
                    }
                }
            }
        }
        Segment::Wildcard => match node {
            Value::Object(map) => {
                for v in map.values() {
                    walk(segs, i + 1, v, root, false, out)?;
                }
            }
            Value::Array(items) => {
                for v in items {
                    walk(segs, i + 1, v, root, false, out)?;
                }
            }
            _ => {}
        },
        Segment::Slice(from, to) => {
            if let Value::Array(items) = node {
                let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                let norm = |v: i64| if v < 0 { (len + v).max(0) } else { v.min(len) };
                let a = from.map_or(0, norm);
                let b = to.map_or(len, norm);
                let mut k = a;
                while k < b {
                    if let Ok(j) = usize::try_from(k) {
                        walk(segs, i + 1, &items[j], root, false, out)?;
                    }
                    k += 1;
                }
            }
        }
        Segment::Filter(expr) => match node {
            Value::Array(items) => {
                for v in items {
                    if filter_matches(expr, v, root) {
                        walk(segs, i + 1, v, root, false, out)?;
                    }
                }
            }
            Value::Object(_) if filter_matches(expr, node, root) => {
                walk(segs, i + 1, node, root, false, out)?;
            }
            _ => {}
        },
        Segment::DeepScan(inner) => {
            let mut hits = Vec::new();
            scan(inner, node, root, &mut hits);
            for h in hits {
                walk(segs, i + 1, h, root, false, out)?;
            }
        }
    }
    Ok(())
}

/// Pre-order scan used by `..`: apply `inner` at this node, then at every descendant.
fn scan<'v>(inner: &Segment, node: &'v Value, root: &'v Value, out: &mut Vec<&'v Value>) {
    let single = std::slice::from_ref(inner);
    match node {
        Value::Object(map) => {
            let _ = walk(single, 0, node, root, false, out);
            for v in map.values() {
                scan(inner, v, root, out);
            }
        }
        Value::Array(items) => {
            let _ = walk(single, 0, node, root, false, out);
            for v in items {
                scan(inner, v, root, out);
            }
        }
        _ => {}
    }
}

fn operand_value<'v>(
    op: &'v FilterOperand,
    current: &'v Value,
    root: &'v Value,
) -> Option<&'v Value> {
    let (segs, base) = match op {
        FilterOperand::Literal(v) => return Some(v),
        FilterOperand::Current(segs) => (segs, current),
        FilterOperand::Root(segs) => (segs, root),
    };
    let mut out = Vec::new();
    walk(segs, 0, base, root, false, &mut out).ok()?;
    if out.len() == 1 { out.pop() } else { None }
}

fn filter_matches(expr: &FilterExpr, current: &Value, root: &Value) -> bool {
    match expr {
        FilterExpr::And(a, b) => {
            filter_matches(a, current, root) && filter_matches(b, current, root)
        }
        FilterExpr::Or(a, b) => {
            filter_matches(a, current, root) || filter_matches(b, current, root)
        }
        FilterExpr::Not(a) => !filter_matches(a, current, root),
        FilterExpr::Exists(op) => operand_value(op, current, root).is_some(),
        FilterExpr::Compare(l, op, r) => {
            let (Some(l), Some(r)) = (
                operand_value(l, current, root),
                operand_value(r, current, root),
            ) else {
                return false;
            };
            compare(l, *op, r)
        }
    }
}

fn compare(l: &Value, op: CompareOp, r: &Value) -> bool {
    use std::cmp::Ordering;
    let ord = match (l, r) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => {
            return match op {
                CompareOp::Eq => l == r,
                CompareOp::Ne => l != r,
                _ => false,
            };
        }
    };
    let Some(ord) = ord else { return false };
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
    }
}

mod parser;
#[cfg(test)]
mod tests;

/// `context` without the variables the executor carries in it.
pub(crate) fn without_variables(context: &Value) -> Value {
    let mut c = context.clone();
    if let Some(o) = c.as_object_mut() {
        o.shift_remove(VARS_KEY);
    }
    c
}
