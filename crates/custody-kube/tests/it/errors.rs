//! Failure answers map to named errors, and those to the step errors the state machine sees.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use custody_core::error::ErrorName;
use custody_core::id::{Namespace, PodName};
use custody_kube::client::BearerLayer;
use custody_kube::{EksTokenSource, KubeCluster, KubeError, TokenError};
use http::{Request, Response};
use kube::client::{Body, ClientBuilder};
use serde_json::json;

use crate::mock::{expect, scenario};

const POD_URL: &str = "/api/v1/namespaces/payments/pods/payments-api-7d9f8b6c5d-x2k4q";

fn ns() -> Namespace {
    Namespace::parse("payments").unwrap()
}

fn pod() -> PodName {
    PodName::parse("payments-api-7d9f8b6c5d-x2k4q").unwrap()
}

async fn label_answered_with(status: u16, fixture: &str) -> KubeError {
    scenario(
        |c| {
            Box::pin(async move {
                c.label_pod(
                    &ns(),
                    &pod(),
                    "custody.io/quarantine",
                    "case-01JDX3K9Q8R7T6V5W4X3Y2Z1A0",
                )
                .await
            })
        },
        vec![
            expect("GET", POD_URL).answer(200, "pod-payments-api-x2k4q.json"),
            expect("PATCH", format!("{POD_URL}?"))
                .with_body(
                    "application/merge-patch+json",
                    json!({"metadata": {
                        "labels": {"custody.io/quarantine": "case-01JDX3K9Q8R7T6V5W4X3Y2Z1A0"},
                        "resourceVersion": "4821337"
                    }}),
                )
                .answer(status, fixture),
        ],
    )
    .await
    .unwrap_err()
}

#[tokio::test]
async fn status_codes_map_to_named_errors() {
    let cases = [
        (
            403,
            "status-403-patch-nodes.json",
            ErrorName::AccessDenied,
            "Forbidden",
        ),
        (
            422,
            "status-422-invalid-label.json",
            ErrorName::InvalidInput,
            "Invalid",
        ),
        (
            429,
            "status-429-too-many-requests.json",
            ErrorName::Throttled,
            "TooManyRequests",
        ),
        (
            500,
            "status-500-webhook.json",
            ErrorName::ServiceUnavailable,
            "InternalError",
        ),
        (404, "status-404-pod.json", ErrorName::NotFound, "NotFound"),
    ];
    for (status, fixture, name, reason) in cases {
        let err = label_answered_with(status, fixture).await;
        assert_eq!(err.http_status(), Some(status), "{err}");
        let step = err.to_step_error();
        assert_eq!(step.name, name, "{status}: {err}");
        assert_eq!(step.service_code.as_deref(), Some(reason));
        assert!(
            step.cause
                .contains(r#"pod "payments"/"payments-api-7d9f8b6c5d-x2k4q""#),
            "{}",
            step.cause
        );
    }
    assert!(
        label_answered_with(429, "status-429-too-many-requests.json")
            .await
            .to_step_error()
            .is_transient()
    );
    assert!(
        !label_answered_with(403, "status-403-patch-nodes.json")
            .await
            .to_step_error()
            .is_transient()
    );
}

#[tokio::test]
async fn a_conflict_that_persists_is_reported_after_bounded_retries() {
    let patch = json!({"metadata": {
        "labels": {"custody.io/quarantine": "case-01JDX3K9Q8R7T6V5W4X3Y2Z1A0"},
        "resourceVersion": "4821337"
    }});
    let mut script = Vec::new();
    for _ in 0..3 {
        script.push(expect("GET", POD_URL).answer(200, "pod-payments-api-x2k4q.json"));
        script.push(
            expect("PATCH", format!("{POD_URL}?"))
                .with_body("application/merge-patch+json", patch.clone())
                .answer(409, "status-409-pod-modified.json"),
        );
    }
    let err = scenario(
        |c| {
            Box::pin(async move {
                c.label_pod(
                    &ns(),
                    &pod(),
                    "custody.io/quarantine",
                    "case-01JDX3K9Q8R7T6V5W4X3Y2Z1A0",
                )
                .await
            })
        },
        script,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, KubeError::Conflict { .. }), "{err}");
    assert_eq!(err.to_step_error().name, ErrorName::Conflict);
}

#[tokio::test]
async fn a_non_status_error_page_is_kept_short() {
    let page = format!(
        "<html><body>502 Bad Gateway{}</body></html>",
        " ".repeat(5000) + &"x".repeat(5000)
    );
    let err = scenario(
        |c| Box::pin(async move { c.get_pod(&ns(), &pod()).await }),
        vec![expect("GET", POD_URL).answer_raw(502, &page)],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, KubeError::Unavailable { code: 502, .. }),
        "{err}"
    );
    assert_eq!(err.to_step_error().service_code.as_deref(), Some("HTTP502"));
    assert!(
        err.to_string().len() < 1000,
        "message truncated: {} chars",
        err.to_string().len()
    );
}

#[tokio::test]
async fn hostile_messages_are_escaped() {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "denied\nINFO forged log line", "reason": "Forbidden", "code": 403
    })
    .to_string();
    let err = scenario(
        |c| Box::pin(async move { c.get_pod(&ns(), &pod()).await }),
        vec![expect("GET", POD_URL).answer_raw(403, &body)],
    )
    .await
    .unwrap_err();
    assert!(!err.to_string().contains('\n'), "{err}");
}

#[tokio::test]
async fn expired_credentials_fail_before_any_request_as_a_token_error() {
    let (service, _handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let expired = Credentials::new(
        "AKIDEXAMPLE",
        "secret",
        Some("token".to_owned()),
        Some(SystemTime::now() - Duration::from_secs(60)),
        "test",
    );
    let tokens = Arc::new(EksTokenSource::new("prod-payments", "us-east-1", expired).unwrap());
    let client = ClientBuilder::new(service, "default")
        .with_layer(&BearerLayer::new(tokens))
        .build();
    let cluster = KubeCluster::new(client);
    let err = tokio::time::timeout(Duration::from_secs(5), cluster.get_pod(&ns(), &pod()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            err,
            KubeError::Token {
                source: TokenError::CredentialsExpired { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.to_step_error().name, ErrorName::AccessDenied);
}
