//! The forensic step handlers (triage, acquisition, isolation, investigation, report, release),
//! written against capability ports.
//!
//! A step is an `async fn(input, &dyn Environment) -> Result<output, StepError>`. The same handler
//! runs in Lambda (custody-lambda, ports from custody-aws and custody-kube) and in the local engine
//! (custody-cli, ports from custody-sim or AWS). Ports are traits owned here, speaking domain types
//! from custody-core; see [`ports`] and [`capability`].

pub mod capability;
pub mod ports;
