//! An Amazon States Language engine: parse, validate and execute Step Functions definitions
//! locally with a pluggable task invoker and clock.
//!
//! It behaves as AWS does, not as a textbook would: JSONPath follows the Java Jayway library
//! (a definite path that finds nothing is `States.Runtime`; an indefinite one yields an array),
//! and errors and causes are worded like Step Functions'. The engine knows nothing about
//! forensics: a [`TaskInvoker`] turns each Task into a result.
//!
//! ```no_run
//! # async fn demo(invoker: std::sync::Arc<dyn custody_asl::TaskInvoker>) -> Result<(), Box<dyn std::error::Error>> {
//! use std::{str::FromStr, sync::Arc};
//! use custody_asl::{Definition, Executor, ExecutionInfo, RealClock};
//! let def = Arc::new(Definition::from_str(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#)?);
//! let outcome = Executor::new(def, invoker, Arc::new(RealClock))
//!     .run(serde_json::json!({"a": 1}), ExecutionInfo::local("demo"))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Both query languages run: JSONPath (the default) and JSONata (`QueryLanguage: JSONata` on
//! the machine or a state, `Arguments`, `Output`, `{% %}` expressions, `$states`), and workflow
//! variables (`Assign`, `$name`) in either. The crate README lists the coverage and the choices
//! still to settle against AWS.

pub mod checkpoint;
mod choice;
pub mod clock;
mod definition;
pub mod error;
mod executor;
pub mod history;
mod intrinsics;
pub mod invoker;
mod jsonata;
mod model;
mod parse;
pub mod paths;
mod retry;
pub mod timestamp;
mod vars;

pub use checkpoint::{
    CheckpointError, CheckpointRecord, CheckpointStore, FileCheckpointStore, MemoryCheckpointStore,
};
pub use clock::{Clock, RealClock, VirtualClock};
pub use definition::Definition;
pub use error::{Failure, ValidationError, ValidationErrors};
pub use executor::{
    AbortHandle, ExecutionInfo, ExecutionOutcome, ExecutionStatus, Executor, ExecutorError,
};
pub use history::{EventType, HistoryEvent, Observer};
pub use invoker::{Heartbeat, TaskFailure, TaskInvoker, TaskRequest};
