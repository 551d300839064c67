//! Paths and payload templates: JSONPath (Jayway semantics), reference paths for `ResultPath`,
//! and the `Parameters`/`ResultSelector`/`ItemSelector` templates with `.$` fields.

pub mod jsonpath;
pub(crate) mod reference;
pub(crate) mod template;

pub use jsonpath::{JsonPath, PathNotFound, PathSyntaxError, Root};
