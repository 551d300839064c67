//! JSON log lines on stdout, which Lambda ships to the function's CloudWatch log group.

use tracing_subscriber::EnvFilter;

/// The filter used when `CUSTODY_LOG` is unset or unparsable.
pub const DEFAULT_FILTER: &str = "info";

/// Installs the process's subscriber: one JSON object per event, with the fields of every
/// enclosing span (the invocation span carries `case_id`, `step` and `request_id`), so a case's
/// lines can be found with one CloudWatch Logs Insights filter.
///
/// Returns false if a subscriber was already installed (tests), leaving it in place.
pub fn init() -> bool {
    let filter = std::env::var("CUSTODY_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(true)
        .flatten_event(true)
        // Lambda stamps each line with its own time; ours is kept for ordering within a line set.
        .with_writer(std::io::stdout)
        .try_init()
        .is_ok()
}
