//! [`Identity`] over the world's IAM roles and instance profiles.

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{Arn, RoleArn};
use custody_steps::ports::Identity;
use custody_steps::ports::ops::identity as ops;

use super::SimAccount;
use crate::errs;
use crate::model::{Account, Role};

fn role_mut<'a>(a: &'a mut Account, role: &RoleArn) -> Result<&'a mut Role, StepError> {
    a.roles
        .iter_mut()
        .find(|r| &r.arn == role)
        .ok_or_else(|| errs::not_found("NoSuchEntity", format!("role {role} does not exist")))
}

#[async_trait]
impl Identity for SimAccount {
    async fn instance_profile_roles(&self, profile: &Arn) -> Result<Vec<RoleArn>, StepError> {
        self.call(
            &ops::INSTANCE_PROFILE_ROLES,
            vec![profile.to_string()],
            |cx| {
                cx.acct()?
                    .instance_profiles
                    .iter()
                    .find(|p| &p.arn == profile)
                    .map(|p| p.roles.clone())
                    .ok_or_else(|| {
                        errs::not_found(
                            "NoSuchEntity",
                            format!("instance profile {profile} does not exist"),
                        )
                    })
            },
        )
    }

    async fn role_policy(&self, role: &RoleArn, name: &str) -> Result<Option<String>, StepError> {
        self.call(&ops::ROLE_POLICY, vec![role.to_string()], |cx| {
            Ok(role_mut(cx.acct()?, role)?
                .inline_policies
                .get(name)
                .cloned())
        })
    }

    async fn put_role_policy(
        &self,
        role: &RoleArn,
        name: &str,
        document: &str,
    ) -> Result<(), StepError> {
        self.call(&ops::PUT_ROLE_POLICY, vec![role.to_string()], |cx| {
            if serde_json::from_str::<serde_json::Value>(document).is_err() {
                return Err(errs::invalid(
                    "MalformedPolicyDocument",
                    format!("the policy document for {name:?} is not JSON"),
                ));
            }
            role_mut(cx.acct()?, role)?
                .inline_policies
                .insert(name.to_string(), document.to_string());
            Ok(())
        })
    }

    async fn delete_role_policy(&self, role: &RoleArn, name: &str) -> Result<(), StepError> {
        self.call(&ops::DELETE_ROLE_POLICY, vec![role.to_string()], |cx| {
            role_mut(cx.acct()?, role)?.inline_policies.remove(name);
            Ok(())
        })
    }
}
