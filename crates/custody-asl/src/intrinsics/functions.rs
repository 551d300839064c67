//! Evaluation of each intrinsic function, with the limits and quirks of the Step Functions
//! implementation (Java rounding in `MathAdd`, Java-style object printing in `Format`,
//! tokenizer semantics in `StringSplit`, the 1,000-item cap of `ArrayRange`).

use super::parse::{Arg, Call, Func};
use crate::error::EvalError;
use base64::Engine as _;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};
use sha2::Digest as _;

/// Largest input the encoding and hashing functions accept (characters).
const MAX_ENCODE_INPUT: usize = 10_000;
/// Largest array `ArrayRange` may build.
const MAX_RANGE_ITEMS: usize = 1_000;

/// Evaluates `call` against the state input and the context object. `field` names the template
/// field for messages.
///
/// # Errors
/// `States.Runtime` when a path argument finds nothing; `States.IntrinsicFailure` when an
/// argument has the wrong type or value.
pub(crate) fn eval(
    call: &Call,
    input: &Value,
    context: &Value,
    field: &str,
) -> Result<Value, EvalError> {
    let mut args = Vec::with_capacity(call.args.len());
    for arg in &call.args {
        args.push(match arg {
            Arg::Literal(v) => v.clone(),
            Arg::Str { value, .. } => Value::String(value.clone()),
            Arg::Path(p) => {
                let doc = p.document(input, context);
                p.read(&doc).map_err(|_| {
                    EvalError::runtime(format!(
                        "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                        p.as_str(),
                        field,
                        crate::paths::template::shown(&doc)
                    ))
                })?
            }
            Arg::Call(inner) => eval(inner, input, context, field)?,
        });
    }
    let fail = |why: String| {
        EvalError::intrinsic(format!(
            "The function '{}' had the following error: {why}",
            call.source
        ))
    };
    apply(call, args).map_err(fail)
}

fn apply(call: &Call, mut args: Vec<Value>) -> Result<Value, String> {
    let name = call.func.name();
    match call.func {
        Func::Format => {
            let template = match (&call.args[0], &args[0]) {
                (Arg::Str { raw, .. }, _) => Template::Raw(raw.clone()),
                (_, Value::String(s)) => Template::Plain(s.clone()),
                (_, other) => return Err(format!("{name} expects a string template, got {other}")),
            };
            format(&template, &args[1..])
        }
        Func::StringToJson => {
            let s = as_str(&args[0], name)?;
            serde_json::from_str(s)
                .map_err(|e| format!("{name} could not parse the string as JSON ({e})"))
        }
        Func::JsonToString => Ok(Value::String(args[0].to_string())),
        Func::Array => Ok(Value::Array(args)),
        Func::ArrayPartition => {
            let size = as_int(&args[1], name)?;
            let size = usize::try_from(size)
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| format!("{name} expects a chunk size greater than 0"))?;
            let items = as_array(&args[0], name)?;
            Ok(Value::Array(
                items
                    .chunks(size)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            ))
        }
        Func::ArrayContains => {
            let items = as_array(&args[0], name)?;
            Ok(Value::Bool(items.contains(&args[1])))
        }
        Func::ArrayRange => {
            let (a, b, step) = (
                as_int(&args[0], name)?,
                as_int(&args[1], name)?,
                as_int(&args[2], name)?,
            );
            if step == 0 {
                return Err(format!("{name} expects a non-zero step"));
            }
            let mut out = Vec::new();
            let mut v = a;
            while (step > 0 && v <= b) || (step < 0 && v >= b) {
                out.push(Value::from(v));
                if out.len() > MAX_RANGE_ITEMS {
                    return Err(format!(
                        "{name} cannot build an array of more than {MAX_RANGE_ITEMS} items"
                    ));
                }
                v += step;
            }
            Ok(Value::Array(out))
        }
        Func::ArrayGetItem => {
            let idx = as_int(&args[1], name)?;
            let items = as_array(&args[0], name)?;
            usize::try_from(idx)
                .ok()
                .and_then(|i| items.get(i))
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "index {idx} is out of bounds for an array of {} item(s)",
                        items.len()
                    )
                })
        }
        Func::ArrayLength => Ok(Value::from(as_array(&args[0], name)?.len())),
        Func::ArrayUnique => {
            let items = as_array(&args[0], name)?;
            let mut out: Vec<Value> = Vec::new();
            for v in items {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Ok(Value::Array(out))
        }
        Func::Base64Encode => {
            let s = as_str(&args[0], name)?;
            check_len(s, name)?;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
            ))
        }
        Func::Base64Decode => {
            let s = as_str(&args[0], name)?;
            check_len(s, name)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| format!("{name} input is not base64 ({e})"))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| format!("{name} decoded bytes are not UTF-8"))
        }
        Func::Hash => {
            let data = match &args[0] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            check_len(&data, name)?;
            let alg = as_str(&args[1], name)?;
            let bytes = data.as_bytes();
            let hex = match alg {
                "MD5" => hex::encode(md5::Md5::digest(bytes)),
                "SHA-1" => hex::encode(sha1::Sha1::digest(bytes)),
                "SHA-256" => hex::encode(sha2::Sha256::digest(bytes)),
                "SHA-384" => hex::encode(sha2::Sha384::digest(bytes)),
                "SHA-512" => hex::encode(sha2::Sha512::digest(bytes)),
                other => {
                    return Err(format!(
                        "{name} does not support the algorithm {other:?} (use MD5, SHA-1, SHA-256, SHA-384 or SHA-512)"
                    ));
                }
            };
            Ok(Value::String(hex))
        }
        Func::JsonMerge => {
            if args[2] != Value::Bool(false) {
                return Err(format!(
                    "{name} supports only shallow merging: its third argument must be false"
                ));
            }
            let right = args.remove(1);
            let left = args.remove(0);
            match (left, right) {
                (Value::Object(mut l), Value::Object(r)) => {
                    for (k, v) in r {
                        l.insert(k, v);
                    }
                    Ok(Value::Object(l))
                }
                _ => Err(format!("{name} expects two JSON objects")),
            }
        }
        Func::MathRandom => {
            let start = as_int(&args[0], name)?;
            let end = as_int(&args[1], name)?;
            if start >= end {
                return Err(format!("{name} expects a start lower than its end"));
            }
            let v = match args.get(2) {
                Some(seed) => {
                    let seed = as_int(seed, name)?;
                    rand::rngs::StdRng::seed_from_u64(seed.unsigned_abs()).random_range(start..end)
                }
                None => rand::rng().random_range(start..end),
            };
            Ok(Value::from(v))
        }
        Func::MathAdd => {
            let a = as_int(&args[0], name)?;
            let b = as_int(&args[1], name)?;
            for v in [a, b] {
                if i32::try_from(v).is_err() {
                    return Err(format!(
                        "{name} arguments must be between -2147483648 and 2147483647"
                    ));
                }
            }
            Ok(Value::from(a + b))
        }
        Func::StringSplit => {
            let s = as_str(&args[0], name)?;
            let delims = as_str(&args[1], name)?;
            let parts = s
                .split(|c| delims.contains(c))
                .filter(|p| !p.is_empty())
                .map(|p| Value::String(p.to_owned()));
            Ok(Value::Array(parts.collect()))
        }
        Func::Uuid => Ok(Value::String(uuid::Uuid::new_v4().to_string())),
    }
}

fn as_str<'v>(v: &'v Value, name: &str) -> Result<&'v str, String> {
    v.as_str()
        .ok_or_else(|| format!("{name} expects a string, got {v}"))
}

fn as_array<'v>(v: &'v Value, name: &str) -> Result<&'v Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("{name} expects an array, got {v}"))
}

/// Integers as Step Functions reads them: a number with a fraction is rounded like Java's
/// `Math.round` (half up).
fn as_int(v: &Value, name: &str) -> Result<i64, String> {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ok(i),
            None => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                let r = (f + 0.5).floor();
                if r.is_finite() && r.abs() < 9.0e15 {
                    // Exact: |r| is far below 2^63 and has no fraction.
                    #[allow(clippy::cast_possible_truncation)]
                    Ok(r as i64)
                } else {
                    Err(format!("{name} expects an integer, got {v}"))
                }
            }
        },
        other => Err(format!("{name} expects an integer, got {other}")),
    }
}

fn check_len(s: &str, name: &str) -> Result<(), String> {
    if s.chars().count() > MAX_ENCODE_INPUT {
        return Err(format!(
            "{name} accepts at most {MAX_ENCODE_INPUT} characters"
        ));
    }
    Ok(())
}

enum Template {
    /// From a literal: escapes still present (`\{` is a literal brace, not a placeholder).
    Raw(String),
    /// From a path: every `{}` is a placeholder.
    Plain(String),
}

fn format(template: &Template, args: &[Value]) -> Result<Value, String> {
    let mut out = String::new();
    let mut next = args.iter();
    let (text, escapes) = match template {
        Template::Raw(s) => (s.as_str(), true),
        Template::Plain(s) => (s.as_str(), false),
    };
    let mut chars = text.chars().peekable();
    let mut used = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' if escapes => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                let v = next.next().ok_or_else(|| {
                    "States.Format has more {} placeholders than arguments".to_owned()
                })?;
                used += 1;
                out.push_str(&java_repr(v));
            }
            c => out.push(c),
        }
    }
    if used != args.len() {
        return Err(format!(
            "States.Format received {} argument(s) for {used} placeholder(s)",
            args.len()
        ));
    }
    Ok(Value::String(out))
}

/// How the Java implementation prints a value interpolated by `States.Format`: strings raw,
/// objects as `{k=v, k2=v2}`, arrays as `[a, b]`, scalars as JSON.
fn java_repr(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(java_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!("{{{}}}", java_map(map)),
        other => other.to_string(),
    }
}

fn java_map(map: &Map<String, Value>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={}", java_repr(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::parse_call;
    use super::*;
    use serde_json::json;

    fn run(expr: &str, input: Value) -> Result<Value, EvalError> {
        eval(
            &parse_call(expr).unwrap(),
            &input,
            &json!({"Execution": {"Name": "ex"}}),
            "f.$",
        )
    }

    fn ok(expr: &str, input: Value) -> Value {
        run(expr, input).unwrap()
    }

    #[test]
    fn format_prints_like_java() {
        assert_eq!(
            ok(
                "States.Format('Hello, my name is {}.', $.name)",
                json!({"name": "Arnav"})
            ),
            json!("Hello, my name is Arnav.")
        );
        assert_eq!(
            ok(
                "States.Format('{} {} {}', $.o, $.a, $.n)",
                json!({"o": {"A": 1, "B": [1, "x"]}, "a": [true, null], "n": 1.5})
            ),
            json!("{A=1, B=[1, x]} [true, null] 1.5")
        );
        assert_eq!(
            ok("States.Format('\\{\\} {}', $$.Execution.Name)", json!({})),
            json!("{} ex")
        );
        assert_eq!(
            ok("States.Format($.t, 'x')", json!({"t": "<{}>"})),
            json!("<x>")
        );
        assert_eq!(
            run("States.Format('{} {}', 1)", json!({}))
                .unwrap_err()
                .error,
            crate::error::names::INTRINSIC_FAILURE
        );
    }

    #[test]
    fn json_functions() {
        assert_eq!(
            ok("States.StringToJson($.s)", json!({"s": "{\"a\":[1,2]}"})),
            json!({"a": [1, 2]})
        );
        assert_eq!(
            ok("States.JsonToString($.o)", json!({"o": {"b": 1, "a": "x"}})),
            json!("{\"b\":1,\"a\":\"x\"}")
        );
        assert_eq!(
            ok(
                "States.JsonMerge($.a, $.b, false)",
                json!({"a": {"x": 1, "y": {"p": 1}}, "b": {"y": {"q": 2}}})
            ),
            json!({"x": 1, "y": {"q": 2}})
        );
        assert!(run("States.JsonMerge($.a, $.a, true)", json!({"a": {}})).is_err());
        assert!(run("States.StringToJson('{nope')", json!({})).is_err());
    }

    #[test]
    fn array_functions() {
        assert_eq!(
            ok("States.Array(1, 'a', $.x, null)", json!({"x": [true]})),
            json!([1, "a", [true], null])
        );
        assert_eq!(
            ok(
                "States.ArrayPartition($.a, 2)",
                json!({"a": [1, 2, 3, 4, 5]})
            ),
            json!([[1, 2], [3, 4], [5]])
        );
        assert_eq!(
            ok(
                "States.ArrayContains($.a, $.v)",
                json!({"a": [1, {"k": 2}], "v": {"k": 2}})
            ),
            json!(true)
        );
        assert_eq!(
            ok("States.ArrayRange(1, 9, 2)", json!({})),
            json!([1, 3, 5, 7, 9])
        );
        assert_eq!(
            ok("States.ArrayRange(5, 1, -2)", json!({})),
            json!([5, 3, 1])
        );
        assert!(run("States.ArrayRange(1, 5000, 1)", json!({})).is_err());
        assert_eq!(
            ok("States.ArrayGetItem($.a, 1)", json!({"a": [1, 2]})),
            json!(2)
        );
        assert!(run("States.ArrayGetItem($.a, 2)", json!({"a": [1, 2]})).is_err());
        assert_eq!(
            ok("States.ArrayLength($.a)", json!({"a": [1, 2, 3]})),
            json!(3)
        );
        assert_eq!(
            ok("States.ArrayUnique($.a)", json!({"a": [1, 2, 1, "1", 2]})),
            json!([1, 2, "1"])
        );
    }

    #[test]
    fn encoding_and_hashing() {
        assert_eq!(
            ok("States.Base64Encode('Data to encode')", json!({})),
            json!("RGF0YSB0byBlbmNvZGU=")
        );
        assert_eq!(
            ok("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", json!({})),
            json!("Data to encode")
        );
        assert_eq!(
            ok("States.Hash('input data', 'SHA-1')", json!({})),
            json!("aaff4a450a104cd177d28d18d74485e8cae074b7")
        );
        assert_eq!(
            ok("States.Hash('abc', 'MD5')", json!({})),
            json!("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(
            ok("States.Hash('abc', 'SHA-256')", json!({})),
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            ok("States.Hash('abc', 'SHA-384')", json!({}))
                .as_str()
                .unwrap()
                .len(),
            96
        );
        assert_eq!(
            ok("States.Hash('abc', 'SHA-512')", json!({}))
                .as_str()
                .unwrap()
                .len(),
            128
        );
        assert!(run("States.Hash('abc', 'CRC32')", json!({})).is_err());
    }

    #[test]
    fn math_string_and_uuid() {
        assert_eq!(ok("States.MathAdd($.v, -1)", json!({"v": 111})), json!(110));
        assert_eq!(ok("States.MathAdd(1.5, 1)", json!({})), json!(3));
        assert!(run("States.MathAdd(3000000000, 1)", json!({})).is_err());
        let r = ok("States.MathRandom(1, 10)", json!({})).as_i64().unwrap();
        assert!((1..10).contains(&r));
        assert_eq!(
            ok("States.MathRandom(1, 1000, 7)", json!({})),
            ok("States.MathRandom(1, 1000, 7)", json!({}))
        );
        assert_eq!(
            ok("States.StringSplit('1,2,,3', ',')", json!({})),
            json!(["1", "2", "3"])
        );
        assert_eq!(
            ok("States.StringSplit('a b;c', ' ;')", json!({})),
            json!(["a", "b", "c"])
        );
        assert_eq!(ok("States.UUID()", json!({})).as_str().unwrap().len(), 36);
    }

    #[test]
    fn missing_path_arguments_are_runtime_errors() {
        let e = run("States.ArrayLength($.nope)", json!({"a": 1})).unwrap_err();
        assert_eq!(e.error, crate::error::names::RUNTIME);
        assert_eq!(
            e.message,
            "The JSONPath '$.nope' specified for the field 'f.$' could not be found in the input '{\"a\":1}'"
        );
    }
}
