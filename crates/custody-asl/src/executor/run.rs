//! The interpreter loop: one set of states (the machine, a Parallel branch, a Map iteration)
//! from its start to an end, one transition at a time, plus the helpers every state type shares
//! (paths, the context object, error wording).

use super::limits::check_size;
use super::recorder::{Halt, Recorder};
use super::{ExecutionInfo, ExecutionOutcome, ExecutionStatus, Executor, ExecutorError};
use crate::checkpoint::CheckpointRecord;
use crate::clock::Clock;
use crate::definition::Definition;
use crate::error::{EvalError, Failure, names};
use crate::history::{self, EventType, details};
use crate::invoker::TaskInvoker;
use crate::model::{Assign, Kind, Lang, Machine, PathField, State, Transition};
use crate::paths::Root;
use crate::paths::reference::apply_result_path;
use crate::timestamp;
use futures::future::BoxFuture;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

/// Everything one execution shares across its branches and iterations.
pub(crate) struct Run {
    pub def: Arc<Definition>,
    pub invoker: Arc<dyn TaskInvoker>,
    pub clock: Arc<dyn Clock>,
    pub rec: Recorder,
    pub replay_tasks: HashMap<String, Value>,
    pub replay_waits: HashSet<String>,
    pub rng: Mutex<StdRng>,
    /// `{"Execution": ..., "StateMachine": ...}`: the fixed part of `$$`.
    exec_context: Value,
    pub transitions: AtomicU64,
    pub replayed: AtomicU64,
    /// The partition of the execution ARN (JSONata `$partition()`).
    pub partition: String,
}

/// Where a set of states runs: its address prefix and the last event of its thread.
pub(crate) struct Scope {
    pub prefix: String,
    pub prev: u64,
    /// The variables visible when the scope starts (the outer ones, read-only to it).
    pub vars: Arc<Map<String, Value>>,
}

/// One entered state.
pub(crate) struct StateCx<'a> {
    pub state: &'a State,
    pub address: String,
    pub entered_id: u64,
    pub entered_at: OffsetDateTime,
    /// The last event of this state's thread (advanced as the state records events).
    pub prev: AtomicU64,
    /// The variables visible at state entry.
    pub vars: Arc<Map<String, Value>>,
    /// What the state's (or its catcher's) `Assign` evaluated to; applied when it completes.
    pub assigned: Mutex<Option<Map<String, Value>>>,
}

impl StateCx<'_> {
    pub(crate) fn prev(&self) -> u64 {
        self.prev.load(Ordering::Relaxed)
    }

    pub(crate) fn set_prev(&self, id: u64) {
        self.prev.store(id, Ordering::Relaxed);
    }

    /// Records what `Assign` evaluated to (replacing an earlier attempt's).
    pub(crate) fn set_assigned(&self, assigned: Option<Map<String, Value>>) {
        if let Ok(mut a) = self.assigned.lock() {
            *a = assigned;
        }
    }

    fn take_assigned(&self) -> Option<Map<String, Value>> {
        self.assigned.lock().ok().and_then(|mut a| a.take())
    }
}

/// Where a state sends the execution.
pub(crate) enum Step<'a> {
    Next(&'a str, Value),
    End(Value),
}

impl<'a> Step<'a> {
    /// The state's own transition with `output`.
    pub(crate) fn of(state: &'a State, output: Value) -> Self {
        match &state.transition {
            Transition::Next(n) => Step::Next(n, output),
            Transition::End => Step::End(output),
        }
    }
}

pub(crate) async fn execute(
    ex: Executor,
    input: Value,
    info: ExecutionInfo,
    recorded: Vec<CheckpointRecord>,
) -> Result<ExecutionOutcome, ExecutorError> {
    let mut replay_tasks = HashMap::new();
    let mut replay_waits = HashSet::new();
    for r in recorded {
        match r {
            CheckpointRecord::TaskSucceeded { address, output } => {
                replay_tasks.insert(address, output);
            }
            CheckpointRecord::WaitCompleted { address } => {
                replay_waits.insert(address);
            }
            _ => {}
        }
    }
    let start = info.start_time.unwrap_or_else(|| ex.clock.now());
    let exec_context = json!({
        "Execution": {
            "Id": info.arn,
            "Input": input,
            "Name": info.name,
            "RoleArn": info.role_arn,
            "StartTime": timestamp::format(start),
            "RedriveCount": info.redrive_count,
        },
        "StateMachine": {"Id": info.state_machine_arn, "Name": info.state_machine_name},
    });
    let rng = match ex.seed {
        Some(s) => StdRng::seed_from_u64(s),
        None => StdRng::from_os_rng(),
    };
    let run = Run {
        def: ex.definition.clone(),
        invoker: ex.invoker.clone(),
        clock: ex.clock.clone(),
        rec: Recorder::new(ex.clock.clone(), ex.observer.clone(), ex.checkpoint.clone()),
        replay_tasks,
        replay_waits,
        rng: Mutex::new(rng),
        exec_context,
        transitions: AtomicU64::new(0),
        replayed: AtomicU64::new(0),
        partition: crate::jsonata::partition_of(&info.arn).to_owned(),
    };
    let span = tracing::info_span!("execution", execution = %info.name, state_machine = %info.state_machine_name);
    let _enter = span.enter();
    let started = run.rec.emit(
        0,
        EventType::ExecutionStarted,
        details(
            "executionStartedEventDetails",
            json!({"input": input.to_string(), "roleArn": info.role_arn}),
        ),
    );
    let main = run.run_machine(
        &run.def.machine,
        input,
        Scope {
            prefix: String::new(),
            prev: started,
            vars: Arc::new(Map::new()),
        },
    );
    let timeout = run.def.timeout_seconds;
    let clock = run.clock.clone();
    let timed_out = async move {
        match timeout {
            Some(s) => clock.sleep(Duration::from_secs(s)).await,
            None => futures::future::pending::<()>().await,
        }
    };
    enum End {
        Done(Result<Value, Halt>),
        TimedOut,
        Aborted,
    }
    let end = tokio::select! {
        r = main => End::Done(r),
        () = timed_out => End::TimedOut,
        () = ex.abort.aborted() => End::Aborted,
    };
    let prev = run.rec.last_id();
    let (status, output, error, cause) = match end {
        End::Done(Ok(output)) => {
            run.rec.emit(
                prev,
                EventType::ExecutionSucceeded,
                details(
                    "executionSucceededEventDetails",
                    json!({"output": output.to_string()}),
                ),
            );
            (ExecutionStatus::Succeeded, Some(output), None, None)
        }
        End::Done(Err(Halt::Failed(f))) => {
            let mut d = Map::new();
            if !f.error.is_empty() {
                d.insert("error".into(), Value::String(f.error.clone()));
            }
            if !f.cause.is_empty() {
                d.insert("cause".into(), Value::String(f.cause.clone()));
            }
            run.rec.emit(
                prev,
                EventType::ExecutionFailed,
                details("executionFailedEventDetails", Value::Object(d)),
            );
            let non_empty = |s: String| if s.is_empty() { None } else { Some(s) };
            (
                ExecutionStatus::Failed,
                None,
                non_empty(f.error),
                non_empty(f.cause),
            )
        }
        End::Done(Err(Halt::Checkpoint(e))) => return Err(ExecutorError::Checkpoint(e)),
        End::TimedOut => {
            run.rec.emit(
                prev,
                EventType::ExecutionTimedOut,
                details(
                    "executionTimedOutEventDetails",
                    json!({"error": names::TIMEOUT}),
                ),
            );
            (
                ExecutionStatus::TimedOut,
                None,
                Some(names::TIMEOUT.to_owned()),
                None,
            )
        }
        End::Aborted => {
            run.rec.emit(prev, EventType::ExecutionAborted, Map::new());
            (
                ExecutionStatus::Aborted,
                None,
                Some("States.Aborted".to_owned()),
                Some("The execution was stopped".to_owned()),
            )
        }
    };
    if let Err(Halt::Checkpoint(e)) = run
        .rec
        .checkpoint(CheckpointRecord::Finished { status })
        .await
    {
        return Err(ExecutorError::Checkpoint(e));
    }
    Ok(ExecutionOutcome {
        status,
        output,
        error,
        cause,
        history: run.rec.take(),
        transitions: run.transitions.load(Ordering::Relaxed),
        replayed_tasks: run.replayed.load(Ordering::Relaxed),
    })
}

impl Run {
    /// Runs `m` from its start with `input` until a state ends it. Returns the final output.
    pub(crate) fn run_machine<'a>(
        &'a self,
        m: &'a Machine,
        input: Value,
        scope: Scope,
    ) -> BoxFuture<'a, Result<Value, Halt>> {
        Box::pin(async move {
            let mut prev = scope.prev;
            let mut vars = scope.vars;
            let mut visits: HashMap<&str, u32> = HashMap::new();
            let mut name: &str = &m.start_at;
            let mut input = input;
            loop {
                let Some(state) = m.states.get(name) else {
                    return Err(Failure::new(
                        names::RUNTIME,
                        format!("The state {name:?} does not exist"),
                    )
                    .into());
                };
                let visit = visits.entry(name).or_insert(0);
                *visit += 1;
                let ty = state.kind.type_name();
                let entered_id =
                    self.rec
                        .emit(prev, EventType::entered(ty), history::entered(name, &input));
                let cx = StateCx {
                    state,
                    address: format!("{}/{}#{}", scope.prefix, name, visit),
                    entered_id,
                    entered_at: self.clock.now(),
                    prev: AtomicU64::new(entered_id),
                    vars: vars.clone(),
                    assigned: Mutex::new(None),
                };
                let span = tracing::debug_span!("state", state = %name, address = %cx.address);
                let step = {
                    let _e = span.enter();
                    self.run_state(&cx, input).await?
                };
                let (output, next) = match step {
                    Step::Next(n, o) => (o, Some(n)),
                    Step::End(o) => (o, None),
                };
                check_size(name, &output, "output")?;
                if let Some(assigned) = cx.take_assigned() {
                    crate::vars::apply(Arc::make_mut(&mut vars), assigned, name)?;
                }
                prev = self.rec.emit(
                    cx.prev(),
                    EventType::exited(ty),
                    history::exited(name, &output),
                );
                self.transitions.fetch_add(1, Ordering::Relaxed);
                self.rec
                    .checkpoint(CheckpointRecord::Transition {
                        address: cx.address.clone(),
                    })
                    .await?;
                match next {
                    Some(n) => {
                        name = n;
                        input = output;
                    }
                    None => return Ok(output),
                }
            }
        })
    }

    async fn run_state<'a>(&'a self, cx: &StateCx<'a>, input: Value) -> Result<Step<'a>, Halt> {
        match &cx.state.kind {
            Kind::Pass { result } => self.pass(cx, input, result.as_ref()),
            Kind::Task(task) => self.task(cx, task, input).await,
            Kind::Choice { choices, default } => {
                self.choice(cx, input, choices, default.as_deref())
            }
            Kind::Wait(w) => self.wait(cx, w, input).await,
            Kind::Succeed => self.succeed(cx, input),
            Kind::Fail { error, cause } => {
                Err(self.fail(cx, &input, error.as_ref(), cause.as_ref()).into())
            }
            Kind::Parallel { branches } => self.parallel(cx, branches, input).await,
            Kind::Map(spec) => self.map(cx, spec, input).await,
        }
    }

    /// `$$` for a state: the execution part plus `State` (and `Map.Item`, `Task.Token`).
    pub(crate) fn context(
        &self,
        cx: &StateCx<'_>,
        retry_count: u64,
        map_item: Option<(usize, &Value)>,
        token: Option<&str>,
    ) -> Value {
        let mut ctx = self.exec_context.clone();
        if let Some(obj) = ctx.as_object_mut() {
            obj.insert(
                "State".into(),
                json!({"EnteredTime": timestamp::format(cx.entered_at), "Name": cx.state.name, "RetryCount": retry_count}),
            );
            if let Some((index, value)) = map_item {
                obj.insert(
                    "Map".into(),
                    json!({"Item": {"Index": index, "Value": value}}),
                );
            }
            if let Some(t) = token {
                obj.insert("Task".into(), json!({"Token": t}));
            }
            if cx.state.lang == Lang::JsonPath && !cx.vars.is_empty() {
                obj.insert(
                    crate::paths::jsonpath::VARS_KEY.into(),
                    Value::Object((*cx.vars).clone()),
                );
            }
        }
        ctx
    }

    /// The JSONata environment of a state: `$states.input`/`.context` and its variables.
    pub(crate) fn jenv<'e>(
        &'e self,
        cx: &'e StateCx<'_>,
        input: &Value,
        context: &Value,
    ) -> crate::jsonata::Env<'e> {
        crate::jsonata::Env::new(input, context, &cx.vars, &self.partition)
    }

    /// Evaluates `Assign` and records it on `cx` (applied when the state completes). JSONPath:
    /// `$` is `doc`; JSONata: `env` (with `$states.result` or `.errorOutput` as fits).
    pub(crate) fn assign(
        &self,
        cx: &StateCx<'_>,
        assign: Option<&Assign>,
        doc: &Value,
        context: &Value,
        env: Option<&crate::jsonata::Env<'_>>,
    ) -> Result<(), Failure> {
        let value = match (assign, env) {
            (None, _) => {
                cx.set_assigned(None);
                return Ok(());
            }
            (Some(Assign::Path(t)), _) => t.render(doc, context),
            (Some(Assign::Jsonata(t)), Some(env)) => t.render(env, "Assign"),
            (Some(Assign::Jsonata(t)), None) => {
                let env = self.jenv(cx, doc, context);
                t.render(&env, "Assign")
            }
        }
        .map_err(|e| self.fail_eval(cx, e))?;
        match value {
            Value::Object(m) => {
                cx.set_assigned(Some(m));
                Ok(())
            }
            other => Err(self.fail_eval(
                cx,
                EvalError {
                    error: names::QUERY_EVALUATION_ERROR,
                    message: format!("The Assign field must evaluate to an object, not {other}"),
                },
            )),
        }
    }

    /// JSONata: the state's `Output` rendered in `env`, or `default`.
    pub(crate) fn output(
        &self,
        cx: &StateCx<'_>,
        env: &crate::jsonata::Env<'_>,
        default: Value,
    ) -> Result<Value, Failure> {
        match &cx.state.output {
            Some(t) => t.render(env, "Output").map_err(|e| self.fail_eval(cx, e)),
            None => Ok(default),
        }
    }

    /// The context if the state reads it, else `null` (saves building it on hot paths).
    pub(crate) fn context_if_used(&self, cx: &StateCx<'_>) -> Value {
        if cx.state.uses_context {
            self.context(cx, 0, None, None)
        } else {
            Value::Null
        }
    }

    /// Turns an evaluation error into the failure Step Functions reports, prefixing terminal
    /// errors with the state and the event that entered it.
    pub(crate) fn fail_eval(&self, cx: &StateCx<'_>, e: EvalError) -> Failure {
        if e.error == names::RUNTIME
            || e.error == names::INTRINSIC_FAILURE
            || e.error == names::QUERY_EVALUATION_ERROR
        {
            Failure::new(
                e.error,
                format!(
                    "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                    cx.state.name, cx.entered_id, e.message
                ),
            )
        } else {
            Failure::new(e.error, e.message)
        }
    }

    /// Applies `InputPath` or `OutputPath`.
    pub(crate) fn select(
        &self,
        cx: &StateCx<'_>,
        field: &PathField,
        value: Value,
        context: &Value,
    ) -> Result<Value, Failure> {
        match field {
            PathField::Default => Ok(value),
            PathField::Null => Ok(Value::Object(Map::new())),
            PathField::Path(p) if p.is_root() && p.root() == Root::Input => Ok(value),
            PathField::Path(p) => {
                let doc = p.document(&value, context);
                p.read(&doc).map_err(|e| {
                    self.fail_eval(
                        cx,
                        EvalError::runtime(format!("Invalid path '{}' : {}", p.as_str(), e.0)),
                    )
                })
            }
        }
    }

    /// Applies `ResultPath`: where `result` goes in `raw_input`.
    pub(crate) fn place(
        &self,
        cx: &StateCx<'_>,
        field: &PathField,
        raw_input: Value,
        result: Value,
    ) -> Result<Value, Failure> {
        match field {
            PathField::Default => Ok(result),
            PathField::Null => Ok(raw_input),
            PathField::Path(p) => {
                apply_result_path(p, raw_input, result).map_err(|e| self.fail_eval(cx, e))
            }
        }
    }

    /// JSONPath: `ResultSelector`, `Assign` (on the selected result), `ResultPath`,
    /// `OutputPath`, in that order. JSONata: `Assign` and `Output` with `$states.result`.
    pub(crate) fn finish(
        &self,
        cx: &StateCx<'_>,
        raw_input: Value,
        result: Value,
        context: &Value,
    ) -> Result<Value, Failure> {
        let state = cx.state;
        check_size(&state.name, &result, "result")?;
        if state.lang == Lang::Jsonata {
            let env = self.jenv(cx, &raw_input, context).with("result", &result);
            self.assign(cx, state.assign.as_ref(), &result, context, Some(&env))?;
            return self.output(cx, &env, result);
        }
        let result = match &state.result_selector {
            Some(t) => t
                .render(&result, context)
                .map_err(|e| self.fail_eval(cx, e))?,
            None => result,
        };
        self.assign(cx, state.assign.as_ref(), &result, context, None)?;
        let placed = self.place(cx, &state.result_path, raw_input, result)?;
        self.select(cx, &state.output_path, placed, context)
    }
}
