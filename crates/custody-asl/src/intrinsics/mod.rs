//! Intrinsic functions (`States.Format(...)` and friends) in JSONPath-mode payload templates:
//! parsed once at load (so a malformed call is a validation error), evaluated per use.

mod functions;
mod parse;

pub(crate) use functions::eval;
pub(crate) use parse::{Call, parse_call};
