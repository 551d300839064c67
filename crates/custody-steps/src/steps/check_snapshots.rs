//! `check-snapshots`: poll snapshots; re-encrypt, share, copy into the forensic account; record.
//!
//! Why copies: snapshots encrypted with the AWS-managed `aws/ebs` key (or not encrypted) cannot be
//! shared, so a snapshot not already under the configured key is first copied in its own account
//! re-encrypted with `settings.snapshotKmsKey`. When the subject lives in another account, that
//! snapshot is shared with the forensic account and copied there, so the evidence of record is
//! owned by the forensic account and the suspect account cannot delete it.

use custody_core::case::{Evidence, EvidenceKind};
use custody_core::error::{ErrorName, StepError};
use custody_core::id::{CaseId, Region, SnapshotId, Timestamp};
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::capability::Capability;
use crate::name::StepName;
use crate::ports::ops::{cases, snapshots};
use crate::ports::{CopySnapshotRequest, Environment, SnapshotInfo, SnapshotState, Snapshots};
use crate::steps::check_memory::CheckMemoryOutput;
use crate::support::tags::case_tags;
use crate::support::{case_update, failure};
use crate::target::InstanceRef;

const STEP: StepName = StepName::CheckSnapshots;
const GIB: u64 = 1024 * 1024 * 1024;

/// Every port operation check-snapshots may call.
pub const CAPABILITIES: &[&Capability] = &[
    &cases::LOAD,
    &cases::SAVE,
    &snapshots::DESCRIBE_SNAPSHOTS,
    &snapshots::COPY_SNAPSHOT,
    &snapshots::SHARE_SNAPSHOT,
];

/// Input: what snapshot-disks returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckSnapshotsInput {
    /// The case.
    pub case_id: CaseId,
    /// The instance.
    pub target: InstanceRef,
    /// Its snapshots.
    pub snapshot_ids: Vec<SnapshotId>,
    /// When to give up.
    pub deadline: Timestamp,
}

/// Output: `done` once every snapshot's final copy is complete and recorded.
pub type CheckSnapshotsOutput = CheckMemoryOutput;

/// Polls; when snapshots complete, copies/shares them and records each final snapshot.
///
/// # Idempotency
/// Copies use client tokens derived from the case and the source snapshot, so every poll may ask
/// for the copy again and gets the same one: copies are tracked by asking, not by state carried in
/// the state machine. Evidence ids are `snapshot/<source snapshot>`; recorded ones are skipped.
///
/// # Guardrail
/// Touches snapshots only (copy, share): nothing on the instance.
///
/// # Errors
/// `Custody.CommandFailed` (a snapshot or copy in state `error`, with EC2's message),
/// `Custody.Timeout` (past the deadline), port errors.
///
/// # Caveats
/// The KMS key must be usable by the target account's responder role (key policy) for the
/// re-encrypting copy, and by the forensic account for its copy.
pub async fn check_snapshots(
    input: CheckSnapshotsInput,
    env: &dyn Environment,
) -> Result<CheckSnapshotsOutput, StepError> {
    let span = tracing::info_span!("check_snapshots", case = %input.case_id, instance = %input.target.instance_id);
    failure::recorded(env, &input.case_id, STEP, body(&input, env))
        .instrument(span)
        .await
}

fn evidence_id(source: &SnapshotId) -> String {
    format!("snapshot/{source}")
}

/// A snapshot's ARN (snapshot ARNs carry no account).
pub(crate) fn snapshot_arn(region: &Region, snapshot: &SnapshotId) -> String {
    let partition = if region.as_str().starts_with("cn-") {
        "aws-cn"
    } else if region.as_str().starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    format!("arn:{partition}:ec2:{region}::snapshot/{snapshot}")
}

/// Where one source snapshot stands.
enum Progress {
    Pending,
    Final {
        snapshot: SnapshotInfo,
        chain: Vec<SnapshotId>,
    },
}

async fn body(
    input: &CheckSnapshotsInput,
    env: &dyn Environment,
) -> Result<CheckSnapshotsOutput, StepError> {
    let case_id = &input.case_id;
    let case = case_update::load(env.forensic().cases.as_ref(), case_id).await?;
    let todo: Vec<&SnapshotId> = input
        .snapshot_ids
        .iter()
        .filter(|s| !case.evidence.iter().any(|e| e.id == evidence_id(s)))
        .collect();
    if todo.is_empty() {
        return Ok(CheckSnapshotsOutput {
            done: true,
            evidence_id: None,
        });
    }
    let ports = env
        .target(&input.target.account, &input.target.region, case_id)
        .await?;
    let now = env.clock().now();
    let sources = ports
        .snapshots
        .describe_snapshots(&todo.iter().map(|s| (*s).clone()).collect::<Vec<_>>())
        .await?;
    let mut pending = 0usize;
    for source in &sources {
        match advance(input, env, ports.snapshots.as_ref(), source).await? {
            Progress::Pending => pending += 1,
            Progress::Final { snapshot, chain } => {
                let evidence = Evidence {
                    id: evidence_id(&source.snapshot_id),
                    kind: EvidenceKind::EbsSnapshot,
                    resource: source
                        .volume_id
                        .as_ref()
                        .map_or_else(|| input.target.instance_id.to_string(), ToString::to_string),
                    location: snapshot_arn(
                        &final_region(input, env, &chain),
                        &snapshot.snapshot_id,
                    ),
                    sha256: None,
                    digest_source: None,
                    size_bytes: Some(snapshot.volume_size_gib.saturating_mul(GIB)),
                    taken_at: now,
                    taken_by: STEP.as_str().to_owned(),
                    method: Some("ebs-snapshot".to_owned()),
                    details: serde_json::json!({
                        "instanceId": input.target.instance_id,
                        "volumeId": source.volume_id,
                        "sourceSnapshot": source.snapshot_id,
                        "copies": chain,
                        "encrypted": snapshot.encrypted,
                        "kmsKeyId": snapshot.kms_key_id,
                    }),
                };
                case_update::update(env.forensic().cases.as_ref(), case_id, |c| {
                    c.add_evidence(evidence.clone())
                })
                .await?;
            }
        }
    }
    if pending == 0 {
        return Ok(CheckSnapshotsOutput {
            done: true,
            evidence_id: None,
        });
    }
    if now > input.deadline {
        return Err(StepError::new(
            ErrorName::Timeout,
            format!(
                "{pending} snapshot(s) of {} still pending at the deadline {}",
                input.target.instance_id, input.deadline
            ),
        ));
    }
    Ok(CheckSnapshotsOutput {
        done: false,
        evidence_id: None,
    })
}

/// The region the final snapshot lives in: the forensic region when a forensic copy was made.
fn final_region(
    input: &CheckSnapshotsInput,
    env: &dyn Environment,
    chain: &[SnapshotId],
) -> Region {
    if chain.len() > 1 && input.target.account != env.settings().forensic_account {
        env.settings().forensic_region.clone()
    } else {
        input.target.region.clone()
    }
}

fn check_state(info: &SnapshotInfo, what: &str) -> Result<bool, StepError> {
    match info.state {
        SnapshotState::Completed => Ok(true),
        SnapshotState::Pending => Ok(false),
        SnapshotState::Error => Err(StepError::new(
            ErrorName::CommandFailed,
            format!(
                "{what} {} failed: {:?}",
                info.snapshot_id,
                info.state_message.as_deref().unwrap_or("no message")
            ),
        )),
    }
}

async fn describe_one(
    snapshots: &dyn Snapshots,
    id: &SnapshotId,
) -> Result<SnapshotInfo, StepError> {
    snapshots
        .describe_snapshots(std::slice::from_ref(id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| StepError::new(ErrorName::NotFound, format!("snapshot {id} does not exist")))
}

/// Moves one source snapshot along: completed → (re-encrypting copy) → (share + forensic copy).
async fn advance(
    input: &CheckSnapshotsInput,
    env: &dyn Environment,
    target: &dyn Snapshots,
    source: &SnapshotInfo,
) -> Result<Progress, StepError> {
    if !check_state(source, "snapshot")? {
        return Ok(Progress::Pending);
    }
    let settings = env.settings();
    let case_id = &input.case_id;
    let key = &settings.snapshot_kms_key;
    let mut chain = vec![source.snapshot_id.clone()];
    let tags = case_tags(
        case_id,
        &[("custody:instance", input.target.instance_id.as_str())],
    );
    let under_key = source.encrypted
        && source
            .kms_key_id
            .as_deref()
            .is_some_and(|k| k == key || k.ends_with(key.as_str()));
    let shareable = if under_key {
        source.clone()
    } else {
        let copy = target
            .copy_snapshot(&CopySnapshotRequest {
                source: source.snapshot_id.clone(),
                source_region: input.target.region.to_string(),
                kms_key_id: key.clone(),
                client_token: format!("{case_id}-{}", source.snapshot_id),
                description: format!(
                    "custody {case_id}: re-encrypted copy of {}",
                    source.snapshot_id
                ),
                tags: tags.clone(),
            })
            .await?;
        chain.push(copy.clone());
        let info = describe_one(target, &copy).await?;
        if !check_state(&info, "re-encrypting copy")? {
            return Ok(Progress::Pending);
        }
        info
    };
    if input.target.account == settings.forensic_account {
        return Ok(Progress::Final {
            snapshot: shareable,
            chain,
        });
    }
    target
        .share_snapshot(&shareable.snapshot_id, &settings.forensic_account)
        .await?;
    let forensic = env.forensic().snapshots.clone();
    let copy = forensic
        .copy_snapshot(&CopySnapshotRequest {
            source: shareable.snapshot_id.clone(),
            source_region: input.target.region.to_string(),
            kms_key_id: key.clone(),
            client_token: format!("{case_id}-{}-f", shareable.snapshot_id),
            description: format!("custody {case_id}: forensic copy of {}", source.snapshot_id),
            tags,
        })
        .await?;
    chain.push(copy.clone());
    let info = describe_one(forensic.as_ref(), &copy).await?;
    if !check_state(&info, "forensic copy")? {
        return Ok(Progress::Pending);
    }
    Ok(Progress::Final {
        snapshot: info,
        chain,
    })
}

/// Runs the step from JSON.
pub(crate) async fn run(
    input: serde_json::Value,
    env: &dyn Environment,
) -> Result<serde_json::Value, StepError> {
    let input: CheckSnapshotsInput = crate::support::input::parse(STEP.as_str(), input)?;
    crate::steps::to_json(&check_snapshots(input, env).await?)
}
