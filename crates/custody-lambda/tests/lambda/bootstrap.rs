//! The built `bootstrap` as Lambda runs it: a tiny Lambda Runtime API on loopback hands it
//! events and records what it posts back. No AWS: the steps used fail on their input, and the
//! init test never gets that far.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, mpsc};

use crate::common::vars;

/// A bound on how long the bootstrap may take to answer: generous for a loaded CI machine.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// One request the bootstrap made.
#[derive(Debug)]
struct Posted {
    path: String,
    headers: BTreeMap<String, String>,
    body: serde_json::Value,
}

/// The Runtime API: hands out `events` in order on `/next` (then holds `/next` open, as Lambda
/// does between invocations) and reports every POST.
struct RuntimeApi {
    port: u16,
    posted: mpsc::UnboundedReceiver<Posted>,
}

async fn runtime_api(events: Vec<(&'static str, serde_json::Value)>) -> RuntimeApi {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, posted) = mpsc::unbounded_channel();
    let events = Arc::new(Mutex::new(events.into_iter()));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(serve(stream, events.clone(), tx.clone()));
        }
    });
    RuntimeApi { port, posted }
}

type Events = Arc<Mutex<std::vec::IntoIter<(&'static str, serde_json::Value)>>>;

async fn serve(stream: TcpStream, events: Events, tx: mpsc::UnboundedSender<Posted>) {
    let mut stream = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if stream.read_line(&mut request_line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut headers = BTreeMap::new();
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).await.unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let length: usize = headers
            .get("content-length")
            .map_or(0, |v| v.parse().unwrap());
        let mut body = vec![0; length];
        stream.read_exact(&mut body).await.unwrap();
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap(), parts.next().unwrap().to_owned());
        if method == "GET" && path == "/2018-06-01/runtime/invocation/next" {
            let next = events.lock().await.next();
            let Some((request_id, payload)) = next else {
                // Lambda holds /next until there is work; the test ends first.
                std::future::pending::<()>().await;
                return;
            };
            let body = payload.to_string();
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 lambda-runtime-aws-request-id: {request_id}\r\n\
                 lambda-runtime-deadline-ms: 4102444800000\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:444455556666:function:custody-capture-memory\r\n\
                 lambda-runtime-trace-id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\r\n\
                 content-length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            stream.write_all(body.as_bytes()).await.unwrap();
        } else {
            let body = if body.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::from_slice(&body).unwrap()
            };
            let _ = tx.send(Posted {
                path,
                headers,
                body,
            });
            let answer = "{\"status\":\"OK\"}";
            let head = format!(
                "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                answer.len()
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            stream.write_all(answer.as_bytes()).await.unwrap();
        }
        stream.flush().await.unwrap();
    }
}

/// The bootstrap with Lambda's variables, custody's `vars` and static (never used) credentials,
/// its own configuration files and instance metadata turned off.
fn bootstrap(port: u16, vars: &BTreeMap<String, String>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bootstrap"));
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "custody-capture-memory")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/custody-test")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/custody-test")
        .env("CUSTODY_ENDPOINT_URL", "http://127.0.0.1:9")
        .envs(vars)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd.spawn().unwrap()
}

async fn next_post(api: &mut RuntimeApi) -> Posted {
    tokio::time::timeout(ANSWER_WITHIN, api.posted.recv())
        .await
        .expect("the bootstrap posted nothing in time")
        .expect("the Runtime API stopped")
}

#[tokio::test]
async fn a_failing_invocation_is_posted_as_the_custody_error() {
    let case = "case-01JDX3K9Q8R7T6V5W4X3Y2Z1A0";
    let mut api = runtime_api(vec![("req-0001", serde_json::json!({ "caseId": case }))]).await;
    let mut child = bootstrap(api.port, &vars());

    let posted = next_post(&mut api).await;

    child.kill().await.unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    assert_eq!(
        posted.path, "/2018-06-01/runtime/invocation/req-0001/error",
        "stdout: {stdout}"
    );
    assert_eq!(
        posted.body["errorType"], "Custody.InvalidInput",
        "{posted:?}"
    );
    let message = posted.body["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("target"),
        "names the missing field: {message}"
    );
    assert!(
        posted
            .headers
            .contains_key("lambda-runtime-function-error-type")
    );

    // JSON lines on stdout, the step's failure inside a span that carries the case id.
    let failure = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["message"] == "step failed")
        .unwrap_or_else(|| panic!("no JSON 'step failed' line in {stdout}"));
    assert_eq!(failure["error"], "Custody.InvalidInput", "{failure}");
    assert_eq!(failure["span"]["case_id"], case, "{failure}");
    assert_eq!(failure["span"]["step"], "capture-memory", "{failure}");
    assert_eq!(failure["span"]["request_id"], "req-0001", "{failure}");
}

#[tokio::test]
async fn a_bad_configuration_fails_init_and_serves_nothing() {
    let mut api = runtime_api(vec![("req-0001", serde_json::json!({}))]).await;
    let mut v = vars();
    v.insert("CUSTODY_STEP".to_owned(), "captureMemory".to_owned());
    let mut child = bootstrap(api.port, &v);

    let posted = next_post(&mut api).await;
    let status = tokio::time::timeout(ANSWER_WITHIN, child.wait())
        .await
        .expect("the bootstrap did not exit after a failed init")
        .unwrap();

    assert_eq!(posted.path, "/2018-06-01/runtime/init/error");
    assert_eq!(posted.body["errorType"], "Custody.InvalidInput");
    let message = posted.body["errorMessage"].as_str().unwrap();
    assert!(message.contains("CUSTODY_STEP"), "{message}");
    assert!(message.contains("\"captureMemory\""), "{message}");
    assert!(
        message.contains("capture-memory, check-memory"),
        "{message}"
    );
    assert_eq!(status.code(), Some(1));
    assert!(
        api.posted.try_recv().is_err(),
        "nothing else was posted (no invocation was served)"
    );
}
