//! The states that only move data and control: Pass, Choice, Wait, Succeed, Fail.

use super::recorder::Halt;
use super::run::{Run, StateCx, Step};
use crate::checkpoint::CheckpointRecord;
use crate::error::{EvalError, Failure, names};
use crate::intrinsics;
use crate::model::{ChoiceBranch, Lang, PathField, StringSource, Test, Wait};
use crate::timestamp;
use serde_json::Value;
use std::time::Duration;

impl Run {
    /// # Guardrail
    /// A Pass state never calls out; it only reshapes data.
    pub(crate) fn pass<'a>(
        &self,
        cx: &StateCx<'a>,
        raw: Value,
        result: Option<&Value>,
    ) -> Result<Step<'a>, Halt> {
        let state = cx.state;
        let ctx = self.context_if_used(cx);
        if state.lang == Lang::Jsonata {
            let env = self.jenv(cx, &raw, &ctx);
            self.assign(cx, state.assign.as_ref(), &raw, &ctx, Some(&env))?;
            let out = self.output(cx, &env, raw.clone())?;
            return Ok(Step::of(state, out));
        }
        let keep_raw = !matches!(state.result_path, PathField::Default);
        let raw_copy = if keep_raw { raw.clone() } else { Value::Null };
        let effective = self.select(cx, &state.input_path, raw, &ctx)?;
        let res = match (result, &state.parameters) {
            (Some(r), _) => r.clone(),
            (None, Some(t)) => t
                .render(&effective, &ctx)
                .map_err(|e| self.fail_eval(cx, e))?,
            (None, None) => effective,
        };
        self.assign(cx, state.assign.as_ref(), &res, &ctx, None)?;
        let placed = self.place(cx, &state.result_path, raw_copy, res)?;
        Ok(Step::of(
            state,
            self.select(cx, &state.output_path, placed, &ctx)?,
        ))
    }

    /// # Errors
    /// `States.NoChoiceMatched` when no rule matches and there is no `Default`;
    /// `States.Runtime` when a rule's `Variable` does not exist.
    pub(crate) fn choice<'a>(
        &self,
        cx: &StateCx<'a>,
        raw: Value,
        choices: &'a [ChoiceBranch],
        default: Option<&'a str>,
    ) -> Result<Step<'a>, Halt> {
        let state = cx.state;
        let ctx = self.context_if_used(cx);
        let effective = self.select(cx, &state.input_path, raw, &ctx)?;
        let env = (state.lang == Lang::Jsonata).then(|| self.jenv(cx, &effective, &ctx));
        let mut target = None;
        for branch in choices {
            let matched = match (&branch.test, &env) {
                (Test::Rule(rule), _) => rule.matches(&effective, &ctx),
                (Test::Condition(expr), Some(env)) => {
                    expr.eval(env, "Condition").and_then(|v| match v {
                        Value::Bool(b) => Ok(b),
                        other => Err(EvalError {
                            error: names::QUERY_EVALUATION_ERROR,
                            message: format!(
                                "The Condition field must evaluate to a boolean, but '{}' returned {other}",
                                expr.source()
                            ),
                        }),
                    })
                }
                (Test::Condition(_), None) => Ok(false),
            }
            .map_err(|e| self.fail_eval(cx, e))?;
            if matched {
                target = Some(branch);
                break;
            }
        }
        let (next, assign, output) = match (target, default) {
            (Some(b), _) => (
                b.next.as_str(),
                b.assign.as_ref().or(state.assign.as_ref()),
                b.output.as_ref().or(state.output.as_ref()),
            ),
            (None, Some(d)) => (d, state.assign.as_ref(), state.output.as_ref()),
            (None, None) => {
                return Err(Failure::new(names::NO_CHOICE_MATCHED, "No Matches!").into());
            }
        };
        self.assign(cx, assign, &effective, &ctx, env.as_ref())?;
        let out = match (&env, output) {
            (Some(env), Some(t)) => t.render(env, "Output").map_err(|e| self.fail_eval(cx, e))?,
            (Some(_), None) => effective,
            (None, _) => self.select(cx, &state.output_path, effective, &ctx)?,
        };
        Ok(Step::Next(next, out))
    }

    /// # Idempotency
    /// A completed Wait is checkpointed; on resume it is not waited again.
    pub(crate) async fn wait<'a>(
        &self,
        cx: &StateCx<'a>,
        w: &'a Wait,
        raw: Value,
    ) -> Result<Step<'a>, Halt> {
        let state = cx.state;
        let ctx = self.context_if_used(cx);
        let effective = self.select(cx, &state.input_path, raw, &ctx)?;
        let read = |p: &crate::paths::JsonPath| -> Result<Value, Failure> {
            let doc = p.document(&effective, &ctx);
            p.read(&doc).map_err(|e| {
                self.fail_eval(
                    cx,
                    EvalError::runtime(format!("Invalid path '{}' : {}", p.as_str(), e.0)),
                )
            })
        };
        let duration = match w {
            Wait::Seconds(s) => Duration::from_secs(*s),
            Wait::SecondsPath(p) => {
                let v = read(p)?;
                let secs = v.as_u64().ok_or_else(|| {
                    self.fail_eval(
                        cx,
                        EvalError::runtime(format!(
                            "The SecondsPath parameter does not reference a valid integer: {}",
                            p.as_str()
                        )),
                    )
                })?;
                Duration::from_secs(secs)
            }
            Wait::Timestamp(t) => (*t - self.clock.now()).try_into().unwrap_or(Duration::ZERO),
            Wait::TimestampPath(p) => {
                let v = read(p)?;
                let t = v.as_str().and_then(timestamp::parse).ok_or_else(|| {
                    self.fail_eval(cx, EvalError::runtime(format!("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {}", p.as_str())))
                })?;
                (t - self.clock.now()).try_into().unwrap_or(Duration::ZERO)
            }
            Wait::Expr { seconds, expr } => {
                let env = self.jenv(cx, &effective, &ctx);
                let field = if *seconds { "Seconds" } else { "Timestamp" };
                let v = expr.eval(&env, field).map_err(|e| self.fail_eval(cx, e))?;
                if *seconds {
                    let secs = v.as_u64().filter(|s| *s <= 99_999_999).ok_or_else(|| {
                        self.fail_eval(cx, EvalError { error: names::QUERY_EVALUATION_ERROR, message: format!("The Seconds field must evaluate to an integer from 0 to 99999999, but '{}' returned {v}", expr.source()) })
                    })?;
                    Duration::from_secs(secs)
                } else {
                    let t = v.as_str().and_then(timestamp::parse).ok_or_else(|| {
                        self.fail_eval(cx, EvalError { error: names::QUERY_EVALUATION_ERROR, message: format!("The Timestamp field must evaluate to an ISO-8601 extended offset date-time string, but '{}' returned {v}", expr.source()) })
                    })?;
                    (t - self.clock.now()).try_into().unwrap_or(Duration::ZERO)
                }
            }
        };
        if !self.replay_waits.contains(&cx.address) {
            self.clock.sleep(duration).await;
            self.rec
                .checkpoint(CheckpointRecord::WaitCompleted {
                    address: cx.address.clone(),
                })
                .await?;
        }
        let out = self.plain_output(cx, effective, &ctx)?;
        Ok(Step::of(state, out))
    }

    /// The output of a state without a result (Wait, Succeed): JSONPath `OutputPath`, or
    /// JSONata `Output`; `Assign` evaluated on the (effective) input.
    fn plain_output(
        &self,
        cx: &StateCx<'_>,
        effective: Value,
        ctx: &Value,
    ) -> Result<Value, Failure> {
        let state = cx.state;
        if state.lang == Lang::Jsonata {
            let env = self.jenv(cx, &effective, ctx);
            self.assign(cx, state.assign.as_ref(), &effective, ctx, Some(&env))?;
            return self.output(cx, &env, effective);
        }
        self.assign(cx, state.assign.as_ref(), &effective, ctx, None)?;
        self.select(cx, &state.output_path, effective, ctx)
    }

    pub(crate) fn succeed<'a>(&self, cx: &StateCx<'a>, raw: Value) -> Result<Step<'a>, Halt> {
        let state = cx.state;
        let ctx = self.context_if_used(cx);
        let effective = self.select(cx, &state.input_path, raw, &ctx)?;
        Ok(Step::End(self.plain_output(cx, effective, &ctx)?))
    }

    /// The failure a Fail state raises (`Error`/`ErrorPath`, `Cause`/`CausePath`).
    pub(crate) fn fail(
        &self,
        cx: &StateCx<'_>,
        raw: &Value,
        error: Option<&StringSource>,
        cause: Option<&StringSource>,
    ) -> Failure {
        let ctx = self.context_if_used(cx);
        let resolve = |src: Option<&StringSource>, field: &str| -> Result<String, Failure> {
            let v = match src {
                None => return Ok(String::new()),
                Some(StringSource::Value(s)) => return Ok(s.clone()),
                Some(StringSource::Path(p)) => {
                    let doc = p.document(raw, &ctx);
                    p.read(&doc).map_err(|e| {
                        self.fail_eval(
                            cx,
                            EvalError::runtime(format!("Invalid path '{}' : {}", p.as_str(), e.0)),
                        )
                    })?
                }
                Some(StringSource::Intrinsic(call)) => {
                    intrinsics::eval(call, raw, &ctx, field).map_err(|e| self.fail_eval(cx, e))?
                }
                Some(StringSource::Jsonata(t)) => {
                    let env = self.jenv(cx, raw, &ctx);
                    t.render(&env, field.trim_end_matches("Path"))
                        .map_err(|e| self.fail_eval(cx, e))?
                }
            };
            match v {
                Value::String(s) => Ok(s),
                other => Err(self.fail_eval(
                    cx,
                    EvalError::runtime(format!(
                        "The {field} field must resolve to a string, but it resolved to {other}"
                    )),
                )),
            }
        };
        let error = match resolve(error, "ErrorPath") {
            Ok(e) => e,
            Err(f) => return f,
        };
        match resolve(cause, "CausePath") {
            Ok(cause) => Failure::new(error, cause),
            Err(f) => f,
        }
    }
}
