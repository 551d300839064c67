//! Defense in depth: the API server's answer to a selector is re-checked on the client, so a
//! server (an old apiserver, a proxy, an emulator such as kmock) that ignores a label or field
//! selector, or answers for another namespace or another pod, never widens a case. Each test
//! answers with pods the request did not ask for and asserts they are not returned — through
//! `KubeCluster` and through the steps' `Cluster` port, which is what isolation acts on.

use std::collections::BTreeMap;

use custody_core::error::ErrorName;
use custody_core::id::{Namespace, NodeName, PodName};
use custody_kube::{KubeCluster, KubeError, PodQuery};
use custody_steps::ports::{Cluster, PodSelector};
use serde_json::json;

use crate::mock::{expect, fixture, fixture_json, scenario};

fn ns() -> Namespace {
    Namespace::parse("payments").unwrap()
}

fn port(c: &KubeCluster) -> &dyn Cluster {
    c
}

const API_POD: &str = "payments-api-7d9f8b6c5d-x2k4q";

/// The fixture's list (the api pod and a worker pod on another node), with the worker moved to
/// namespace `batch` and relabelled as an api pod: only its namespace tells it apart.
fn list_with_a_pod_of_another_namespace() -> String {
    let mut list = fixture_json("podlist-selector-ignored.json");
    let worker = &mut list["items"][1];
    worker["metadata"]["namespace"] = json!("batch");
    worker["metadata"]["labels"]["app"] = json!("payments-api");
    worker["spec"]["nodeName"] = json!("ip-10-0-1-23.ec2.internal");
    worker["spec"]["serviceAccountName"] = json!("payments-api");
    list.to_string()
}

#[tokio::test]
async fn a_label_selector_the_server_ignored_is_applied_on_the_client() {
    let labels = BTreeMap::from([("app".to_owned(), "payments-api".to_owned())]);
    let pods = scenario(
        |c| {
            Box::pin(async move {
                port(&c)
                    .list_pods(Some(&ns()), &PodSelector::Labels(labels))
                    .await
            })
        },
        vec![
            expect(
                "GET",
                "/api/v1/namespaces/payments/pods?&labelSelector=app%3Dpayments-api&limit=250",
            )
            .answer(200, "podlist-selector-ignored.json"),
        ],
    )
    .await
    .unwrap();
    let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, [API_POD], "the worker pod is never acted on");
}

#[tokio::test]
async fn a_node_selector_the_server_ignored_is_applied_on_the_client() {
    let pods = scenario(
        |c| {
            Box::pin(async move {
                let node = NodeName::parse("ip-10-0-1-23.ec2.internal").unwrap();
                port(&c).list_pods(None, &PodSelector::Node(node)).await
            })
        },
        vec![
            expect(
                "GET",
                "/api/v1/pods?&fieldSelector=spec.nodeName%3Dip-10-0-1-23.ec2.internal&limit=250",
            )
            .answer(200, "podlist-selector-ignored.json"),
        ],
    )
    .await
    .unwrap();
    let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [API_POD],
        "the worker on ip-10-0-2-88 is filtered out"
    );
}

#[tokio::test]
async fn pods_of_another_namespace_are_filtered_out_of_a_namespaced_list() {
    let answer = list_with_a_pod_of_another_namespace();
    for query in [
        PodQuery::Labels(BTreeMap::from([(
            "app".to_owned(),
            "payments-api".to_owned(),
        )])),
        PodQuery::Node(NodeName::parse("ip-10-0-1-23.ec2.internal").unwrap()),
    ] {
        let url = match &query {
            PodQuery::Labels(_) => {
                "/api/v1/namespaces/payments/pods?&labelSelector=app%3Dpayments-api&limit=250"
            }
            _ => {
                "/api/v1/namespaces/payments/pods?&fieldSelector=spec.nodeName%3Dip-10-0-1-23.ec2.internal&limit=250"
            }
        };
        let pods = scenario(
            |c| Box::pin(async move { c.list_pods(Some(&ns()), &query).await }),
            vec![expect("GET", url).answer_raw(200, &answer)],
        )
        .await
        .unwrap();
        let found: Vec<(&str, &str)> = pods
            .iter()
            .map(|p| {
                (
                    p.metadata.namespace.as_deref().unwrap(),
                    p.metadata.name.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(found, [("payments", API_POD)]);
    }
}

#[tokio::test]
async fn a_pod_answered_for_another_name_is_refused() {
    let mut other = fixture_json("pod-payments-api-x2k4q.json");
    other["metadata"]["name"] = json!("payments-worker-5c8d7b9f4-tq7lp");
    let answer = other.to_string();
    let err = scenario(
        |c| {
            Box::pin(async move {
                let name = PodName::parse(API_POD).unwrap();
                c.get_pod(&ns(), &name).await
            })
        },
        vec![
            expect("GET", format!("/api/v1/namespaces/payments/pods/{API_POD}"))
                .answer_raw(200, &answer),
        ],
    )
    .await
    .unwrap_err();
    assert!(matches!(err, KubeError::Unusable { .. }), "{err:?}");
    assert_eq!(err.to_step_error().name, ErrorName::Unsupported);
    // The genuine answer is accepted (the check does not refuse every pod).
    let pod = scenario(
        |c| {
            Box::pin(async move {
                let name = PodName::parse(API_POD).unwrap();
                c.get_pod(&ns(), &name).await
            })
        },
        vec![
            expect("GET", format!("/api/v1/namespaces/payments/pods/{API_POD}"))
                .answer_raw(200, &fixture("pod-payments-api-x2k4q.json")),
        ],
    )
    .await
    .unwrap();
    assert!(pod.is_some());
}
