//! Workflow variables (`Assign`, `$name`): the naming rules and the size quotas Step Functions
//! enforces.
//!
//! Scope, as the executor implements it: the top-level states share one scope; each Parallel
//! branch and Map iteration starts a scope of its own that sees the outer variables as they were
//! when the Parallel/Map state was entered, and whose assignments are never visible outside
//! it. Every reference in a state reads the values from that state's entry: a state's `Assign`
//! takes effect once the state completes (so `Output` of the same state still sees the old
//! values).

use crate::error::{Failure, names};
use serde_json::{Map, Value};

/// Most bytes one variable's value may take (UTF-8 JSON), and all values of one `Assign`.
pub(crate) const MAX_ASSIGN_BYTES: usize = 256 * 1024;
/// Most bytes all variables of one execution may take together.
pub(crate) const MAX_TOTAL_BYTES: usize = 10 * 1024 * 1024;
/// Longest variable name accepted.
const MAX_NAME: usize = 80;

/// Checks a variable name: a letter or `_` first, then letters, digits or `_`; not the reserved
/// `states`.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err("a variable name cannot be empty".to_owned());
    };
    if name == "states" {
        return Err("'states' is a reserved variable name".to_owned());
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!(
            "the variable name {name:?} is longer than {MAX_NAME} characters"
        ));
    }
    if !(first.is_alphabetic() || first == '_') || !chars.all(|c| c.is_alphanumeric() || c == '_') {
        return Err(format!(
            "{name:?} is not a valid variable name (a letter or '_' first, then letters, digits or '_')"
        ));
    }
    Ok(())
}

/// Applies an evaluated `Assign` object to `vars`, enforcing the size quotas.
///
/// # Errors
/// `States.DataLimitExceeded` when one value, the whole `Assign`, or all variables together
/// exceed their quota.
pub(crate) fn apply(
    vars: &mut Map<String, Value>,
    assigned: Map<String, Value>,
    state: &str,
) -> Result<(), Failure> {
    let mut total = 0usize;
    for (name, value) in &assigned {
        let size = value.to_string().len();
        if size > MAX_ASSIGN_BYTES {
            return Err(Failure::new(
                names::DATA_LIMIT_EXCEEDED,
                format!(
                    "The state {state:?} assigned the variable {name:?} a value of {size} bytes, more than the {MAX_ASSIGN_BYTES}-byte quota"
                ),
            ));
        }
        total += size;
    }
    if total > MAX_ASSIGN_BYTES {
        return Err(Failure::new(
            names::DATA_LIMIT_EXCEEDED,
            format!(
                "The state {state:?} assigned {total} bytes of variables, more than the {MAX_ASSIGN_BYTES}-byte quota of one Assign"
            ),
        ));
    }
    vars.extend(assigned);
    let all: usize = vars.values().map(|v| v.to_string().len()).sum();
    if all > MAX_TOTAL_BYTES {
        return Err(Failure::new(
            names::DATA_LIMIT_EXCEEDED,
            format!(
                "The variables of this execution take {all} bytes, more than the {MAX_TOTAL_BYTES}-byte quota"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_the_rules() {
        assert!(check_name("productName").is_ok());
        assert!(check_name("_x1").is_ok());
        assert!(check_name("états").is_ok());
        assert!(check_name("states").is_err());
        assert!(check_name("1x").is_err());
        assert!(check_name("a-b").is_err());
        assert!(check_name("").is_err());
        assert!(check_name(&"a".repeat(81)).is_err());
    }

    #[test]
    fn quotas_are_data_limit_exceeded() {
        let mut vars = Map::new();
        let big = json!("x".repeat(MAX_ASSIGN_BYTES));
        let mut a = Map::new();
        a.insert("big".into(), big);
        let f = apply(&mut vars, a, "S").unwrap_err();
        assert_eq!(f.error, names::DATA_LIMIT_EXCEEDED);
        let mut a = Map::new();
        a.insert("a".into(), json!("x".repeat(MAX_ASSIGN_BYTES / 2)));
        a.insert("b".into(), json!("x".repeat(MAX_ASSIGN_BYTES / 2)));
        assert_eq!(
            apply(&mut vars, a, "S").unwrap_err().error,
            names::DATA_LIMIT_EXCEEDED
        );
        let mut a = Map::new();
        a.insert("ok".into(), json!(1));
        apply(&mut vars, a, "S").unwrap();
        assert_eq!(vars.get("ok"), Some(&json!(1)));
    }
}
