//! Writing through a reference path: how `ResultPath` places a result into the state input.

use super::jsonpath::{JsonPath, Segment};
use crate::error::{EvalError, names};
use serde_json::{Map, Value};

/// Places `value` at `path` inside `input`, creating missing objects on the way, as Step
/// Functions does for `ResultPath`.
///
/// # Errors
/// `States.ResultPathMatchFailure` when the path crosses a value that is not an object (or an
/// array index that does not exist).
pub(crate) fn apply_result_path(
    path: &JsonPath,
    input: Value,
    value: Value,
) -> Result<Value, EvalError> {
    if path.is_root() {
        return Ok(value);
    }
    let failure = |input: &Value| EvalError {
        error: names::RESULT_PATH_MATCH_FAILURE,
        message: format!(
            "Unable to apply ReferencePath {} to input {}",
            path.as_str(),
            input
        ),
    };
    let mut doc = input;
    let ok = {
        let mut node = &mut doc;
        let segs = path.segments();
        let mut ok = true;
        for (i, seg) in segs.iter().enumerate() {
            let last = i + 1 == segs.len();
            match seg {
                Segment::Property(name) => {
                    let Value::Object(map) = node else {
                        ok = false;
                        break;
                    };
                    if last {
                        map.insert(name.clone(), value);
                        return Ok(doc);
                    }
                    node = map
                        .entry(name.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                }
                Segment::Index(idx) => {
                    let Value::Array(items) = node else {
                        ok = false;
                        break;
                    };
                    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                    let eff = if *idx < 0 { len + idx } else { *idx };
                    let Some(j) = usize::try_from(eff).ok().filter(|j| *j < items.len()) else {
                        ok = false;
                        break;
                    };
                    if last {
                        items[j] = value;
                        return Ok(doc);
                    }
                    node = &mut items[j];
                }
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        ok
    };
    debug_assert!(!ok, "a non-root path always returns from inside the loop");
    Err(failure(&doc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(p: &str, input: Value, v: Value) -> Result<Value, EvalError> {
        apply_result_path(&JsonPath::parse(p).unwrap(), input, v)
    }

    #[test]
    fn creates_missing_objects_and_replaces_existing_values() {
        assert_eq!(apply("$", json!({"a": 1}), json!(2)).unwrap(), json!(2));
        assert_eq!(
            apply("$.r", json!({"a": 1}), json!(2)).unwrap(),
            json!({"a": 1, "r": 2})
        );
        assert_eq!(
            apply("$.x.y", json!({}), json!(true)).unwrap(),
            json!({"x": {"y": true}})
        );
        assert_eq!(
            apply("$.a[1]", json!({"a": [0, 0]}), json!(5)).unwrap(),
            json!({"a": [0, 5]})
        );
    }

    #[test]
    fn fails_on_non_objects() {
        let e = apply("$.a.b", json!({"a": "s"}), json!(1)).unwrap_err();
        assert_eq!(e.error, names::RESULT_PATH_MATCH_FAILURE);
        assert_eq!(
            e.message,
            "Unable to apply ReferencePath $.a.b to input {\"a\":\"s\"}"
        );
        assert!(apply("$.x", json!("str"), json!(1)).is_err());
        assert!(apply("$.a[5]", json!({"a": []}), json!(1)).is_err());
    }
}
