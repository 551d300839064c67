//! `KubeCluster` through the steps' `Cluster` port: facts and step errors.

use std::collections::BTreeMap;

use custody_core::error::ErrorName;
use custody_core::id::{Namespace, NodeName, PodName, ServiceAccountName};
use custody_kube::{KubeCluster, node_facts};
use custody_steps::ports::{Cluster, PodSelector};
use k8s_openapi::api::core::v1::Node;

use crate::mock::{expect, fixture_json, scenario};

const POD_URL: &str = "/api/v1/namespaces/payments/pods/payments-api-7d9f8b6c5d-x2k4q";

fn ns() -> Namespace {
    Namespace::parse("payments").unwrap()
}

fn port(c: &KubeCluster) -> &dyn Cluster {
    c
}

#[tokio::test]
async fn pod_facts_carry_node_service_account_labels_and_container_ids() {
    let facts = scenario(
        |c| {
            Box::pin(async move {
                let name = PodName::parse("payments-api-7d9f8b6c5d-x2k4q").unwrap();
                port(&c).get_pod(&ns(), &name).await
            })
        },
        vec![expect("GET", POD_URL).answer(200, "pod-payments-api-x2k4q.json")],
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(facts.namespace.as_str(), "payments");
    assert_eq!(facts.node.unwrap().as_str(), "ip-10-0-1-23.ec2.internal");
    assert_eq!(facts.service_account.unwrap().as_str(), "payments-api");
    assert_eq!(
        facts.uid.as_deref(),
        Some("5f0c9a8e-2b1d-4c3e-9f7a-6b5d4c3e2f1a")
    );
    assert_eq!(
        facts.labels.get("app").map(String::as_str),
        Some("payments-api")
    );
    let ids: Vec<&str> = facts.container_ids.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        ids,
        [
            "eb2666405c7372ef9a3b945a1a3ea5196ae9ab64bc0dff8a30d57d6559bb73c4",
            "54710da92f8ff5736eafd061ad39694374622fdac1b9cdae9732932b0481d067"
        ]
    );
}

#[tokio::test]
async fn list_by_service_account_through_the_port() {
    let pods = scenario(
        |c| {
            Box::pin(async move {
                let sa = ServiceAccountName::parse("payments-api").unwrap();
                port(&c).list_pods(Some(&ns()), &PodSelector::ServiceAccount(sa)).await
            })
        },
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
    let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["payments-api-7d9f8b6c5d-x2k4q"]);
}

#[tokio::test]
async fn node_facts_name_the_instance_or_none_for_fargate() {
    let facts = scenario(
        |c| {
            Box::pin(async move {
                let node = NodeName::parse("ip-10-0-1-23.ec2.internal").unwrap();
                port(&c).get_node(&node).await
            })
        },
        vec![
            expect("GET", "/api/v1/nodes/ip-10-0-1-23.ec2.internal")
                .answer(200, "node-ip-10-0-1-23-cordoned.json"),
        ],
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(facts.instance_id.unwrap().as_str(), "i-0abc1230000000001");
    assert!(facts.unschedulable);

    let fargate: Node = serde_json::from_value(fixture_json("node-fargate.json")).unwrap();
    assert_eq!(node_facts(&fargate).unwrap().instance_id, None);
}

#[tokio::test]
async fn label_through_the_port_returns_the_replaced_value() {
    let replaced = scenario(
        |c| {
            Box::pin(async move {
                let name = PodName::parse("payments-api-7d9f8b6c5d-x2k4q").unwrap();
                port(&c)
                    .label_pod(&ns(), &name, "app", "payments-api")
                    .await
            })
        },
        vec![expect("GET", POD_URL).answer(200, "pod-payments-api-x2k4q.json")],
    )
    .await
    .unwrap();
    assert_eq!(
        replaced.as_deref(),
        Some("payments-api"),
        "already set: no write, prior value reported"
    );
}

#[tokio::test]
async fn unknown_workload_kind_is_unsupported_and_errors_keep_their_names() {
    let err = scenario(
        |c| {
            Box::pin(async move {
                port(&c)
                    .workload_selector(&ns(), "CronJob", "nightly")
                    .await
            })
        },
        vec![],
    )
    .await
    .unwrap_err();
    assert_eq!(err.name, ErrorName::Unsupported);

    let err = scenario(
        |c| {
            Box::pin(async move {
                let labels = BTreeMap::from([("app".to_owned(), "payments-api".to_owned())]);
                port(&c)
                    .allowing_policies(&ns(), &labels, "custody-deny-all-x")
                    .await
            })
        },
        vec![
            expect(
                "GET",
                "/apis/networking.k8s.io/v1/namespaces/payments/networkpolicies?&limit=250",
            )
            .answer(403, "status-403-patch-nodes.json"),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(err.name, ErrorName::AccessDenied);
    assert_eq!(err.service_code.as_deref(), Some("Forbidden"));
}
