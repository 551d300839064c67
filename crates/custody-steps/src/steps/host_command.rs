//! A custody document on a host with its upload manifest: what every step that runs a custody
//! SSM document (capture-memory, map-pods, investigate-check on the workstation) and every step
//! that polls one (check-memory, check-pod-map) does the same way.
//!
//! The protocol is one, whatever the document does (ssm-documents/README.md):
//! - the step begins the multipart uploads the host writes into, puts a [`Manifest`] with their
//!   presigned part URLs (and custody's own upload ids and deadline) in the evidence bucket, and
//!   sends the document with only `CaseId`, `InstanceId` and a presigned GET of that manifest
//!   ([`HostDocument::send`]): no URL reaches a command line or SSM's history;
//! - SendCommand has no client token, so a retried step finds the command an earlier attempt sent
//!   by its comment, and reads that attempt's upload ids and deadline back from the manifest it
//!   was given ([`HostDocument::find_sent`]) instead of starting the document twice;
//! - the poll reads the invocation ([`invocation`]); a document that succeeded printed the JSON
//!   its README documents ([`summary`]); one that ended otherwise is `Custody.CommandFailed` with
//!   the escaped tail of its stderr ([`failed`]).
//!
//! What each step decides stays in the step: its guardrail, what a host that cannot take a
//! command means for the case, which uploads it begins, what it records, and its error causes.

use std::collections::BTreeMap;

use custody_core::error::{ErrorName, StepError};
use custody_core::id::{CaseId, InstanceId, Timestamp};
use serde::de::DeserializeOwned;

use crate::ports::{
    Bucket, CommandRequest, Environment, EvidenceStore, Invocation, NodeCommands, Settings,
};
use crate::steps::capture_memory::CaptureMemoryOutput;
use crate::steps::manifest::{self, Manifest};
use crate::steps::stderr_tail;
use crate::target::InstanceRef;

/// S3's minimum part size (every part but the last).
const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
/// A document holds one part in RAM at a time: at most 1 GiB.
const MAX_PART_BYTES: u64 = 1024 * 1024 * 1024;
/// Manifest key of the time the polling step gives up on the invocation.
const DEADLINE: &str = "deadline";
/// Extra time past the command timeout before the polling step gives up on the invocation.
const DEADLINE_MARGIN_SECONDS: i64 = 600;

/// The part size the settings ask for, within what S3 takes and a document can hold.
pub(crate) fn part_size(settings: &Settings) -> u64 {
    settings
        .upload_part_size_bytes
        .clamp(MIN_PART_BYTES, MAX_PART_BYTES)
}

/// When the polling step gives up on a document sent at `now` with `timeout_seconds`: the
/// timeout and a margin for SSM to report the end. Kept in `manifest`, so a retry that finds the
/// command hands the polling step the same deadline ([`Sent::deadline`]).
pub(crate) fn record_deadline(
    manifest: &mut Manifest,
    now: Timestamp,
    timeout_seconds: u32,
) -> Timestamp {
    let deadline = now.plus_seconds(i64::from(timeout_seconds) + DEADLINE_MARGIN_SECONDS);
    manifest
        .values
        .insert(DEADLINE.to_owned(), deadline.to_string());
    deadline
}

/// One custody document on one host: the SSM commands of the host, the evidence bucket its
/// manifest is kept in, and what identifies this run of the document.
pub(crate) struct HostDocument<'a> {
    commands: &'a dyn NodeCommands,
    store: &'a dyn EvidenceStore,
    instance: &'a InstanceId,
    /// The comment a retry finds the command by (`custody <case> <purpose>`).
    comment: String,
    /// Where the manifest is kept in the evidence bucket.
    manifest_key: String,
    /// Parameters beyond the `CaseId`, `InstanceId` and `ManifestUrl` every document takes.
    pub parameters: BTreeMap<String, String>,
}

impl<'a> HostDocument<'a> {
    /// The document sent to `instance` with `comment`, its manifest kept at `manifest_key`.
    pub(crate) fn new(
        commands: &'a dyn NodeCommands,
        store: &'a dyn EvidenceStore,
        instance: &'a InstanceId,
        comment: String,
        manifest_key: String,
    ) -> Self {
        Self {
            commands,
            store,
            instance,
            comment,
            manifest_key,
            parameters: BTreeMap::new(),
        }
    }

    /// The command an earlier attempt sent, if any.
    ///
    /// # Errors
    /// Port errors.
    pub(crate) async fn find_command(&self) -> Result<Option<String>, StepError> {
        self.commands
            .find_command(self.instance, &self.comment)
            .await
    }

    /// The manifest as stored: what the host was (or was about to be) given.
    ///
    /// # Errors
    /// Port errors (there is none); `Custody.Internal` when it is malformed.
    pub(crate) async fn manifest(&self) -> Result<Manifest, StepError> {
        manifest::load(self.store, &self.manifest_key).await
    }

    /// The command an earlier attempt sent, with the manifest it was given; `None` when no
    /// attempt sent it yet.
    ///
    /// # Errors
    /// Port errors; `Custody.Internal` when the manifest of a sent command is missing or malformed.
    pub(crate) async fn find_sent(&self) -> Result<Option<Sent>, StepError> {
        let Some(command_id) = self.find_command().await? else {
            return Ok(None);
        };
        Ok(Some(Sent {
            command_id,
            manifest: self.manifest().await?,
            manifest_key: self.manifest_key.clone(),
        }))
    }

    /// Why the host's SSM agent cannot take a command now, or `None` when it is online.
    ///
    /// # Errors
    /// Port errors.
    pub(crate) async fn agent_offline(&self) -> Result<Option<String>, StepError> {
        let status = self
            .commands
            .agent_status(std::slice::from_ref(self.instance))
            .await?;
        Ok(
            match status.iter().find(|s| &s.instance_id == self.instance) {
                Some(a) if a.online => None,
                Some(a) => Some(format!("SSM agent ping status is {:?}", a.ping_status)),
                None => Some("the instance is not managed by SSM".to_owned()),
            },
        )
    }

    /// Puts `manifest` in the evidence bucket, presigns a GET of it valid for `expiry` seconds,
    /// and sends `document` with that URL. Returns the command id.
    ///
    /// The manifest is stored before the command exists, so a host never fetches a manifest that
    /// is not there, and a retry that finds the command finds its manifest.
    ///
    /// # Errors
    /// Port errors.
    pub(crate) async fn send(
        &self,
        manifest: &Manifest,
        document: &str,
        timeout_seconds: u32,
        expiry: u64,
    ) -> Result<String, StepError> {
        let store = self.store;
        let rendered = manifest::render(manifest);
        store
            .put_object(&self.manifest_key, rendered.as_bytes(), "text/plain")
            .await?;
        let manifest_url = store
            .presign_get(Bucket::Evidence, &self.manifest_key, expiry)
            .await?;
        let mut parameters = self.parameters.clone();
        parameters.insert("CaseId".to_owned(), manifest.case_id.to_string());
        parameters.insert("InstanceId".to_owned(), self.instance.to_string());
        parameters.insert("ManifestUrl".to_owned(), manifest_url);
        self.commands
            .send_command(&CommandRequest {
                document: document.to_owned(),
                instance_id: self.instance.clone(),
                parameters,
                comment: self.comment.clone(),
                timeout_seconds,
            })
            .await
    }
}

/// A command an earlier attempt sent, and the manifest it was given.
pub(crate) struct Sent {
    /// The SSM command.
    pub command_id: String,
    /// The manifest as the host received it.
    pub manifest: Manifest,
    /// Where the manifest is kept, to name it in errors.
    manifest_key: String,
}

impl Sent {
    /// The deadline the first attempt recorded, so a retry hands the polling step the same one.
    ///
    /// # Errors
    /// `Custody.Internal` when the manifest has none or a malformed one.
    pub(crate) fn deadline(&self) -> Result<Timestamp, StepError> {
        self.manifest.value(DEADLINE)?.parse().map_err(|_| {
            StepError::internal(format!(
                "manifest {:?} has a malformed deadline",
                self.manifest_key
            ))
        })
    }

    /// What a retry answers: the first attempt's command, the upload kept under `upload_value`
    /// in its manifest, and its deadline.
    ///
    /// # Errors
    /// `Custody.Internal` when the manifest lacks the upload id or the deadline.
    pub(crate) fn started(self, upload_value: &str) -> Result<CaptureMemoryOutput, StepError> {
        let upload_id = self.manifest.value(upload_value)?.to_owned();
        let deadline = self.deadline()?;
        Ok(CaptureMemoryOutput::started(
            self.command_id,
            upload_id,
            deadline,
        ))
    }
}

/// The invocation of `command_id` on the target node, read with the target account's ports.
///
/// # Errors
/// Port errors.
pub(crate) async fn invocation(
    env: &dyn Environment,
    case_id: &CaseId,
    target: &InstanceRef,
    command_id: &str,
) -> Result<Invocation, StepError> {
    let ports = env.target(&target.account, &target.region, case_id).await?;
    ports
        .commands
        .invocation(command_id, &target.instance_id)
        .await
}

/// The stdout of a document that succeeded, as the JSON its README documents; `subject` names the
/// run (`memory capture of i-…`).
///
/// # Errors
/// `Custody.InvalidInput` when stdout is not that JSON (it comes from the host).
pub(crate) fn summary<T: DeserializeOwned>(
    invocation: &Invocation,
    subject: &str,
) -> Result<T, StepError> {
    serde_json::from_str(invocation.stdout.trim()).map_err(|e| {
        StepError::invalid_input(format!(
            "{subject} succeeded but its stdout is not the documented JSON: {e}"
        ))
    })
}

/// `Custody.CommandFailed` for a document that ended otherwise than in success: its status, exit
/// code and the escaped tail of its stderr (which comes from the host).
pub(crate) fn failed(subject: &str, command_id: &str, invocation: &Invocation) -> StepError {
    StepError::new(
        ErrorName::CommandFailed,
        format!(
            "{subject} (command {command_id:?}) ended {:?} exit {:?}; stderr tail: {}",
            invocation.status,
            invocation.exit_code,
            stderr_tail(&invocation.stderr)
        ),
    )
}

#[cfg(test)]
mod tests {
    use custody_core::id::CaseId;

    use super::*;
    use crate::ports::{CommandStatus, UploadTicket};

    fn manifest() -> Manifest {
        let mut m = Manifest::new(
            "map-pods",
            &CaseId::parse("case-01JD0000000000000000000000").unwrap(),
            &InstanceId::parse("i-0123456789abcdef0").unwrap(),
            MIN_PART_BYTES,
        );
        let ticket = UploadTicket {
            upload_id: "up-1".to_owned(),
            part_urls: vec!["https://b.s3/p?partNumber=1".to_owned()],
            part_size_bytes: MIN_PART_BYTES,
        };
        m.add_upload("podmap", "podmap_upload_id", &ticket);
        m
    }

    #[test]
    fn a_retry_answers_the_first_attempts_upload_and_deadline() {
        let mut m = manifest();
        let now = Timestamp::parse("2026-11-23T10:00:00Z").unwrap();
        let deadline = record_deadline(&mut m, now, 600);
        assert_eq!(deadline, now.plus_seconds(1200));
        // What a retry reads back is the stored manifest, not the value in memory.
        let sent = Sent {
            command_id: "cmd-1".to_owned(),
            manifest: manifest::parse(manifest::render(&m).as_bytes()).unwrap(),
            manifest_key: "cases/x/pod-map/i.manifest".to_owned(),
        };
        let out = sent.started("podmap_upload_id").unwrap();
        assert_eq!(out.command_id.as_deref(), Some("cmd-1"));
        assert_eq!(out.upload_id.as_deref(), Some("up-1"));
        assert_eq!(out.deadline, Some(deadline));
    }

    #[test]
    fn a_manifest_lacking_what_a_retry_needs_is_an_internal_error() {
        let mut m = manifest();
        m.values.insert(DEADLINE.to_owned(), "soon".to_owned());
        let sent = Sent {
            command_id: "cmd-1".to_owned(),
            manifest: m,
            manifest_key: "k.manifest".to_owned(),
        };
        let err = sent.deadline().unwrap_err();
        assert_eq!(err.name, ErrorName::Internal);
        assert!(err.cause.contains("\"k.manifest\""), "{}", err.cause);
        let err = Sent {
            manifest: manifest(),
            ..sent
        }
        .started("podmap_upload_id")
        .unwrap_err();
        assert_eq!(err.name, ErrorName::Internal);
    }

    #[test]
    fn a_failed_document_names_its_end_and_escapes_the_hosts_stderr() {
        let invocation = Invocation {
            status: CommandStatus::TimedOut,
            exit_code: Some(124),
            stdout: String::new(),
            stderr: "boom\n\x1b[2J".to_owned(),
        };
        let err = failed("memory capture of i-1", "cmd-1", &invocation);
        assert_eq!(err.name, ErrorName::CommandFailed);
        assert!(
            err.cause.starts_with(
                "memory capture of i-1 (command \"cmd-1\") ended TimedOut exit Some(124); stderr tail: "
            ),
            "{}",
            err.cause
        );
        assert!(err.cause.contains("\\u{1b}"), "{}", err.cause);
    }
}
