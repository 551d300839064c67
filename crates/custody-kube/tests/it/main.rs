//! custody-kube's tests at its boundaries: the token against a known answer, and every
//! Kubernetes operation against kube-rs's client over a `tower-test` mock API server that
//! asserts each request and answers with real Kubernetes JSON from `tests/fixtures/kube/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test that cannot set up must fail loudly"
)]

mod actions;
mod connect;
mod errors;
mod mock;
mod port;
mod rbac;
mod reads;
mod recheck;
mod token;
