//! Brings time-dependent state up to `now`: instances finish booting or terminating, commands
//! that have finished apply their effects (uploaded parts and objects appear in S3).
//!
//! Snapshot and volume states are computed on read from their completion times; only effects
//! that create or change other records are applied here.

use custody_core::id::Timestamp;

use crate::model::{Effect, UploadState, UploadedPartRecord, WorldState};
use crate::s3;
use crate::time::reached;

/// Applies everything due at `now`.
pub(crate) fn settle(st: &mut WorldState, now: &Timestamp) {
    for account in &mut st.accounts {
        for inst in &mut account.instances {
            if inst.state == "pending" && inst.running_at.as_ref().is_some_and(|t| reached(t, now))
            {
                inst.state = "running".into();
            }
            if inst.terminated_at.as_ref().is_some_and(|t| reached(t, now)) {
                inst.state = "terminated".into();
                for v in &mut account.volumes {
                    if v.attachment.as_ref().is_some_and(|(i, _)| i == &inst.id) {
                        v.attachment = None;
                    }
                }
            } else if inst.terminated_at.is_some() {
                inst.state = "shutting-down".into();
            }
        }
    }
    let mut due = Vec::new();
    for cmd in &mut st.runtime.commands {
        if !cmd.effects_applied && reached(&cmd.finishes_at, now) {
            cmd.effects_applied = true;
            due.extend(cmd.effects.iter().cloned().map(|e| (e, cmd.finishes_at)));
        }
    }
    for (effect, at) in due {
        apply(st, effect, &at);
    }
}

fn apply(st: &mut WorldState, effect: Effect, at: &Timestamp) {
    match effect {
        Effect::UploadPart {
            upload_id,
            part_number,
            size_bytes,
            sha256,
            bytes,
        } => {
            if let Some(up) = st
                .runtime
                .uploads
                .iter_mut()
                .find(|u| u.upload_id == upload_id && u.state == UploadState::Open)
            {
                let etag = format!("\"{}\"", &sha256[..sha256.len().min(32)]);
                up.parts.insert(
                    part_number,
                    UploadedPartRecord {
                        size_bytes,
                        sha256,
                        etag,
                        bytes,
                    },
                );
            }
        }
        Effect::PutObject {
            bucket,
            key,
            bytes,
            content_type,
        } => {
            s3::write_object(st, &bucket, &key, bytes, &content_type, at);
        }
    }
}
