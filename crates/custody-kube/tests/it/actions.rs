//! Containment actions and their inverses: the exact writes, their idempotency, and the prior
//! state they report.

use std::collections::BTreeMap;

use custody_core::id::{CaseId, Namespace, NodeName, PodName};
use custody_kube::{KubeError, LabelChange, PolicyOutcome, UnlabelOutcome, deny_all_policy_name};
use serde_json::json;

use crate::mock::{expect, fixture_json, scenario};

const KEY: &str = "custody.io/quarantine";
const CASE: &str = "case-01JDX3K9Q8R7T6V5W4X3Y2Z1A0";
const POD_URL: &str = "/api/v1/namespaces/payments/pods/payments-api-7d9f8b6c5d-x2k4q";
const NP_URL: &str = "/apis/networking.k8s.io/v1/namespaces/payments/networkpolicies";
const MERGE: &str = "application/merge-patch+json";

fn ns() -> Namespace {
    Namespace::parse("payments").unwrap()
}

fn pod() -> PodName {
    PodName::parse("payments-api-7d9f8b6c5d-x2k4q").unwrap()
}

fn node() -> NodeName {
    NodeName::parse("ip-10-0-1-23.ec2.internal").unwrap()
}

fn policy_name() -> String {
    deny_all_policy_name(&CaseId::parse(CASE).unwrap())
}

fn label_patch(resource_version: &str, value: serde_json::Value) -> serde_json::Value {
    json!({"metadata": {"labels": {KEY: value}, "resourceVersion": resource_version}})
}

#[test]
fn policy_name_is_lowercase_and_derived_from_the_case() {
    assert_eq!(
        policy_name(),
        "custody-deny-all-case-01jdx3k9q8r7t6v5w4x3y2z1a0"
    );
}

#[tokio::test]
async fn label_pod_merge_patches_under_the_read_resource_version() {
    let change = scenario(
        |c| Box::pin(async move { c.label_pod(&ns(), &pod(), KEY, CASE).await }),
        vec![
            expect("GET", POD_URL).answer(200, "pod-payments-api-x2k4q.json"),
            expect("PATCH", format!("{POD_URL}?"))
                .with_body(MERGE, label_patch("4821337", json!(CASE)))
                .answer(200, "pod-payments-api-x2k4q-quarantined.json"),
        ],
    )
    .await
    .unwrap();
    let prior: BTreeMap<String, String> = serde_json::from_value(
        fixture_json("pod-payments-api-x2k4q.json")["metadata"]["labels"].clone(),
    )
    .unwrap();
    assert_eq!(
        change,
        LabelChange {
            prior_labels: prior,
            replaced: None,
            changed: true
        }
    );
}

#[tokio::test]
async fn label_pod_already_labelled_writes_nothing() {
    let change = scenario(
        |c| Box::pin(async move { c.label_pod(&ns(), &pod(), KEY, CASE).await }),
        vec![expect("GET", POD_URL).answer(200, "pod-payments-api-x2k4q-quarantined.json")],
    )
    .await
    .unwrap();
    assert!(!change.changed);
    assert_eq!(change.replaced.as_deref(), Some(CASE));
}

#[tokio::test]
async fn label_pod_rereads_when_the_pod_changed_underneath() {
    let change = scenario(
        |c| Box::pin(async move { c.label_pod(&ns(), &pod(), KEY, CASE).await }),
        vec![
            expect("GET", POD_URL).answer(200, "pod-payments-api-x2k4q.json"),
            expect("PATCH", format!("{POD_URL}?"))
                .with_body(MERGE, label_patch("4821337", json!(CASE)))
                .answer(409, "status-409-pod-modified.json"),
            expect("GET", POD_URL).answer(200, "pod-payments-api-x2k4q.json"),
            expect("PATCH", format!("{POD_URL}?"))
                .with_body(MERGE, label_patch("4821337", json!(CASE)))
                .answer(200, "pod-payments-api-x2k4q-quarantined.json"),
        ],
    )
    .await
    .unwrap();
    assert!(change.changed);
}

#[tokio::test]
async fn label_pod_that_is_gone_is_not_found() {
    let err = scenario(
        |c| Box::pin(async move { c.label_pod(&ns(), &pod(), KEY, CASE).await }),
        vec![expect("GET", POD_URL).answer(404, "status-404-pod.json")],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, KubeError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn unlabel_removes_only_this_cases_label() {
    let outcome = scenario(
        |c| Box::pin(async move { c.unlabel_pod(&ns(), &pod(), KEY, CASE, None).await }),
        vec![
            expect("GET", POD_URL).answer(200, "pod-payments-api-x2k4q-quarantined.json"),
            expect("PATCH", format!("{POD_URL}?"))
                .with_body(MERGE, label_patch("4821502", json!(null)))
                .answer(200, "pod-payments-api-x2k4q.json"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(outcome, UnlabelOutcome::Removed);

    let outcome = scenario(
        |c| {
            Box::pin(async move {
                c.unlabel_pod(&ns(), &pod(), KEY, "case-01JDX3K9Q8R7T6V5W4X3Y2Z1B1", None)
                    .await
            })
        },
        vec![expect("GET", POD_URL).answer(200, "pod-payments-api-x2k4q-quarantined.json")],
    )
    .await
    .unwrap();
    assert_eq!(
        outcome,
        UnlabelOutcome::NotOurs {
            current: Some(CASE.to_owned())
        }
    );

    let outcome = scenario(
        |c| Box::pin(async move { c.unlabel_pod(&ns(), &pod(), KEY, CASE, None).await }),
        vec![expect("GET", POD_URL).answer(404, "status-404-pod.json")],
    )
    .await
    .unwrap();
    assert_eq!(outcome, UnlabelOutcome::PodGone);
}

#[tokio::test]
async fn unlabel_restores_a_prior_value() {
    let outcome = scenario(
        |c| {
            Box::pin(async move {
                c.unlabel_pod(&ns(), &pod(), KEY, CASE, Some("reviewed"))
                    .await
            })
        },
        vec![
            expect("GET", POD_URL).answer(200, "pod-payments-api-x2k4q-quarantined.json"),
            expect("PATCH", format!("{POD_URL}?"))
                .with_body(MERGE, label_patch("4821502", json!("reviewed")))
                .answer(200, "pod-payments-api-x2k4q.json"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(outcome, UnlabelOutcome::Restored);
}

fn deny_all_body() -> serde_json::Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": policy_name(),
            "namespace": "payments",
            "labels": {"app.kubernetes.io/managed-by": "custody"}
        },
        "spec": {
            "podSelector": {"matchLabels": {KEY: CASE}},
            "policyTypes": ["Ingress", "Egress"]
        }
    })
}

#[tokio::test]
async fn deny_all_policy_is_created_with_the_exact_spec() {
    let outcome = scenario(
        |c| {
            Box::pin(async move {
                c.ensure_deny_all_policy(&ns(), &policy_name(), KEY, CASE)
                    .await
            })
        },
        vec![
            expect("POST", format!("{NP_URL}?"))
                .with_body("application/json", deny_all_body())
                .answer(201, "networkpolicy-custody-deny-all.json"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(outcome, PolicyOutcome::Created);
}

#[tokio::test]
async fn deny_all_policy_already_there_with_the_same_spec_is_success() {
    let outcome = scenario(
        |c| {
            Box::pin(async move {
                c.ensure_deny_all_policy(&ns(), &policy_name(), KEY, CASE)
                    .await
            })
        },
        vec![
            expect("POST", format!("{NP_URL}?"))
                .with_body("application/json", deny_all_body())
                .answer(409, "status-409-networkpolicy-exists.json"),
            expect("GET", format!("{NP_URL}/{}", policy_name()))
                .answer(200, "networkpolicy-custody-deny-all.json"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(outcome, PolicyOutcome::AlreadyPresent);
}

#[tokio::test]
async fn deny_all_policy_name_taken_by_another_spec_is_a_conflict() {
    let err = scenario(
        |c| {
            Box::pin(async move {
                c.ensure_deny_all_policy(&ns(), &policy_name(), KEY, CASE)
                    .await
            })
        },
        vec![
            expect("POST", format!("{NP_URL}?"))
                .with_body("application/json", deny_all_body())
                .answer(409, "status-409-networkpolicy-exists.json"),
            expect("GET", format!("{NP_URL}/{}", policy_name()))
                .answer(200, "networkpolicy-custody-name-other-spec.json"),
        ],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, KubeError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("does not overwrite"), "{err}");
}

#[tokio::test]
async fn other_policies_that_still_allow_the_pod_are_reported() {
    let mut labels: BTreeMap<String, String> = serde_json::from_value(
        fixture_json("pod-payments-api-x2k4q.json")["metadata"]["labels"].clone(),
    )
    .unwrap();
    labels.insert(KEY.to_owned(), CASE.to_owned());
    let allowing = scenario(
        |c| Box::pin(async move { c.allowing_policies(&ns(), &labels, &policy_name()).await }),
        vec![
            expect("GET", format!("{NP_URL}?&limit=250"))
                .answer(200, "networkpolicylist-payments.json"),
        ],
    )
    .await
    .unwrap();
    let found: Vec<(&str, bool, bool)> = allowing
        .iter()
        .map(|a| (a.name.as_str(), a.ingress, a.egress))
        .collect();
    // default-deny-ingress allows nothing, allow-api-to-db selects the db, the metrics policy
    // excludes quarantined pods, and custody's own policy is excepted.
    assert_eq!(
        found,
        [
            ("allow-frontend-to-api", true, false),
            ("allow-dns-egress", false, true)
        ]
    );
}

#[tokio::test]
async fn delete_policy_treats_404_as_done() {
    let deleted = scenario(
        |c| Box::pin(async move { c.delete_policy(&ns(), &policy_name()).await }),
        vec![
            expect("DELETE", format!("{NP_URL}/{}?", policy_name()))
                .with_body("application/json", json!({}))
                .answer(200, "status-200-deleted.json"),
        ],
    )
    .await
    .unwrap();
    assert!(deleted);
    let deleted = scenario(
        |c| Box::pin(async move { c.delete_policy(&ns(), &policy_name()).await }),
        vec![
            expect("DELETE", format!("{NP_URL}/{}?", policy_name()))
                .with_body("application/json", json!({}))
                .answer(404, "status-404-networkpolicy.json"),
        ],
    )
    .await
    .unwrap();
    assert!(!deleted);
}

#[tokio::test]
async fn cordon_records_the_prior_state_and_is_idempotent() {
    let prior = scenario(
        |c| Box::pin(async move { c.set_unschedulable(&node(), true).await }),
        vec![
            expect("GET", "/api/v1/nodes/ip-10-0-1-23.ec2.internal")
                .answer(200, "node-ip-10-0-1-23.json"),
            expect("PATCH", "/api/v1/nodes/ip-10-0-1-23.ec2.internal?")
                .with_body(MERGE, json!({"spec": {"unschedulable": true}}))
                .answer(200, "node-ip-10-0-1-23-cordoned.json"),
        ],
    )
    .await
    .unwrap();
    assert!(!prior);

    let prior = scenario(
        |c| Box::pin(async move { c.set_unschedulable(&node(), true).await }),
        vec![
            expect("GET", "/api/v1/nodes/ip-10-0-1-23.ec2.internal")
                .answer(200, "node-ip-10-0-1-23-cordoned.json"),
        ],
    )
    .await
    .unwrap();
    assert!(prior, "already cordoned: nothing written, prior reported");

    let prior = scenario(
        |c| Box::pin(async move { c.set_unschedulable(&node(), false).await }),
        vec![
            expect("GET", "/api/v1/nodes/ip-10-0-1-23.ec2.internal")
                .answer(200, "node-ip-10-0-1-23-cordoned.json"),
            expect("PATCH", "/api/v1/nodes/ip-10-0-1-23.ec2.internal?")
                .with_body(MERGE, json!({"spec": {"unschedulable": false}}))
                .answer(200, "node-ip-10-0-1-23.json"),
        ],
    )
    .await
    .unwrap();
    assert!(prior, "release restores the recorded prior");
}

#[tokio::test]
async fn cordon_denied_by_rbac_is_access_denied() {
    let err = scenario(
        |c| Box::pin(async move { c.set_unschedulable(&node(), true).await }),
        vec![
            expect("GET", "/api/v1/nodes/ip-10-0-1-23.ec2.internal")
                .answer(200, "node-ip-10-0-1-23.json"),
            expect("PATCH", "/api/v1/nodes/ip-10-0-1-23.ec2.internal?")
                .with_body(MERGE, json!({"spec": {"unschedulable": true}}))
                .answer(403, "status-403-patch-nodes.json"),
        ],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, KubeError::AccessDenied { code: 403, .. }),
        "{err}"
    );
    let step = err.to_step_error();
    assert_eq!(step.name.as_str(), "Custody.AccessDenied");
    assert_eq!(step.service_code.as_deref(), Some("Forbidden"));
    assert!(
        step.cause.contains("cannot patch resource"),
        "{}",
        step.cause
    );
}
