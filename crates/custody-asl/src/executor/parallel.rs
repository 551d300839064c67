//! Parallel states: every branch runs concurrently on the same input; the first branch to fail
//! stops the others and the state fails with that branch's error and cause.

use super::recorder::Halt;
use super::run::{Run, Scope, StateCx, Step};
use super::task::AfterFailure;
use crate::history::{EventType, details};
use crate::model::Machine;
use serde_json::{Map, Value, json};

impl Run {
    /// # Errors
    /// The first branch failure, subject to the state's `Retry`/`Catch`. A retry runs every
    /// branch again.
    pub(crate) async fn parallel<'a>(
        &'a self,
        cx: &StateCx<'a>,
        branches: &'a [Machine],
        raw: Value,
    ) -> Result<Step<'a>, Halt> {
        let state = cx.state;
        let ctx = self.context_if_used(cx);
        let effective = self.select(cx, &state.input_path, raw.clone(), &ctx)?;
        let input = match (&state.parameters, &state.arguments) {
            (Some(t), _) => t
                .render(&effective, &ctx)
                .map_err(|e| self.fail_eval(cx, e))?,
            (None, Some(t)) => t
                .render(&self.jenv(cx, &effective, &ctx), "Arguments")
                .map_err(|e| self.fail_eval(cx, e))?,
            (None, None) => effective,
        };
        let mut counts = vec![0u64; state.retry.len()];
        let mut attempt = 0u32;
        loop {
            let started = self
                .rec
                .emit(cx.prev(), EventType::ParallelStateStarted, Map::new());
            cx.set_prev(started);
            let mut branch_runs = Vec::with_capacity(branches.len());
            for (i, b) in branches.iter().enumerate() {
                let scope = Scope {
                    prefix: format!("{}/{attempt}/branch/{i}", cx.address),
                    prev: started,
                    vars: cx.vars.clone(),
                };
                branch_runs.push(self.run_machine(b, input.clone(), scope));
            }
            match futures::future::try_join_all(branch_runs).await {
                Ok(outputs) => {
                    cx.set_prev(self.rec.emit(
                        self.rec.last_id(),
                        EventType::ParallelStateSucceeded,
                        Map::new(),
                    ));
                    let output = self.finish(cx, raw, Value::Array(outputs), &ctx)?;
                    return Ok(Step::of(state, output));
                }
                Err(Halt::Failed(f)) => {
                    let d = details(
                        "parallelStateFailedEventDetails",
                        json!({"error": f.error, "cause": f.cause}),
                    );
                    cx.set_prev(self.rec.emit(
                        self.rec.last_id(),
                        EventType::ParallelStateFailed,
                        d,
                    ));
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
}
