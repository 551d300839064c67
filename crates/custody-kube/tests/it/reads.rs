//! Reads: pods by name, label, service account and node; nodes and their instances; workload
//! selectors.

use std::collections::BTreeMap;

use custody_core::id::{Namespace, NodeName, PodName, ServiceAccountName};
use custody_kube::{KubeError, PodQuery, WorkloadKind, instance_id_of};
use k8s_openapi::api::core::v1::Node;

use crate::mock::{expect, fixture_json, scenario};

fn ns() -> Namespace {
    Namespace::parse("payments").unwrap()
}

fn pod_name() -> PodName {
    PodName::parse("payments-api-7d9f8b6c5d-x2k4q").unwrap()
}

fn node_name() -> NodeName {
    NodeName::parse("ip-10-0-1-23.ec2.internal").unwrap()
}

fn names(pods: &[k8s_openapi::api::core::v1::Pod]) -> Vec<&str> {
    pods.iter()
        .filter_map(|p| p.metadata.name.as_deref())
        .collect()
}

#[tokio::test]
async fn get_pod_returns_the_pod() {
    let pod = scenario(
        |c| Box::pin(async move { c.get_pod(&ns(), &pod_name()).await }),
        vec![
            expect(
                "GET",
                "/api/v1/namespaces/payments/pods/payments-api-7d9f8b6c5d-x2k4q",
            )
            .answer(200, "pod-payments-api-x2k4q.json"),
        ],
    )
    .await
    .unwrap()
    .unwrap();
    let spec = pod.spec.unwrap();
    assert_eq!(spec.node_name.as_deref(), Some("ip-10-0-1-23.ec2.internal"));
    assert_eq!(spec.service_account_name.as_deref(), Some("payments-api"));
    assert_eq!(pod.metadata.resource_version.as_deref(), Some("4821337"));
}

#[tokio::test]
async fn get_pod_that_is_gone_is_none() {
    let pod = scenario(
        |c| Box::pin(async move { c.get_pod(&ns(), &pod_name()).await }),
        vec![
            expect(
                "GET",
                "/api/v1/namespaces/payments/pods/payments-api-7d9f8b6c5d-x2k4q",
            )
            .answer(404, "status-404-pod.json"),
        ],
    )
    .await
    .unwrap();
    assert!(pod.is_none());
}

#[tokio::test]
async fn list_by_labels_follows_continue_tokens() {
    let continue_token = fixture_json("podlist-payments-api-page1.json")["metadata"]["continue"]
        .as_str()
        .unwrap()
        .to_owned();
    let labels = BTreeMap::from([("app".to_owned(), "payments-api".to_owned())]);
    let pods = scenario(
        |c| Box::pin(async move { c.list_pods(Some(&ns()), &PodQuery::Labels(labels)).await }),
        vec![
            expect("GET", "/api/v1/namespaces/payments/pods?&labelSelector=app%3Dpayments-api&limit=250")
                .answer(200, "podlist-payments-api-page1.json"),
            expect(
                "GET",
                format!(
                    "/api/v1/namespaces/payments/pods?&labelSelector=app%3Dpayments-api&limit=250&continue={continue_token}"
                ),
            )
            .answer(200, "podlist-payments-api-page2.json"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        names(&pods),
        [
            "payments-api-7d9f8b6c5d-x2k4q",
            "payments-api-7d9f8b6c5d-m8n3z"
        ]
    );
}

#[tokio::test]
async fn list_by_service_account_rechecks_the_selector_on_the_client() {
    let sa = ServiceAccountName::parse("payments-api").unwrap();
    let pods = scenario(
        |c| Box::pin(async move { c.list_pods(Some(&ns()), &PodQuery::ServiceAccount(sa)).await }),
        vec![
            expect(
                "GET",
                "/api/v1/namespaces/payments/pods?&fieldSelector=spec.serviceAccountName%3Dpayments-api&limit=250",
            )
            .answer(200, "podlist-selector-ignored.json"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        names(&pods),
        ["payments-api-7d9f8b6c5d-x2k4q"],
        "the worker pod is filtered out"
    );
}

#[tokio::test]
async fn list_on_a_node_spans_all_namespaces() {
    let pods = scenario(
        |c| Box::pin(async move { c.list_pods(None, &PodQuery::Node(node_name())).await }),
        vec![
            expect(
                "GET",
                "/api/v1/pods?&fieldSelector=spec.nodeName%3Dip-10-0-1-23.ec2.internal&limit=250",
            )
            .answer(200, "podlist-node-ip-10-0-1-23.json"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(names(&pods), ["payments-api-7d9f8b6c5d-x2k4q"]);
}

#[tokio::test]
async fn selectors_that_would_change_meaning_are_refused_before_any_request() {
    let injected = BTreeMap::from([("app".to_owned(), "x,team!=payments".to_owned())]);
    let err = scenario(
        |c| Box::pin(async move { c.list_pods(Some(&ns()), &PodQuery::Labels(injected)).await }),
        vec![],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, KubeError::InvalidInput { .. }), "{err}");

    let err = scenario(
        |c| Box::pin(async move { c.list_pods(None, &PodQuery::Labels(BTreeMap::new())).await }),
        vec![],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, KubeError::InvalidInput { .. }),
        "an empty selector would select every pod"
    );
}

#[tokio::test]
async fn node_instance_id_comes_from_the_provider_id() {
    let id = scenario(
        |c| Box::pin(async move { c.node_instance_id(&node_name()).await }),
        vec![
            expect("GET", "/api/v1/nodes/ip-10-0-1-23.ec2.internal")
                .answer(200, "node-ip-10-0-1-23.json"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(id.as_str(), "i-0abc1230000000001");
}

#[test]
fn fargate_and_malformed_provider_ids_are_unusable() {
    let fargate: Node = serde_json::from_value(fixture_json("node-fargate.json")).unwrap();
    assert!(matches!(
        instance_id_of(&fargate),
        Err(KubeError::Unusable { .. })
    ));

    let mut node: Node = serde_json::from_value(fixture_json("node-ip-10-0-1-23.json")).unwrap();
    for bad in [
        "aws:///us-east-1a/i-0abc123$(reboot)",
        "gce://p/z/i-0abc1230000000001",
        "aws:///i-0abc1230000000001",
    ] {
        node.spec.as_mut().unwrap().provider_id = Some(bad.to_owned());
        let err = instance_id_of(&node).unwrap_err();
        assert!(matches!(err, KubeError::Unusable { .. }), "{bad}: {err}");
    }
    node.spec.as_mut().unwrap().provider_id = None;
    assert!(matches!(
        instance_id_of(&node),
        Err(KubeError::Unusable { .. })
    ));
}

#[tokio::test]
async fn missing_node_is_not_found() {
    let err = scenario(
        |c| Box::pin(async move { c.node_instance_id(&node_name()).await }),
        vec![
            expect("GET", "/api/v1/nodes/ip-10-0-1-23.ec2.internal")
                .answer(404, "status-404-pod.json"),
        ],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, KubeError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn workload_selector_reads_match_labels() {
    let selector = scenario(
        |c| {
            Box::pin(async move {
                c.workload_selector(&ns(), WorkloadKind::Deployment, "payments-api")
                    .await
            })
        },
        vec![
            expect(
                "GET",
                "/apis/apps/v1/namespaces/payments/deployments/payments-api",
            )
            .answer(200, "deployment-payments-api.json"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        selector,
        Some(BTreeMap::from([(
            "app".to_owned(),
            "payments-api".to_owned()
        )]))
    );
    assert_eq!(
        WorkloadKind::parse("deployments"),
        Some(WorkloadKind::Deployment)
    );
    assert_eq!(
        WorkloadKind::parse("StatefulSet"),
        Some(WorkloadKind::StatefulSet)
    );
    assert_eq!(WorkloadKind::parse("jobs"), Some(WorkloadKind::Job));
    assert_eq!(WorkloadKind::parse("pods"), None);
}

#[tokio::test]
async fn workload_with_an_empty_or_expression_selector_is_unusable() {
    let mut empty = fixture_json("deployment-payments-api.json");
    empty["spec"]["selector"] = serde_json::json!({});
    let mut expressions = fixture_json("deployment-payments-api.json");
    expressions["spec"]["selector"] = serde_json::json!({
        "matchExpressions": [{"key": "app", "operator": "In", "values": ["payments-api"]}]
    });
    for body in [empty, expressions] {
        let body = body.to_string();
        let err = scenario(
            |c| {
                Box::pin(async move {
                    c.workload_selector(&ns(), WorkloadKind::Deployment, "payments-api")
                        .await
                })
            },
            vec![
                expect(
                    "GET",
                    "/apis/apps/v1/namespaces/payments/deployments/payments-api",
                )
                .answer_raw(200, &body),
            ],
        )
        .await
        .unwrap_err();
        assert!(matches!(err, KubeError::Unusable { .. }), "{err}");
    }
}

#[tokio::test]
async fn workload_names_are_checked_before_they_reach_a_url() {
    let err = scenario(
        |c| {
            Box::pin(async move {
                c.workload_selector(&ns(), WorkloadKind::Job, "../../secrets/x")
                    .await
            })
        },
        vec![],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, KubeError::InvalidInput { .. }), "{err}");
}
