//! Reading a state's error handling: `Retry` and `Catch`, with their `ErrorEquals` rules
//! (`States.ALL` alone and last, known fields and ranges).

use super::fields::Checker;
use super::state::MAX_INT;
use crate::error::{names, ptr};
use crate::model::Lang;
use crate::model::PathField;
use crate::retry::{Catcher, Jitter, Retrier};
use serde_json::{Map, Value};

fn error_equals(ck: &mut Checker, obj: &Map<String, Value>, pointer: &str) -> Vec<String> {
    let p = ptr(pointer, "ErrorEquals");
    let Some(items) = obj.get("ErrorEquals") else {
        ck.err(p, "required field 'ErrorEquals' is missing");
        return Vec::new();
    };
    let Some(items) = items.as_array().filter(|a| !a.is_empty()) else {
        ck.err(p, "must be a non-empty array of error names");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(s) => out.push(s.to_owned()),
            None => ck.err(ptr(&p, i), "must be a string"),
        }
    }
    if out.iter().any(|e| e == names::ALL) && out.len() > 1 {
        ck.err(p, "'States.ALL' must appear alone in 'ErrorEquals'");
    }
    out
}

fn check_all_last(ck: &mut Checker, lists: &[Vec<String>], pointer: &str) {
    for (i, l) in lists.iter().enumerate() {
        if i + 1 < lists.len() && l.iter().any(|e| e == names::ALL) {
            ck.err(
                ptr(pointer, i),
                "a retrier or catcher with 'States.ALL' must be the last one",
            );
        }
    }
}

pub(super) fn retriers(ck: &mut Checker, obj: &Map<String, Value>, pointer: &str) -> Vec<Retrier> {
    let Some(v) = obj.get("Retry") else {
        return Vec::new();
    };
    let p = ptr(pointer, "Retry");
    let Some(items) = v.as_array() else {
        ck.err(p, "must be an array");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ip = ptr(&p, i);
        let Some(o) = ck.object(item, &ip) else {
            continue;
        };
        ck.allowed(
            o,
            &[
                "ErrorEquals",
                "IntervalSeconds",
                "MaxAttempts",
                "BackoffRate",
                "MaxDelaySeconds",
                "JitterStrategy",
                "Comment",
            ],
            &ip,
            "a Retrier",
        );
        let d = Retrier::default();
        let jitter = match ck.string(o, "JitterStrategy", &ip).as_deref() {
            None | Some("NONE") => Jitter::None,
            Some("FULL") => Jitter::Full,
            Some(other) => {
                ck.err(
                    ptr(&ip, "JitterStrategy"),
                    format!("{other:?} is not a jitter strategy (expected FULL or NONE)"),
                );
                Jitter::None
            }
        };
        out.push(Retrier {
            error_equals: error_equals(ck, o, &ip),
            interval_seconds: ck
                .uint(o, "IntervalSeconds", &ip, 1, MAX_INT)
                .unwrap_or(d.interval_seconds),
            max_attempts: ck
                .uint(o, "MaxAttempts", &ip, 0, MAX_INT)
                .unwrap_or(d.max_attempts),
            backoff_rate: ck
                .number(o, "BackoffRate", &ip, 1.0, f64::MAX)
                .unwrap_or(d.backoff_rate),
            max_delay_seconds: ck.uint(o, "MaxDelaySeconds", &ip, 1, 31_622_400),
            jitter,
        });
    }
    let lists: Vec<Vec<String>> = out.iter().map(|r| r.error_equals.clone()).collect();
    check_all_last(ck, &lists, &p);
    out
}

pub(super) fn catchers(ck: &mut Checker, obj: &Map<String, Value>, pointer: &str) -> Vec<Catcher> {
    let Some(v) = obj.get("Catch") else {
        return Vec::new();
    };
    let p = ptr(pointer, "Catch");
    let Some(items) = v.as_array() else {
        ck.err(p, "must be an array");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ip = ptr(&p, i);
        let Some(o) = ck.object(item, &ip) else {
            continue;
        };
        let fields: &[&str] = match ck.lang {
            Lang::JsonPath => &["ErrorEquals", "Next", "ResultPath", "Assign", "Comment"],
            Lang::Jsonata => &["ErrorEquals", "Next", "Output", "Assign", "Comment"],
        };
        ck.allowed(o, fields, &ip, "a Catcher");
        let assign = super::state::assign(ck, o, &ip);
        let output = match (ck.lang, o.get("Output")) {
            (Lang::Jsonata, Some(v)) => Some(crate::jsonata::JTemplate::compile(
                v,
                &ptr(&ip, "Output"),
                &mut ck.errors,
            )),
            _ => None,
        };
        let error_equals = error_equals(ck, o, &ip);
        let next = ck.required_string(o, "Next", &ip).unwrap_or_default();
        let path = if ck.lang == Lang::JsonPath {
            ck.path(o, "ResultPath", &ip, true)
        } else {
            PathField::Default
        };
        if let PathField::Path(p) = &path
            && p.root() != crate::paths::Root::Input
        {
            ck.err(
                ptr(&ip, "ResultPath"),
                "'ResultPath' must be a reference path into the state input ('$...'), not the context object or a variable",
            );
        }
        let result_path = match path {
            PathField::Default => None,
            PathField::Null => Some(None),
            PathField::Path(p) => Some(Some(p)),
        };
        out.push(Catcher {
            error_equals,
            next,
            result_path,
            assign,
            output,
        });
    }
    let lists: Vec<Vec<String>> = out.iter().map(|c| c.error_equals.clone()).collect();
    check_all_last(ck, &lists, &p);
    out
}
