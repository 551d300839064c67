//! IAM: the roles behind an instance profile, and the inline policy that revokes their sessions.

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{Arn, RoleArn};

/// IAM reads and role inline policies.
#[async_trait]
pub trait Identity: Send + Sync {
    /// The roles of an instance profile.
    async fn instance_profile_roles(&self, profile: &Arn) -> Result<Vec<RoleArn>, StepError>;

    /// An inline policy's document, if the role has one by that name (for idempotency and to
    /// record what a release must restore).
    async fn role_policy(&self, role: &RoleArn, name: &str) -> Result<Option<String>, StepError>;

    /// Puts an inline policy; idempotent (same name, same document).
    async fn put_role_policy(
        &self,
        role: &RoleArn,
        name: &str,
        document: &str,
    ) -> Result<(), StepError>;

    /// Deletes an inline policy; a missing policy is fine.
    async fn delete_role_policy(&self, role: &RoleArn, name: &str) -> Result<(), StepError>;
}

/// Capabilities of [`Identity`].
pub mod ops {
    use crate::capability::{Capability, PortName::Identity as P};

    /// [`super::Identity::instance_profile_roles`]
    pub const INSTANCE_PROFILE_ROLES: Capability =
        Capability::read(P, "instance_profile_roles", &["iam:GetInstanceProfile"]);
    /// [`super::Identity::role_policy`]
    pub const ROLE_POLICY: Capability = Capability::read(P, "role_policy", &["iam:GetRolePolicy"]);
    /// [`super::Identity::put_role_policy`]
    pub const PUT_ROLE_POLICY: Capability =
        Capability::mutate(P, "put_role_policy", &["iam:PutRolePolicy"]);
    /// [`super::Identity::delete_role_policy`]
    pub const DELETE_ROLE_POLICY: Capability =
        Capability::mutate(P, "delete_role_policy", &["iam:DeleteRolePolicy"]);

    /// All of them.
    pub const ALL: &[&Capability] = &[
        &INSTANCE_PROFILE_ROLES,
        &ROLE_POLICY,
        &PUT_ROLE_POLICY,
        &DELETE_ROLE_POLICY,
    ];
}
