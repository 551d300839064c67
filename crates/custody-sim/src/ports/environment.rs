//! [`Environment`] over a world: the forensic account's ports, and target accounts' ports as
//! the responder role.

use std::sync::Arc;

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::{AccountId, CaseId, Region};
use custody_steps::ports::{Clock, Environment, ForensicPorts, Settings, TargetPorts};

use super::SimAccount;
use crate::clock::SimClock;
use crate::errs;
use crate::world::World;

/// Where steps run when they run against the simulated world.
pub struct SimEnvironment {
    world: World,
    clock: SimClock,
    settings: Settings,
    forensic: ForensicPorts,
}

impl SimEnvironment {
    /// The environment of a world: its forensic account (from the world's settings) and its
    /// target accounts.
    ///
    /// # Errors
    /// `Custody.InvalidInput` if the forensic account is missing (a validated world always has it).
    pub fn new(world: &World) -> Result<SimEnvironment, StepError> {
        let settings = world.inspect(|st| st.settings.clone());
        let account = SimAccount::new(world, &settings.forensic_account, &settings.forensic_region)
            .ok_or_else(|| {
                errs::invalid(
                    "InvalidInput",
                    format!(
                        "the forensic account {} is not in the world",
                        settings.forensic_account
                    ),
                )
            })?;
        let a = Arc::new(account);
        let forensic = ForensicPorts {
            cases: a.clone(),
            evidence: a.clone(),
            notifier: a.clone(),
            findings: a.clone(),
            snapshots: a.clone(),
            workstation: a.clone(),
            commands: a,
        };
        Ok(SimEnvironment {
            world: world.clone(),
            clock: world.clock(),
            settings,
            forensic,
        })
    }

    /// The world behind it.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The ports of one account directly (tests use it to act as a target account).
    pub fn account(&self, account: &AccountId, region: &Region) -> Option<SimAccount> {
        SimAccount::new(&self.world, account, region)
    }
}

#[async_trait]
impl Environment for SimEnvironment {
    fn forensic(&self) -> &ForensicPorts {
        &self.forensic
    }

    async fn target(
        &self,
        account: &AccountId,
        region: &Region,
        case: &CaseId,
    ) -> Result<TargetPorts, StepError> {
        let a = SimAccount::new(&self.world, account, region).ok_or_else(|| {
            errs::denied(
                "AccessDenied",
                format!(
                    "cannot assume the responder role in account {account} ({region}) for {case}: the account is not in the world"
                ),
            )
        })?;
        let a = Arc::new(a);
        Ok(TargetPorts {
            compute: a.clone(),
            snapshots: a.clone(),
            quarantine: a.clone(),
            commands: a.clone(),
            identity: a.clone(),
            clusters: a,
        })
    }

    fn clock(&self) -> &dyn Clock {
        &self.clock
    }

    fn settings(&self) -> &Settings {
        &self.settings
    }
}
