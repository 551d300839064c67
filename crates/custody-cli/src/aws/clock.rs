//! The engine's clock for `custody run --aws --clock virtual`: wall time, except that `Wait`
//! states and retry back-offs take no time.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use custody_asl::Clock;
use time::OffsetDateTime;

/// Longer sleeps are the engine's timeouts (TimeoutSeconds of the execution or a task, raced
/// against the work), which must keep running in wall time; custody's `Wait` states and retry
/// back-offs are all shorter.
const MAX_SKIPPED: Duration = Duration::from_secs(120);

/// Wall time plus every wait (of at most two minutes) skipped so far.
///
/// Why not the local runs' [`custody_asl::VirtualClock`]: it pauses tokio's clock, and a paused
/// clock auto-advances whenever the runtime waits on I/O, which would fire the AWS SDK's connect
/// and attempt timeouts while a request is simply in flight. This clock leaves tokio alone: the
/// SDK keeps real timeouts, only the state machine's own waiting is skipped.
///
/// # Caveats
/// Only for emulators whose work finishes at once (moto, where the SSM Agent stand-in runs each
/// command inside SendCommand): against real AWS the bounded poll loops would exhaust their
/// budget long before a capture or a snapshot is done.
#[derive(Debug, Default)]
pub struct SkipWaitsClock {
    skipped: Mutex<Duration>,
}

impl SkipWaitsClock {
    /// Starts at wall time, nothing skipped.
    pub fn new() -> Self {
        Self::default()
    }

    fn skipped(&self) -> Duration {
        *self
            .skipped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl Clock for SkipWaitsClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.skipped()
    }

    async fn sleep(&self, d: Duration) {
        if d > MAX_SKIPPED {
            // A timeout (execution, task), not a wait: it must not expire early.
            tokio::time::sleep(d).await;
            return;
        }
        {
            let mut skipped = self
                .skipped
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *skipped = skipped.saturating_add(d);
        }
        // Let the tasks of other branches run, as a real wait would.
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wait_moves_the_clock_without_taking_wall_time() {
        let clock = SkipWaitsClock::new();
        let wall = std::time::Instant::now();
        let before = clock.now();
        for _ in 0..60 {
            clock.sleep(Duration::from_secs(60)).await;
        }
        let after = clock.now();
        assert!(after - before >= time::Duration::hours(1));
        assert!(wall.elapsed() < Duration::from_secs(60));
    }
}
