//! STS: the responder role in a target account, assumed once per case.

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sdk_sts::types::Tag;
use custody_core::error::StepError;
use custody_core::id::{AccountId, CaseId, Partition};

use crate::error::{invalid, sdk_error};

/// What to assume, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRequest {
    /// `arn:<partition>:iam::<account>:role/<name>`.
    pub role_arn: String,
    /// The session name (`custody-<case id>`), visible in CloudTrail as the responder's identity.
    pub session_name: String,
    /// The external id the role's trust policy requires.
    pub external_id: Option<String>,
    /// Session tags (need `sts:TagSession` in the trust policy).
    pub tags: BTreeMap<String, String>,
    /// Credential lifetime, seconds.
    pub duration_seconds: i32,
}

impl AssumeRequest {
    /// The request for the responder role `role_name` in `account`, for `case`.
    pub fn responder(
        partition: Partition,
        account: &AccountId,
        role_name: &str,
        case: &CaseId,
        external_id: Option<&str>,
        tags: &BTreeMap<String, String>,
        duration_seconds: i32,
    ) -> Self {
        Self {
            role_arn: format!("arn:{}:iam::{account}:role/{role_name}", partition.as_str()),
            session_name: session_name(case),
            external_id: external_id.map(str::to_owned),
            tags: tags.clone(),
            duration_seconds,
        }
    }
}

/// `custody-<case id>`, cut to STS's 64 characters (a case id is 31, so it never is).
pub fn session_name(case: &CaseId) -> String {
    format!("custody-{case}").chars().take(64).collect()
}

/// Assumes the role; the credentials carry their expiry.
///
/// # Errors
/// `Custody.AccessDenied` when the role does not trust the forensic account (or the external id
/// is wrong), `Custody.InvalidInput` for a malformed request, the usual SDK mapping otherwise.
pub async fn assume_role(
    client: &aws_sdk_sts::Client,
    request: &AssumeRequest,
) -> Result<Credentials, StepError> {
    let context = format!(
        "sts:AssumeRole {} as {:?}",
        request.role_arn, request.session_name
    );
    let mut call = client
        .assume_role()
        .role_arn(&request.role_arn)
        .role_session_name(&request.session_name)
        .duration_seconds(request.duration_seconds)
        .set_external_id(request.external_id.clone());
    for (key, value) in &request.tags {
        let tag = Tag::builder()
            .key(key)
            .value(value)
            .build()
            .map_err(|e| invalid(format!("{context}: session tag {key:?}: {e}")))?;
        call = call.tags(tag);
    }
    let out = call.send().await.map_err(|e| sdk_error(&context, e))?;
    let creds = out
        .credentials()
        .ok_or_else(|| crate::error::missing(&context, "credentials"))?;
    let expiry = SystemTime::try_from(*creds.expiration())
        .map_err(|e| crate::error::unexpected(&context, "expiration", e))?;
    Ok(Credentials::new(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token().to_owned()),
        Some(expiry),
        "custody-responder",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_responder_arn_follows_the_partition() {
        let case = CaseId::parse("case-01J0000000000000000000000A").unwrap();
        let account = AccountId::parse("111122223333").unwrap();
        let r = AssumeRequest::responder(
            Partition::AwsCn,
            &account,
            "custody-responder",
            &case,
            Some("x"),
            &BTreeMap::new(),
            900,
        );
        assert_eq!(
            r.role_arn,
            "arn:aws-cn:iam::111122223333:role/custody-responder"
        );
        assert_eq!(r.session_name, "custody-case-01J0000000000000000000000A");
        assert!(r.session_name.len() <= 64);
    }
}
