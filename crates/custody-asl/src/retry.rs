//! `Retry` and `Catch`: which retrier or catcher applies to an error, and how long to back off.
//!
//! Step Functions rules kept here: the *first* retrier whose `ErrorEquals` matches applies (once
//! its attempts are spent the error goes to `Catch`, later retriers are not consulted);
//! `States.ALL` matches everything but the terminal errors; `States.TaskFailed` matches
//! everything but `States.Timeout` and the terminal errors; the delay before retry `n` (from 0)
//! is `IntervalSeconds × BackoffRate^n`, capped by `MaxDelaySeconds`, and with
//! `JitterStrategy: FULL` a uniformly random duration between 0 and that.

use crate::error::{Failure, names};
use crate::paths::JsonPath;
use rand::Rng;
use std::time::Duration;

/// Jitter applied to the computed back-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Jitter {
    #[default]
    None,
    Full,
}

/// One `Retry` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: u64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<u64>,
    pub jitter: Jitter,
}

impl Default for Retrier {
    fn default() -> Self {
        Self {
            error_equals: Vec::new(),
            interval_seconds: 1,
            max_attempts: 3,
            backoff_rate: 2.0,
            max_delay_seconds: None,
            jitter: Jitter::None,
        }
    }
}

/// One `Catch` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    /// `None` = absent (result replaces the input, i.e. `$`); `Some(None)` = `null` (discard).
    pub result_path: Option<Option<JsonPath>>,
    /// `Assign`, evaluated with the error output.
    pub assign: Option<crate::model::Assign>,
    /// JSONata `Output` (default: the error output).
    pub output: Option<crate::jsonata::JTemplate>,
}

/// Whether `error_equals` covers `failure`.
pub(crate) fn matches(error_equals: &[String], failure: &Failure) -> bool {
    if failure.is_terminal() {
        return false;
    }
    error_equals.iter().any(|name| match name.as_str() {
        names::ALL => true,
        names::TASK_FAILED => failure.error != names::TIMEOUT,
        other => other == failure.error,
    })
}

/// The index of the retrier that applies to `failure`, if any.
pub(crate) fn find_retrier(retriers: &[Retrier], failure: &Failure) -> Option<usize> {
    retriers
        .iter()
        .position(|r| matches(&r.error_equals, failure))
}

/// The catcher that applies to `failure`, if any.
pub(crate) fn find_catcher<'a>(catchers: &'a [Catcher], failure: &Failure) -> Option<&'a Catcher> {
    catchers.iter().find(|c| matches(&c.error_equals, failure))
}

impl Retrier {
    /// The delay before retry number `attempt` (0 for the first retry).
    pub(crate) fn delay(&self, attempt: u64, rng: &mut impl Rng) -> Duration {
        let exp = i32::try_from(attempt).unwrap_or(i32::MAX);
        #[allow(clippy::cast_precision_loss)]
        let mut secs = self.interval_seconds as f64 * self.backoff_rate.powi(exp);
        if let Some(max) = self.max_delay_seconds {
            #[allow(clippy::cast_precision_loss)]
            let max = max as f64;
            secs = secs.min(max);
        }
        // Step Functions' own ceiling on a single wait: one year.
        secs = secs.min(31_622_400.0);
        if self.jitter == Jitter::Full {
            secs = rng.random_range(0.0..=secs);
        }
        Duration::from_secs_f64(secs.max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn f(e: &str) -> Failure {
        Failure::new(e, "")
    }

    #[test]
    fn wildcards_follow_aws() {
        let all = vec![names::ALL.to_owned()];
        let task = vec![names::TASK_FAILED.to_owned()];
        assert!(matches(&all, &f("Custom.Error")));
        assert!(matches(&all, &f(names::TIMEOUT)));
        assert!(!matches(&all, &f(names::RUNTIME)));
        assert!(!matches(&all, &f(names::DATA_LIMIT_EXCEEDED)));
        assert!(matches(&task, &f("Custom.Error")));
        assert!(!matches(&task, &f(names::TIMEOUT)));
        assert!(matches(&["A".to_owned(), "B".to_owned()], &f("B")));
        assert!(!matches(&["A".to_owned()], &f("a")));
    }

    #[test]
    fn first_matching_retrier_applies() {
        let rs = vec![
            Retrier {
                error_equals: vec!["A".into()],
                max_attempts: 0,
                ..Retrier::default()
            },
            Retrier {
                error_equals: vec![names::ALL.into()],
                ..Retrier::default()
            },
        ];
        assert_eq!(find_retrier(&rs, &f("A")), Some(0));
        assert_eq!(find_retrier(&rs, &f("B")), Some(1));
    }

    #[test]
    fn backoff_is_exponential_capped_and_jittered_below_the_cap() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let r = Retrier {
            interval_seconds: 2,
            backoff_rate: 3.0,
            max_delay_seconds: Some(30),
            ..Retrier::default()
        };
        let ds: Vec<u64> = (0..4).map(|n| r.delay(n, &mut rng).as_secs()).collect();
        assert_eq!(ds, [2, 6, 18, 30]);
        let j = Retrier {
            jitter: Jitter::Full,
            ..r
        };
        for n in 0..10 {
            assert!(j.delay(n, &mut rng) <= Duration::from_secs(30));
        }
    }
}
