//! IAM: the roles behind an instance profile, and their inline policies (session revocation).

use async_trait::async_trait;
use custody_core::error::{ErrorName, StepError};
use custody_core::id::{Arn, RoleArn};
use custody_steps::ports::Identity;

use crate::error::{invalid, sdk_error};

/// IAM as the responder role of one target account.
#[derive(Debug, Clone)]
pub struct Iam {
    client: aws_sdk_iam::Client,
}

impl Iam {
    /// Wraps a client built by this crate (with the recording interceptor).
    pub fn new(client: aws_sdk_iam::Client) -> Self {
        Self { client }
    }
}

/// The name of an instance profile from its ARN (`instance-profile/path/name` → `name`).
fn profile_name(profile: &Arn) -> Result<&str, StepError> {
    let resource = profile.resource();
    match resource.strip_prefix("instance-profile/") {
        Some(rest) if profile.service() == "iam" && !rest.is_empty() => {
            Ok(rest.rsplit('/').next().unwrap_or(rest))
        }
        _ => Err(invalid(format!(
            "{:?} is not an IAM instance profile ARN",
            profile.as_str()
        ))),
    }
}

#[async_trait]
impl Identity for Iam {
    async fn instance_profile_roles(&self, profile: &Arn) -> Result<Vec<RoleArn>, StepError> {
        let name = profile_name(profile)?;
        let context = format!("iam:GetInstanceProfile {name:?}");
        let out = self
            .client
            .get_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        let roles = out
            .instance_profile()
            .map(|p| p.roles())
            .unwrap_or_default();
        roles
            .iter()
            .map(|r| {
                RoleArn::parse(r.arn())
                    .map_err(|e| crate::error::unexpected(&context, "role ARN", e))
            })
            .collect()
    }

    async fn role_policy(&self, role: &RoleArn, name: &str) -> Result<Option<String>, StepError> {
        let context = format!("iam:GetRolePolicy {name:?} on {role}");
        match self
            .client
            .get_role_policy()
            .role_name(role.role_name())
            .policy_name(name)
            .send()
            .await
        {
            // IAM returns the document URL-encoded (RFC 3986), on the wire and in the SDK.
            Ok(out) => Ok(Some(percent_decode(out.policy_document()).map_err(
                |e| crate::error::unexpected(&context, "policy document", e),
            )?)),
            Err(e) => match sdk_error(&context, e) {
                absent if absent.name == ErrorName::NotFound => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn put_role_policy(
        &self,
        role: &RoleArn,
        name: &str,
        document: &str,
    ) -> Result<(), StepError> {
        let context = format!("iam:PutRolePolicy {name:?} on {role}");
        self.client
            .put_role_policy()
            .role_name(role.role_name())
            .policy_name(name)
            .policy_document(document)
            .send()
            .await
            .map_err(|e| sdk_error(&context, e))?;
        Ok(())
    }

    async fn delete_role_policy(&self, role: &RoleArn, name: &str) -> Result<(), StepError> {
        let context = format!("iam:DeleteRolePolicy {name:?} on {role}");
        match self
            .client
            .delete_role_policy()
            .role_name(role.role_name())
            .policy_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match sdk_error(&context, e) {
                absent if absent.name == ErrorName::NotFound => Ok(()),
                other => Err(other),
            },
        }
    }
}

/// Decodes `%XX` escapes (and nothing else: IAM does not use `+` for spaces).
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or("truncated %-escape")?;
            let hex = std::str::from_utf8(hex).map_err(|_| "bad %-escape")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("bad %-escape %{hex}"))?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the decoded document is not UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_url_decoded() {
        assert_eq!(
            percent_decode("%7B%22Version%22%3A%222012-10-17%22%7D").unwrap(),
            r#"{"Version":"2012-10-17"}"#
        );
        assert_eq!(percent_decode("plain").unwrap(), "plain");
        assert!(percent_decode("%7").is_err());
        assert!(percent_decode("%zz").is_err());
    }

    #[test]
    fn profile_names_come_from_the_arn() {
        let arn = Arn::parse("arn:aws:iam::111122223333:instance-profile/app/web-profile").unwrap();
        assert_eq!(profile_name(&arn).unwrap(), "web-profile");
        let role = Arn::parse("arn:aws:iam::111122223333:role/web").unwrap();
        assert_eq!(
            profile_name(&role).unwrap_err().name,
            ErrorName::InvalidInput
        );
    }
}
