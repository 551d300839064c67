//! EC2 adapters: [`Compute`](custody_steps::ports::Compute),
//! [`Snapshots`](custody_steps::ports::Snapshots), [`Quarantine`](custody_steps::ports::Quarantine)
//! and [`Workstation`](custody_steps::ports::Workstation), all over one EC2 client.
//!
//! EC2 has client tokens only on some creates (RunInstances, CreateVolume, CreateNetworkAcl);
//! everything else custody creates is found again by its tags or name before a retry creates it
//! a second time (see [`CASE_TAG`]).

mod compute;
mod quarantine;
mod snapshots;
mod workstation;

use std::fmt::Display;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use custody_core::error::StepError;
use custody_steps::ports::Tags;

use crate::error::invalid;

/// The tag that ties a resource to its case (defined once, in the steps' ports).
pub use custody_steps::ports::CASE_TAG;
/// The tag naming the instance a snapshot was taken from.
pub const INSTANCE_TAG: &str = "custody:instance";
/// The tag naming what a resource is for (`workstation`).
pub const ROLE_TAG: &str = "custody:role";
/// The tag carrying a copy's client token (CopySnapshot has no token of its own).
pub const COPY_TOKEN_TAG: &str = "custody:copy-token";

/// EC2 in one account and region, as one set of credentials (the responder role in a target
/// account, or the forensic account's own).
#[derive(Debug, Clone)]
pub struct Ec2 {
    client: aws_sdk_ec2::Client,
}

impl Ec2 {
    /// Wraps a client built by this crate (with the recording interceptor).
    pub fn new(client: aws_sdk_ec2::Client) -> Self {
        Self { client }
    }
}

/// A `TagSpecification` for a resource type.
fn tag_spec(resource: ResourceType, tags: &Tags) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .build()
}

/// EC2 tags as a map (entries without a key are dropped: EC2 never returns them).
fn tag_map(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

/// A describe filter.
fn filter(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.into_iter().map(Into::into).collect()))
        .build()
}

/// Refuses tags without [`CASE_TAG`] on a resource a finder must find again.
fn require_case_tag(tags: &Tags, what: impl Display) -> Result<(), StepError> {
    match tags.get(CASE_TAG) {
        Some(v) if !v.is_empty() => Ok(()),
        _ => Err(invalid(format!(
            "{what}: tags must carry {CASE_TAG:?} so that a retry finds the resource instead of creating another"
        ))),
    }
}

/// Parses an id EC2 returned into custody's validated type.
fn parse_id<T>(
    context: impl Display,
    what: &str,
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, custody_core::id::IdError>,
) -> Result<T, StepError> {
    let value = value.ok_or_else(|| crate::error::missing(&context, what))?;
    parse(value).map_err(|e| crate::error::unexpected(&context, what, e))
}
