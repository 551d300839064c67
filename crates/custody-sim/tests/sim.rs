//! custody-sim's tests: one binary, one module per topic.

// clippy.toml allows these in #[test] functions only; the shared helpers fail the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly on the first broken expectation"
)]

mod sim {
    mod cases;
    mod cluster;
    mod commands;
    pub mod common;
    mod knobs;
    mod loading;
    mod network;
    mod persistence;
    mod snapshots;
    mod workstation;
}
