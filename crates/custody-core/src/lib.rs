//! The custody domain: case record, findings and triggers, identifier validation, triage and
//! guardrail planning, step error names. No I/O.
//!
//! Everything here is a value or a pure function, so the decisions that matter at 3 a.m. (is this
//! input what it claims to be, which resources may be touched, what a case may do next) are tested
//! without AWS, Kubernetes or a clock. The step handlers in `custody-steps` execute what this
//! crate decides.
//!
//! - [`id`]: validated identifiers; nothing unvalidated goes further.
//! - [`trigger`]: the ways a case starts, parsed into a [`trigger::CaseRequest`].
//! - [`inventory`], [`guardrail`], [`plan`]: what triage found, the `IsTriageRequired` tag, and
//!   the pure planner that turns both into a [`plan::Plan`].
//! - [`case`]: the case record, the chain of custody.
//! - [`error`]: [`error::StepError`] and the stable `Custody.<Reason>` names.

pub mod case;
pub mod error;
pub mod guardrail;
pub mod id;
pub mod inventory;
pub mod plan;
pub mod trigger;
