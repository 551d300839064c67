//! Time arithmetic on custody's [`Timestamp`], at millisecond resolution.

use custody_core::id::Timestamp;

/// Milliseconds since the epoch.
pub(crate) fn millis(t: &Timestamp) -> i64 {
    t.unix_millis()
}

/// `t` moved by `ms` milliseconds, saturating at the ends of the representable range.
pub(crate) fn plus_millis(t: &Timestamp, ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(t.unix_millis().saturating_add(ms))
        .unwrap_or_else(|_| t.plus_seconds(ms / 1000))
}

/// `t` moved by `seconds` (fractions kept to the millisecond).
pub(crate) fn plus(t: &Timestamp, seconds: f64) -> Timestamp {
    let ms = if seconds.is_finite() {
        (seconds * 1000.0).round() as i64
    } else {
        0
    };
    plus_millis(t, ms)
}

/// Whether `deadline` has been reached at `now`.
pub(crate) fn reached(deadline: &Timestamp, now: &Timestamp) -> bool {
    now >= deadline
}

/// Progress from `start` to `end` at `now`, `0`–`99` while not reached, `100` after.
pub(crate) fn progress_percent(start: &Timestamp, end: &Timestamp, now: &Timestamp) -> u8 {
    if reached(end, now) {
        return 100;
    }
    let total = (millis(end) - millis(start)).max(1);
    let done = (millis(now) - millis(start)).clamp(0, total);
    u8::try_from((done * 100 / total).min(99)).unwrap_or(99)
}
