//! The tags custody puts on everything it creates.
//!
//! They are how a retried step finds what an earlier attempt made (snapshots, volumes, the
//! workstation) and how a responder reading the console learns why a resource exists.

use custody_core::id::CaseId;

use crate::ports::{CASE_TAG, Tags};

/// The tag key holding the case id (kept from the reference solution's `CaseID` habit so existing
/// console filters keep working).
pub(crate) const CASE_ID: &str = "CaseId";

/// `CaseId` + `custody:case` + the extra pairs.
pub(crate) fn case_tags(case: &CaseId, extra: &[(&str, &str)]) -> Tags {
    let mut tags = Tags::new();
    tags.insert(CASE_ID.to_owned(), case.as_str().to_owned());
    tags.insert(CASE_TAG.to_owned(), case.as_str().to_owned());
    for (key, value) in extra {
        tags.insert((*key).to_owned(), (*value).to_owned());
    }
    tags
}
