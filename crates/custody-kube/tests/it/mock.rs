//! A scripted API server: kube-rs's client over `tower_test::mock::pair()`, the same seam
//! kube-rs's own tests use. Each scenario states every request it expects (method, path and
//! query, content type, JSON body) and the fixture it answers with; a request it did not expect
//! fails the assertion, and one it expected but never received ends the scenario at its timeout.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use custody_kube::client::BearerLayer;
use custody_kube::token::Clock;
use custody_kube::{EksTokenSource, KubeCluster};
use http::{Request, Response, StatusCode};
use kube::client::{Body, ClientBuilder};
use serde_json::Value;
use tower_test::mock::Handle;

/// How long any one scenario may take: the client and the script are both in memory, so
/// anything near this means a request never came.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(5);

/// A clock stopped at 2026-11-23T08:30:00Z.
struct Fixed;

impl Clock for Fixed {
    fn now(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_422_600)
    }
}

/// A fixture's text.
pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../tests/fixtures/kube/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// A fixture as JSON.
pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// One expected request and its answer.
pub struct Exchange {
    method: &'static str,
    path_and_query: String,
    content_type: Option<&'static str>,
    body: Option<Value>,
    status: u16,
    answer: String,
}

/// Expects `method path_and_query` with no body.
pub fn expect(method: &'static str, path_and_query: impl Into<String>) -> Exchange {
    Exchange {
        method,
        path_and_query: path_and_query.into(),
        content_type: None,
        body: None,
        status: 200,
        answer: String::new(),
    }
}

impl Exchange {
    /// …with this content type and exact JSON body.
    pub fn with_body(mut self, content_type: &'static str, body: Value) -> Self {
        self.content_type = Some(content_type);
        self.body = Some(body);
        self
    }

    /// …answered with this status and fixture file.
    pub fn answer(mut self, status: u16, fixture_name: &str) -> Self {
        self.status = status;
        self.answer = fixture(fixture_name);
        self
    }

    /// …answered with this status and raw body.
    pub fn answer_raw(mut self, status: u16, body: &str) -> Self {
        self.status = status;
        self.answer = body.to_owned();
        self
    }
}

/// A cluster whose client talks to the script, with tokens signed at a fixed time.
pub fn cluster() -> (KubeCluster, Handle<Request<Body>, Response<Body>>) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let tokens = EksTokenSource::with_clock(
        "prod-payments",
        "us-east-1",
        Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"),
        Arc::new(Fixed),
    )
    .unwrap();
    let client = ClientBuilder::new(service, "default")
        .with_layer(&BearerLayer::new(Arc::new(tokens)))
        .build();
    (KubeCluster::new(client), handle)
}

/// Runs `operation` against `script`, asserting every request, and returns what it returned.
pub async fn scenario<T>(
    operation: impl FnOnce(KubeCluster) -> std::pin::Pin<Box<dyn Future<Output = T> + Send>>,
    script: Vec<Exchange>,
) -> T {
    let (cluster, mut handle) = cluster();
    let server = async move {
        for (i, exchange) in script.into_iter().enumerate() {
            let (request, send) = handle.next_request().await.unwrap_or_else(|| {
                panic!(
                    "request {i} ({} {}) never came",
                    exchange.method, exchange.path_and_query
                )
            });
            let (parts, body) = request.into_parts();
            assert_eq!(parts.method.as_str(), exchange.method, "request {i} method");
            assert_eq!(
                parts.uri.path_and_query().map(|p| p.as_str()),
                Some(exchange.path_and_query.as_str()),
                "request {i} path and query"
            );
            let auth = parts
                .headers
                .get(http::header::AUTHORIZATION)
                .unwrap()
                .to_str()
                .unwrap();
            assert!(
                auth.starts_with("Bearer k8s-aws-v1."),
                "request {i} carries the EKS token"
            );
            let content_type = parts
                .headers
                .get(http::header::CONTENT_TYPE)
                .map(|v| v.to_str().unwrap().to_owned());
            let bytes = body.collect_bytes().await.unwrap();
            match &exchange.body {
                Some(expected) => {
                    assert_eq!(
                        content_type.as_deref(),
                        exchange.content_type,
                        "request {i} content type"
                    );
                    let actual: Value = serde_json::from_slice(&bytes).unwrap();
                    assert_eq!(&actual, expected, "request {i} body");
                }
                None => assert!(bytes.is_empty(), "request {i} has no body"),
            }
            let response = Response::builder()
                .status(StatusCode::from_u16(exchange.status).unwrap())
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(Body::from(exchange.answer.into_bytes()))
                .unwrap();
            send.send_response(response);
        }
        // Nothing more may come: once the operation ends its client is dropped and the channel
        // closes; a request instead is one the script did not expect.
        if let Some((extra, _)) = handle.next_request().await {
            panic!(
                "unexpected extra request {} {}",
                extra.method(),
                extra.uri()
            );
        }
    };
    let run = async move {
        let (result, ()) = tokio::join!(operation(cluster), server);
        result
    };
    tokio::time::timeout(SCENARIO_TIMEOUT, run)
        .await
        .expect("scenario timed out: a request the script expected never came")
}
