//! The custody command: validate and run state machines, run steps, show and release cases.

fn main() {}
