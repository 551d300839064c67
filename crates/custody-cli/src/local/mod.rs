//! Running custody locally over a simulated world: the environment (the world's ports, cases in
//! SQLite), the state directory, and the state machines with every step bound in-process.
//!
//! One virtual time serves the engine and the world: the engine runs on tokio's paused clock
//! ([`VirtualClock`]) and the world's [`SimClock`] is driven by it, so `Wait` loops and simulated
//! latencies cost no wall time.

pub mod machine;
pub mod run;
pub mod store;
pub mod summary;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use custody_asl::VirtualClock;
use custody_core::error::StepError;
use custody_core::id::{AccountId, CaseId, Region, Timestamp};
use custody_sim::{SimClock, SimEnvironment, World};
use custody_steps::ports::{Clock, Environment, ForensicPorts, Settings, TargetPorts};

pub use store::SqliteCaseStore;

/// Where cases, reports and saved worlds live: `--state-dir`, else `CUSTODY_HOME`, else
/// `./.custody`.
pub fn state_dir(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_owned)
        .or_else(|| std::env::var_os("CUSTODY_HOME").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(".custody"))
}

/// The directory of one case's local files (report, saved world).
pub fn case_dir(state: &Path, case: &CaseId) -> PathBuf {
    state.join("cases").join(case.as_str())
}

/// Opens the case store of a state directory, creating the directory.
///
/// # Errors
/// The directory cannot be created or the database opened.
pub fn open_store(state: &Path) -> anyhow::Result<Arc<SqliteCaseStore>> {
    std::fs::create_dir_all(state)
        .with_context(|| format!("cannot create the state directory {}", state.display()))?;
    Ok(Arc::new(
        SqliteCaseStore::open(&state.join("cases.sqlite")).map_err(|e| anyhow::anyhow!("{e}"))?,
    ))
}

/// A world loaded from a fixture or a saved state, its clock driven by the engine's virtual
/// clock, which starts where the world's time is.
///
/// Call this inside a runtime whose clock is paused ([`tokio::time::pause`]).
///
/// # Errors
/// The file cannot be read or is not a valid world.
pub fn load_world(path: &Path) -> anyhow::Result<(World, Arc<VirtualClock>)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the world {}", path.display()))?;
    let world =
        World::from_json(&text).with_context(|| format!("invalid world {}", path.display()))?;
    let engine = Arc::new(VirtualClock::starting_at(world.now().as_offset_date_time()));
    let source = engine.clone();
    let start = world.now();
    let driven = SimClock::driven_by(move || {
        Timestamp::try_from(custody_asl::Clock::now(source.as_ref())).unwrap_or(start)
    });
    Ok((world.with_clock(driven), engine))
}

/// Saves the world's whole state (run-time records and virtual time included).
///
/// # Errors
/// The file cannot be written.
pub fn save_world(world: &World, path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let json = world.to_json().context("cannot serialise the world")?;
    std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))
}

/// The simulated world's environment, except that cases live in the local SQLite store.
pub struct LocalEnvironment {
    sim: SimEnvironment,
    forensic: ForensicPorts,
}

impl LocalEnvironment {
    /// The environment over `world` with `cases`.
    ///
    /// # Errors
    /// The world has no forensic account.
    pub fn new(world: &World, cases: Arc<SqliteCaseStore>) -> anyhow::Result<Self> {
        let sim = SimEnvironment::new(world).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut forensic = sim.forensic().clone();
        forensic.cases = cases;
        Ok(Self { sim, forensic })
    }
}

#[async_trait]
impl Environment for LocalEnvironment {
    fn forensic(&self) -> &ForensicPorts {
        &self.forensic
    }

    async fn target(
        &self,
        account: &AccountId,
        region: &Region,
        case: &CaseId,
    ) -> Result<TargetPorts, StepError> {
        self.sim.target(account, region, case).await
    }

    fn clock(&self) -> &dyn Clock {
        self.sim.clock()
    }

    fn settings(&self) -> &Settings {
        self.sim.settings()
    }
}
