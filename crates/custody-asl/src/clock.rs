//! Time, injected: `Wait` states, retry back-off and timeouts all go through a [`Clock`], so
//! tests and rehearsals run days of workflow time in milliseconds.
//!
//! # Virtual time
//! [`VirtualClock`] is built on tokio's paused clock rather than on a private counter, so that
//! every other component sleeping with `tokio::time` (a simulated world with realistic latencies,
//! for instance) shares the same virtual time. Run the execution on a current-thread runtime
//! whose clock is paused; tokio then jumps straight to the next timer whenever every task is
//! idle:
//!
//! ```no_run
//! # fn demo() -> std::io::Result<()> {
//! let rt = custody_asl::clock::virtual_runtime()?;
//! rt.block_on(async {
//!     let clock = custody_asl::VirtualClock::starting_at(time::macros::datetime!(2024-01-01 0:00 UTC));
//!     // Executor::new(def, invoker, std::sync::Arc::new(clock)).run(..).await
//! });
//! # Ok(()) }
//! ```
//!
//! In tests: `#[tokio::test(start_paused = true)]`. On a runtime whose clock is *not* paused a
//! `VirtualClock` still works but sleeps for real. Blocking work started with
//! `tokio::task::spawn_blocking` holds the virtual clock still while it runs (tokio does not
//! auto-advance then), which is how a task invoker should run external processes.

use async_trait::async_trait;
use std::time::Duration;
use time::OffsetDateTime;

/// The source of "now" and of sleeping.
#[async_trait]
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
    /// Sleeps for `d` (of this clock's time).
    async fn sleep(&self, d: Duration);
}

/// Wall-clock time.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealClock;

#[async_trait]
impl Clock for RealClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

/// Virtual time on tokio's (paused) clock: `now` is a fixed origin plus the tokio time elapsed
/// since the clock was made. See the module docs for how to run it.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    origin: OffsetDateTime,
    start: tokio::time::Instant,
}

impl VirtualClock {
    /// A clock that reads `origin` now and advances with tokio time.
    pub fn starting_at(origin: OffsetDateTime) -> Self {
        Self {
            origin,
            start: tokio::time::Instant::now(),
        }
    }

    /// A clock starting at the current wall-clock time.
    pub fn new() -> Self {
        Self::starting_at(OffsetDateTime::now_utc())
    }

    /// Virtual time elapsed since the clock was made.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Clock for VirtualClock {
    fn now(&self) -> OffsetDateTime {
        self.origin + self.start.elapsed()
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

/// A current-thread tokio runtime with its clock paused: the runtime a [`VirtualClock`] needs.
///
/// # Errors
/// When the runtime cannot be built (I/O driver setup).
pub fn virtual_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn virtual_sleep_costs_no_wall_time() {
        let wall = std::time::Instant::now();
        let c = VirtualClock::starting_at(time::macros::datetime!(2024-01-01 0:00 UTC));
        c.sleep(Duration::from_secs(86_400)).await;
        assert_eq!(c.now(), time::macros::datetime!(2024-01-02 0:00 UTC));
        assert!(wall.elapsed() < Duration::from_secs(5));
    }
}
