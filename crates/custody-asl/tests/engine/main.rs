//! Behaviour of the engine, end to end through the public API: one test binary, one module per
//! topic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod checkpoint;
mod choice;
mod flow;
mod history;
mod jsonata;
mod map_parallel;
mod support;
mod task_retry;
mod validation;
mod variables;
