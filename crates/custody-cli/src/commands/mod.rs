//! One module per subcommand.

pub mod iam_policy;
pub mod run;
pub mod validate;
