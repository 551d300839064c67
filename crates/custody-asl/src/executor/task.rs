//! Task states, and the `Retry`/`Catch` handling Task, Parallel and Map share.

use super::limits::check_size;
use super::recorder::Halt;
use super::run::{Run, StateCx, Step};
use crate::checkpoint::CheckpointRecord;
use crate::error::{EvalError, Failure, names};
use crate::history::{EventType, details, resource_parts};
use crate::invoker::{Heartbeat, TaskRequest};
use crate::model::{Lang, NumberOrPath, Task};
use crate::paths::jsonpath::without_variables;
use crate::paths::reference::apply_result_path;
use crate::retry::{find_catcher, find_retrier};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// What to do after a state attempt failed.
pub(crate) enum AfterFailure<'a> {
    /// Sleep this long, then try again.
    Retry(Duration),
    /// A catcher took it: go there with this output.
    Caught(Step<'a>),
}

impl Run {
    /// Applies the state's `Retry` then `Catch` to `failure`. `counts` holds the attempts made
    /// per retrier. Unhandled failures come back as `Err`.
    pub(crate) fn after_failure<'a>(
        &self,
        cx: &StateCx<'a>,
        counts: &mut [u64],
        raw: &Value,
        failure: Failure,
    ) -> Result<AfterFailure<'a>, Halt> {
        let state = cx.state;
        if failure.is_terminal() {
            return Err(failure.into());
        }
        if let Some(i) = find_retrier(&state.retry, &failure) {
            let r = &state.retry[i];
            if counts[i] < r.max_attempts {
                let delay = match self.rng.lock() {
                    Ok(mut rng) => r.delay(counts[i], &mut *rng),
                    Err(_) => r.delay(counts[i], &mut rand::rng()),
                };
                counts[i] += 1;
                tracing::info!(state = %state.name, error = %failure.error, attempt = counts[i], delay_s = delay.as_secs_f64(), "retrying");
                return Ok(AfterFailure::Retry(delay));
            }
        }
        if let Some(c) = find_catcher(&state.catch, &failure) {
            let error_output = json!({"Error": failure.error, "Cause": failure.cause});
            let ctx = if c.assign.is_some() || state.lang == Lang::Jsonata {
                self.context(cx, 0, None, None)
            } else {
                Value::Null
            };
            let output = if state.lang == Lang::Jsonata {
                let env = self.jenv(cx, raw, &ctx).with("errorOutput", &error_output);
                self.assign(cx, c.assign.as_ref(), &error_output, &ctx, Some(&env))?;
                match &c.output {
                    Some(t) => t
                        .render(&env, "Output")
                        .map_err(|e| self.fail_eval(cx, e))?,
                    None => error_output,
                }
            } else {
                self.assign(cx, c.assign.as_ref(), &error_output, &ctx, None)?;
                match &c.result_path {
                    None => error_output,
                    Some(None) => raw.clone(),
                    Some(Some(p)) => apply_result_path(p, raw.clone(), error_output)
                        .map_err(|e| self.fail_eval(cx, e))?,
                }
            };
            tracing::info!(state = %state.name, error = %failure.error, next = %c.next, "caught");
            return Ok(AfterFailure::Caught(Step::Next(&c.next, output)));
        }
        Err(failure.into())
    }

    /// Evaluates a JSONata numeric field (`TimeoutSeconds`, `MaxConcurrency`, ...) to a number.
    pub(crate) fn eval_number(
        &self,
        cx: &StateCx<'_>,
        expr: &crate::jsonata::Expr,
        input: &Value,
        ctx: &Value,
        field: &str,
    ) -> Result<Value, Failure> {
        let env = self.jenv(cx, input, ctx);
        let v = expr.eval(&env, field).map_err(|e| self.fail_eval(cx, e))?;
        if v.is_number() {
            Ok(v)
        } else {
            Err(self.fail_eval(
                cx,
                EvalError {
                    error: names::QUERY_EVALUATION_ERROR,
                    message: format!(
                        "The {field} field must evaluate to a number, but '{}' returned {v}",
                        expr.source()
                    ),
                },
            ))
        }
    }

    /// Resolves `TimeoutSeconds(Path)`/`HeartbeatSeconds(Path)` against the effective input.
    fn seconds(
        &self,
        cx: &StateCx<'_>,
        v: Option<&NumberOrPath<u64>>,
        input: &Value,
        ctx: &Value,
        field: &str,
    ) -> Result<Option<u64>, Failure> {
        match v {
            None => Ok(None),
            Some(NumberOrPath::Value(s)) => Ok(Some(*s)),
            Some(NumberOrPath::Expr(e)) => {
                let n = self.eval_number(cx, e, input, ctx, field.trim_end_matches("Path"))?;
                match n.as_u64() {
                    Some(s) if s > 0 => Ok(Some(s)),
                    _ => Err(self.fail_eval(
                        cx,
                        EvalError {
                            error: names::QUERY_EVALUATION_ERROR,
                            message: format!(
                                "The {} field must evaluate to a positive integer, but '{}' returned {n}",
                                field.trim_end_matches("Path"),
                                e.source()
                            ),
                        },
                    )),
                }
            }
            Some(NumberOrPath::Path(p)) => {
                let found = p.read(&p.document(input, ctx)).map_err(|e| {
                    self.fail_eval(
                        cx,
                        EvalError::runtime(format!("Invalid path '{}' : {}", p.as_str(), e.0)),
                    )
                })?;
                match found.as_u64() {
                    Some(s) if s > 0 => Ok(Some(s)),
                    _ => Err(self.fail_eval(
                        cx,
                        EvalError::runtime(format!(
                            "The {field} value must be a positive integer, but {} is {found}",
                            p.as_str()
                        )),
                    )),
                }
            }
        }
    }

    /// # Idempotency
    /// A successful result is checkpointed under the task's stable address; on resume it is
    /// reused and the invoker is not called.
    ///
    /// # Errors
    /// The invoker's failure, `States.Timeout` past `TimeoutSeconds`, and path failures, each
    /// subject to `Retry`/`Catch` (path failures are terminal).
    pub(crate) async fn task<'a>(
        &'a self,
        cx: &StateCx<'a>,
        task: &'a Task,
        raw: Value,
    ) -> Result<Step<'a>, Halt> {
        let state = cx.state;
        let base_ctx = self.context(cx, 0, None, None);
        let effective = self.select(cx, &state.input_path, raw.clone(), &base_ctx)?;
        let timeout = self.seconds(
            cx,
            task.timeout.as_ref(),
            &effective,
            &base_ctx,
            "TimeoutSecondsPath",
        )?;
        let heartbeat = self.seconds(
            cx,
            task.heartbeat.as_ref(),
            &effective,
            &base_ctx,
            "HeartbeatSecondsPath",
        )?;
        let token = task
            .resource
            .ends_with(".waitForTaskToken")
            .then(|| uuid::Uuid::new_v4().to_string());
        let mut counts = vec![0u64; state.retry.len()];
        let mut retry_count = 0u64;
        loop {
            let ctx = if retry_count == 0 && token.is_none() {
                base_ctx.clone()
            } else {
                self.context(cx, retry_count, None, token.as_deref())
            };
            match self
                .task_attempt(cx, task, &effective, &ctx, timeout, heartbeat, &raw)
                .await
            {
                Ok(output) => return Ok(Step::of(state, output)),
                Err(Halt::Failed(f)) => match self.after_failure(cx, &mut counts, &raw, f)? {
                    AfterFailure::Retry(d) => {
                        retry_count += 1;
                        self.clock.sleep(d).await;
                    }
                    AfterFailure::Caught(step) => return Ok(step),
                },
                Err(h) => return Err(h),
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn task_attempt(
        &self,
        cx: &StateCx<'_>,
        task: &Task,
        effective: &Value,
        ctx: &Value,
        timeout: Option<u64>,
        heartbeat: Option<u64>,
        raw: &Value,
    ) -> Result<Value, Halt> {
        let state = cx.state;
        let params = match (&state.parameters, &state.arguments) {
            (Some(t), _) => t
                .render(effective, ctx)
                .map_err(|e| self.fail_eval(cx, e))?,
            (None, Some(t)) => t
                .render(&self.jenv(cx, effective, ctx), "Arguments")
                .map_err(|e| self.fail_eval(cx, e))?,
            (None, None) => effective.clone(),
        };
        check_size(&state.name, &params, "input")?;
        let lambda = task.resource.starts_with("arn:aws:lambda:");
        let (resource_type, resource) = resource_parts(&task.resource);
        let scheduled = if lambda {
            let mut d = json!({"resource": task.resource, "input": params.to_string()});
            if let Some(t) = timeout {
                d["timeoutInSeconds"] = json!(t);
            }
            self.rec.emit(
                cx.prev(),
                EventType::LambdaFunctionScheduled,
                details("lambdaFunctionScheduledEventDetails", d),
            )
        } else {
            let mut d = json!({"resourceType": resource_type, "resource": resource, "region": "us-east-1", "parameters": params.to_string()});
            if let Some(t) = timeout {
                d["timeoutInSeconds"] = json!(t);
            }
            if let Some(h) = heartbeat {
                d["heartbeatInSeconds"] = json!(h);
            }
            self.rec.emit(
                cx.prev(),
                EventType::TaskScheduled,
                details("taskScheduledEventDetails", d),
            )
        };
        let started = if lambda {
            self.rec.emit(
                scheduled,
                EventType::LambdaFunctionStarted,
                serde_json::Map::new(),
            )
        } else {
            self.rec.emit(
                scheduled,
                EventType::TaskStarted,
                details(
                    "taskStartedEventDetails",
                    json!({"resourceType": resource_type, "resource": resource}),
                ),
            )
        };
        cx.set_prev(started);

        let replayed = self.replay_tasks.get(&cx.address).cloned();
        let is_replay = replayed.is_some();
        let result: Result<Value, Failure> = match replayed {
            Some(v) => {
                self.replayed.fetch_add(1, Ordering::Relaxed);
                tracing::info!(state = %state.name, address = %cx.address, "reusing the checkpointed task result");
                Ok(v)
            }
            None => {
                let beats = Heartbeat::default();
                let mut heard = beats.subscribe();
                let request = TaskRequest {
                    resource: task.resource.clone(),
                    state_name: state.name.clone(),
                    input: params,
                    context: without_variables(ctx),
                    timeout_seconds: timeout,
                    heartbeat_seconds: heartbeat,
                    heartbeat: beats,
                };
                let call = self.invoker.invoke(request);
                let deadline = async {
                    match timeout {
                        Some(t) => self.clock.sleep(Duration::from_secs(t)).await,
                        None => futures::future::pending::<()>().await,
                    }
                };
                // Only callback and activity tasks can send heartbeats (as in Step Functions).
                let watched = heartbeat.filter(|_| expects_heartbeats(&task.resource));
                let silence = async {
                    let Some(h) = watched else {
                        return futures::future::pending::<()>().await;
                    };
                    loop {
                        tokio::select! {
                            r = heard.changed() => if r.is_err() {
                                // The invoker dropped its handle: it will not beat again.
                                futures::future::pending::<()>().await;
                            },
                            () = self.clock.sleep(Duration::from_secs(h)) => return,
                        }
                    }
                };
                let outcome = tokio::select! {
                    r = call => Ok(r),
                    () = deadline => Err(names::TIMEOUT),
                    () = silence => Err(names::HEARTBEAT_TIMEOUT),
                };
                match outcome {
                    Ok(r) => r.map_err(|f| Failure::new(f.error, f.cause)),
                    Err(timed_out) => {
                        let (ty, key) = if lambda {
                            (
                                EventType::LambdaFunctionTimedOut,
                                "lambdaFunctionTimedOutEventDetails",
                            )
                        } else {
                            (EventType::TaskTimedOut, "taskTimedOutEventDetails")
                        };
                        let mut d = json!({"error": timed_out});
                        if !lambda {
                            d["resourceType"] = json!(resource_type);
                            d["resource"] = json!(resource);
                        }
                        cx.set_prev(self.rec.emit(cx.prev(), ty, details(key, d)));
                        return Err(Failure::new(timed_out, "").into());
                    }
                }
            }
        };
        match result {
            Ok(v) => {
                let id = if lambda {
                    self.rec.emit(
                        cx.prev(),
                        EventType::LambdaFunctionSucceeded,
                        details(
                            "lambdaFunctionSucceededEventDetails",
                            json!({"output": v.to_string()}),
                        ),
                    )
                } else {
                    self.rec.emit(
                        cx.prev(),
                        EventType::TaskSucceeded,
                        details("taskSucceededEventDetails", json!({"resourceType": resource_type, "resource": resource, "output": v.to_string()})),
                    )
                };
                cx.set_prev(id);
                if !is_replay {
                    self.rec
                        .checkpoint(CheckpointRecord::TaskSucceeded {
                            address: cx.address.clone(),
                            output: v.clone(),
                        })
                        .await?;
                }
                Ok(self.finish(cx, raw.clone(), v, ctx)?)
            }
            Err(f) => {
                let id = if lambda {
                    self.rec.emit(
                        cx.prev(),
                        EventType::LambdaFunctionFailed,
                        details(
                            "lambdaFunctionFailedEventDetails",
                            json!({"error": f.error, "cause": f.cause}),
                        ),
                    )
                } else {
                    self.rec.emit(
                        cx.prev(),
                        EventType::TaskFailed,
                        details("taskFailedEventDetails", json!({"resourceType": resource_type, "resource": resource, "error": f.error, "cause": f.cause})),
                    )
                };
                cx.set_prev(id);
                Err(f.into())
            }
        }
    }
}

/// Whether a task can report heartbeats: a callback (`.waitForTaskToken`) or an activity.
fn expects_heartbeats(resource: &str) -> bool {
    resource.ends_with(".waitForTaskToken") || resource.contains(":activity:")
}
