//! Scenario tests for custody: the step handlers run, as the state machine would run them, over
//! the simulated account and cluster of `custody-sim`, loaded from `tests/fixtures/worlds/`.
//!
//! This crate has no code of its own; the scenarios are in `tests/scenarios.rs` (one test binary)
//! and the driver that plays the state machine's part is in `tests/support/`. Run them with
//! `cargo test -p custody-scenarios`.
