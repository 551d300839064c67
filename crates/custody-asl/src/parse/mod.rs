//! Loading a definition: JSON → checked model, every problem reported with its JSON pointer.

mod choice;
pub(crate) mod fields;
mod graph;
mod map;
mod recovery;
mod state;

use crate::error::ptr;
use crate::model::Machine;
use fields::Checker;
use serde_json::Value;
use std::collections::HashMap;

/// Reads a set of states (`StartAt` + `States`) at `pointer`; `extra` lists further allowed
/// fields (`ProcessorConfig` for a Map item processor).
pub(crate) fn machine(
    ck: &mut Checker,
    v: &Value,
    pointer: &str,
    extra: &[&str],
) -> Option<Machine> {
    let obj = ck.object(v, pointer)?;
    let outer_lang = ck.lang;
    let m = machine_inner(ck, obj, pointer, extra);
    ck.lang = outer_lang;
    m
}

fn machine_inner(
    ck: &mut Checker,
    obj: &serde_json::Map<String, Value>,
    pointer: &str,
    extra: &[&str],
) -> Option<Machine> {
    let mut allowed = vec!["StartAt", "States", "Comment"];
    allowed.extend_from_slice(extra);
    if pointer.is_empty() {
        allowed.extend_from_slice(&["Version", "TimeoutSeconds", "QueryLanguage"]);
    }
    ck.allowed(
        obj,
        &allowed,
        pointer,
        if pointer.is_empty() {
            "a state machine"
        } else {
            "a branch or item processor"
        },
    );
    let start_at = ck.required_string(obj, "StartAt", pointer);
    let states_ptr = ptr(pointer, "States");
    let Some(raw_states) = obj.get("States") else {
        ck.err(states_ptr, "required field 'States' is missing");
        return None;
    };
    let raw_states = ck.object(raw_states, &states_ptr)?;
    if raw_states.is_empty() {
        ck.err(&states_ptr, "'States' must contain at least one state");
        return None;
    }
    let mut states = HashMap::with_capacity(raw_states.len());
    for (name, sv) in raw_states {
        if let Some(s) = state::parse(ck, name, sv, &ptr(&states_ptr, name)) {
            states.insert(name.clone(), s);
        }
    }
    let start_at = start_at?;
    graph::check(ck, &start_at, raw_states, pointer);
    Some(Machine { start_at, states })
}

/// Reads a whole definition.
pub(crate) fn definition(v: &Value) -> (Option<Machine>, Option<u64>, Checker) {
    let mut ck = Checker::default();
    if let Some(o) = v.as_object() {
        ck.top_lang = state::query_language(&mut ck, o, "");
    }
    let timeout = v
        .as_object()
        .and_then(|o| ck.uint(o, "TimeoutSeconds", "", 1, 99_999_999));
    if let Some(o) = v.as_object()
        && let Some(ver) = ck.string(o, "Version", "")
        && ver != "1.0"
    {
        ck.err(
            "/Version",
            format!("unknown ASL version {ver:?} (expected \"1.0\")"),
        );
    }
    let m = machine(&mut ck, v, "", &[]);
    (m, timeout, ck)
}
