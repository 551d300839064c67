//! The forensic step handlers (triage, acquisition, isolation, investigation, report, release),
//! written against capability ports.
//!
//! A step is an `async fn(input, &dyn Environment) -> Result<output, StepError>`. The same handler
//! runs in Lambda (custody-lambda, ports from custody-aws and custody-kube) and in the local engine
//! (custody-cli, ports from custody-sim or AWS). Ports are traits owned here, speaking domain types
//! from custody-core; see [`ports`] and [`capability`].
//!
//! [`run_step`] runs one step by [`StepName`] on JSON, as the Lambda bootstrap, the CLI and the
//! local state-machine runner do. Each handler in [`steps`] documents its `# Idempotency`,
//! `# Guardrail`, `# Errors` and `# Caveats`, and lists every port operation it may call in its
//! `CAPABILITIES`, from which its IAM policy is built.

pub mod capability;
pub mod name;
pub mod ports;
pub mod steps;
pub mod target;

pub(crate) mod support;

pub use name::{StepName, UnknownStep};
pub use steps::run_step;
