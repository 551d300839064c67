//! The one error every identifier parser returns.

/// The longest slice of an offending value an [`IdError`] keeps, in characters.
const SHOWN_CHARS: usize = 80;

/// A value was refused as an identifier.
///
/// The offending value may be attacker-chosen (a pod name from a compromised cluster), so it is
/// kept escaped with `{:?}` and truncated: printing the error can never inject a newline into a
/// log line or flood it with a megabyte of junk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value}: {reason}")]
pub struct IdError {
    /// What was being parsed, e.g. `"pod name"`.
    pub kind: &'static str,
    /// The offending value, escaped with `{:?}` and truncated to 80 characters (a trailing `…`
    /// marks truncation).
    pub value: String,
    /// Which rule it breaks.
    pub reason: String,
}

impl IdError {
    /// Builds the error, escaping and truncating `value`.
    pub fn new(kind: &'static str, value: &str, reason: impl Into<String>) -> Self {
        let mut chars = value.chars();
        let shown: String = chars.by_ref().take(SHOWN_CHARS).collect();
        let value = if chars.next().is_some() {
            format!("{shown:?}…")
        } else {
            format!("{shown:?}")
        };
        Self {
            kind,
            value,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_is_escaped_and_truncated() {
        let err = IdError::new("pod name", "a\nb", "bad");
        assert_eq!(err.value, r#""a\nb""#);
        assert_eq!(err.to_string(), r#"invalid pod name "a\nb": bad"#);

        let long = "x".repeat(500);
        let err = IdError::new("pod name", &long, "too long");
        assert_eq!(err.value, format!("{:?}…", "x".repeat(80)));
    }
}
