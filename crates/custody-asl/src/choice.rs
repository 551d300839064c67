//! Choice rules: every comparison operator and its `Path` form, the `Is*` type tests,
//! `StringMatches` with its escapes, and `And`/`Or`/`Not`, evaluated as Step Functions does: a
//! type mismatch is simply "no match", but a `Variable` that does not exist is a
//! `States.Runtime` failure (except under `IsPresent`).

use crate::error::EvalError;
use crate::paths::{JsonPath, Root};
use crate::timestamp;
use serde_json::Value;
use std::cmp::Ordering;
use time::OffsetDateTime;

/// What kind of values an operator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Numeric,
    Boolean,
    Timestamp,
    StringMatches,
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

/// How two values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone)]
pub(crate) enum Operand {
    Literal(Value),
    Timestamp(OffsetDateTime),
    Path(JsonPath),
    Pattern(regex::Regex),
}

/// A Choice rule.
#[derive(Debug, Clone)]
pub(crate) enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Test {
        variable: JsonPath,
        kind: Kind,
        cmp: Cmp,
        operand: Operand,
    },
}

/// Splits an operator name such as `NumericLessThanEqualsPath` into its parts.
pub(crate) fn operator(name: &str) -> Option<(Kind, Cmp, bool)> {
    let (base, is_path) = match name.strip_suffix("Path") {
        Some(b) if b != "Is" && !b.is_empty() => (b, true),
        _ => (name, false),
    };
    let simple = |k| Some((k, Cmp::Eq, false));
    match base {
        "StringMatches" if !is_path => return simple(Kind::StringMatches),
        "IsNull" if !is_path => return simple(Kind::IsNull),
        "IsPresent" if !is_path => return simple(Kind::IsPresent),
        "IsNumeric" if !is_path => return simple(Kind::IsNumeric),
        "IsString" if !is_path => return simple(Kind::IsString),
        "IsBoolean" if !is_path => return simple(Kind::IsBoolean),
        "IsTimestamp" if !is_path => return simple(Kind::IsTimestamp),
        "BooleanEquals" => return Some((Kind::Boolean, Cmp::Eq, is_path)),
        _ => {}
    }
    let (kind, rest) = if let Some(r) = base.strip_prefix("String") {
        (Kind::String, r)
    } else if let Some(r) = base.strip_prefix("Numeric") {
        (Kind::Numeric, r)
    } else if let Some(r) = base.strip_prefix("Timestamp") {
        (Kind::Timestamp, r)
    } else {
        return None;
    };
    let cmp = match rest {
        "Equals" => Cmp::Eq,
        "LessThan" => Cmp::Lt,
        "GreaterThan" => Cmp::Gt,
        "LessThanEquals" => Cmp::Le,
        "GreaterThanEquals" => Cmp::Ge,
        _ => return None,
    };
    Some((kind, cmp, is_path))
}

/// Compiles a `StringMatches` pattern: `*` matches any run of characters, `\*` a literal star,
/// `\\` a literal backslash.
pub(crate) fn compile_pattern(pattern: &str) -> Result<regex::Regex, String> {
    let mut re = String::from("(?s)^");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str(".*"),
            '\\' => match chars.next() {
                Some(n) => re.push_str(&regex::escape(&n.to_string())),
                None => {
                    return Err(
                        "a StringMatches pattern cannot end with a lone backslash".to_owned()
                    );
                }
            },
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).map_err(|e| format!("invalid StringMatches pattern ({e})"))
}

fn lookup<'v>(
    path: &JsonPath,
    input: &'v Value,
    context: &'v Value,
) -> Option<std::borrow::Cow<'v, Value>> {
    match path.document(input, context) {
        std::borrow::Cow::Borrowed(doc) if path.is_definite() => {
            path.read_definite(doc).ok().map(std::borrow::Cow::Borrowed)
        }
        doc => path.read(&doc).ok().map(std::borrow::Cow::Owned),
    }
}

impl Rule {
    /// Whether the rule (or an operand path) reads the context object.
    pub(crate) fn uses_context(&self) -> bool {
        match self {
            Rule::And(rs) | Rule::Or(rs) => rs.iter().any(Rule::uses_context),
            Rule::Not(r) => r.uses_context(),
            Rule::Test {
                variable, operand, ..
            } => {
                variable.root() != Root::Input
                    || matches!(operand, Operand::Path(p) if p.root() != Root::Input)
            }
        }
    }

    /// Whether the rule matches.
    ///
    /// # Errors
    /// `States.Runtime` when the `Variable` (or a comparison path) references nothing.
    pub(crate) fn matches(&self, input: &Value, context: &Value) -> Result<bool, EvalError> {
        match self {
            Rule::And(rs) => {
                for r in rs {
                    if !r.matches(input, context)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rs) => {
                for r in rs {
                    if r.matches(input, context)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!r.matches(input, context)?),
            Rule::Test {
                variable,
                kind,
                cmp,
                operand,
            } => {
                let value = lookup(variable, input, context);
                if *kind == Kind::IsPresent {
                    return Ok(
                        value.is_some() == matches!(operand, Operand::Literal(Value::Bool(true)))
                    );
                }
                let Some(value) = value else {
                    return Err(EvalError::runtime(format!(
                        "Invalid path '{}': The choice state's condition path references an invalid value.",
                        variable.as_str()
                    )));
                };
                test(&value, *kind, *cmp, operand, input, context)
            }
        }
    }
}

fn test(
    value: &Value,
    kind: Kind,
    cmp: Cmp,
    operand: &Operand,
    input: &Value,
    context: &Value,
) -> Result<bool, EvalError> {
    let expected_bool = || matches!(operand, Operand::Literal(Value::Bool(true)));
    match kind {
        Kind::IsNull => return Ok(value.is_null() == expected_bool()),
        Kind::IsNumeric => return Ok(value.is_number() == expected_bool()),
        Kind::IsString => return Ok(value.is_string() == expected_bool()),
        Kind::IsBoolean => return Ok(value.is_boolean() == expected_bool()),
        Kind::IsTimestamp => {
            return Ok(value.as_str().and_then(timestamp::parse).is_some() == expected_bool());
        }
        Kind::StringMatches => {
            return Ok(match (value, operand) {
                (Value::String(s), Operand::Pattern(re)) => re.is_match(s),
                _ => false,
            });
        }
        Kind::IsPresent | Kind::String | Kind::Numeric | Kind::Boolean | Kind::Timestamp => {}
    }
    let resolved;
    let rhs: &Value = match operand {
        Operand::Literal(v) => v,
        Operand::Path(p) => {
            resolved = lookup(p, input, context).ok_or_else(|| {
                EvalError::runtime(format!("Invalid path '{}': The choice state's comparison path references an invalid value.", p.as_str()))
            })?;
            &resolved
        }
        Operand::Timestamp(t) => {
            return Ok(value
                .as_str()
                .and_then(timestamp::parse)
                .is_some_and(|v| ordered(v.cmp(t), cmp)));
        }
        Operand::Pattern(_) => return Ok(false),
    };
    let ord = match (kind, value, rhs) {
        (Kind::String, Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Kind::Numeric, Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => a
                .as_f64()
                .zip(b.as_f64())
                .and_then(|(a, b)| a.partial_cmp(&b)),
        },
        (Kind::Boolean, Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Kind::Timestamp, Value::String(a), Value::String(b)) => {
            match (timestamp::parse(a), timestamp::parse(b)) {
                (Some(a), Some(b)) => Some(a.cmp(&b)),
                _ => None,
            }
        }
        _ => None,
    };
    Ok(ord.is_some_and(|o| ordered(o, cmp)))
}

fn ordered(o: Ordering, cmp: Cmp) -> bool {
    match cmp {
        Cmp::Eq => o == Ordering::Equal,
        Cmp::Lt => o == Ordering::Less,
        Cmp::Gt => o == Ordering::Greater,
        Cmp::Le => o != Ordering::Greater,
        Cmp::Ge => o != Ordering::Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names() {
        assert_eq!(
            operator("NumericLessThanEqualsPath"),
            Some((Kind::Numeric, Cmp::Le, true))
        );
        assert_eq!(
            operator("StringEquals"),
            Some((Kind::String, Cmp::Eq, false))
        );
        assert_eq!(
            operator("BooleanEqualsPath"),
            Some((Kind::Boolean, Cmp::Eq, true))
        );
        assert_eq!(
            operator("TimestampGreaterThan"),
            Some((Kind::Timestamp, Cmp::Gt, false))
        );
        assert_eq!(
            operator("IsPresent"),
            Some((Kind::IsPresent, Cmp::Eq, false))
        );
        assert_eq!(operator("StringMatchesPath"), None);
        assert_eq!(operator("NumericNear"), None);
    }

    #[test]
    fn string_matches_escapes() {
        let re = compile_pattern("log-*.txt").unwrap();
        assert!(re.is_match("log-2024.txt"));
        assert!(!re.is_match("log-2024.txt.gz"));
        let star = compile_pattern("a\\*b").unwrap();
        assert!(star.is_match("a*b"));
        assert!(!star.is_match("axxb"));
        let bs = compile_pattern("a\\\\*").unwrap();
        assert!(bs.is_match("a\\anything"));
        assert!(compile_pattern("x\\").is_err());
    }
}
