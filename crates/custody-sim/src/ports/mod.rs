//! The port implementations: one [`SimAccount`] per account serves every port of that account.

mod cases;
mod cluster;
mod cluster_rules;
mod commands;
mod compute;
mod documents;
mod environment;
mod evidence;
mod facts;
mod findings;
mod identity;
mod notifier;
mod quarantine;
mod snapshots;
mod workstation;

use custody_core::error::StepError;
use custody_core::id::{AccountId, Region};

pub use cluster::SimCluster;
pub use environment::SimEnvironment;

use crate::model::Account;
use crate::world::{Ctx, World};

/// One account of the world, in one region, acting as the responder (target accounts) or as
/// custody itself (the forensic account). Implements every port; which of them are used depends on
/// whether it stands for a target or the forensic account.
#[derive(Clone, Debug)]
pub struct SimAccount {
    world: World,
    account: AccountId,
    region: Region,
}

impl SimAccount {
    /// The ports of `account` in `region`; `None` if the world has no such account.
    pub fn new(world: &World, account: &AccountId, region: &Region) -> Option<SimAccount> {
        let exists = world.inspect(|st| {
            st.accounts
                .iter()
                .any(|a| &a.id == account && &a.region == region)
        });
        exists.then(|| SimAccount {
            world: world.clone(),
            account: account.clone(),
            region: region.clone(),
        })
    }

    /// The account.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    pub(crate) fn call<T>(
        &self,
        capability: &'static custody_steps::capability::Capability,
        resources: Vec<String>,
        body: impl FnOnce(&mut Ctx<'_>) -> Result<T, StepError>,
    ) -> Result<T, StepError> {
        self.world
            .call(&self.account, &self.region, capability, resources, body)
    }
}

impl Ctx<'_> {
    /// The calling account's resources.
    pub(crate) fn acct(&mut self) -> Result<&mut Account, StepError> {
        let (id, region) = (self.account.clone(), self.region.clone());
        self.st
            .accounts
            .iter_mut()
            .find(|a| a.id == id && a.region == region)
            .ok_or_else(|| {
                crate::errs::not_found(
                    "AuthFailure",
                    format!("account {id} in {region} is not in the world"),
                )
            })
    }
}
