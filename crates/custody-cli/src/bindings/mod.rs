//! Task bindings for `custody run`: which code answers which Task `Resource`.
//!
//! A binding is given as `--task RESOURCE=BINDING`, where `BINDING` is `SCHEME[:ARG]`. The
//! [`Registry`] maps schemes to factories, so later subcommands can add their own (in-process
//! custody steps, a simulated world) next to the built-in `echo`, `fixture:`, `fail:` and
//! `exec:`. The [`BindingTable`] is the engine's `TaskInvoker`: it finds the binding for each
//! Task (see [`lambda`] for how Lambda resources match) and shapes the result as AWS would.

mod builtin;
pub mod lambda;

use anyhow::{Context as _, bail};
use async_trait::async_trait;
use custody_asl::{TaskFailure, TaskInvoker, TaskRequest};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Something that answers a task: given the payload (the Lambda payload for Lambda resources,
/// the parameters otherwise) it returns the result or a failure.
#[async_trait]
pub trait Binding: Send + Sync {
    /// Runs the task.
    ///
    /// # Errors
    /// A [`TaskFailure`] with the error name `Retry`/`Catch` will see.
    async fn call(&self, payload: Value, task: &TaskRequest) -> Result<Value, TaskFailure>;
}

/// Builds a binding from the text after `SCHEME:`.
pub type Factory = Box<dyn Fn(&str) -> anyhow::Result<Arc<dyn Binding>> + Send + Sync>;

/// Binding schemes by name.
pub struct Registry {
    factories: BTreeMap<String, Factory>,
}

impl Registry {
    /// The built-in schemes: `echo`, `fixture:FILE`, `fail:ERROR:CAUSE`, `exec:COMMAND`.
    pub fn builtin() -> Self {
        let mut r = Self {
            factories: BTreeMap::new(),
        };
        builtin::register(&mut r);
        r
    }

    /// Adds (or replaces) a scheme.
    pub fn register(&mut self, scheme: &str, factory: Factory) {
        self.factories.insert(scheme.to_owned(), factory);
    }

    /// Parses `SCHEME[:ARG]`.
    ///
    /// # Errors
    /// Unknown scheme, or the factory's own error (missing fixture file, ...).
    pub fn parse(&self, spec: &str) -> anyhow::Result<Arc<dyn Binding>> {
        let (scheme, arg) = spec.split_once(':').unwrap_or((spec, ""));
        let Some(factory) = self.factories.get(scheme) else {
            let known: Vec<&str> = self.factories.keys().map(String::as_str).collect();
            bail!("unknown binding {scheme:?} (known: {})", known.join(", "));
        };
        factory(arg).with_context(|| format!("invalid binding {spec:?}"))
    }
}

/// The bindings of one run, matched against each Task.
pub struct BindingTable {
    entries: Vec<(String, Arc<dyn Binding>)>,
}

impl BindingTable {
    /// Builds the table from `RESOURCE=BINDING` specs.
    ///
    /// # Errors
    /// A spec without `=`, or a binding the registry refuses.
    pub fn from_specs(registry: &Registry, specs: &[String]) -> anyhow::Result<Self> {
        let mut entries = Vec::with_capacity(specs.len());
        for spec in specs {
            let Some((resource, binding)) = spec.split_once('=') else {
                bail!("--task {spec:?} must be RESOURCE=BINDING");
            };
            entries.push((resource.to_owned(), registry.parse(binding)?));
        }
        Ok(Self { entries })
    }

    fn find(&self, keys: &[&str]) -> Option<&Arc<dyn Binding>> {
        keys.iter()
            .find_map(|k| self.entries.iter().find(|(r, _)| r == k).map(|(_, b)| b))
    }

    /// Whether a Task with this static `Resource` can ever be answered (for `lambda:invoke`
    /// the function is only known at run time, so it counts as answerable).
    pub fn covers(&self, resource: &str) -> bool {
        lambda::is_invoke_integration(resource)
            || self.find(&lambda::resource_keys(resource)).is_some()
    }
}

#[async_trait]
impl TaskInvoker for BindingTable {
    async fn invoke(&self, task: TaskRequest) -> Result<Value, TaskFailure> {
        let target = lambda::Target::of(&task);
        let Some(binding) = self.find(&target.keys()) else {
            // States.Runtime: a missing binding is a mistake in the command line, not a task
            // failure a Catch should handle.
            return Err(TaskFailure::new(
                custody_asl::error::names::RUNTIME,
                format!(
                    "no --task binding answers resource {:?} (tried {:?})",
                    task.resource,
                    target.keys()
                ),
            ));
        };
        let payload = target.payload(&task);
        match binding.call(payload, &task).await {
            Ok(v) => Ok(target.wrap_result(v)),
            Err(f) => Err(target.wrap_failure(f)),
        }
    }
}
