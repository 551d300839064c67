//! Test support for custody's integration tests, shared so that every crate starts its emulator
//! the same way: moto's server on a free loopback port, from the repository's virtualenv, waited
//! for with a deadline and killed on drop.
//!
//! Two flavours:
//! - [`Moto::start`]: plain `moto_server` over HTTP, for adapter tests that only need the APIs.
//! - [`Moto::start_with_agent`]: moto over TLS with the SSM Agent stand-in
//!   (`tests/support/moto_ssm_agent.py`): `SendCommand` of a custody document really runs the
//!   document's script under bash, as the agent on the host would, so a whole case can run end to
//!   end. TLS because the documents refuse plain-HTTP URLs; the certificate is self-signed for
//!   127.0.0.1 and [`Moto::ca_certificate`] names the file a client must trust.
//!
//! moto is required: when it is missing the test FAILS with a message naming the fix
//! (`scripts/bootstrap`), it is never skipped. This crate links no AWS SDK (it is used by the CLI
//! tests, which drive the real `custody` binary and must not pay for linking the SDK twice).

#![allow(
    clippy::panic,
    clippy::expect_used,
    reason = "test support: a server that cannot start fails the test that asked for it"
)]

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The account moto answers as.
pub const ACCOUNT: &str = "123456789012";
/// The region the tests use.
pub const REGION: &str = "us-east-1";
/// How long moto may take to start before the test fails.
const READY_DEADLINE: Duration = Duration::from_secs(60);

/// A running moto server, killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`, or `https://…` with the agent stand-in.
    pub endpoint: String,
    port: u16,
    /// The agent's work directory (certificate, per-instance host directories); removed on drop.
    work: Option<tempfile::TempDir>,
}

impl Moto {
    /// Starts plain `moto_server` on a free port (HTTP) and waits until it listens.
    pub fn start() -> Moto {
        let program = moto_server();
        let port = free_port();
        let mut command = Command::new(&program);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        Self::spawn(command, port, "http", None)
    }

    /// Starts moto over TLS with the SSM Agent stand-in (`tests/support/moto_ssm_agent.py`) on a
    /// free port, and waits until it listens. The stand-in runs custody's documents for real; see
    /// its docstring for what it does and does not model.
    pub fn start_with_agent() -> Moto {
        let python = venv_python();
        let script = repo_root().join("tests/support/moto_ssm_agent.py");
        let port = free_port();
        let work = tempfile::Builder::new()
            .prefix("custody-agent.")
            .tempdir()
            .expect("a temporary directory for the SSM Agent stand-in");
        let mut command = Command::new(&python);
        command
            .arg(&script)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--work-dir")
            .arg(work.path());
        Self::spawn(command, port, "https", Some(work))
    }

    fn spawn(
        mut command: Command,
        port: u16,
        scheme: &str,
        work: Option<tempfile::TempDir>,
    ) -> Moto {
        let shown = format!("{command:?}");
        let mut child = command
            // Step Functions service integrations call back to this port.
            .env("MOTO_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {shown}: {e}; run scripts/bootstrap"));
        // werkzeug announces "Running on …" once the socket listens; wait for that line on either
        // stream instead of polling. The reader threads keep draining afterwards, so a chatty
        // server never blocks on a full pipe.
        let (tx, rx) = mpsc::channel::<String>();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
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
        let deadline = Instant::now() + READY_DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains("Running on") => break,
                Ok(line) => seen.push(line),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "{shown} did not become ready on port {port} within {READY_DEADLINE:?} ({e}); output so far:\n{}",
                        seen.join("\n")
                    );
                }
            }
        }
        Moto {
            child,
            endpoint: format!("{scheme}://127.0.0.1:{port}"),
            port,
            work,
        }
    }

    /// The endpoint URL for every service.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The port it listens on (loopback).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// With the agent stand-in: the PEM certificate a client must trust (`SSL_CERT_FILE` for the
    /// Rust SDK's native roots, `AWS_CA_BUNDLE` for boto3, `CURL_CA_BUNDLE` for curl).
    pub fn ca_certificate(&self) -> Option<PathBuf> {
        self.work.as_ref().map(|w| w.path().join("cert.pem"))
    }

    /// With the agent stand-in: its work directory. `hosts/<instance-id>/calls.log` records the
    /// host tools each document called on that instance (insmod, mount, vol…).
    pub fn agent_dir(&self) -> Option<&Path> {
        self.work.as_ref().map(tempfile::TempDir::path)
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

/// The repository's root (this crate lives in `crates/custody-testkit`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python of the test tools: `$CUSTODY_PYTHON`, else the repository's `.venv`.
pub fn venv_python() -> PathBuf {
    if let Some(python) = std::env::var_os("CUSTODY_PYTHON") {
        return PathBuf::from(python);
    }
    let repo = repo_root().join(".venv/bin/python");
    if repo.is_file() {
        return repo;
    }
    panic!(
        "the test virtualenv's Python was not found ($CUSTODY_PYTHON unset, no .venv/bin/python): \
         run scripts/bootstrap to install the Python test tools"
    );
}

/// `moto_server` from $CUSTODY_PYTHON's virtualenv, the repository's .venv, or PATH.
fn moto_server() -> PathBuf {
    if let Some(python) = std::env::var_os("CUSTODY_PYTHON") {
        let candidate = Path::new(&python).with_file_name("moto_server");
        if candidate.is_file() {
            return candidate;
        }
    }
    let repo = repo_root().join(".venv/bin/moto_server");
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
