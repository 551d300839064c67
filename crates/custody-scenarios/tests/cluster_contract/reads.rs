//! Reads: which pods a case is about, where they run, and which workload owns them.

use custody_core::error::ErrorName;
use custody_core::id::ServiceAccountName;
use custody_steps::ports::PodSelector;

use crate::contract::{ClusterUnderTest, Pairs, map};
use crate::seed::{self, API_1_CONTAINER, INSTANCE_A, NODE_A, NODE_B, NODE_ODD, NS, OTHER_NS};

/// `namespace/name` of each pod, sorted.
fn names(pods: &[custody_core::inventory::PodFacts]) -> Vec<String> {
    let mut names: Vec<String> = pods
        .iter()
        .map(|p| format!("{}/{}", p.namespace, p.name))
        .collect();
    names.sort();
    names
}

/// A pod by name carries the facts the case records; an absent pod, or the name in another
/// namespace, is `None`.
pub async fn find_pod_by_name(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let api = b.cluster();
    let facts = api
        .get_pod(&seed::ns(NS), &seed::pod("api-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(facts.namespace.as_str(), NS);
    assert_eq!(facts.name.as_str(), "api-1");
    assert_eq!(
        facts.uid.as_deref(),
        Some("6a1f0c2e-1b7d-4c55-9d0e-2f3a4b5c6d71")
    );
    assert_eq!(facts.node.as_ref().map(|n| n.as_str()), Some(NODE_A));
    assert_eq!(
        facts.service_account.as_ref().map(|s| s.as_str()),
        Some("payments-api")
    );
    assert_eq!(
        facts.labels,
        map(&[("app", "payments-api"), ("team", "payments")])
    );
    let ids: Vec<&str> = facts.container_ids.iter().map(|c| c.as_str()).collect();
    assert_eq!(ids, [API_1_CONTAINER]);

    let absent = api
        .get_pod(&seed::ns(NS), &seed::pod("api-9"))
        .await
        .unwrap();
    assert_eq!(absent, None);
    let wrong_ns = api
        .get_pod(&seed::ns("nowhere"), &seed::pod("api-1"))
        .await
        .unwrap();
    assert_eq!(wrong_ns, None);
}

/// A label selector finds exactly the pods carrying all its labels, in the namespace asked
/// for only: never the same labels elsewhere, never a pod the selector does not match (even
/// from a server that ignores selectors).
pub async fn find_pods_by_label_selector(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let api = b.cluster();
    let by = |pairs| PodSelector::Labels(map(pairs));
    let pods = api
        .list_pods(Some(&seed::ns(NS)), &by(&[("app", "payments-api")]))
        .await
        .unwrap();
    assert_eq!(names(&pods), ["payments/api-1", "payments/api-2"]);
    let pods = api
        .list_pods(
            Some(&seed::ns(NS)),
            &by(&[("app", "payments-api"), ("team", "payments")]),
        )
        .await
        .unwrap();
    assert_eq!(names(&pods), ["payments/api-1", "payments/api-2"]);
    let pods = api
        .list_pods(Some(&seed::ns(NS)), &by(&[("app", "nothing-has-this")]))
        .await
        .unwrap();
    assert!(pods.is_empty(), "{pods:?}");
}

/// An empty selector would select every pod of the namespace and a label that is not a label
/// could change the selector's meaning: both are refused as invalid input, nothing is listed.
pub async fn refuse_selectors_that_widen_the_case(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let api = b.cluster();
    let err = api
        .list_pods(Some(&seed::ns(NS)), &PodSelector::Labels(map(&[])))
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput, "{err:?}");
    let err = api
        .list_pods(
            Some(&seed::ns(NS)),
            &PodSelector::Labels(map(&[("app", "x,team!=payments")])),
        )
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput, "{err:?}");
}

/// A service account finds the pods running as it in that namespace only.
pub async fn find_pods_by_service_account(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let sa = PodSelector::ServiceAccount(ServiceAccountName::parse("payments-api").unwrap());
    let pods = b
        .cluster()
        .list_pods(Some(&seed::ns(NS)), &sa)
        .await
        .unwrap();
    assert_eq!(
        names(&pods),
        ["payments/api-1", "payments/api-2", "payments/held-1"]
    );
}

/// A node finds the pods scheduled on it across every namespace.
pub async fn find_pods_on_a_node(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let on_a = b
        .cluster()
        .list_pods(None, &PodSelector::Node(seed::node(NODE_A)))
        .await
        .unwrap();
    assert_eq!(
        names(&on_a),
        ["batch/api-1", "payments/api-1", "payments/worker-1"]
    );
    let on_odd = b
        .cluster()
        .list_pods(None, &PodSelector::Node(seed::node(NODE_ODD)))
        .await
        .unwrap();
    assert!(on_odd.is_empty(), "{on_odd:?}");
    let in_batch = b
        .cluster()
        .list_pods(
            Some(&seed::ns(OTHER_NS)),
            &PodSelector::Node(seed::node(NODE_A)),
        )
        .await
        .unwrap();
    assert_eq!(names(&in_batch), ["batch/api-1"]);
}

/// pod → node → EC2 instance from `spec.providerID`, with the node's cordon state.
pub async fn pod_to_node_to_instance(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let api = b.cluster();
    let facts = api
        .get_pod(&seed::ns(NS), &seed::pod("api-1"))
        .await
        .unwrap()
        .unwrap();
    let node = api.get_node(&facts.node.unwrap()).await.unwrap().unwrap();
    assert_eq!(node.name.as_str(), NODE_A);
    assert_eq!(
        node.instance_id.as_ref().map(|i| i.as_str()),
        Some(INSTANCE_A)
    );
    assert!(!node.unschedulable);
    let b_node = api.get_node(&seed::node(NODE_B)).await.unwrap().unwrap();
    assert_eq!(
        b_node.instance_id.as_ref().map(|i| i.as_str()),
        Some("i-0abc1230000000002")
    );
    assert!(b_node.unschedulable, "node B was cordoned before the case");
}

/// A node whose `providerID` names no EC2 instance is still a node, with no instance: the case
/// then has no instance to capture there, rather than failing the whole triage.
pub async fn node_with_a_malformed_provider_id_has_no_instance(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let api = b.cluster();
    let odd = api.get_node(&seed::node(NODE_ODD)).await.unwrap().unwrap();
    assert_eq!(odd.name.as_str(), NODE_ODD);
    assert_eq!(odd.instance_id, None);
    let gone = api
        .get_node(&seed::node("ip-10-9-9-9.ec2.internal"))
        .await
        .unwrap();
    assert_eq!(gone, None);
}

/// A workload's `matchLabels` for each kind with a selector, named as Kubernetes or as
/// GuardDuty's audit-log findings name it (any case, singular or plural); an absent workload is
/// `None`.
pub async fn workload_selectors_by_kind(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let api = b.cluster();
    let cases: &[(&str, &str, Pairs)] = &[
        (
            "Deployment",
            "payments-api",
            &[("app", "payments-api"), ("team", "payments")],
        ),
        (
            "deployments",
            "payments-api",
            &[("app", "payments-api"), ("team", "payments")],
        ),
        (
            "ReplicaSet",
            "payments-api-7d9f8b6c5d",
            &[("app", "payments-api"), ("pod-template-hash", "7d9f8b6c5d")],
        ),
        ("StatefulSet", "ledger", &[("app", "ledger")]),
        ("statefulsets", "ledger", &[("app", "ledger")]),
        ("DaemonSet", "node-agent", &[("app", "node-agent")]),
        ("Job", "migrate", &[("job-name", "migrate")]),
        ("jobs", "migrate", &[("job-name", "migrate")]),
    ];
    for (kind, name, want) in cases {
        let got = api
            .workload_selector(&seed::ns(NS), kind, name)
            .await
            .unwrap_or_else(|e| panic!("{kind} {name}: {e:?}"));
        assert_eq!(got, Some(map(want)), "{kind} {name}");
    }
    for (kind, name) in [
        ("Deployment", "absent"),
        ("StatefulSet", "payments-api"),
        ("Job", "ledger"),
    ] {
        let got = api
            .workload_selector(&seed::ns(NS), kind, name)
            .await
            .unwrap();
        assert_eq!(got, None, "{kind} {name} does not exist");
    }
    let other_ns = api
        .workload_selector(&seed::ns(OTHER_NS), "Deployment", "payments-api")
        .await
        .unwrap();
    assert_eq!(other_ns, None);
}

/// A kind without a readable pod selector (CronJob, ReplicationController, anything else) is
/// `Custody.Unsupported`: the responder must name the pods, custody must not isolate nothing
/// and call it done.
pub async fn unknown_workload_kind_is_unsupported(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    for kind in ["CronJob", "ReplicationController", "Pod", "Widget", ""] {
        let err = b
            .cluster()
            .workload_selector(&seed::ns(NS), kind, "payments-api")
            .await
            .unwrap_err();
        assert_eq!(err.name, ErrorName::Unsupported, "{kind:?}: {err:?}");
    }
}

/// A workload whose selector is empty would select every pod of the namespace: that is
/// `Custody.Unsupported`, never an empty map the caller might list with. A name that is not a
/// Kubernetes name is refused before it is looked up.
pub async fn workload_selectors_that_cannot_be_used(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let err = b
        .cluster()
        .workload_selector(&seed::ns(NS), "Deployment", "everything")
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::Unsupported, "{err:?}");
    let err = b
        .cluster()
        .workload_selector(&seed::ns(NS), "Job", "../../secrets/x")
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput, "{err:?}");
}
