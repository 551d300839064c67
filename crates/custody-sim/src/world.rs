//! The simulated world: its state behind a lock, its clock, and the machinery every port call
//! goes through (time passes, failure knobs apply, the call is recorded).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use custody_core::error::StepError;
use custody_core::id::{AccountId, Region, Timestamp};
use custody_steps::capability::Capability;
use sha2::{Digest, Sha256};

use crate::calls::{CallOutcome, CallRecord};
use crate::clock::SimClock;
use crate::error::WorldError;
use crate::faults;
use crate::model::WorldState;
use crate::settle::settle;
use crate::{relations, validate};

/// A simulated set of AWS accounts and EKS clusters. Cheap to clone: clones share state and clock.
#[derive(Clone, Debug)]
pub struct World {
    state: Arc<Mutex<WorldState>>,
    clock: SimClock,
}

/// What a port call's body sees: the state, the time, and the account it acts in.
pub(crate) struct Ctx<'a> {
    /// The whole world.
    pub st: &'a mut WorldState,
    /// Virtual now.
    pub now: Timestamp,
    /// The calling account.
    pub account: AccountId,
    /// Its region.
    pub region: Region,
}

impl World {
    /// Loads a world fixture. Parsing is strict (unknown fields are errors; ids are validated by
    /// custody-core's types) and errors name the JSON path. The clock starts at the fixture's
    /// `startTime` (or at `now` for a saved world).
    ///
    /// # Errors
    /// [`WorldError::Parse`] for JSON that does not fit the format, [`WorldError::Invalid`] for a
    /// world that contradicts itself.
    pub fn from_json(json: &str) -> Result<World, WorldError> {
        let mut de = serde_json::Deserializer::from_str(json);
        let state: WorldState =
            serde_path_to_error::deserialize(&mut de).map_err(|e| WorldError::Parse {
                path: json_path(&e.path().to_string()),
                message: e.inner().to_string(),
            })?;
        de.end().map_err(|e| WorldError::Parse {
            path: "$".into(),
            message: e.to_string(),
        })?;
        validate::validate(&state)?;
        let mut state = state;
        stock_artifacts(&mut state);
        let start = state.now.unwrap_or(state.start_time);
        Ok(World {
            state: Arc::new(Mutex::new(state)),
            clock: SimClock::new(start),
        })
    }

    /// Restores a world saved with [`World::to_json`], its run-time state (snapshots, commands,
    /// objects, cases, the call record) and its virtual time included.
    ///
    /// # Errors
    /// As [`World::from_json`].
    pub fn from_state_json(json: &str) -> Result<World, WorldError> {
        Self::from_json(json)
    }

    /// Saves the whole world, with the current virtual time, as JSON.
    ///
    /// # Errors
    /// [`WorldError::Serialize`] if the state cannot be written (it always can, in practice).
    pub fn to_json(&self) -> Result<String, WorldError> {
        let mut state = self.lock().clone();
        state.now = Some(self.clock.now());
        serde_json::to_string_pretty(&state).map_err(WorldError::Serialize)
    }

    /// Replaces the clock, e.g. with one [`SimClock::driven_by`] the ASL engine, so that one
    /// timeline serves both. The new clock's time is kept as it is: call [`SimClock::set`] to move
    /// it to [`World::now`] first if the world should continue where it was.
    pub fn with_clock(mut self, clock: SimClock) -> World {
        self.clock = clock;
        self
    }

    /// The world's clock (clones share its time).
    pub fn clock(&self) -> SimClock {
        self.clock.clone()
    }

    /// Virtual now.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Lets virtual time pass: snapshots progress, commands finish, workstations boot.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Every port call served so far, oldest first.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.lock().runtime.calls.clone()
    }

    /// A copy of the whole state as of now (time-dependent effects applied), for assertions.
    pub fn snapshot_state(&self) -> WorldState {
        let mut st = self.lock();
        settle(&mut st, &self.clock.now());
        st.clone()
    }

    /// Reads the state (time-dependent effects applied first).
    pub fn inspect<R>(&self, f: impl FnOnce(&WorldState) -> R) -> R {
        let mut st = self.lock();
        settle(&mut st, &self.clock.now());
        f(&st)
    }

    /// Changes the state directly: for tests and rehearsals that need the world to move under
    /// custody (a pod deleted, a tag changed). Not recorded as a call.
    pub fn modify<R>(&self, f: impl FnOnce(&mut WorldState) -> R) -> R {
        let mut st = self.lock();
        f(&mut st)
    }

    fn lock(&self) -> MutexGuard<'_, WorldState> {
        // A panic while holding the lock can only come from a bug in a test closure; the state
        // itself is still consistent (every mutation is a single assignment or push).
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Serves one port call: applies due effects, applies failure knobs, runs `body`, records the
    /// call and lets the API latency pass.
    pub(crate) fn call<T>(
        &self,
        account: &AccountId,
        region: &Region,
        capability: &'static Capability,
        resources: Vec<String>,
        body: impl FnOnce(&mut Ctx<'_>) -> Result<T, StepError>,
    ) -> Result<T, StepError> {
        let mut st = self.lock();
        let now = self.clock.now();
        settle(&mut st, &now);
        let related = relations::related(&st, account, region, &resources);
        let result = match faults::check(&mut st, capability, &resources, &related) {
            Err(e) => Err(e),
            Ok(()) => {
                let mut cx = Ctx {
                    st: &mut st,
                    now,
                    account: account.clone(),
                    region: region.clone(),
                };
                body(&mut cx)
            }
        };
        let outcome = match &result {
            Ok(_) => CallOutcome::Ok,
            Err(e) => CallOutcome::Err(e.name.as_str().to_string()),
        };
        tracing::debug!(
            operation = capability.operation,
            resource = %resources.join(","),
            outcome = ?outcome,
            "simulated call"
        );
        st.runtime.calls.push(CallRecord {
            at: now,
            account: account.clone(),
            capability,
            resource: resources.join(","),
            related,
            outcome,
        });
        let latency = st.latency.api_call();
        drop(st);
        self.clock.advance(latency);
        result
    }
}

impl Ctx<'_> {
    /// A fresh deterministic id body of `len` lowercase hex characters.
    pub fn fresh_hex(&mut self, kind: &str, len: usize) -> String {
        fresh_hex(self.st, kind, len)
    }
}

/// A fresh deterministic hex id body: the same run makes the same ids.
pub(crate) fn fresh_hex(st: &mut WorldState, kind: &str, len: usize) -> String {
    st.runtime.next_id += 1;
    let digest = Sha256::digest(format!("custody-sim {kind} {}", st.runtime.next_id).as_bytes());
    let mut text = hex::encode(digest);
    text.truncate(len);
    text
}

/// Puts the fixture's LiME modules and AVML into the artifacts bucket (once: a saved world
/// already holds them).
fn stock_artifacts(st: &mut WorldState) {
    let bucket = st.settings.artifacts_bucket.clone();
    let at = st.start_time;
    let mut keys: Vec<(String, u64)> = st
        .artifacts
        .lime_modules
        .iter()
        .map(|k| (crate::model::lime_module_key(k), 120_000))
        .collect();
    if st.artifacts.avml {
        keys.push((crate::model::AVML_KEY.to_string(), 6_000_000));
    }
    for (key, size) in keys {
        if crate::s3::head(st, &bucket, &key).is_none() {
            let digest = hex::encode(Sha256::digest(
                format!("custody-sim artifact {key}").as_bytes(),
            ));
            crate::s3::write_synthetic(st, &bucket, &key, size, None, Some(digest), &at);
        }
    }
}

/// `accounts[0].id` as `$.accounts[0].id`.
fn json_path(p: &str) -> String {
    if p == "." || p.is_empty() {
        "$".into()
    } else {
        format!("$.{p}")
    }
}
