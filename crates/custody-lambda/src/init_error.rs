//! Reporting a failed init to the Lambda Runtime API.
//!
//! lambda_runtime has no public call for `/runtime/init/error` (it reports only SnapStart hook
//! failures there), so a bad configuration would otherwise show up as the anonymous
//! `Runtime.ExitError`. This posts the reason, then the bootstrap exits non-zero; Lambda fails the
//! invocation that caused the cold start with it, and Step Functions sees that error.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The `errorType` of a configuration that cannot be served.
pub const INIT_ERROR_TYPE: &str = "Custody.InvalidInput";

/// How long to try; Lambda's own init timeout is 10 s.
const REPORT_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the report could not be delivered (the bootstrap still exits; this is logged).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// `AWS_LAMBDA_RUNTIME_API` is not set: not running in Lambda.
    #[error("AWS_LAMBDA_RUNTIME_API is not set")]
    NoRuntimeApi,
    /// The request could not be sent or answered.
    #[error("posting to the Runtime API at {api:?}")]
    Io {
        /// `host:port`.
        api: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The Runtime API answered with something other than 202.
    #[error("the Runtime API at {api:?} answered {status_line:?}")]
    Refused {
        /// `host:port`.
        api: String,
        /// Its status line.
        status_line: String,
    },
    /// No answer in time.
    #[error("the Runtime API at {api:?} did not answer within {REPORT_TIMEOUT:?}")]
    Timeout {
        /// `host:port`.
        api: String,
    },
}

/// Posts `{"errorType": INIT_ERROR_TYPE, "errorMessage": message}` to
/// `http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/init/error`, with the
/// `Lambda-Runtime-Function-Error-Type: Runtime.InitError` header lambda_runtime itself sends
/// there.
///
/// # Errors
/// [`ReportError`] when it could not be delivered.
pub async fn report(message: &str) -> Result<(), ReportError> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").map_err(|_| ReportError::NoRuntimeApi)?;
    tokio::time::timeout(REPORT_TIMEOUT, post(&api, message))
        .await
        .map_err(|_| ReportError::Timeout { api: api.clone() })?
}

async fn post(api: &str, message: &str) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        api: api.to_owned(),
        source,
    };
    let body =
        serde_json::json!({ "errorType": INIT_ERROR_TYPE, "errorMessage": message }).to_string();
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\n\
         Lambda-Runtime-Function-Error-Type: Runtime.InitError\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(api).await.map_err(io)?;
    stream.write_all(request.as_bytes()).await.map_err(io)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.map_err(io)?;
    let text = String::from_utf8_lossy(&answer);
    let status_line = text.lines().next().unwrap_or_default().to_owned();
    if status_line.split_whitespace().nth(1) == Some("202") {
        Ok(())
    } else {
        Err(ReportError::Refused {
            api: api.to_owned(),
            status_line,
        })
    }
}
