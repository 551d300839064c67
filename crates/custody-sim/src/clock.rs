//! Virtual time for the simulated world.
//!
//! The world never reads wall time: every state that changes with time (a snapshot that is
//! `pending` until its completion time, a command `InProgress` until it is done, a workstation
//! booting) is computed from this clock. A test or the CLI moves it forward with
//! [`SimClock::advance`], and the state machine's `Wait` loops therefore really wait, in virtual
//! time, at no wall-clock cost.
//!
//! The clock can be driven by another source (the ASL engine's virtual clock) through
//! [`SimClock::driven_by`], so that one timeline serves both the engine and the world.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use custody_core::id::Timestamp;
use custody_steps::ports::Clock;

use crate::time::{millis, plus_millis};

/// Where "now" comes from before the clock's own offset is added.
type Source = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// A shared virtual clock: clones see and move the same time.
///
/// `now = source() + offset`. For a free-standing clock the source is a constant (the world's start
/// time) and the offset is all the time that has passed; for a clock driven by another engine the
/// source is that engine's clock, and the offset only holds the time the world itself spent (API
/// call latencies, explicit [`advance`](Self::advance) calls), so the world is never behind its
/// driver.
#[derive(Clone)]
pub struct SimClock {
    source: Source,
    offset_ms: Arc<AtomicI64>,
}

impl SimClock {
    /// A free-standing virtual clock starting at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            source: Arc::new(move || start),
            offset_ms: Arc::new(AtomicI64::new(0)),
        }
    }

    /// A clock that follows another time source (the ASL engine's virtual clock, or wall time):
    /// `now` is the source's now plus whatever this clock was advanced by.
    pub fn driven_by(source: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        Self {
            source: Arc::new(source),
            offset_ms: Arc::new(AtomicI64::new(0)),
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> Timestamp {
        plus_millis(&(self.source)(), self.offset_ms.load(Ordering::SeqCst))
    }

    /// Moves time forward by `by` (every clone sees it).
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the time to `to`. Time may be set backwards only by the caller's explicit choice
    /// (restoring a saved world); the world itself only ever advances it.
    pub fn set(&self, to: &Timestamp) {
        let base = millis(&(self.source)());
        self.offset_ms
            .store(millis(to).saturating_sub(base), Ordering::SeqCst);
    }
}

impl fmt::Debug for SimClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimClock")
            .field("now", &self.now())
            .finish()
    }
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        SimClock::now(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms).unwrap()
    }

    #[test]
    fn clones_share_time_and_advance_moves_it() {
        let clock = SimClock::new(t(1_700_000_000_000));
        let other = clock.clone();
        other.advance(Duration::from_secs(90));
        assert_eq!(millis(&clock.now()), 1_700_000_090_000);
        clock.set(&t(1_700_000_000_500));
        assert_eq!(millis(&other.now()), 1_700_000_000_500);
    }

    #[test]
    fn a_driven_clock_follows_its_source_plus_its_own_advances() {
        let engine = SimClock::new(t(1_000_000));
        let driver = engine.clone();
        let world = SimClock::driven_by(move || driver.now());
        engine.advance(Duration::from_secs(10));
        assert_eq!(millis(&world.now()), 1_010_000);
        world.advance(Duration::from_millis(250));
        assert_eq!(millis(&world.now()), 1_010_250);
        assert_eq!(millis(&engine.now()), 1_010_000);
    }
}
