//! Typed reading of definition fields, collecting every problem with its JSON pointer instead
//! of stopping at the first.

use crate::error::{ValidationError, ptr};
use crate::jsonata::{Expr, expression_body};
use crate::model::{Lang, NumberOrPath, PathField};
use crate::paths::JsonPath;
use serde_json::{Map, Value};

/// Collects validation errors while the definition is read.
#[derive(Debug, Default)]
pub(crate) struct Checker {
    pub errors: Vec<ValidationError>,
    /// The query language of the state being read.
    pub lang: Lang,
    /// The machine's top-level query language (states inherit it).
    pub top_lang: Lang,
}

/// Fields only JSONPath states have.
pub(crate) const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "ItemsPath",
    "Result",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
    "ErrorPath",
    "CausePath",
    "Iterator",
    "Variable",
];
/// Fields only JSONata states have.
pub(crate) const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items", "Condition"];

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Checker {
    pub(crate) fn err(&mut self, pointer: impl Into<String>, reason: impl Into<String>) {
        self.errors.push(ValidationError {
            pointer: pointer.into(),
            reason: reason.into(),
        });
    }

    pub(crate) fn object<'v>(
        &mut self,
        v: &'v Value,
        pointer: &str,
    ) -> Option<&'v Map<String, Value>> {
        match v {
            Value::Object(m) => Some(m),
            other => {
                self.err(
                    pointer,
                    format!("must be an object, found {}", type_name(other)),
                );
                None
            }
        }
    }

    /// Reports every field of `obj` not in `allowed`, naming what it is not allowed on.
    pub(crate) fn allowed(
        &mut self,
        obj: &Map<String, Value>,
        allowed: &[&str],
        pointer: &str,
        on: &str,
    ) {
        for key in obj.keys() {
            if allowed.contains(&key.as_str()) {
                continue;
            }
            let reason = match self.lang {
                Lang::Jsonata if JSONPATH_ONLY.contains(&key.as_str()) => format!(
                    "Field '{key}' belongs to the JSONPath query language and cannot be used in a JSONata state"
                ),
                Lang::JsonPath if JSONATA_ONLY.contains(&key.as_str()) => format!(
                    "Field '{key}' belongs to the JSONata query language: it needs QueryLanguage JSONata on the state or the state machine"
                ),
                _ => format!("Field '{key}' is not supported on {on}"),
            };
            self.err(ptr(pointer, key), reason);
        }
    }

    pub(crate) fn string(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        pointer: &str,
    ) -> Option<String> {
        match obj.get(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.err(
                    ptr(pointer, key),
                    format!("must be a string, found {}", type_name(other)),
                );
                None
            }
        }
    }

    pub(crate) fn required_string(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        pointer: &str,
    ) -> Option<String> {
        if !obj.contains_key(key) {
            self.err(
                ptr(pointer, key),
                format!("required field '{key}' is missing"),
            );
            return None;
        }
        self.string(obj, key, pointer)
    }

    pub(crate) fn bool(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        pointer: &str,
    ) -> Option<bool> {
        match obj.get(key)? {
            Value::Bool(b) => Some(*b),
            other => {
                self.err(
                    ptr(pointer, key),
                    format!("must be a boolean, found {}", type_name(other)),
                );
                None
            }
        }
    }

    /// A non-negative integer within `[min, max]`.
    pub(crate) fn uint(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        pointer: &str,
        min: u64,
        max: u64,
    ) -> Option<u64> {
        let v = obj.get(key)?;
        match v.as_u64() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                let found = if v.is_number() {
                    v.to_string()
                } else {
                    type_name(v).to_owned()
                };
                self.err(
                    ptr(pointer, key),
                    format!("must be an integer between {min} and {max}, found {found}"),
                );
                None
            }
        }
    }

    /// A number within `[min, max]`.
    pub(crate) fn number(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        pointer: &str,
        min: f64,
        max: f64,
    ) -> Option<f64> {
        let v = obj.get(key)?;
        match v.as_f64() {
            Some(n) if n >= min && n <= max => Some(n),
            Some(_) => {
                self.err(
                    ptr(pointer, key),
                    format!("must be a number between {min} and {max}"),
                );
                None
            }
            None => {
                self.err(
                    ptr(pointer, key),
                    format!("must be a number, found {}", type_name(v)),
                );
                None
            }
        }
    }

    /// A JSONPath string (or `null`); `reference` restricts it to a reference path.
    pub(crate) fn path(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        pointer: &str,
        reference: bool,
    ) -> PathField {
        match obj.get(key) {
            None => PathField::Default,
            Some(Value::Null) => PathField::Null,
            Some(Value::String(s)) => match self.parse_path(s, &ptr(pointer, key), reference) {
                Some(p) => PathField::Path(p),
                None => PathField::Default,
            },
            Some(other) => {
                self.err(
                    ptr(pointer, key),
                    format!(
                        "must be a JSONPath string or null, found {}",
                        type_name(other)
                    ),
                );
                PathField::Default
            }
        }
    }

    /// Parses a path string, reporting a syntax error (or a non-reference path) at `pointer`.
    pub(crate) fn parse_path(
        &mut self,
        s: &str,
        pointer: &str,
        reference: bool,
    ) -> Option<JsonPath> {
        match JsonPath::parse(s) {
            Ok(p) if reference && !p.is_reference() => {
                self.err(pointer, format!("{s:?} must be a reference path (only names and single indexes; no '..', '*', '?', ',', ':' or '@')"));
                None
            }
            Ok(p) => Some(p),
            Err(e) => {
                self.err(pointer, format!("{s:?} is not a valid JSONPath ({e})"));
                None
            }
        }
    }

    /// `Key` or `KeyPath`, not both.
    pub(crate) fn uint_or_path(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        pointer: &str,
        min: u64,
        max: u64,
    ) -> Option<NumberOrPath<u64>> {
        let key_path = format!("{key}Path");
        if obj.contains_key(key) && obj.contains_key(&key_path) {
            self.err(
                ptr(pointer, &key_path),
                format!("'{key}' and '{key_path}' cannot both be given"),
            );
            return None;
        }
        if let Some(e) = self.jsonata_expr(obj, key, pointer) {
            return e.map(NumberOrPath::Expr);
        }
        if obj.contains_key(key) {
            return self
                .uint(obj, key, pointer, min, max)
                .map(NumberOrPath::Value);
        }
        let s = self.string(obj, &key_path, pointer)?;
        self.parse_path(&s, &ptr(pointer, &key_path), true)
            .map(NumberOrPath::Path)
    }

    /// `Key` or `KeyPath` for a decimal number.
    pub(crate) fn number_or_path(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        pointer: &str,
        min: f64,
        max: f64,
    ) -> Option<NumberOrPath<f64>> {
        let key_path = format!("{key}Path");
        if obj.contains_key(key) && obj.contains_key(&key_path) {
            self.err(
                ptr(pointer, &key_path),
                format!("'{key}' and '{key_path}' cannot both be given"),
            );
            return None;
        }
        if let Some(e) = self.jsonata_expr(obj, key, pointer) {
            return e.map(NumberOrPath::Expr);
        }
        if obj.contains_key(key) {
            return self
                .number(obj, key, pointer, min, max)
                .map(NumberOrPath::Value);
        }
        let s = self.string(obj, &key_path, pointer)?;
        self.parse_path(&s, &ptr(pointer, &key_path), true)
            .map(NumberOrPath::Path)
    }

    /// In a JSONata state, a field given as a `{% %}` string: `Some(parsed)`; otherwise `None`
    /// (the caller reads a literal).
    pub(crate) fn jsonata_expr(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        pointer: &str,
    ) -> Option<Option<Expr>> {
        let s = obj.get(key)?.as_str()?;
        if self.lang != Lang::Jsonata || expression_body(s).is_none() {
            return None;
        }
        Some(Expr::parse(s, &ptr(pointer, key), &mut self.errors))
    }
}
