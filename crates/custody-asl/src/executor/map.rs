//! Inline Map states: one run of the item processor per item (or per batch), at most
//! `MaxConcurrency` at a time, results in item order; failures up to the tolerated threshold
//! are absorbed.

use super::recorder::Halt;
use super::run::{Run, Scope, StateCx, Step};
use super::task::AfterFailure;
use crate::error::{EvalError, Failure, names};
use crate::history::{EventType, details};
use crate::model::{Batcher, MapSpec, NumberOrPath, PathField};
use futures::StreamExt as _;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};

/// Step Functions' cause when a Map exceeds its tolerated failures.
const THRESHOLD_CAUSE: &str = "The specified tolerated failure threshold was exceeded";

impl Run {
    fn number(
        &self,
        cx: &StateCx<'_>,
        v: Option<&NumberOrPath<u64>>,
        input: &Value,
        ctx: &Value,
        field: &str,
    ) -> Result<Option<u64>, Failure> {
        match v {
            None => Ok(None),
            Some(NumberOrPath::Value(n)) => Ok(Some(*n)),
            Some(NumberOrPath::Expr(e)) => {
                let field = field.trim_end_matches("Path");
                let n = self.eval_number(cx, e, input, ctx, field)?;
                n.as_u64().map(Some).ok_or_else(|| {
                    self.fail_eval(cx, EvalError { error: names::QUERY_EVALUATION_ERROR, message: format!("The {field} field must evaluate to a non-negative integer, but '{}' returned {n}", e.source()) })
                })
            }
            Some(NumberOrPath::Path(p)) => {
                let found = p.read(&p.document(input, ctx)).map_err(|e| {
                    self.fail_eval(
                        cx,
                        EvalError::runtime(format!("Invalid path '{}' : {}", p.as_str(), e.0)),
                    )
                })?;
                found.as_u64().map(Some).ok_or_else(|| {
                    self.fail_eval(
                        cx,
                        EvalError::runtime(format!(
                            "The {field} value must be a non-negative integer, but {} is {found}",
                            p.as_str()
                        )),
                    )
                })
            }
        }
    }

    fn percentage(
        &self,
        cx: &StateCx<'_>,
        v: Option<&NumberOrPath<f64>>,
        input: &Value,
        ctx: &Value,
    ) -> Result<Option<f64>, Failure> {
        match v {
            None => Ok(None),
            Some(NumberOrPath::Value(n)) => Ok(Some(*n)),
            Some(NumberOrPath::Expr(e)) => {
                let n = self.eval_number(cx, e, input, ctx, "ToleratedFailurePercentage")?;
                n.as_f64().filter(|f| (0.0..=100.0).contains(f)).map(Some).ok_or_else(|| {
                    self.fail_eval(cx, EvalError { error: names::QUERY_EVALUATION_ERROR, message: format!("The ToleratedFailurePercentage field must evaluate to a number from 0 to 100, but '{}' returned {n}", e.source()) })
                })
            }
            Some(NumberOrPath::Path(p)) => {
                let found = p.read(&p.document(input, ctx)).map_err(|e| {
                    self.fail_eval(
                        cx,
                        EvalError::runtime(format!("Invalid path '{}' : {}", p.as_str(), e.0)),
                    )
                })?;
                found.as_f64().filter(|f| (0.0..=100.0).contains(f)).map(Some).ok_or_else(|| {
                    self.fail_eval(cx, EvalError::runtime(format!("The ToleratedFailurePercentagePath value must be a number from 0 to 100, but {} is {found}", p.as_str())))
                })
            }
        }
    }

    /// Groups item inputs into batches as `ItemBatcher` asks.
    fn batch(
        &self,
        cx: &StateCx<'_>,
        b: &Batcher,
        inputs: Vec<Value>,
        effective: &Value,
        ctx: &Value,
    ) -> Result<Vec<Value>, Failure> {
        let max_items = self
            .number(
                cx,
                b.max_items.as_ref(),
                effective,
                ctx,
                "MaxItemsPerBatchPath",
            )?
            .unwrap_or(u64::MAX)
            .max(1);
        let max_bytes = self
            .number(
                cx,
                b.max_bytes.as_ref(),
                effective,
                ctx,
                "MaxInputBytesPerBatchPath",
            )?
            .unwrap_or(262_144)
            .max(1);
        let batch_input = match &b.batch_input {
            Some(t) => Some(
                t.render(effective, ctx)
                    .map_err(|e| self.fail_eval(cx, e))?,
            ),
            None => None,
        };
        let wrap = |items: Vec<Value>| {
            let mut m = Map::new();
            if let Some(bi) = &batch_input {
                m.insert("BatchInput".into(), bi.clone());
            }
            m.insert("Items".into(), Value::Array(items));
            Value::Object(m)
        };
        let mut batches = Vec::new();
        let mut current = Vec::new();
        let mut bytes = 0u64;
        for item in inputs {
            let size = item.to_string().len() as u64;
            if !current.is_empty()
                && (current.len() as u64 >= max_items || bytes + size > max_bytes)
            {
                batches.push(wrap(std::mem::take(&mut current)));
                bytes = 0;
            }
            bytes += size;
            current.push(item);
        }
        if !current.is_empty() {
            batches.push(wrap(current));
        }
        Ok(batches)
    }

    /// # Errors
    /// Without a tolerated-failure setting, the first failed iteration's error; with one,
    /// `States.ExceedToleratedFailureThreshold` once it is exceeded. Either is subject to the
    /// state's `Retry`/`Catch`.
    ///
    /// # Caveats
    /// With a tolerated-failure setting, a failed item's place in the output holds its
    /// `{"Error", "Cause"}`.
    pub(crate) async fn map<'a>(
        &'a self,
        cx: &StateCx<'a>,
        spec: &'a MapSpec,
        raw: Value,
    ) -> Result<Step<'a>, Halt> {
        let state = cx.state;
        let ctx = self.context(cx, 0, None, None);
        let effective = self.select(cx, &state.input_path, raw.clone(), &ctx)?;
        let items = match (&spec.items, &spec.items_path) {
            (Some(t), _) => t
                .render(&self.jenv(cx, &effective, &ctx), "Items")
                .map_err(|e| self.fail_eval(cx, e))?,
            (None, PathField::Path(p)) => p.read(&p.document(&effective, &ctx)).map_err(|e| {
                self.fail_eval(
                    cx,
                    EvalError::runtime(format!("Invalid path '{}' : {}", p.as_str(), e.0)),
                )
            })?,
            (None, PathField::Default | PathField::Null) => effective.clone(),
        };
        let Value::Array(items) = items else {
            if spec.items.is_some() {
                return Err(self
                    .fail_eval(
                        cx,
                        EvalError {
                            error: names::QUERY_EVALUATION_ERROR,
                            message: format!(
                                "The Items field must evaluate to a JSON array, but it evaluated to {items}"
                            ),
                        },
                    )
                    .into());
            }
            let path = match &spec.items_path {
                PathField::Path(p) => p.as_str().to_owned(),
                _ => "$".to_owned(),
            };
            return Err(self
                .fail_eval(
                    cx,
                    EvalError::runtime(format!(
                        "Item Path {path} must point to a JSON array, but it points to {items}"
                    )),
                )
                .into());
        };
        let mut inputs = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            inputs.push(match (&spec.item_selector, &spec.item_selector_jsonata) {
                (Some(t), _) => {
                    let item_ctx = self.context(cx, 0, Some((i, item)), None);
                    t.render(&effective, &item_ctx)
                        .map_err(|e| self.fail_eval(cx, e))?
                }
                (None, Some(t)) => {
                    let item_ctx = self.context(cx, 0, Some((i, item)), None);
                    t.render(&self.jenv(cx, &effective, &item_ctx), "ItemSelector")
                        .map_err(|e| self.fail_eval(cx, e))?
                }
                (None, None) => item.clone(),
            });
        }
        drop(items);
        if let Some(b) = &spec.batcher {
            inputs = self.batch(cx, b, inputs, &effective, &ctx)?;
        }
        let limit = match self.number(
            cx,
            spec.max_concurrency.as_ref(),
            &effective,
            &ctx,
            "MaxConcurrencyPath",
        )? {
            None | Some(0) => inputs.len().max(1),
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX).max(1),
        };
        let tolerated_count = self.number(
            cx,
            spec.tolerated_count.as_ref(),
            &effective,
            &ctx,
            "ToleratedFailureCountPath",
        )?;
        let tolerated_pct =
            self.percentage(cx, spec.tolerated_percentage.as_ref(), &effective, &ctx)?;
        let tolerant = tolerated_count.is_some() || tolerated_pct.is_some();
        let total = inputs.len();

        let mut counts = vec![0u64; state.retry.len()];
        let mut attempt = 0u32;
        loop {
            let started = self.rec.emit(
                cx.prev(),
                EventType::MapStateStarted,
                details("mapStateStartedEventDetails", json!({"length": total})),
            );
            cx.set_prev(started);
            let result = self
                .iterations(
                    cx,
                    spec,
                    &inputs,
                    started,
                    attempt,
                    limit,
                    tolerant,
                    tolerated_count,
                    tolerated_pct,
                )
                .await;
            match result {
                Ok(outputs) => {
                    cx.set_prev(self.rec.emit(
                        self.rec.last_id(),
                        EventType::MapStateSucceeded,
                        Map::new(),
                    ));
                    let output = self.finish(cx, raw, Value::Array(outputs), &ctx)?;
                    return Ok(Step::of(state, output));
                }
                Err(Halt::Failed(f)) => {
                    let d = details(
                        "mapStateFailedEventDetails",
                        json!({"error": f.error, "cause": f.cause}),
                    );
                    cx.set_prev(
                        self.rec
                            .emit(self.rec.last_id(), EventType::MapStateFailed, d),
                    );
                    match self.after_failure(cx, &mut counts, &raw, f)? {
                        AfterFailure::Retry(delay) => {
                            attempt += 1;
                            self.clock.sleep(delay).await;
                        }
                        AfterFailure::Caught(step) => return Ok(step),
                    }
                }
                Err(h) => return Err(h),
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn iterations(
        &self,
        cx: &StateCx<'_>,
        spec: &MapSpec,
        inputs: &[Value],
        started: u64,
        attempt: u32,
        limit: usize,
        tolerant: bool,
        tolerated_count: Option<u64>,
        tolerated_pct: Option<f64>,
    ) -> Result<Vec<Value>, Halt> {
        let name = cx.state.name.as_str();
        let mut runs: Vec<BoxFuture<'_, (usize, Result<Value, Halt>)>> =
            Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            runs.push(Box::pin(async move {
                let it = self.rec.emit(
                    started,
                    EventType::MapIterationStarted,
                    details(
                        "mapIterationStartedEventDetails",
                        json!({"name": name, "index": i}),
                    ),
                );
                let scope = Scope {
                    prefix: format!("{}/{attempt}/item/{i}", cx.address),
                    prev: it,
                    vars: cx.vars.clone(),
                };
                let r = self
                    .run_machine(&spec.processor, input.clone(), scope)
                    .await;
                let d = details(
                    match r {
                        Ok(_) => "mapIterationSucceededEventDetails",
                        Err(_) => "mapIterationFailedEventDetails",
                    },
                    json!({"name": name, "index": i}),
                );
                let ty = if r.is_ok() {
                    EventType::MapIterationSucceeded
                } else {
                    EventType::MapIterationFailed
                };
                self.rec.emit(self.rec.last_id(), ty, d);
                (i, r)
            }));
        }
        let mut stream = futures::stream::iter(runs).buffered(limit);
        let mut outputs = vec![Value::Null; inputs.len()];
        let mut failed = 0u64;
        while let Some((i, r)) = stream.next().await {
            match r {
                Ok(v) => outputs[i] = v,
                Err(Halt::Failed(f)) if tolerant && !f.is_terminal() => {
                    failed += 1;
                    #[allow(clippy::cast_precision_loss)]
                    let pct = failed as f64 * 100.0 / inputs.len().max(1) as f64;
                    let over_count = tolerated_count.is_some_and(|c| failed > c);
                    let over_pct = tolerated_pct.is_some_and(|p| pct > p);
                    if over_count || over_pct {
                        return Err(Failure::new(
                            names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                            THRESHOLD_CAUSE,
                        )
                        .into());
                    }
                    outputs[i] = json!({"Error": f.error, "Cause": f.cause});
                }
                Err(h) => return Err(h),
            }
        }
        Ok(outputs)
    }
}
