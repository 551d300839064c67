//! The Lambda bootstrap behind every custody step function.
//!
//! One binary (`bootstrap`, provided.al2023, arm64) is deployed once per step; the CDK app tells
//! each function which step it is with `CUSTODY_STEP` and gives every function the same
//! `CUSTODY_SETTINGS` (the steps' [`Settings`](custody_steps::ports::Settings) as JSON) and the
//! `CUSTODY_*` variables custody-aws reads ([`AwsOptions`](custody_aws::AwsOptions)).
//!
//! - [`config`]: reading and validating all of that once, at cold start. A function with a bad
//!   configuration fails its init (reported to Lambda's `/init/error`, see [`init_error`]) and
//!   never serves an invocation with half a configuration.
//! - [`handler`]: one invocation: the event is the step input, the step output is the result,
//!   and a [`StepError`](custody_core::error::StepError) becomes the function error whose
//!   `errorType` is its `Custody.<Reason>` name, which the state machines' Retry and Catch match.
//! - [`logging`]: JSON lines on stdout (CloudWatch), spans carrying the case id.
//!
//! The production [`Environment`](custody_steps::ports::Environment) comes from custody-runtime,
//! the same one `custody run --aws` uses.
//!
//! The environment variables this crate and custody-aws read are listed once, in
//! [`config::ENV_CONTRACT`]; `cdk/generated/lambda-env.json` is that list, drift-tested, and the
//! CDK app's tests check every function sets exactly those.

pub mod config;
pub mod handler;
pub mod init_error;
pub mod logging;
