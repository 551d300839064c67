//! The functions Step Functions adds to JSONata (`$partition`, `$range`, `$hash`, `$random`,
//! `$uuid`, `$parse`), `$eval` refused as AWS refuses it, and value conversion to
//! `serde_json` with JavaScript's number printing (a whole float is an integer).

use jsonata_core::evaluator::{Evaluator, EvaluatorError};
use jsonata_core::value::JValue;
use rand::{Rng as _, SeedableRng as _};
use serde_json::Value;
use sha2::Digest as _;

/// Most elements `$range` returns (as `States.ArrayRange`).
const MAX_RANGE: usize = 1000;

fn err(message: String) -> EvaluatorError {
    EvaluatorError::EvaluationError(message)
}

fn number_arg(args: &[JValue], i: usize, func: &str) -> Result<f64, EvaluatorError> {
    args.get(i).and_then(JValue::as_f64).ok_or_else(|| {
        err(format!(
            "The ${func} function's argument {} must be a number",
            i + 1
        ))
    })
}

fn string_arg<'a>(args: &'a [JValue], i: usize, func: &str) -> Result<&'a str, EvaluatorError> {
    args.get(i).and_then(JValue::as_str).ok_or_else(|| {
        err(format!(
            "The ${func} function's argument {} must be a string",
            i + 1
        ))
    })
}

/// Registers the Step Functions functions on `ev`.
pub(super) fn register(ev: &mut Evaluator, partition: &str) -> Result<(), EvaluatorError> {
    let partition = partition.to_owned();
    ev.register_fn("partition", move |_args: &[JValue]| {
        Ok(JValue::from(partition.clone()))
    })?;
    ev.register_fn("range", range)?;
    ev.register_fn("hash", hash)?;
    ev.register_fn("uuid", |_args: &[JValue]| {
        Ok(JValue::from(uuid::Uuid::new_v4().to_string()))
    })?;
    ev.register_fn("parse", |args: &[JValue]| {
        let text = string_arg(args, 0, "parse")?;
        serde_json::from_str::<Value>(text)
            .map(JValue::from)
            .map_err(|e| {
                err(format!(
                    "The $parse function's argument is not valid JSON ({e})"
                ))
            })
    })?;
    ev.register_fn_override("random", |args: &[JValue]| {
        let x: f64 = match args.first() {
            None => rand::rng().random(),
            Some(seed) => {
                let seed = seed.as_f64().ok_or_else(|| {
                    err("The $random function's seed must be a number".to_owned())
                })?;
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let seed = seed as i64 as u64;
                rand::rngs::StdRng::seed_from_u64(seed).random()
            }
        };
        Ok(JValue::from(x))
    })?;
    ev.register_fn_override("eval", |_args: &[JValue]| {
        Err(err(
            "The $eval function is not available in Step Functions (use $parse)".to_owned(),
        ))
    })?;
    Ok(())
}

/// `$range(start, end, step)`: `start`, `start+step`, ... up to and including `end`.
fn range(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let start = number_arg(args, 0, "range")?;
    let end = number_arg(args, 1, "range")?;
    let step = match args.get(2) {
        None => 1.0,
        Some(_) => number_arg(args, 2, "range")?,
    };
    if [start, end, step].iter().any(|n| n.fract() != 0.0) {
        return Err(err(
            "The $range function's arguments must be integers".to_owned()
        ));
    }
    if step == 0.0 {
        return Err(err("The $range function's step must not be 0".to_owned()));
    }
    let mut out = Vec::new();
    let mut n = start;
    while (step > 0.0 && n <= end) || (step < 0.0 && n >= end) {
        if out.len() == MAX_RANGE {
            return Err(err(format!(
                "The $range function can return at most {MAX_RANGE} elements"
            )));
        }
        out.push(JValue::from(n));
        n += step;
    }
    Ok(JValue::array(out))
}

/// `$hash(data, algorithm)`: the lowercase hex digest of a string.
fn hash(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    let data = string_arg(args, 0, "hash")?.as_bytes();
    let algorithm = string_arg(args, 1, "hash")?;
    let digest = match algorithm {
        "MD5" => hex::encode(md5::Md5::digest(data)),
        "SHA-1" => hex::encode(sha1::Sha1::digest(data)),
        "SHA-256" => hex::encode(sha2::Sha256::digest(data)),
        "SHA-384" => hex::encode(sha2::Sha384::digest(data)),
        "SHA-512" => hex::encode(sha2::Sha512::digest(data)),
        other => {
            return Err(err(format!(
                "The $hash function's algorithm {other:?} is not one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"
            )));
        }
    };
    Ok(JValue::from(digest))
}

/// A JSONata value as JSON: whole numbers print as integers (as JavaScript prints them),
/// functions and `undefined` inside structures become `null`.
pub(super) fn to_json(v: &JValue) -> Value {
    match v {
        JValue::Number(n) =>
        {
            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
            if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
                Value::from(*n as i64)
            } else {
                serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number)
            }
        }
        JValue::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        JValue::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_undefined())
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
        other => Value::from(other),
    }
}
