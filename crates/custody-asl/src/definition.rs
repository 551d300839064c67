//! A loaded, validated state machine definition.

use crate::error::{ValidationError, ValidationErrors};
use crate::model::{Kind, Machine};
use crate::parse;
use serde_json::Value;
use sha2::Digest as _;
use std::str::FromStr;

/// A state machine definition that passed validation: safe to execute.
///
/// Load it with `Definition::from_str(text)` (or [`Definition::from_value`]); share it between
/// executions with an `Arc`.
#[derive(Debug, Clone)]
pub struct Definition {
    pub(crate) machine: Machine,
    pub(crate) timeout_seconds: Option<u64>,
    sha256: String,
    source: Value,
}

impl FromStr for Definition {
    type Err = ValidationErrors;

    /// Parses and validates ASL JSON text.
    ///
    /// # Errors
    /// Every problem found, each with the JSON pointer of the offending field.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            ValidationErrors(vec![ValidationError {
                pointer: String::new(),
                reason: format!("not valid JSON: {e}"),
            }])
        })?;
        Self::from_value(&value)
    }
}

impl Definition {
    /// Validates an already-parsed JSON definition.
    ///
    /// # Errors
    /// Every problem found, each with the JSON pointer of the offending field.
    pub fn from_value(value: &Value) -> Result<Self, ValidationErrors> {
        let (machine, timeout_seconds, ck) = parse::definition(value);
        match machine {
            Some(machine) if ck.errors.is_empty() => {
                let sha256 = hex::encode(sha2::Sha256::digest(value.to_string().as_bytes()));
                Ok(Self {
                    machine,
                    timeout_seconds,
                    sha256,
                    source: value.clone(),
                })
            }
            _ => {
                let mut errors = ck.errors;
                if errors.is_empty() {
                    errors.push(ValidationError {
                        pointer: String::new(),
                        reason: "not a state machine definition".to_owned(),
                    });
                }
                errors.sort_by(|a, b| a.pointer.cmp(&b.pointer));
                errors.dedup();
                Err(ValidationErrors(errors))
            }
        }
    }

    /// SHA-256 of the definition's compact JSON: a checkpoint is only resumed by the definition
    /// that wrote it.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The machine-level `TimeoutSeconds`, if any.
    pub fn timeout_seconds(&self) -> Option<u64> {
        self.timeout_seconds
    }

    /// The definition JSON as loaded.
    pub fn as_json(&self) -> &Value {
        &self.source
    }

    /// Every distinct Task `Resource`, including those inside Parallel branches and Map item
    /// processors, so a runner can check that each has a binding before it starts.
    pub fn task_resources(&self) -> Vec<String> {
        fn walk(m: &Machine, out: &mut Vec<String>) {
            for s in m.states.values() {
                match &s.kind {
                    Kind::Task(t) if !out.contains(&t.resource) => out.push(t.resource.clone()),
                    Kind::Parallel { branches } => branches.iter().for_each(|b| walk(b, out)),
                    Kind::Map(spec) => walk(&spec.processor, out),
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.machine, &mut out);
        out.sort();
        out
    }
}
