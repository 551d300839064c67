//! Containment actions and their inverses, judged by the objects stored afterwards.

use std::collections::{BTreeMap, BTreeSet};

use custody_core::error::ErrorName;

use crate::contract::{ClusterUnderTest, StoredPolicy, map};
use crate::seed::{self, CASE, KEY, NODE_A, NODE_B, NS, POLICY};

async fn labels(b: &dyn ClusterUnderTest, pod: &str) -> BTreeMap<String, String> {
    b.stored_pod_labels(NS, pod)
        .await
        .unwrap_or_else(|| panic!("pod {pod} is stored"))
}

fn with(mut labels: BTreeMap<String, String>, key: &str, value: &str) -> BTreeMap<String, String> {
    labels.insert(key.to_owned(), value.to_owned());
    labels
}

/// The quarantine label is merged into the pod's labels (the others stay) and the call returns
/// the value it replaced; a second call changes nothing and returns custody's own value.
pub async fn quarantine_label_keeps_other_labels_and_is_idempotent(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let api = b.cluster();
    let before = labels(b, "api-1").await;
    let replaced = api
        .label_pod(&seed::ns(NS), &seed::pod("api-1"), KEY, CASE)
        .await
        .unwrap();
    assert_eq!(replaced, None);
    assert_eq!(labels(b, "api-1").await, with(before.clone(), KEY, CASE));

    let again = api
        .label_pod(&seed::ns(NS), &seed::pod("api-1"), KEY, CASE)
        .await
        .unwrap();
    assert_eq!(again.as_deref(), Some(CASE));
    assert_eq!(labels(b, "api-1").await, with(before, KEY, CASE));
    let neighbour = labels(b, "api-2").await;
    assert!(!neighbour.contains_key(KEY), "only the named pod changes");
}

/// A pod already quarantined by an earlier case gets this case's value, and the earlier value
/// is returned so the case records it; a pod that already carries exactly this label is left
/// as it is.
pub async fn quarantine_label_over_an_existing_value(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let api = b.cluster();
    let before = labels(b, "held-1").await;
    let earlier = before.get(KEY).cloned();
    let replaced = api
        .label_pod(&seed::ns(NS), &seed::pod("held-1"), KEY, CASE)
        .await
        .unwrap();
    assert_eq!(replaced, earlier);
    assert_eq!(labels(b, "held-1").await, with(before.clone(), KEY, CASE));

    let same = api
        .label_pod(&seed::ns(NS), &seed::pod("held-1"), KEY, CASE)
        .await
        .unwrap();
    assert_eq!(same.as_deref(), Some(CASE));
    assert_eq!(labels(b, "held-1").await, with(before, KEY, CASE));
}

/// Labelling a pod that does not exist is `Custody.NotFound`; a label that is not a label is
/// `Custody.InvalidInput`; neither changes anything.
pub async fn quarantine_label_failures_are_named_alike(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let api = b.cluster();
    let err = api
        .label_pod(&seed::ns(NS), &seed::pod("api-9"), KEY, CASE)
        .await
        .unwrap_err();
    assert_eq!(
        (err.name, err.service_code.as_deref()),
        (ErrorName::NotFound, Some("NotFound")),
        "{err:?}"
    );
    let before = labels(b, "api-1").await;
    for (key, value) in [("bad key!", "x"), (KEY, "not a value"), ("-x.io/q", "v")] {
        let err = api
            .label_pod(&seed::ns(NS), &seed::pod("api-1"), key, value)
            .await
            .unwrap_err();
        assert_eq!(
            err.name,
            ErrorName::InvalidInput,
            "{key:?}={value:?}: {err:?}"
        );
    }
    assert_eq!(labels(b, "api-1").await, before);
}

/// Release undoes the label exactly: removed when there was none, the prior value put back when
/// there was one, removed when the recorded "prior" is custody's own value (read back by a
/// retried step: nothing was there before custody), left alone when someone changed it since,
/// and a pod that is gone is fine. A second release changes nothing.
pub async fn restore_pod_label_puts_back_what_was_there(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let api = b.cluster();
    let ns = seed::ns(NS);
    let originals: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::from([
        ("api-1", labels(b, "api-1").await),
        ("api-2", labels(b, "api-2").await),
        ("held-1", labels(b, "held-1").await),
        ("worker-1", labels(b, "worker-1").await),
    ]);
    for pod in originals.keys() {
        api.label_pod(&ns, &seed::pod(pod), KEY, CASE)
            .await
            .unwrap();
    }
    // Someone relabels worker-1 after custody did.
    api.label_pod(&ns, &seed::pod("worker-1"), KEY, "someone-else")
        .await
        .unwrap();

    let earlier = originals["held-1"].get(KEY).cloned();
    for _ in 0..2 {
        api.restore_pod_label(&ns, &seed::pod("api-1"), KEY, CASE, None)
            .await
            .unwrap();
        api.restore_pod_label(&ns, &seed::pod("api-2"), KEY, CASE, Some(CASE))
            .await
            .unwrap();
        api.restore_pod_label(&ns, &seed::pod("held-1"), KEY, CASE, earlier.as_deref())
            .await
            .unwrap();
        api.restore_pod_label(&ns, &seed::pod("worker-1"), KEY, CASE, None)
            .await
            .unwrap();
        api.restore_pod_label(&ns, &seed::pod("api-9"), KEY, CASE, None)
            .await
            .unwrap();
        assert_eq!(labels(b, "api-1").await, originals["api-1"]);
        assert_eq!(
            labels(b, "api-2").await,
            originals["api-2"],
            "prior == value: the label is removed"
        );
        assert_eq!(labels(b, "held-1").await, originals["held-1"]);
        assert_eq!(
            labels(b, "worker-1").await,
            with(originals["worker-1"].clone(), KEY, "someone-else"),
            "a label someone changed since is not custody's to undo"
        );
    }
    let err = api
        .restore_pod_label(&ns, &seed::pod("api-1"), "bad key!", CASE, None)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput, "{err:?}");
}

fn deny_all() -> StoredPolicy {
    StoredPolicy {
        pod_selector: map(&[(KEY, CASE)]),
        policy_types: BTreeSet::from(["Egress".to_owned(), "Ingress".to_owned()]),
        ingress_rules: 0,
        egress_rules: 0,
    }
}

/// The deny-all policy is created once, selecting exactly the quarantine label with no rule in
/// either direction; a second call finds it; a policy of that name with another spec is a
/// conflict and is never overwritten; a name that is not a Kubernetes name is refused.
pub async fn deny_all_policy_is_created_once(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let api = b.cluster();
    let ns = seed::ns(NS);
    assert!(
        api.ensure_deny_all_policy(&ns, POLICY, KEY, CASE)
            .await
            .unwrap()
    );
    assert_eq!(b.stored_policy(NS, POLICY).await, Some(deny_all()));
    assert!(
        !api.ensure_deny_all_policy(&ns, POLICY, KEY, CASE)
            .await
            .unwrap()
    );
    assert_eq!(b.stored_policy(NS, POLICY).await, Some(deny_all()));

    let theirs = b.stored_policy(NS, "allow-api-ingress").await;
    let err = api
        .ensure_deny_all_policy(&ns, "allow-api-ingress", KEY, CASE)
        .await
        .unwrap_err();
    assert_eq!(
        (err.name, err.service_code.as_deref()),
        (ErrorName::Conflict, Some("AlreadyExists")),
        "{err:?}"
    );
    assert_eq!(b.stored_policy(NS, "allow-api-ingress").await, theirs);

    let err = api
        .ensure_deny_all_policy(&ns, &POLICY.to_ascii_uppercase(), KEY, CASE)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput, "{err:?}");
}

/// Other policies that select the quarantined pod and allow it some traffic are reported by
/// name (NetworkPolicies are additive); custody's own policy, default-denies, policies whose
/// rules lie in a direction they do not cover, policies selecting other pods and policies of
/// other namespaces are not.
pub async fn allowing_policies_are_reported(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let api = b.cluster();
    let ns = seed::ns(NS);
    api.ensure_deny_all_policy(&ns, POLICY, KEY, CASE)
        .await
        .unwrap();
    let api_pod = with(labels(b, "api-1").await, KEY, CASE);
    let mut allowing = api.allowing_policies(&ns, &api_pod, POLICY).await.unwrap();
    allowing.sort();
    assert_eq!(allowing, ["allow-api-ingress"]);

    let worker = with(labels(b, "worker-1").await, KEY, CASE);
    let mut allowing = api.allowing_policies(&ns, &worker, POLICY).await.unwrap();
    allowing.sort();
    assert_eq!(allowing, ["allow-worker-egress"]);

    let nobody = map(&[("app", "nothing-selects-this")]);
    let allowing = api.allowing_policies(&ns, &nobody, POLICY).await.unwrap();
    assert!(allowing.is_empty(), "{allowing:?}");
}

/// Release deletes the case's policy; deleting it again, or one that never existed, is fine.
pub async fn delete_policy_is_idempotent(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let api = b.cluster();
    let ns = seed::ns(NS);
    api.ensure_deny_all_policy(&ns, POLICY, KEY, CASE)
        .await
        .unwrap();
    api.delete_policy(&ns, POLICY).await.unwrap();
    assert_eq!(b.stored_policy(NS, POLICY).await, None);
    api.delete_policy(&ns, POLICY).await.unwrap();
    api.delete_policy(&ns, "never-existed").await.unwrap();
    assert!(
        b.stored_policy(NS, "allow-api-ingress").await.is_some(),
        "other policies stay"
    );
}

/// Cordon returns the prior `unschedulable` and stores `true`; a second cordon returns `true`;
/// release (setting the prior back) restores it, including a node that was cordoned before
/// the case (prior == value: nothing changes); a missing node is `Custody.NotFound`.
pub async fn cordon_and_uncordon_restore_prior(b: &dyn ClusterUnderTest) {
    b.seed(&seed::standard()).await;
    let api = b.cluster();
    let a = seed::node(NODE_A);
    assert!(!api.set_unschedulable(&a, true).await.unwrap());
    assert_eq!(b.stored_unschedulable(NODE_A).await, Some(true));
    assert!(api.set_unschedulable(&a, true).await.unwrap());
    assert_eq!(b.stored_unschedulable(NODE_A).await, Some(true));
    assert!(api.set_unschedulable(&a, false).await.unwrap());
    assert_eq!(b.stored_unschedulable(NODE_A).await, Some(false));
    assert!(!api.set_unschedulable(&a, false).await.unwrap());

    let nb = seed::node(NODE_B);
    assert!(api.set_unschedulable(&nb, true).await.unwrap());
    assert_eq!(b.stored_unschedulable(NODE_B).await, Some(true));
    // Release restores the recorded prior, which was `true`.
    assert!(api.set_unschedulable(&nb, true).await.unwrap());
    assert_eq!(b.stored_unschedulable(NODE_B).await, Some(true));

    let err = api
        .set_unschedulable(&seed::node("ip-10-9-9-9.ec2.internal"), true)
        .await
        .unwrap_err();
    assert_eq!(
        (err.name, err.service_code.as_deref()),
        (ErrorName::NotFound, Some("NotFound")),
        "{err:?}"
    );
}
