//! A JSON reader that knows where it is.
//!
//! Trigger inputs are read field by field rather than derived with serde: the shapes are sniffed,
//! irrelevant parts of a finding must be tolerated, and every refusal must name the exact JSON path
//! of the field at fault (`$.detail.findings[0].Resources[1].Id`) so the operator can fix the
//! right thing at 3 a.m.

use serde_json::{Map, Value};

use super::InputError;
use crate::id::IdError;

/// A value and the JSON path it was found at.
#[derive(Debug, Clone)]
pub(crate) struct Node<'a> {
    value: &'a Value,
    path: String,
}

/// Appends `key` to `path` in dot form when it is a plain identifier, bracket form otherwise.
fn child_path(path: &str, key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{path}.{key}")
    } else {
        // serde_json escapes quotes and control characters, so the path stays one line.
        let quoted = serde_json::to_string(key).unwrap_or_else(|_| format!("{key:?}"));
        format!("{path}[{quoted}]")
    }
}

/// A short description of a JSON value's type, for error reasons.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> Node<'a> {
    /// The document root, at path `$`.
    pub(crate) fn root(value: &'a Value) -> Self {
        Self {
            value,
            path: "$".to_owned(),
        }
    }

    /// The path of this node.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// An error at this node.
    pub(crate) fn error(&self, reason: impl Into<String>) -> InputError {
        InputError {
            path: self.path.clone(),
            reason: reason.into(),
        }
    }

    /// The path a child would have (for errors about a missing key).
    pub(crate) fn child_path(&self, key: &str) -> String {
        child_path(&self.path, key)
    }

    /// This node as an object.
    pub(crate) fn object(&self) -> Result<&'a Map<String, Value>, InputError> {
        self.value.as_object().ok_or_else(|| {
            self.error(format!(
                "must be an object, found {}",
                type_name(self.value)
            ))
        })
    }

    /// True if this node is an object with `key` present and not null.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.value.get(key).is_some_and(|v| !v.is_null())
    }

    /// An optional field: `None` when absent or null.
    ///
    /// # Errors
    /// If this node is not an object.
    pub(crate) fn opt(&self, key: &str) -> Result<Option<Node<'a>>, InputError> {
        let obj = self.object()?;
        Ok(obj.get(key).filter(|v| !v.is_null()).map(|value| Node {
            value,
            path: child_path(&self.path, key),
        }))
    }

    /// A required field.
    pub(crate) fn field(&self, key: &str) -> Result<Node<'a>, InputError> {
        self.opt(key)?.ok_or_else(|| InputError {
            path: child_path(&self.path, key),
            reason: "is required".to_owned(),
        })
    }

    /// This node as an array of nodes.
    pub(crate) fn array(&self) -> Result<Vec<Node<'a>>, InputError> {
        let items = self.value.as_array().ok_or_else(|| {
            self.error(format!("must be an array, found {}", type_name(self.value)))
        })?;
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, value)| Node {
                value,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }

    /// This node as a string (any content).
    pub(crate) fn str(&self) -> Result<&'a str, InputError> {
        self.value
            .as_str()
            .ok_or_else(|| self.error(format!("must be a string, found {}", type_name(self.value))))
    }

    /// This node as free text: non-empty, at most `max` characters, no control characters.
    pub(crate) fn text(&self, max: usize) -> Result<String, InputError> {
        let s = self.str()?;
        if s.trim().is_empty() {
            return Err(self.error("must not be empty"));
        }
        let len = s.chars().count();
        if len > max {
            return Err(self.error(format!("must be at most {max} characters, got {len}")));
        }
        if let Some(c) = s
            .chars()
            .find(|c| c.is_control() || is_invisible_format(*c))
        {
            return Err(self.error(format!(
                "must not contain control or invisible formatting characters, found {c:?} (U+{:04X})",
                u32::from(c)
            )));
        }
        Ok(s.to_owned())
    }

    /// This node as an exact string.
    pub(crate) fn expect_str(&self, expected: &str) -> Result<(), InputError> {
        let s = self.str()?;
        if s == expected {
            Ok(())
        } else {
            Err(self.error(format!("must be {expected:?}, found {:?}", truncate(s))))
        }
    }

    /// This node parsed as an identifier.
    pub(crate) fn id<T>(
        &self,
        parse: impl FnOnce(&str) -> Result<T, IdError>,
    ) -> Result<T, InputError> {
        parse(self.str()?).map_err(|e| self.error(e.to_string()))
    }

    /// This node as a boolean.
    pub(crate) fn bool(&self) -> Result<bool, InputError> {
        self.value.as_bool().ok_or_else(|| {
            self.error(format!(
                "must be true or false, found {}",
                type_name(self.value)
            ))
        })
    }

    /// This node as a finite number.
    pub(crate) fn number(&self) -> Result<f64, InputError> {
        self.value
            .as_f64()
            .filter(|n| n.is_finite())
            .ok_or_else(|| self.error(format!("must be a number, found {}", type_name(self.value))))
    }

    /// Refuses keys outside `allowed` (for custody's own request formats, where an unknown key is
    /// a typo that would otherwise be silently ignored).
    pub(crate) fn only_keys(&self, allowed: &[&str]) -> Result<(), InputError> {
        let obj = self.object()?;
        match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(InputError {
                path: child_path(&self.path, k),
                reason: format!(
                    "is not a known field (expected one of: {})",
                    allowed.join(", ")
                ),
            }),
            None => Ok(()),
        }
    }
}

/// Zero-width and bidirectional formatting characters: invisible in a console or a report, they
/// can make a requester's name or a reason read differently from what it is.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// At most 80 characters of `s`, for quoting untrusted values in reasons.
pub(crate) fn truncate(s: &str) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(80).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_use_dots_and_brackets() {
        let v = serde_json::json!({"detail": {"findings": [{"Details": {"Other": {"a/b": 1}}}]}, "detail-type": "x"});
        let root = Node::root(&v);
        let other = root
            .field("detail")
            .unwrap()
            .field("findings")
            .unwrap()
            .array()
            .unwrap()[0]
            .field("Details")
            .unwrap()
            .field("Other")
            .unwrap();
        assert_eq!(other.path(), "$.detail.findings[0].Details.Other");
        let err = other.field("a/b").unwrap().str().unwrap_err();
        assert_eq!(err.path, r#"$.detail.findings[0].Details.Other["a/b"]"#);
        assert_eq!(
            root.field("detail-type").unwrap().path(),
            r#"$["detail-type"]"#
        );
        assert_eq!(root.field("missing").unwrap_err().reason, "is required");
    }

    #[test]
    fn text_refuses_control_characters() {
        let v = serde_json::json!({"who": "alice\nbob", "blank": "  "});
        let root = Node::root(&v);
        assert!(
            root.field("who")
                .unwrap()
                .text(100)
                .unwrap_err()
                .reason
                .contains("control")
        );
        assert!(root.field("blank").unwrap().text(100).is_err());
    }
}
