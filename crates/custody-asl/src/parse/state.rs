//! Reading one state: the fields its type allows, each checked, into [`crate::model::State`].

use super::choice;
use super::fields::{Checker, JSONPATH_ONLY};
use super::recovery::{catchers, retriers};
use crate::error::ptr;
use crate::intrinsics;
use crate::jsonata::{Expr, JTemplate, expression_body};
use crate::model::{
    Assign, ChoiceBranch, Kind, Lang, NumberOrPath, PathField, State, StringSource, Task, Test,
    Transition, Wait,
};
use crate::paths::Root;
use crate::paths::template::Template;
use crate::timestamp;
use crate::vars;
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
    let lang = query_language(ck, obj, pointer);
    ck.lang = lang;
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
    let mut allowed: Vec<&str> = COMMON.iter().chain(specific).copied().collect();
    if ty != "Succeed" && ty != "Fail" {
        allowed.push("Assign");
    }
    if lang == Lang::Jsonata {
        allowed.retain(|k| !JSONPATH_ONLY.contains(k));
        if ty != "Fail" {
            allowed.push("Output");
        }
        if ty == "Task" || ty == "Parallel" {
            allowed.push("Arguments");
        }
        if ty == "Map" {
            allowed.push("Items");
            allowed.push("ItemSelector");
        }
    }
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

    let has = |k: &str| allowed.contains(&k);
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
    if let PathField::Path(p) = &result_path
        && p.root() != Root::Input
    {
        ck.err(
            ptr(pointer, "ResultPath"),
            "'ResultPath' must be a reference path into the state input ('$...'), not the context object or a variable",
        );
    }
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

    let arguments = jsonata_template(ck, obj, "Arguments", pointer, has("Arguments"));
    let output = jsonata_template(ck, obj, "Output", pointer, has("Output"));
    let assign = if has("Assign") {
        assign(ck, obj, pointer)
    } else {
        None
    };
    let kind = match ty.as_str() {
        "Pass" => Kind::Pass {
            result: if has("Result") {
                obj.get("Result").cloned()
            } else {
                None
            },
        },
        "Task" => task(ck, obj, pointer)?,
        "Choice" => choice_state(ck, obj, pointer)?,
        "Wait" => Kind::Wait(wait(ck, obj, pointer)?),
        "Succeed" => Kind::Succeed,
        "Fail" => fail(ck, obj, pointer),
        "Parallel" => parallel(ck, obj, pointer)?,
        _ => Kind::Map(Box::new(super::map::map(ck, obj, pointer)?)),
    };
    let ctx_path = |p: &PathField| matches!(p, PathField::Path(p) if p.root() != Root::Input);
    let uses_context = lang == Lang::Jsonata
        || matches!(kind, Kind::Task(_) | Kind::Fail { .. } | Kind::Wait(_))
        || matches!(&kind, Kind::Choice { choices, .. } if choices.iter().any(|b| matches!(&b.test, Test::Rule(r) if r.uses_context()) || b.assign.as_ref().is_some_and(Assign::uses_context)))
        || assign.as_ref().is_some_and(Assign::uses_context)
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
        lang,
        arguments,
        output,
        assign,
    })
}

/// `QueryLanguage` of a state (or, at the top, of the machine). A state without one inherits
/// the machine's; a JSONPath machine may have JSONata states, not the reverse.
pub(crate) fn query_language(ck: &mut Checker, obj: &Map<String, Value>, pointer: &str) -> Lang {
    match ck.string(obj, "QueryLanguage", pointer).as_deref() {
        None => ck.top_lang,
        Some("JSONata") => Lang::Jsonata,
        Some("JSONPath") if ck.top_lang == Lang::Jsonata => {
            ck.err(
                ptr(pointer, "QueryLanguage"),
                "a state cannot use JSONPath when the state machine's QueryLanguage is JSONata",
            );
            Lang::Jsonata
        }
        Some("JSONPath") => Lang::JsonPath,
        Some(other) => {
            ck.err(
                ptr(pointer, "QueryLanguage"),
                format!("unknown query language {other:?} (expected JSONPath or JSONata)"),
            );
            ck.top_lang
        }
    }
}

/// A JSONata payload field (`Arguments`, `Output`, `ItemSelector`, `Items`), when present and
/// allowed.
pub(super) fn jsonata_template(
    ck: &mut Checker,
    obj: &Map<String, Value>,
    key: &str,
    pointer: &str,
    allowed: bool,
) -> Option<JTemplate> {
    let v = obj.get(key).filter(|_| allowed)?;
    if let Value::String(s) = v
        && s.contains("{%")
        && expression_body(s).is_none()
    {
        ck.err(
            ptr(pointer, key),
            format!("{s:?} must be a whole JSONata expression (\"{{% ... %}}\") or a literal"),
        );
        return None;
    }
    Some(JTemplate::compile(v, &ptr(pointer, key), &mut ck.errors))
}

/// `Assign`: an object of variable names; JSONPath values may be `name.$` paths/intrinsics,
/// JSONata values may be `{% %}` expressions.
pub(super) fn assign(ck: &mut Checker, obj: &Map<String, Value>, pointer: &str) -> Option<Assign> {
    let v = obj.get("Assign")?;
    let p = ptr(pointer, "Assign");
    let o = ck.object(v, &p)?;
    for key in o.keys() {
        let name = match ck.lang {
            Lang::JsonPath => key.strip_suffix(".$").unwrap_or(key),
            Lang::Jsonata => key.as_str(),
        };
        if let Err(reason) = vars::check_name(name) {
            ck.err(ptr(&p, key), reason);
        }
    }
    Some(match ck.lang {
        Lang::JsonPath => Assign::Path(Template::compile(v, &p, &mut ck.errors)),
        Lang::Jsonata => Assign::Jsonata(JTemplate::compile(v, &p, &mut ck.errors)),
    })
}

pub(super) fn template(
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
        let ip = ptr(&p, i);
        let (assign, output) = match item.as_object() {
            Some(o) => (
                assign(ck, o, &ip),
                jsonata_template(ck, o, "Output", &ip, ck.lang == Lang::Jsonata),
            ),
            None => (None, None),
        };
        let branch = match ck.lang {
            Lang::JsonPath => match choice::rule(ck, item, &ip, true) {
                Some((rule, Some(next))) => Some((Test::Rule(rule), next)),
                _ => None,
            },
            Lang::Jsonata => condition(ck, item, &ip),
        };
        if let Some((test, next)) = branch {
            choices.push(ChoiceBranch {
                test,
                next,
                assign,
                output,
            });
        }
    }
    let default = ck.string(obj, "Default", pointer);
    Some(Kind::Choice { choices, default })
}

/// A JSONata Choice rule: `Condition` and `Next` (plus `Assign`, `Output`, `Comment`).
fn condition(ck: &mut Checker, item: &Value, pointer: &str) -> Option<(Test, String)> {
    let o = ck.object(item, pointer)?;
    ck.allowed(
        o,
        &["Condition", "Next", "Assign", "Output", "Comment"],
        pointer,
        "a JSONata Choice rule",
    );
    let next = ck.required_string(o, "Next", pointer);
    let cond = match o.get("Condition") {
        Some(Value::String(s)) => Expr::parse(s, &ptr(pointer, "Condition"), &mut ck.errors),
        Some(_) => {
            ck.err(
                ptr(pointer, "Condition"),
                "must be a JSONata expression string (\"{% ... %}\")",
            );
            None
        }
        None => {
            ck.err(
                ptr(pointer, "Condition"),
                "required field 'Condition' is missing",
            );
            None
        }
    };
    Some((Test::Condition(cond?), next?))
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
    if let Some(e) = ck.jsonata_expr(obj, given[0], pointer) {
        return e.map(|expr| Wait::Expr {
            seconds: given[0] == "Seconds",
            expr,
        });
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
        let s = ck.string(obj, key, pointer)?;
        if ck.lang == Lang::Jsonata && s.contains("{%") {
            return jsonata_template(ck, obj, key, pointer, true).map(StringSource::Jsonata);
        }
        return Some(StringSource::Value(s));
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
