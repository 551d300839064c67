//! JSONata mode: `{% %}` expressions in `Arguments`, `Output`, `Assign`, `Condition`, `Items`,
//! `ItemSelector`, the numeric fields and Fail's `Error`/`Cause`, evaluated with `$states`
//! (`input`, `result`, `errorOutput`, `context`) and the workflow variables bound.
//!
//! Why `jsonata-core` (and not `jsonata-rs`): it registers host functions as closures (the Step
//! Functions functions need the execution's partition), binds variables from `serde_json`
//! values, implements the JSONata 2.x function library Step Functions documents (`$type`,
//! `$average`, `$formatNumber`, ...), reports errors with their JSONata codes, and is MIT
//! licensed. `jsonata-rs` 0.3.4 takes only plain function pointers, lacks several built-ins and
//! calls itself incomplete.

mod functions;

use crate::error::{EvalError, ValidationError, names, ptr};
use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator};
use jsonata_core::value::JValue;
use serde_json::{Map, Value};
use std::sync::Arc;

/// One parsed `{% expression %}`.
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    source: String,
    ast: Arc<AstNode>,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// Whether a string is a whole JSONata expression (`{%` ... `%}`), and its body.
pub(crate) fn expression_body(s: &str) -> Option<&str> {
    s.strip_prefix("{%")?.strip_suffix("%}")
}

impl Expr {
    /// Parses `{% body %}` (the braces included) at `pointer`.
    pub(crate) fn parse(
        text: &str,
        pointer: &str,
        errors: &mut Vec<ValidationError>,
    ) -> Option<Self> {
        let Some(body) = expression_body(text) else {
            errors.push(ValidationError {
                pointer: pointer.to_owned(),
                reason: format!("{text:?} is not a JSONata expression (expected \"{{% ... %}}\")"),
            });
            return None;
        };
        match jsonata_core::parser::parse(body.trim()) {
            Ok(ast) => Some(Self {
                source: body.trim().to_owned(),
                ast: Arc::new(ast),
            }),
            Err(e) => {
                errors.push(ValidationError {
                    pointer: pointer.to_owned(),
                    reason: format!(
                        "the JSONata expression {:?} does not parse ({e})",
                        body.trim()
                    ),
                });
                None
            }
        }
    }

    /// The expression text between the braces.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression; `field` names the definition field in error messages.
    ///
    /// # Errors
    /// `States.QueryEvaluationError` when evaluation fails or yields nothing.
    pub(crate) fn eval(&self, env: &Env<'_>, field: &str) -> Result<Value, EvalError> {
        let mut ctx = Context::new();
        ctx.bind("states".to_owned(), JValue::from(env.states.clone()));
        for (name, value) in env.vars {
            ctx.bind(name.clone(), JValue::from(value.clone()));
        }
        let mut ev = Evaluator::with_context(ctx);
        functions::register(&mut ev, env.partition)
            .map_err(|e| self.failed(field, &e.to_string()))?;
        match ev.evaluate(&self.ast, &JValue::Undefined) {
            Ok(v) if v.is_undefined() => Err(EvalError {
                error: names::QUERY_EVALUATION_ERROR,
                message: format!(
                    "The JSONata expression '{}' specified for the field '{field}' returned nothing (undefined).",
                    self.source
                ),
            }),
            Ok(v) => Ok(functions::to_json(&v)),
            Err(e) => Err(self.failed(field, e.message())),
        }
    }

    fn failed(&self, field: &str, why: &str) -> EvalError {
        EvalError {
            error: names::QUERY_EVALUATION_ERROR,
            message: format!(
                "The JSONata expression '{}' specified for the field '{field}' threw an error during evaluation. {why}",
                self.source
            ),
        }
    }
}

/// What an expression sees: `$states` and the variables visible to the state.
pub(crate) struct Env<'a> {
    /// `{"input": ..., "context": ..., "result"?: ..., "errorOutput"?: ...}`.
    pub states: Value,
    /// Workflow variables visible at state entry.
    pub vars: &'a Map<String, Value>,
    /// The partition of the execution's ARN (`$partition()`).
    pub partition: &'a str,
}

impl<'a> Env<'a> {
    /// `$states` with `input` and `context` only.
    pub(crate) fn new(
        input: &Value,
        context: &Value,
        vars: &'a Map<String, Value>,
        partition: &'a str,
    ) -> Self {
        let mut states = Map::new();
        states.insert("input".into(), input.clone());
        states.insert("context".into(), context.clone());
        Self {
            states: Value::Object(states),
            vars,
            partition,
        }
    }

    /// Adds `$states.result` (or `$states.errorOutput`).
    pub(crate) fn with(mut self, key: &str, value: &Value) -> Self {
        if let Some(o) = self.states.as_object_mut() {
            o.insert(key.to_owned(), value.clone());
        }
        self
    }
}

/// A JSONata-mode payload: any JSON, where a string `{% ... %}` (anywhere inside objects or
/// arrays) is an expression replaced by its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JTemplate {
    /// Copied as-is.
    Literal(Value),
    /// One expression.
    Expr(Expr),
    /// An object with an expression somewhere below it.
    Object(Vec<(String, JTemplate)>),
    /// An array with an expression somewhere below it.
    Array(Vec<JTemplate>),
}

impl JTemplate {
    /// Compiles `value`; expression parse errors are pushed with pointers below `pointer`.
    pub(crate) fn compile(value: &Value, pointer: &str, errors: &mut Vec<ValidationError>) -> Self {
        match value {
            Value::String(s) if expression_body(s).is_some() => {
                match Expr::parse(s, pointer, errors) {
                    Some(e) => JTemplate::Expr(e),
                    None => JTemplate::Literal(Value::Null),
                }
            }
            Value::Object(map) => {
                let fields: Vec<(String, JTemplate)> = map
                    .iter()
                    .map(|(k, v)| (k.clone(), JTemplate::compile(v, &ptr(pointer, k), errors)))
                    .collect();
                if fields
                    .iter()
                    .all(|(_, t)| matches!(t, JTemplate::Literal(_)))
                {
                    JTemplate::Literal(value.clone())
                } else {
                    JTemplate::Object(fields)
                }
            }
            Value::Array(items) => {
                let ts: Vec<JTemplate> = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| JTemplate::compile(v, &ptr(pointer, i), errors))
                    .collect();
                if ts.iter().all(|t| matches!(t, JTemplate::Literal(_))) {
                    JTemplate::Literal(value.clone())
                } else {
                    JTemplate::Array(ts)
                }
            }
            other => JTemplate::Literal(other.clone()),
        }
    }

    /// Renders the template; `field` names the definition field in error messages.
    ///
    /// # Errors
    /// `States.QueryEvaluationError` from any expression.
    pub(crate) fn render(&self, env: &Env<'_>, field: &str) -> Result<Value, EvalError> {
        match self {
            JTemplate::Literal(v) => Ok(v.clone()),
            JTemplate::Expr(e) => e.eval(env, field),
            JTemplate::Array(ts) => ts
                .iter()
                .map(|t| t.render(env, field))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            JTemplate::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (k, t) in fields {
                    out.insert(k.clone(), t.render(env, field)?);
                }
                Ok(Value::Object(out))
            }
        }
    }
}

/// The partition named by an ARN (`arn:PARTITION:...`), `aws` when it is not an ARN.
pub(crate) fn partition_of(arn: &str) -> &str {
    arn.strip_prefix("arn:")
        .and_then(|rest| rest.split(':').next())
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

#[cfg(test)]
mod tests;
