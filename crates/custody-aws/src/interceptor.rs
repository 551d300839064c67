//! An SDK interceptor that records the IAM actions every request exercises.
//!
//! Every port method declares its IAM actions next to it (`custody_steps::capability`), and the
//! CDK app builds each function's policy from those declarations. This interceptor is the other
//! half of that contract: it sits on every client this crate builds and records, for each request
//! the SDK is about to send (or presign), the IAM actions that request needs. A test can then
//! assert "recorded ⊆ declared" for a step, and a policy can never silently lag the code.
//!
//! Most operations need the action of the same name (`ec2:CreateSnapshots`). A few need another
//! name, or need extra actions because of what the request carries, and IAM authorises those
//! too; the interceptor records them from the serialised request:
//! - S3 object operations are authorised by object actions (`HeadObject` → `s3:GetObject`,
//!   `CreateMultipartUpload`/`UploadPart`/`CompleteMultipartUpload` → `s3:PutObject`);
//! - Object Lock headers on a write also need `s3:PutObjectRetention`;
//! - EC2 `TagSpecifications` on a create also need `ec2:CreateTags`;
//! - an instance profile on `RunInstances`/`AssociateIamInstanceProfile` also needs `iam:PassRole`;
//! - session tags on `AssumeRole` also need `sts:TagSession`.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, Metadata};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// The IAM actions requests exercised, in the order they were sent, shared by every client built
/// from one [`crate::AwsEnvironment`] (and by the target-account clients it creates).
///
/// Cloning shares the log.
#[derive(Debug, Clone, Default)]
pub struct OperationLog {
    entries: Arc<Mutex<Vec<String>>>,
}

impl OperationLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every recorded action, in order, with repeats (one entry per request attempt).
    pub fn entries(&self) -> Vec<String> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The distinct recorded actions, sorted.
    pub fn actions(&self) -> BTreeSet<String> {
        self.entries().into_iter().collect()
    }

    /// Forgets everything recorded so far (a test measures one step at a time).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Takes the recorded actions, leaving the log empty.
    pub fn take(&self) -> BTreeSet<String> {
        let mut guard = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *guard).into_iter().collect()
    }

    fn record(&self, actions: impl IntoIterator<Item = String>) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(actions);
    }
}

/// The interceptor put on every client: records into an [`OperationLog`].
#[derive(Debug, Clone)]
pub struct RecordingInterceptor {
    log: OperationLog,
}

impl RecordingInterceptor {
    /// Records into `log`.
    pub fn new(log: OperationLog) -> Self {
        Self { log }
    }
}

impl Intercept for RecordingInterceptor {
    fn name(&self) -> &'static str {
        "CustodyRecordingInterceptor"
    }

    // Before transmit, not after serialisation: presigning stops right after this hook, and a
    // presigned URL exercises its action when the host uses it. One entry per attempt.
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            self.log.record(iam_actions(
                metadata.service(),
                metadata.name(),
                context.request(),
            ));
        }
        Ok(())
    }
}

/// The IAM actions one request needs: its own action plus those implied by what it carries.
pub fn iam_actions(service: &str, operation: &str, request: &HttpRequest) -> Vec<String> {
    let prefix = iam_prefix(service);
    let mut actions = vec![format!("{prefix}:{}", primary_action(&prefix, operation))];
    let header = |name: &str| request.headers().get(name).is_some();
    let body = request.body().bytes().unwrap_or_default();
    let body_has = |needle: &str| contains(body, needle.as_bytes());
    match (prefix.as_str(), operation) {
        ("s3", "PutObject" | "CreateMultipartUpload" | "CopyObject")
            if header("x-amz-object-lock-mode")
                || header("x-amz-object-lock-retain-until-date") =>
        {
            actions.push("s3:PutObjectRetention".to_owned());
        }
        ("ec2", _) if body_has("TagSpecification.") => actions.push("ec2:CreateTags".to_owned()),
        _ => {}
    }
    if matches!(
        (prefix.as_str(), operation),
        ("ec2", "RunInstances" | "AssociateIamInstanceProfile")
    ) && body_has("IamInstanceProfile.")
    {
        actions.push("iam:PassRole".to_owned());
    }
    if (prefix.as_str(), operation) == ("sts", "AssumeRole") && body_has("Tags.member.") {
        actions.push("sts:TagSession".to_owned());
    }
    actions
}

/// The IAM service prefix of an SDK service name (`SecurityHub` → `securityhub`).
fn iam_prefix(service: &str) -> String {
    service.to_ascii_lowercase()
}

/// The IAM action that authorises an operation, where it is not the operation's own name.
fn primary_action<'a>(prefix: &str, operation: &'a str) -> &'a str {
    match (prefix, operation) {
        ("s3", "HeadObject") => "GetObject",
        ("s3", "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload") => "PutObject",
        ("s3", "ListParts") => "ListMultipartUploadParts",
        ("s3", "HeadBucket" | "ListObjectsV2") => "ListBucket",
        _ => operation,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::body::SdkBody;

    fn request(body: &str, headers: &[(&'static str, &'static str)]) -> HttpRequest {
        let mut req = HttpRequest::new(SdkBody::from(body.to_owned()));
        for (k, v) in headers {
            req.headers_mut().insert(*k, *v);
        }
        req
    }

    #[test]
    fn plain_operations_map_to_their_own_action() {
        let got = iam_actions(
            "EC2",
            "DescribeInstances",
            &request("Action=DescribeInstances", &[]),
        );
        assert_eq!(got, vec!["ec2:DescribeInstances"]);
        let got = iam_actions("SecurityHub", "BatchUpdateFindings", &request("{}", &[]));
        assert_eq!(got, vec!["securityhub:BatchUpdateFindings"]);
    }

    #[test]
    fn s3_object_operations_use_object_actions() {
        assert_eq!(
            iam_actions("S3", "HeadObject", &request("", &[])),
            vec!["s3:GetObject"]
        );
        assert_eq!(
            iam_actions("S3", "UploadPart", &request("", &[])),
            vec!["s3:PutObject"]
        );
        let locked = request("", &[("x-amz-object-lock-mode", "GOVERNANCE")]);
        assert_eq!(
            iam_actions("S3", "PutObject", &locked),
            vec!["s3:PutObject", "s3:PutObjectRetention"]
        );
    }

    #[test]
    fn implied_actions_are_recorded() {
        let run = request(
            "Action=RunInstances&IamInstanceProfile.Name=ws&TagSpecification.1.ResourceType=instance",
            &[],
        );
        assert_eq!(
            iam_actions("EC2", "RunInstances", &run),
            vec!["ec2:RunInstances", "ec2:CreateTags", "iam:PassRole"]
        );
        let assume = request("Action=AssumeRole&Tags.member.1.Key=case", &[]);
        assert_eq!(
            iam_actions("STS", "AssumeRole", &assume),
            vec!["sts:AssumeRole", "sts:TagSession"]
        );
    }

    #[test]
    fn the_log_is_shared_by_clones() {
        let log = OperationLog::new();
        let other = log.clone();
        other.record(["ec2:DescribeInstances".to_owned()]);
        assert_eq!(log.entries(), vec!["ec2:DescribeInstances"]);
        assert_eq!(log.take().len(), 1);
        assert!(other.entries().is_empty());
    }
}
