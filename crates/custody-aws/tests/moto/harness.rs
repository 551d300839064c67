//! Starts moto's server for one test and stops it when the test ends.
//!
//! Each test gets its own server on a free loopback port, so tests share no state and run in
//! parallel. moto is required: when it is missing the test FAILS with a message naming the fix
//! (`scripts/bootstrap`), it is never skipped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::Credentials;
use aws_types::region::Region;

/// The account moto answers as.
pub const ACCOUNT: &str = "123456789012";
/// The region the tests use.
pub const REGION: &str = "us-east-1";
/// How long moto may take to start before the test fails.
const READY_DEADLINE: Duration = Duration::from_secs(60);

/// A running moto server, killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl Moto {
    /// Starts moto on a free port and waits until it listens.
    pub fn start() -> Moto {
        let program = moto_server();
        let port = free_port();
        let mut child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // Step Functions service integrations call back to this port.
            .env("MOTO_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program:?}: {e}; run scripts/bootstrap"));
        // werkzeug announces "Running on http://127.0.0.1:PORT" once the socket listens; wait for
        // that line on either stream instead of polling.
        let (tx, rx) = mpsc::channel::<String>();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        drop(tx);
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + READY_DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains("Running on") => break,
                Ok(line) => seen.push(line),
                Err(e) => {
                    let _ = child.kill();
                    panic!(
                        "moto_server ({program:?}) did not become ready on port {port} within {READY_DEADLINE:?} ({e}); output so far:\n{}",
                        seen.join("\n")
                    );
                }
            }
        }
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// SDK configuration pointing at this server, with static test credentials and NO retries
    /// (moto's "not implemented" 500s would otherwise be retried).
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new(REGION))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                    "testing", "testing", None, None, "moto",
                )),
            )
            .retry_config(RetryConfig::disabled())
            .build()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// `moto_server` from $CUSTODY_PYTHON's virtualenv, the repository's .venv, or PATH.
fn moto_server() -> PathBuf {
    if let Some(python) = std::env::var_os("CUSTODY_PYTHON") {
        let candidate = Path::new(&python).with_file_name("moto_server");
        if candidate.is_file() {
            return candidate;
        }
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server");
    if repo.is_file() {
        return repo;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("moto_server");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "moto_server not found (looked in $CUSTODY_PYTHON's directory, .venv/bin and PATH): \
         run scripts/bootstrap to install the Python test tools"
    );
}
