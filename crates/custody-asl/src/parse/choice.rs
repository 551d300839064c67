//! Reading Choice rules: one comparison (or `And`/`Or`/`Not`) per rule, a `Next` only at the
//! top level, operands of the type the operator compares.

use super::fields::Checker;
use crate::choice::{Kind, Operand, Rule, compile_pattern, operator};
use crate::error::ptr;
use crate::timestamp;
use serde_json::{Map, Value};

/// Reads one rule. `top` rules must have `Next` (returned); nested ones must not.
pub(crate) fn rule(
    ck: &mut Checker,
    v: &Value,
    pointer: &str,
    top: bool,
) -> Option<(Rule, Option<String>)> {
    let obj = ck.object(v, pointer)?;
    let next = if top {
        let n = ck.required_string(obj, "Next", pointer);
        n.as_ref()?;
        n
    } else {
        if obj.contains_key("Next") {
            ck.err(
                ptr(pointer, "Next"),
                "a nested Choice rule (inside And, Or or Not) cannot have 'Next'",
            );
        }
        None
    };
    let combinators: Vec<&str> = ["And", "Or", "Not"]
        .into_iter()
        .filter(|k| obj.contains_key(*k))
        .collect();
    let operators: Vec<&String> = obj.keys().filter(|k| operator(k).is_some()).collect();
    for key in obj.keys() {
        let known = matches!(
            key.as_str(),
            "Variable" | "Next" | "Comment" | "And" | "Or" | "Not"
        ) || (top && key == "Assign")
            || operator(key).is_some();
        if !known {
            let reason = if key == "Condition" || key == "Output" {
                format!(
                    "Field '{key}' belongs to the JSONata query language: it needs QueryLanguage JSONata on the state or the state machine"
                )
            } else if key == "Assign" {
                "'Assign' belongs on a top-level Choice rule, not inside And, Or or Not".to_owned()
            } else {
                format!("Field '{key}' is not a Choice rule field or comparison operator")
            };
            ck.err(ptr(pointer, key), reason);
        }
    }
    if combinators.len() + operators.len() != 1 {
        ck.err(
            pointer,
            "a Choice rule must have exactly one comparison operator, or one of And, Or, Not",
        );
        return None;
    }
    let rule = if let Some(&c) = combinators.first() {
        if obj.contains_key("Variable") {
            ck.err(
                ptr(pointer, "Variable"),
                format!("'Variable' cannot be combined with '{c}'"),
            );
        }
        let p = ptr(pointer, c);
        match c {
            "Not" => Rule::Not(Box::new(rule(ck, &obj[c], &p, false)?.0)),
            _ => {
                let Some(items) = obj[c].as_array().filter(|a| !a.is_empty()) else {
                    ck.err(
                        p,
                        format!("'{c}' must be a non-empty array of Choice rules"),
                    );
                    return None;
                };
                let mut rules = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if let Some((r, _)) = rule(ck, item, &ptr(&p, i), false) {
                        rules.push(r);
                    }
                }
                if rules.len() != items.len() {
                    return None;
                }
                if c == "And" {
                    Rule::And(rules)
                } else {
                    Rule::Or(rules)
                }
            }
        }
    } else {
        comparison(ck, obj, operators[0], pointer)?
    };
    Some((rule, next))
}

fn comparison(ck: &mut Checker, obj: &Map<String, Value>, op: &str, pointer: &str) -> Option<Rule> {
    let (kind, cmp, is_path) = operator(op)?;
    let var_text = ck.required_string(obj, "Variable", pointer)?;
    let variable = ck.parse_path(&var_text, &ptr(pointer, "Variable"), false)?;
    let p = ptr(pointer, op);
    let raw = &obj[op];
    let operand = if is_path {
        let Some(s) = raw.as_str() else {
            ck.err(p, format!("'{op}' must be a path string"));
            return None;
        };
        Operand::Path(ck.parse_path(s, &p, false)?)
    } else {
        match (kind, raw) {
            (Kind::String, Value::String(_))
            | (Kind::Numeric, Value::Number(_))
            | (Kind::Boolean, Value::Bool(_)) => Operand::Literal(raw.clone()),
            (
                Kind::IsNull
                | Kind::IsPresent
                | Kind::IsNumeric
                | Kind::IsString
                | Kind::IsBoolean
                | Kind::IsTimestamp,
                Value::Bool(_),
            ) => Operand::Literal(raw.clone()),
            (Kind::Timestamp, Value::String(s)) => match timestamp::parse(s) {
                Some(t) => Operand::Timestamp(t),
                None => {
                    ck.err(
                        p,
                        format!("{s:?} is not a valid timestamp (RFC 3339, uppercase 'T' and 'Z')"),
                    );
                    return None;
                }
            },
            (Kind::StringMatches, Value::String(s)) => match compile_pattern(s) {
                Ok(re) => Operand::Pattern(re),
                Err(e) => {
                    ck.err(p, e);
                    return None;
                }
            },
            _ => {
                let expected = match kind {
                    Kind::String | Kind::StringMatches => "a string",
                    Kind::Numeric => "a number",
                    Kind::Timestamp => "a timestamp string",
                    _ => "a boolean",
                };
                ck.err(p, format!("'{op}' must be {expected}"));
                return None;
            }
        }
    };
    Some(Rule::Test {
        variable,
        kind,
        cmp,
        operand,
    })
}
