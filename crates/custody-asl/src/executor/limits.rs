//! Step Functions' payload quota (256 KiB of UTF-8 JSON for state input, output and task
//! results): measured without building the text, failed with `States.DataLimitExceeded`.

use crate::error::{Failure, names};
use serde_json::Value;

/// Step Functions' payload quota: state input, output and task results, UTF-8 JSON.
pub(crate) const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// Counts the bytes of a JSON serialization without keeping them.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The UTF-8 JSON size of `v`.
pub(crate) fn json_size(v: &Value) -> usize {
    let mut c = ByteCount(0);
    match serde_json::to_writer(&mut c, v) {
        Ok(()) => c.0,
        Err(_) => usize::MAX,
    }
}

/// `States.DataLimitExceeded` when `v` is over the payload quota.
pub(crate) fn check_size(state: &str, v: &Value, what: &str) -> Result<(), Failure> {
    let size = json_size(v);
    if size > MAX_PAYLOAD_BYTES {
        return Err(Failure::new(
            names::DATA_LIMIT_EXCEEDED,
            format!(
                "The state/task '{state}' returned a {what} with a size of {size} bytes, exceeding the maximum number of bytes service limit ({MAX_PAYLOAD_BYTES})."
            ),
        ));
    }
    Ok(())
}
