//! One module per subcommand.

pub mod case;
pub mod iam_policy;
pub mod release;
pub mod run;
pub mod step;
pub mod validate;
