//! The transition graph of one set of states: every target exists, every state is reachable
//! from `StartAt`, and something can end.

use super::fields::Checker;
use crate::error::ptr;
use serde_json::{Map, Value};
use std::collections::{HashSet, VecDeque};

/// Every `(pointer, target)` transition a raw state declares.
fn transitions(state_ptr: &str, raw: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut push = |p: String, v: Option<&Value>| {
        if let Some(Value::String(t)) = v {
            out.push((p, t.clone()));
        }
    };
    push(ptr(state_ptr, "Next"), raw.get("Next"));
    push(ptr(state_ptr, "Default"), raw.get("Default"));
    for list in ["Choices", "Catch"] {
        if let Some(Value::Array(items)) = raw.get(list) {
            for (i, item) in items.iter().enumerate() {
                push(
                    ptr(&ptr(ptr(state_ptr, list).as_str(), i), "Next"),
                    item.get("Next"),
                );
            }
        }
    }
    out
}

/// Checks targets, reachability and termination of the states at `pointer`.
pub(crate) fn check(ck: &mut Checker, start_at: &str, states: &Map<String, Value>, pointer: &str) {
    let states_ptr = ptr(pointer, "States");
    if !states.contains_key(start_at) {
        ck.err(
            ptr(pointer, "StartAt"),
            format!("'StartAt' names {start_at:?}, which is not a state in 'States'"),
        );
    }
    for (name, raw) in states {
        for (p, target) in transitions(&ptr(&states_ptr, name), raw) {
            if !states.contains_key(&target) {
                ck.err(
                    p,
                    format!("transition target {target:?} is not a state in this scope"),
                );
            }
        }
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut queue: VecDeque<&str> = VecDeque::new();
    if states.contains_key(start_at) {
        queue.push_back(start_at);
    }
    while let Some(n) = queue.pop_front() {
        if !seen.insert(n) {
            continue;
        }
        if let Some(raw) = states.get(n) {
            for (_, t) in transitions("", raw) {
                if let Some((k, _)) = states.get_key_value(&t) {
                    queue.push_back(k.as_str());
                }
            }
        }
    }
    for name in states.keys() {
        if !seen.contains(name.as_str()) && states.contains_key(start_at) {
            ck.err(
                ptr(&states_ptr, name),
                format!("state {name:?} is not reachable from 'StartAt'"),
            );
        }
    }
    let terminal = states.values().any(|raw| {
        raw.get("End") == Some(&Value::Bool(true))
            || matches!(
                raw.get("Type").and_then(Value::as_str),
                Some("Succeed" | "Fail")
            )
    });
    if !terminal {
        ck.err(states_ptr, "no terminal state: at least one state needs 'End': true or must be a Succeed or Fail state");
    }
}
