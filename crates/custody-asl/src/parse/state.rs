//! Reading one state: the fields its type allows, each checked, into [`crate::model::State`].

use super::choice;
use super::fields::Checker;
use super::recovery::{catchers, retriers};
use crate::error::ptr;
use crate::intrinsics;
use crate::model::{
    Batcher, Kind, MapSpec, NumberOrPath, PathField, State, StringSource, Task, Transition, Wait,
};
use crate::paths::Root;
use crate::paths::template::Template;
use crate::timestamp;
use serde_json::{Map, Value};

const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];
const PASS: &[&str] = &[
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Parameters",
    "Result",
    "ResultPath",
];
const TASK: &[&str] = &[
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Resource",
    "TimeoutSeconds",
    "TimeoutSecondsPath",
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "Retry",
    "Catch",
];
const CHOICE: &[&str] = &["InputPath", "OutputPath", "Choices", "Default"];
const WAIT: &[&str] = &[
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Seconds",
    "SecondsPath",
    "Timestamp",
    "TimestampPath",
];
const SUCCEED: &[&str] = &["InputPath", "OutputPath"];
const FAIL: &[&str] = &["Error", "ErrorPath", "Cause", "CausePath"];
const PARALLEL: &[&str] = &[
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Branches",
    "Retry",
    "Catch",
];
const MAP: &[&str] = &[
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "ItemsPath",
    "ItemSelector",
    "Parameters",
    "ItemProcessor",
    "Iterator",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ResultSelector",
    "ResultPath",
    "Retry",
    "Catch",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "ItemBatcher",
    "Label",
];

/// Longest state name Step Functions accepts.
const MAX_NAME: usize = 80;
/// Largest value of the integer fields (`TimeoutSeconds`, `MaxAttempts`, ...).
pub(super) const MAX_INT: u64 = 99_999_999;

/// Reads the state `name` at `pointer`.
pub(crate) fn parse(ck: &mut Checker, name: &str, v: &Value, pointer: &str) -> Option<State> {
    if name.is_empty() || name.chars().count() > MAX_NAME {
        ck.err(
            pointer,
            format!("a state name must have 1 to {MAX_NAME} characters"),
        );
    }
    let obj = ck.object(v, pointer)?;
    let ty = ck.required_string(obj, "Type", pointer)?;
    query_language(ck, obj, pointer);
    let specific: &[&str] = match ty.as_str() {
        "Pass" => PASS,
        "Task" => TASK,
        "Choice" => CHOICE,
        "Wait" => WAIT,
        "Succeed" => SUCCEED,
        "Fail" => FAIL,
        "Parallel" => PARALLEL,
        "Map" => MAP,
        other => {
            ck.err(ptr(pointer, "Type"), format!("unknown state type {other:?} (expected Pass, Task, Choice, Wait, Succeed, Fail, Parallel or Map)"));
            return None;
        }
    };
    let allowed: Vec<&str> = COMMON.iter().chain(specific).copied().collect();
    let on = format!("a {ty} state");
    if ty == "Map" {
        for key in ["ItemReader", "ResultWriter"] {
            if obj.contains_key(key) {
                ck.err(ptr(pointer, key), format!("Field '{key}' (distributed Map) is not supported by this engine: only inline Map runs locally"));
            }
        }
    }
    let allowed_with_dmap: Vec<&str> = allowed
        .iter()
        .copied()
        .chain(["ItemReader", "ResultWriter"])
        .collect();
    ck.allowed(
        obj,
        if ty == "Map" {
            &allowed_with_dmap
        } else {
            &allowed
        },
        pointer,
        &on,
    );

    let has = |k: &str| specific.contains(&k);
    let input_path = if has("InputPath") {
        ck.path(obj, "InputPath", pointer, false)
    } else {
        PathField::Default
    };
    let output_path = if has("OutputPath") {
        ck.path(obj, "OutputPath", pointer, false)
    } else {
        PathField::Default
    };
    let result_path = if has("ResultPath") {
        ck.path(obj, "ResultPath", pointer, true)
    } else {
        PathField::Default
    };
    let parameters = if has("Parameters") {
        template(ck, obj, "Parameters", pointer, false)
    } else {
        None
    };
    let result_selector = if has("ResultSelector") {
        template(ck, obj, "ResultSelector", pointer, true)
    } else {
        None
    };
    let retry = if has("Retry") {
        retriers(ck, obj, pointer)
    } else {
        Vec::new()
    };
    let catch = if has("Catch") {
        catchers(ck, obj, pointer)
    } else {
        Vec::new()
    };
    let transition = if has("Next") {
        transition(ck, obj, pointer)
    } else {
        Transition::End
    };

    let kind = match ty.as_str() {
        "Pass" => Kind::Pass {
            result: obj.get("Result").cloned(),
        },
        "Task" => task(ck, obj, pointer)?,
        "Choice" => choice_state(ck, obj, pointer)?,
        "Wait" => Kind::Wait(wait(ck, obj, pointer)?),
        "Succeed" => Kind::Succeed,
        "Fail" => fail(ck, obj, pointer),
        "Parallel" => parallel(ck, obj, pointer)?,
        _ => Kind::Map(Box::new(map(ck, obj, pointer)?)),
    };
    let ctx_path = |p: &PathField| matches!(p, PathField::Path(p) if p.root() == Root::Context);
    let uses_context = matches!(kind, Kind::Task(_) | Kind::Fail { .. } | Kind::Wait(_))
        || matches!(&kind, Kind::Choice { choices, .. } if choices.iter().any(|(r, _)| r.uses_context()))
        || parameters.as_ref().is_some_and(Template::uses_context)
        || result_selector.as_ref().is_some_and(Template::uses_context)
        || ctx_path(&input_path)
        || ctx_path(&output_path);
    Some(State {
        name: name.to_owned(),
        kind,
        input_path,
        output_path,
        result_path,
        parameters,
        result_selector,
        transition,
        retry,
        catch,
        uses_context,
    })
}

/// `QueryLanguage`: only JSONPath runs here; JSONata is refused rather than half-supported.
pub(crate) fn query_language(ck: &mut Checker, obj: &Map<String, Value>, pointer: &str) {
    match ck.string(obj, "QueryLanguage", pointer).as_deref() {
        None | Some("JSONPath") => {}
        Some("JSONata") => ck.err(
            ptr(pointer, "QueryLanguage"),
            "the JSONata query language is not supported by this engine yet (use JSONPath)",
        ),
        Some(other) => ck.err(
            ptr(pointer, "QueryLanguage"),
            format!("unknown query language {other:?} (expected JSONPath or JSONata)"),
        ),
    }
}

fn template(
    ck: &mut Checker,
    obj: &Map<String, Value>,
    key: &str,
    pointer: &str,
    must_be_object: bool,
) -> Option<Template> {
    let v = obj.get(key)?;
    if must_be_object && !v.is_object() {
        ck.err(ptr(pointer, key), "must be an object");
        return None;
    }
    Some(Template::compile(v, &ptr(pointer, key), &mut ck.errors))
}

fn transition(ck: &mut Checker, obj: &Map<String, Value>, pointer: &str) -> Transition {
    let next = ck.string(obj, "Next", pointer);
    let end = ck.bool(obj, "End", pointer);
    match (next, end) {
        (Some(n), None) => Transition::Next(n),
        (None, Some(true)) => Transition::End,
        (None, Some(false)) => {
            ck.err(
                ptr(pointer, "End"),
                "'End' must be true when present (use 'Next' to continue)",
            );
            Transition::End
        }
        (Some(_), Some(_)) => {
            ck.err(pointer, "a state cannot have both 'Next' and 'End'");
            Transition::End
        }
        (None, None) => {
            if !obj.contains_key("Next") && !obj.contains_key("End") {
                ck.err(
                    pointer,
                    "a state of this type needs either 'Next' or 'End': true",
                );
            }
            Transition::End
        }
    }
}

fn task(ck: &mut Checker, obj: &Map<String, Value>, pointer: &str) -> Option<Kind> {
    let resource = ck.required_string(obj, "Resource", pointer)?;
    let timeout = ck.uint_or_path(obj, "TimeoutSeconds", pointer, 1, MAX_INT);
    let heartbeat = ck.uint_or_path(obj, "HeartbeatSeconds", pointer, 1, MAX_INT);
    if let (Some(NumberOrPath::Value(t)), Some(NumberOrPath::Value(h))) = (&timeout, &heartbeat)
        && h >= t
    {
        ck.err(
            ptr(pointer, "HeartbeatSeconds"),
            "'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'",
        );
    }
    Some(Kind::Task(Task {
        resource,
        timeout,
        heartbeat,
    }))
}

fn choice_state(ck: &mut Checker, obj: &Map<String, Value>, pointer: &str) -> Option<Kind> {
    let p = ptr(pointer, "Choices");
    let Some(items) = obj
        .get("Choices")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        ck.err(p, "a Choice state needs a non-empty 'Choices' array");
        return None;
    };
    let mut choices = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Some((rule, Some(next))) = choice::rule(ck, item, &ptr(&p, i), true) {
            choices.push((rule, next));
        }
    }
    let default = ck.string(obj, "Default", pointer);
    Some(Kind::Choice { choices, default })
}

fn wait(ck: &mut Checker, obj: &Map<String, Value>, pointer: &str) -> Option<Wait> {
    let given: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
        .into_iter()
        .filter(|k| obj.contains_key(*k))
        .collect();
    if given.len() != 1 {
        ck.err(
            pointer,
            "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath",
        );
        return None;
    }
    match given[0] {
        "Seconds" => ck
            .uint(obj, "Seconds", pointer, 0, MAX_INT)
            .map(Wait::Seconds),
        "Timestamp" => {
            let s = ck.string(obj, "Timestamp", pointer)?;
            match timestamp::parse(&s) {
                Some(t) => Some(Wait::Timestamp(t)),
                None => {
                    ck.err(
                        ptr(pointer, "Timestamp"),
                        format!("{s:?} is not a valid timestamp (RFC 3339, uppercase 'T' and 'Z')"),
                    );
                    None
                }
            }
        }
        key => {
            let s = ck.string(obj, key, pointer)?;
            let path = ck.parse_path(&s, &ptr(pointer, key), true)?;
            Some(if key == "SecondsPath" {
                Wait::SecondsPath(path)
            } else {
                Wait::TimestampPath(path)
            })
        }
    }
}

fn string_source(
    ck: &mut Checker,
    obj: &Map<String, Value>,
    key: &str,
    pointer: &str,
) -> Option<StringSource> {
    let key_path = format!("{key}Path");
    if obj.contains_key(key) && obj.contains_key(&key_path) {
        ck.err(
            ptr(pointer, &key_path),
            format!("'{key}' and '{key_path}' cannot both be given"),
        );
        return None;
    }
    if obj.contains_key(key) {
        return ck.string(obj, key, pointer).map(StringSource::Value);
    }
    let s = ck.string(obj, &key_path, pointer)?;
    let p = ptr(pointer, &key_path);
    if s.starts_with("States.") {
        return match intrinsics::parse_call(&s) {
            Ok(call) => Some(StringSource::Intrinsic(Box::new(call))),
            Err(e) => {
                ck.err(
                    p,
                    format!("must be a valid JSONPath or a valid intrinsic function call ({e})"),
                );
                None
            }
        };
    }
    ck.parse_path(&s, &p, false).map(StringSource::Path)
}

fn fail(ck: &mut Checker, obj: &Map<String, Value>, pointer: &str) -> Kind {
    Kind::Fail {
        error: string_source(ck, obj, "Error", pointer),
        cause: string_source(ck, obj, "Cause", pointer),
    }
}

fn parallel(ck: &mut Checker, obj: &Map<String, Value>, pointer: &str) -> Option<Kind> {
    let p = ptr(pointer, "Branches");
    let Some(items) = obj
        .get("Branches")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        ck.err(p, "a Parallel state needs a non-empty 'Branches' array");
        return None;
    };
    let mut branches = Vec::new();
    for (i, b) in items.iter().enumerate() {
        if let Some(m) = super::machine(ck, b, &ptr(&p, i), &[]) {
            branches.push(m);
        }
    }
    Some(Kind::Parallel { branches })
}

fn map(ck: &mut Checker, obj: &Map<String, Value>, pointer: &str) -> Option<MapSpec> {
    let processor_key = match (
        obj.contains_key("ItemProcessor"),
        obj.contains_key("Iterator"),
    ) {
        (true, false) => "ItemProcessor",
        (false, true) => "Iterator",
        (true, true) => {
            ck.err(
                ptr(pointer, "Iterator"),
                "'ItemProcessor' and 'Iterator' cannot both be given",
            );
            return None;
        }
        (false, false) => {
            ck.err(
                pointer,
                "a Map state needs 'ItemProcessor' (or the older 'Iterator')",
            );
            return None;
        }
    };
    let pp = ptr(pointer, processor_key);
    if let Some(config) = obj[processor_key].get("ProcessorConfig") {
        let cp = ptr(&pp, "ProcessorConfig");
        if let Some(c) = ck.object(config, &cp) {
            ck.allowed(c, &["Mode", "ExecutionType"], &cp, "ProcessorConfig");
            match ck.string(c, "Mode", &cp).as_deref() {
                None | Some("INLINE") => {}
                Some("DISTRIBUTED") => ck.err(
                    ptr(&cp, "Mode"),
                    "distributed Map is not supported by this engine: only INLINE runs locally",
                ),
                Some(other) => ck.err(
                    ptr(&cp, "Mode"),
                    format!("{other:?} is not a processor mode (expected INLINE or DISTRIBUTED)"),
                ),
            }
        }
    }
    let processor = super::machine(ck, &obj[processor_key], &pp, &["ProcessorConfig"]);
    let item_selector = match (
        obj.contains_key("ItemSelector"),
        obj.contains_key("Parameters"),
    ) {
        (true, true) => {
            ck.err(
                ptr(pointer, "Parameters"),
                "'ItemSelector' and 'Parameters' cannot both be given",
            );
            None
        }
        (true, false) => template(ck, obj, "ItemSelector", pointer, false),
        (false, true) => template(ck, obj, "Parameters", pointer, false),
        (false, false) => None,
    };
    let batcher = obj
        .get("ItemBatcher")
        .and_then(|b| batcher(ck, b, &ptr(pointer, "ItemBatcher")));
    Some(MapSpec {
        items_path: ck.path(obj, "ItemsPath", pointer, true),
        item_selector,
        processor: processor?,
        max_concurrency: ck.uint_or_path(obj, "MaxConcurrency", pointer, 0, u64::MAX),
        tolerated_count: ck.uint_or_path(obj, "ToleratedFailureCount", pointer, 0, u64::MAX),
        tolerated_percentage: ck.number_or_path(
            obj,
            "ToleratedFailurePercentage",
            pointer,
            0.0,
            100.0,
        ),
        batcher,
    })
}

fn batcher(ck: &mut Checker, v: &Value, pointer: &str) -> Option<Batcher> {
    let o = ck.object(v, pointer)?;
    ck.allowed(
        o,
        &[
            "MaxItemsPerBatch",
            "MaxItemsPerBatchPath",
            "MaxInputBytesPerBatch",
            "MaxInputBytesPerBatchPath",
            "BatchInput",
            "Comment",
        ],
        pointer,
        "ItemBatcher",
    );
    let max_items = ck.uint_or_path(o, "MaxItemsPerBatch", pointer, 1, u64::MAX);
    let max_bytes = ck.uint_or_path(o, "MaxInputBytesPerBatch", pointer, 1, 262_144);
    if max_items.is_none() && max_bytes.is_none() {
        ck.err(
            pointer,
            "an ItemBatcher needs MaxItemsPerBatch(Path) or MaxInputBytesPerBatch(Path)",
        );
    }
    let batch_input = template(ck, o, "BatchInput", pointer, true);
    Some(Batcher {
        max_items,
        max_bytes,
        batch_input,
    })
}
