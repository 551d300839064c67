//! Helpers every step shares: input parsing, case updates, failure recording, containment
//! actions, object keys and tags.

pub(crate) mod actions;
pub(crate) mod case_update;
pub(crate) mod failure;
pub(crate) mod input;
pub(crate) mod keys;
pub(crate) mod tags;
