//! The simulated EKS cluster: reads, labels, NetworkPolicies, cordon, access.

use custody_core::error::ErrorName;
use custody_core::id::{
    AccountId, CaseId, ClusterName, Namespace, NodeName, PodName, Region, ServiceAccountName,
    Timestamp,
};
use custody_sim::World;
use custody_steps::capability::Effect;
use custody_steps::ports::{Cluster, ClusterConnector, Compute, PodSelector};
use serde_json::json;

use super::common::{TARGET, patched, target, world};

fn case() -> CaseId {
    CaseId::for_execution(
        Timestamp::parse("2026-11-23T03:07:00Z").unwrap(),
        "exec-cluster",
    )
}

async fn connect(w: &World) -> std::sync::Arc<dyn Cluster> {
    let t = target(w);
    let (info, api) = t
        .connect(
            &AccountId::parse(TARGET).unwrap(),
            &Region::parse("us-east-1").unwrap(),
            &ClusterName::parse("prod-payments").unwrap(),
            &case(),
        )
        .await
        .unwrap();
    assert_eq!(
        info.arn.as_str(),
        "arn:aws:eks:us-east-1:111122223333:cluster/prod-payments"
    );
    assert_eq!(info.name.as_str(), "prod-payments");
    api
}

fn ns() -> Namespace {
    Namespace::parse("payments").unwrap()
}

fn api_pod() -> PodName {
    PodName::parse("payments-api-7d9f8b6c5d-x2k4q").unwrap()
}

#[tokio::test]
async fn pods_nodes_and_workloads_resolve_to_instances() {
    let w = world("eks-three-nodes.json");
    let api = connect(&w).await;
    let acct = AccountId::parse(TARGET).unwrap();
    let region = Region::parse("us-east-1").unwrap();
    let (info, _) = target(&w)
        .connect(
            &acct,
            &region,
            &ClusterName::parse("prod-payments").unwrap(),
            &case(),
        )
        .await
        .unwrap();
    assert_eq!(
        info.tags.get("IsTriageRequired").map(String::as_str),
        Some("true")
    );
    let pod = api.get_pod(&ns(), &api_pod()).await.unwrap().unwrap();
    let node_name = pod.node.clone().unwrap();
    assert_eq!(node_name.as_str(), "ip-10-0-1-23.ec2.internal");
    assert_eq!(pod.container_ids.len(), 2);
    assert_eq!(
        api.get_pod(&ns(), &PodName::parse("gone").unwrap())
            .await
            .unwrap(),
        None
    );

    let selector = api
        .workload_selector(&ns(), "Deployment", "payments-api")
        .await
        .unwrap()
        .unwrap();
    let pods = api
        .list_pods(Some(&ns()), &PodSelector::Labels(selector))
        .await
        .unwrap();
    assert_eq!(pods.len(), 2);
    assert_eq!(
        api.workload_selector(&ns(), "StatefulSet", "payments-api")
            .await
            .unwrap(),
        None
    );
    let by_sa = PodSelector::ServiceAccount(ServiceAccountName::parse("payments-api").unwrap());
    assert_eq!(api.list_pods(Some(&ns()), &by_sa).await.unwrap().len(), 2);
    let on_node = api
        .list_pods(None, &PodSelector::Node(node_name.clone()))
        .await
        .unwrap();
    assert_eq!(on_node.len(), 2, "the api pod and aws-node");

    let node = api.get_node(&node_name).await.unwrap().unwrap();
    let instance = node.instance_id.unwrap();
    assert_eq!(instance.as_str(), "i-0abc1230000000001");
    let facts = target(&w)
        .describe_instances(std::slice::from_ref(&instance))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(facts.node.as_ref(), Some(&node_name));
    assert_eq!(
        facts.vpc_id.as_ref().map(|v| v.as_str()),
        Some("vpc-0a11b22c33d44e55f")
    );
    assert_eq!(facts.memory_mib, Some(16 * 1024));
    assert!(facts.ssm_managed);
    assert_eq!(facts.volumes[0].size_gib, 80);
    assert_eq!(facts.network_interfaces[0].security_groups.len(), 2);
}

#[tokio::test]
async fn label_policy_and_cordon_record_what_they_replaced_and_undo_exactly() {
    let w = world("eks-three-nodes.json");
    let api = connect(&w).await;
    let key = "custody.io/quarantine";
    let c = case();
    assert_eq!(
        api.label_pod(&ns(), &api_pod(), key, c.as_str())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        api.label_pod(&ns(), &api_pod(), key, c.as_str())
            .await
            .unwrap()
            .as_deref(),
        Some(c.as_str())
    );
    assert_eq!(
        api.label_pod(&ns(), &api_pod(), "bad key!", "x")
            .await
            .unwrap_err()
            .name,
        ErrorName::InvalidInput
    );

    let name = format!("custody-deny-all-{}", c.as_str().to_ascii_lowercase());
    assert!(
        api.ensure_deny_all_policy(&ns(), &name, key, c.as_str())
            .await
            .unwrap()
    );
    assert!(
        !api.ensure_deny_all_policy(&ns(), &name, key, c.as_str())
            .await
            .unwrap()
    );
    // A policy of that name that is not custody's is a conflict, never silently adopted.
    let err = api
        .ensure_deny_all_policy(&ns(), "allow-api-ingress", key, c.as_str())
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::Conflict);

    let labels = api
        .get_pod(&ns(), &api_pod())
        .await
        .unwrap()
        .unwrap()
        .labels;
    let allowing = api.allowing_policies(&ns(), &labels, &name).await.unwrap();
    assert_eq!(allowing, vec!["allow-api-ingress".to_string()]);

    let node = NodeName::parse("ip-10-0-1-23.ec2.internal").unwrap();
    assert!(!api.set_unschedulable(&node, true).await.unwrap());
    assert!(api.set_unschedulable(&node, true).await.unwrap());

    // Undo.
    api.restore_pod_label(&ns(), &api_pod(), key, c.as_str(), None)
        .await
        .unwrap();
    api.restore_pod_label(
        &ns(),
        &PodName::parse("gone").unwrap(),
        key,
        c.as_str(),
        None,
    )
    .await
    .unwrap();
    api.delete_policy(&ns(), &name).await.unwrap();
    api.delete_policy(&ns(), &name).await.unwrap();
    api.set_unschedulable(&node, false).await.unwrap();
    let fresh = world("eks-three-nodes.json");
    assert_eq!(
        w.inspect(|st| st.accounts[1].clusters.clone()),
        fresh.inspect(|st| st.accounts[1].clusters.clone()),
        "the cluster is exactly as it was"
    );
}

#[tokio::test]
async fn a_changed_label_is_not_overwritten_by_restore() {
    let w = world("eks-three-nodes.json");
    let api = connect(&w).await;
    api.label_pod(&ns(), &api_pod(), "team", "quarantined")
        .await
        .unwrap();
    api.label_pod(&ns(), &api_pod(), "team", "someone-else")
        .await
        .unwrap();
    api.restore_pod_label(&ns(), &api_pod(), "team", "quarantined", Some("payments"))
        .await
        .unwrap();
    let labels = api
        .get_pod(&ns(), &api_pod())
        .await
        .unwrap()
        .unwrap()
        .labels;
    assert_eq!(labels.get("team").map(String::as_str), Some("someone-else"));
}

#[tokio::test]
async fn mutations_on_a_cluster_are_attributed_to_it_and_its_nodes_instances() {
    let w = world("eks-protected-cluster.json");
    let api = connect(&w).await;
    api.label_pod(&ns(), &api_pod(), "x", "y").await.unwrap();
    let m: Vec<_> = w
        .calls()
        .into_iter()
        .filter(|c| c.capability.effect == Effect::Mutate)
        .collect();
    assert_eq!(m.len(), 1);
    assert!(m[0].concerns("eks:prod-payments"));
    assert!(m[0].concerns("i-0abc1230000000001"));
    assert!(m[0].concerns("eks:prod-payments/node/ip-10-0-1-23.ec2.internal"));
    assert!(!m[0].concerns("i-0abc1230000000002"));
}

#[tokio::test]
async fn a_missing_cluster_or_access_entry_is_an_error() {
    let w = world("eks-three-nodes.json");
    let t = target(&w);
    let acct = AccountId::parse(TARGET).unwrap();
    let region = Region::parse("us-east-1").unwrap();
    let err = t
        .connect(
            &acct,
            &region,
            &ClusterName::parse("nope").unwrap(),
            &case(),
        )
        .await
        .err()
        .unwrap();
    assert_eq!(err.name, ErrorName::NotFound);
    let other = AccountId::parse("999999999999").unwrap();
    let err = t
        .connect(
            &other,
            &region,
            &ClusterName::parse("prod-payments").unwrap(),
            &case(),
        )
        .await
        .err()
        .unwrap();
    assert_eq!(err.name, ErrorName::AccessDenied);

    let json = patched("eks-three-nodes.json", |v| {
        v["accounts"][1]["clusters"][0]["responderHasAccess"] = json!(false)
    });
    let w = World::from_json(&json).unwrap();
    let api = connect(&w).await;
    let err = api.get_pod(&ns(), &api_pod()).await.unwrap_err();
    assert_eq!(
        (err.name, err.service_code.as_deref()),
        (ErrorName::AccessDenied, Some("Forbidden"))
    );
}
