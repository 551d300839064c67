//! custody-runtime's tests: the opener against a loopback TLS API server, and the production
//! environment's construction (offline).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test that cannot set up must fail loudly"
)]

mod environment;
mod opener;
