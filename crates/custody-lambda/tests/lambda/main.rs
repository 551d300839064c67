//! custody-lambda's tests, in one binary: the configuration read at cold start, the handler's
//! error mapping, the environment-variable contract with the CDK app, and the built `bootstrap`
//! against a loopback Lambda Runtime API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test that cannot set up must fail loudly"
)]

mod bootstrap;
mod common;
mod config;
mod contract;
mod handler;
