//! [`Snapshots`] over the world's EBS snapshots, with completion times from the latency model.

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{AccountId, CaseId, InstanceId, SnapshotId, Timestamp};
use custody_steps::ports::ops::snapshots as ops;
use custody_steps::ports::{CopySnapshotRequest, SnapshotInfo, SnapshotState, Snapshots, Tags};

use super::SimAccount;
use crate::errs;
use crate::faults;
use crate::model::Snapshot;
use crate::time::{plus, progress_percent, reached};
use crate::world::Ctx;

/// Whether a KMS key is the AWS-managed EBS key, whose snapshots cannot be shared.
pub(crate) fn is_aws_managed_key(key: Option<&str>) -> bool {
    key.is_none_or(|k| k == "alias/aws/ebs" || k.ends_with(":alias/aws/ebs"))
}

/// What EC2 says about a snapshot at `now`.
pub(crate) fn info(s: &Snapshot, now: &Timestamp) -> SnapshotInfo {
    let (state, progress) = match &s.completes_at {
        Some(done) if reached(done, now) => (SnapshotState::Completed, 100),
        Some(done) => (
            SnapshotState::Pending,
            progress_percent(&s.started_at, done, now),
        ),
        None => (
            SnapshotState::Pending,
            progress_percent(&s.started_at, &plus(&s.started_at, 1_000.0), now).min(42),
        ),
    };
    SnapshotInfo {
        snapshot_id: s.id.clone(),
        volume_id: s.volume_id.clone(),
        state,
        progress_percent: progress,
        volume_size_gib: s.size_gib,
        encrypted: s.encrypted,
        kms_key_id: s.kms_key_id.clone(),
        tags: s.tags.clone(),
        state_message: None,
    }
}

fn visible(s: &Snapshot, account: &AccountId) -> bool {
    &s.owner == account || s.shared_with.contains(account)
}

fn new_snapshot_id(cx: &mut Ctx<'_>) -> Result<SnapshotId, StepError> {
    let hex = cx.fresh_hex("snap", 17);
    SnapshotId::parse(&format!("snap-{hex}"))
        .map_err(|e| errs::invalid("InvalidParameterValue", e.to_string()))
}

#[async_trait]
impl Snapshots for SimAccount {
    async fn find_case_snapshots(
        &self,
        case: &CaseId,
        instance: &InstanceId,
    ) -> Result<Vec<SnapshotInfo>, StepError> {
        self.call(
            &ops::FIND_CASE_SNAPSHOTS,
            vec![instance.to_string()],
            |cx| {
                let now = cx.now;
                Ok(cx
                    .st
                    .runtime
                    .snapshots
                    .iter()
                    .filter(|s| s.owner == cx.account)
                    .filter(|s| s.tags.values().any(|v| v == case.as_str()))
                    .filter(|s| {
                        s.instance_id.as_ref() == Some(instance)
                            || s.tags.values().any(|v| v == instance.as_str())
                    })
                    .map(|s| info(s, &now))
                    .collect())
            },
        )
    }

    async fn create_snapshots(
        &self,
        instance: &InstanceId,
        description: &str,
        tags: &Tags,
    ) -> Result<Vec<SnapshotInfo>, StepError> {
        self.call(&ops::CREATE_SNAPSHOTS, vec![instance.to_string()], |cx| {
            let inst = cx
                .acct()?
                .instances
                .iter()
                .find(|i| &i.id == instance)
                .cloned()
                .ok_or_else(|| instance_missing(instance))?;
            if inst.state == "terminated" {
                return Err(errs::invalid(
                    "IncorrectState",
                    format!("instance {instance} is terminated"),
                ));
            }
            let mut out = Vec::new();
            for vol in &inst.volumes {
                let id = new_snapshot_id(cx)?;
                let stuck = faults::snapshot_stuck(cx.st, &vol.id);
                let completes_at = (!stuck)
                    .then(|| plus(&cx.now, cx.st.latency.snapshot(vol.size_gib).as_secs_f64()));
                let snap = Snapshot {
                    id,
                    owner: cx.account.clone(),
                    volume_id: Some(vol.id.clone()),
                    instance_id: Some(instance.clone()),
                    size_gib: vol.size_gib,
                    encrypted: vol.encrypted,
                    kms_key_id: vol.kms_key_id.clone(),
                    tags: tags.clone(),
                    description: description.to_string(),
                    started_at: cx.now,
                    completes_at,
                    shared_with: Vec::new(),
                    source_snapshot: None,
                    client_token: None,
                };
                out.push(info(&snap, &cx.now));
                cx.st.runtime.snapshots.push(snap);
            }
            Ok(out)
        })
    }

    async fn describe_snapshots(&self, ids: &[SnapshotId]) -> Result<Vec<SnapshotInfo>, StepError> {
        self.call(
            &ops::DESCRIBE_SNAPSHOTS,
            ids.iter().map(ToString::to_string).collect(),
            |cx| {
                let mut out = Vec::new();
                for id in ids {
                    let s = cx
                        .st
                        .runtime
                        .snapshots
                        .iter()
                        .find(|s| &s.id == id && visible(s, &cx.account))
                        .ok_or_else(|| snapshot_missing(id))?;
                    out.push(info(s, &cx.now));
                }
                Ok(out)
            },
        )
    }

    async fn copy_snapshot(&self, request: &CopySnapshotRequest) -> Result<SnapshotId, StepError> {
        self.call(
            &ops::COPY_SNAPSHOT,
            vec![request.source.to_string()],
            |cx| {
                if let Some(existing) = cx.st.runtime.snapshots.iter().find(|s| {
                    s.owner == cx.account
                        && s.client_token.as_deref() == Some(&request.client_token)
                }) {
                    if existing.source_snapshot.as_ref() != Some(&request.source) {
                        return Err(errs::conflict(
                            "IdempotentParameterMismatch",
                            format!(
                                "client token {:?} was used for another copy",
                                request.client_token
                            ),
                        ));
                    }
                    return Ok(existing.id.clone());
                }
                if request.source_region != cx.region.as_str() {
                    return Err(errs::unsupported(
                        "InvalidParameterValue",
                        format!(
                            "the simulated world has no region {:?}",
                            request.source_region
                        ),
                    ));
                }
                let source = cx
                    .st
                    .runtime
                    .snapshots
                    .iter()
                    .find(|s| s.id == request.source && visible(s, &cx.account))
                    .cloned()
                    .ok_or_else(|| snapshot_missing(&request.source))?;
                if !source
                    .completes_at
                    .as_ref()
                    .is_some_and(|t| reached(t, &cx.now))
                {
                    return Err(errs::invalid(
                        "IncorrectState",
                        format!("snapshot {} is not completed yet", source.id),
                    ));
                }
                let id = new_snapshot_id(cx)?;
                let done = plus(&cx.now, cx.st.latency.copy(source.size_gib).as_secs_f64());
                cx.st.runtime.snapshots.push(Snapshot {
                    id: id.clone(),
                    owner: cx.account.clone(),
                    volume_id: source.volume_id.clone(),
                    instance_id: source.instance_id.clone(),
                    size_gib: source.size_gib,
                    encrypted: true,
                    kms_key_id: Some(request.kms_key_id.clone()),
                    tags: request.tags.clone(),
                    description: request.description.clone(),
                    started_at: cx.now,
                    completes_at: Some(done),
                    shared_with: Vec::new(),
                    source_snapshot: Some(source.id.clone()),
                    client_token: Some(request.client_token.clone()),
                });
                Ok(id)
            },
        )
    }

    async fn share_snapshot(
        &self,
        snapshot: &SnapshotId,
        account: &AccountId,
    ) -> Result<(), StepError> {
        self.call(&ops::SHARE_SNAPSHOT, vec![snapshot.to_string()], |cx| {
            let me = cx.account.clone();
            let s = cx
                .st
                .runtime
                .snapshots
                .iter_mut()
                .find(|s| &s.id == snapshot && s.owner == me)
                .ok_or_else(|| snapshot_missing(snapshot))?;
            if s.encrypted && is_aws_managed_key(s.kms_key_id.as_deref()) {
                return Err(errs::unsupported(
                    "InvalidParameter",
                    format!(
                        "snapshot {snapshot} is encrypted with the AWS managed key and cannot be shared: copy it with a customer managed key first"
                    ),
                ));
            }
            if !s.shared_with.contains(account) && account != &me {
                s.shared_with.push(account.clone());
            }
            Ok(())
        })
    }
}

pub(crate) fn snapshot_missing(id: &SnapshotId) -> StepError {
    errs::not_found(
        "InvalidSnapshot.NotFound",
        format!("snapshot {id} does not exist or is not visible"),
    )
}

pub(crate) fn instance_missing(id: &InstanceId) -> StepError {
    errs::not_found(
        "InvalidInstanceID.NotFound",
        format!("instance {id} does not exist"),
    )
}
