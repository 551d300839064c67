//! EBS snapshots: the disk evidence.

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    InstanceSpecification, OperationType, ResourceType, Snapshot, SnapshotAttributeName,
    SnapshotInfo as Ec2SnapshotInfo, SnapshotState as Ec2SnapshotState,
};
use custody_core::error::StepError;
use custody_core::id::{AccountId, CaseId, InstanceId, SnapshotId, VolumeId};
use custody_steps::ports::{CopySnapshotRequest, SnapshotInfo, SnapshotState, Snapshots, Tags};

use super::{
    CASE_TAG, COPY_TOKEN_TAG, Ec2, INSTANCE_TAG, filter, parse_id, require_case_tag, tag_map,
    tag_spec,
};
use crate::error::{invalid, sdk_error};

#[async_trait]
impl Snapshots for Ec2 {
    async fn find_case_snapshots(
        &self,
        case: &CaseId,
        instance: &InstanceId,
    ) -> Result<Vec<SnapshotInfo>, StepError> {
        let context = format!("ec2:DescribeSnapshots for case {case} and instance {instance}");
        let mut pages = self
            .client
            .describe_snapshots()
            .owner_ids("self")
            .filters(filter(&format!("tag:{CASE_TAG}"), [case.as_str()]))
            .filters(filter(&format!("tag:{INSTANCE_TAG}"), [instance.as_str()]))
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(&context, e))?;
            for snapshot in page.snapshots() {
                found.push(from_snapshot(&context, snapshot)?);
            }
        }
        Ok(found)
    }

    async fn create_snapshots(
        &self,
        instance: &InstanceId,
        description: &str,
        tags: &Tags,
    ) -> Result<Vec<SnapshotInfo>, StepError> {
        let context = format!("ec2:CreateSnapshots for instance {instance}");
        require_case_tag(tags, &context)?;
        let mut tags = tags.clone();
        tags.insert(INSTANCE_TAG.to_owned(), instance.to_string());
        let out = self
            .client
            .create_snapshots()
            .instance_specification(
                InstanceSpecification::builder()
                    .instance_id(instance.as_str())
                    .exclude_boot_volume(false)
                    .build(),
            )
            .description(description)
            .tag_specifications(tag_spec(ResourceType::Snapshot, &tags))
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        out.snapshots()
            .iter()
            .map(|s| from_created(&context, s, &tags))
            .collect()
    }

    async fn describe_snapshots(&self, ids: &[SnapshotId]) -> Result<Vec<SnapshotInfo>, StepError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let context = format!("ec2:DescribeSnapshots for {} snapshot(s)", ids.len());
        let mut pages = self
            .client
            .describe_snapshots()
            .set_snapshot_ids(Some(ids.iter().map(ToString::to_string).collect()))
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(&context, e))?;
            for snapshot in page.snapshots() {
                found.push(from_snapshot(&context, snapshot)?);
            }
        }
        Ok(found)
    }

    async fn copy_snapshot(&self, request: &CopySnapshotRequest) -> Result<SnapshotId, StepError> {
        let context = format!("ec2:CopySnapshot of {}", request.source);
        let token = &request.client_token;
        if token.is_empty() || token.len() > 256 {
            return Err(invalid(format!(
                "{context}: the client token must be 1-256 characters"
            )));
        }
        // CopySnapshot takes no client token: the token is a tag on the copy, looked up first.
        let existing = self
            .client
            .describe_snapshots()
            .owner_ids("self")
            .filters(filter(&format!("tag:{COPY_TOKEN_TAG}"), [token.as_str()]))
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        if let Some(copy) = existing.snapshots().first() {
            return parse_id(
                &context,
                "snapshot id",
                copy.snapshot_id(),
                SnapshotId::parse,
            );
        }
        let mut tags = request.tags.clone();
        tags.insert(COPY_TOKEN_TAG.to_owned(), token.clone());
        let out = self
            .client
            .copy_snapshot()
            .source_snapshot_id(request.source.as_str())
            .source_region(&request.source_region)
            .encrypted(true)
            .kms_key_id(&request.kms_key_id)
            .description(&request.description)
            .tag_specifications(tag_spec(ResourceType::Snapshot, &tags))
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        parse_id(
            &context,
            "snapshot id",
            out.snapshot_id(),
            SnapshotId::parse,
        )
    }

    async fn share_snapshot(
        &self,
        snapshot: &SnapshotId,
        account: &AccountId,
    ) -> Result<(), StepError> {
        let context = format!("ec2:ModifySnapshotAttribute sharing {snapshot} with {account}");
        self.client
            .modify_snapshot_attribute()
            .snapshot_id(snapshot.as_str())
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .operation_type(OperationType::Add)
            .user_ids(account.as_str())
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        Ok(())
    }
}

fn state(state: Option<&Ec2SnapshotState>) -> SnapshotState {
    match state {
        Some(Ec2SnapshotState::Completed) => SnapshotState::Completed,
        Some(Ec2SnapshotState::Error | Ec2SnapshotState::Recoverable) => SnapshotState::Error,
        // pending, recovering, unknown future states, or (moto's CreateSnapshots) none at all:
        // not usable yet, so keep polling.
        _ => SnapshotState::Pending,
    }
}

/// `"100%"` → 100; anything unreadable counts as 0 (progress is informational).
fn progress(progress: Option<&str>) -> u8 {
    progress
        .and_then(|p| p.trim().trim_end_matches('%').parse::<u8>().ok())
        .map_or(0, |p| p.min(100))
}

fn volume(context: &str, id: Option<&str>) -> Result<Option<VolumeId>, StepError> {
    // `vol-ffffffff` is EC2's placeholder for "no source volume" (copies, AMI snapshots).
    match id {
        None | Some("vol-ffffffff") => Ok(None),
        Some(id) => VolumeId::parse(id)
            .map(Some)
            .map_err(|e| crate::error::unexpected(context, "volume id", e)),
    }
}

fn from_snapshot(context: &str, s: &Snapshot) -> Result<SnapshotInfo, StepError> {
    Ok(SnapshotInfo {
        snapshot_id: parse_id(context, "snapshot id", s.snapshot_id(), SnapshotId::parse)?,
        volume_id: volume(context, s.volume_id())?,
        state: state(s.state()),
        progress_percent: progress(s.progress()),
        volume_size_gib: s
            .volume_size()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0),
        encrypted: s.encrypted().unwrap_or(false),
        kms_key_id: s.kms_key_id().map(str::to_owned),
        tags: tag_map(s.tags()),
        state_message: s.state_message().map(str::to_owned),
    })
}

fn from_created(
    context: &str,
    s: &Ec2SnapshotInfo,
    requested: &Tags,
) -> Result<SnapshotInfo, StepError> {
    let tags = if s.tags().is_empty() {
        requested.clone()
    } else {
        tag_map(s.tags())
    };
    Ok(SnapshotInfo {
        snapshot_id: parse_id(context, "snapshot id", s.snapshot_id(), SnapshotId::parse)?,
        volume_id: volume(context, s.volume_id())?,
        state: state(s.state()),
        progress_percent: progress(s.progress()),
        volume_size_gib: s
            .volume_size()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0),
        encrypted: s.encrypted().unwrap_or(false),
        kms_key_id: None,
        tags,
        state_message: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_read_leniently() {
        assert_eq!(progress(Some("100%")), 100);
        assert_eq!(progress(Some("42%")), 42);
        assert_eq!(progress(Some("")), 0);
        assert_eq!(progress(None), 0);
    }

    #[test]
    fn states_map_conservatively() {
        assert_eq!(
            state(Some(&Ec2SnapshotState::Completed)),
            SnapshotState::Completed
        );
        assert_eq!(state(Some(&Ec2SnapshotState::Error)), SnapshotState::Error);
        assert_eq!(state(None), SnapshotState::Pending);
    }
}
