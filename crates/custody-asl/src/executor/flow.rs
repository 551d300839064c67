//! The states that only move data and control: Pass, Choice, Wait, Succeed, Fail.

use super::recorder::Halt;
use super::run::{Run, StateCx, Step};
use crate::checkpoint::CheckpointRecord;
use crate::choice::Rule;
use crate::error::{EvalError, Failure, names};
use crate::intrinsics;
use crate::model::{PathField, StringSource, Wait};
use crate::paths::Root;
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
        choices: &'a [(Rule, String)],
        default: Option<&'a str>,
    ) -> Result<Step<'a>, Halt> {
        let state = cx.state;
        let ctx = self.context_if_used(cx);
        let effective = self.select(cx, &state.input_path, raw, &ctx)?;
        let mut target = None;
        for (rule, next) in choices {
            if rule
                .matches(&effective, &ctx)
                .map_err(|e| self.fail_eval(cx, e))?
            {
                target = Some(next.as_str());
                break;
            }
        }
        let Some(next) = target.or(default) else {
            return Err(Failure::new(names::NO_CHOICE_MATCHED, "No Matches!").into());
        };
        Ok(Step::Next(
            next,
            self.select(cx, &state.output_path, effective, &ctx)?,
        ))
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
            let doc = if p.root() == Root::Context {
                &ctx
            } else {
                &effective
            };
            p.read(doc).map_err(|e| {
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
        };
        if !self.replay_waits.contains(&cx.address) {
            self.clock.sleep(duration).await;
            self.rec
                .checkpoint(CheckpointRecord::WaitCompleted {
                    address: cx.address.clone(),
                })
                .await?;
        }
        Ok(Step::of(
            state,
            self.select(cx, &state.output_path, effective, &ctx)?,
        ))
    }

    pub(crate) fn succeed<'a>(&self, cx: &StateCx<'a>, raw: Value) -> Result<Step<'a>, Halt> {
        let state = cx.state;
        let ctx = self.context_if_used(cx);
        let effective = self.select(cx, &state.input_path, raw, &ctx)?;
        Ok(Step::End(self.select(
            cx,
            &state.output_path,
            effective,
            &ctx,
        )?))
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
                    let doc = if p.root() == Root::Context { &ctx } else { raw };
                    p.read(doc).map_err(|e| {
                        self.fail_eval(
                            cx,
                            EvalError::runtime(format!("Invalid path '{}' : {}", p.as_str(), e.0)),
                        )
                    })?
                }
                Some(StringSource::Intrinsic(call)) => {
                    intrinsics::eval(call, raw, &ctx, field).map_err(|e| self.fail_eval(cx, e))?
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
