//! NetworkPolicy reasoning, as pure functions: the deny-all policy custody writes, whether an
//! existing policy is that policy, and whether another policy still lets a pod talk.
//!
//! NetworkPolicies are additive allow-lists. A pod selected by any policy of a direction is
//! isolated in that direction except for what the union of those policies allows. So a deny-all
//! policy selecting the quarantined pod cuts its traffic only if no other policy selecting it
//! allows some: [`allowed_directions`] finds those, so the case can report them.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicySpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};

/// The label custody puts on objects it creates, so an operator can list them.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "custody");

/// The deny-all ingress+egress policy selecting exactly the pods labelled `key=value`.
pub fn deny_all_policy(namespace: &str, name: &str, key: &str, value: &str) -> NetworkPolicy {
    NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY.0.to_owned(),
                MANAGED_BY.1.to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([(key.to_owned(), value.to_owned())])),
                match_expressions: None,
            }),
            policy_types: Some(vec!["Ingress".to_owned(), "Egress".to_owned()]),
            // No rules in either direction: nothing is allowed.
            ingress: None,
            egress: None,
        }),
    }
}

/// True if `existing` has the deny-all spec for `key=value` (whoever wrote it): a create that
/// met 409 AlreadyExists with such a policy has nothing left to do.
pub fn is_deny_all_for(existing: &NetworkPolicy, key: &str, value: &str) -> bool {
    let Some(spec) = existing.spec.as_ref() else {
        return false;
    };
    let selector_is_exact = spec.pod_selector.as_ref().is_some_and(|s| {
        s.match_expressions.as_ref().is_none_or(Vec::is_empty)
            && s.match_labels.as_ref().is_some_and(|labels| {
                labels.len() == 1 && labels.get(key).is_some_and(|v| v == value)
            })
    });
    let types = spec.policy_types.as_deref().unwrap_or_default();
    let both_types = types.iter().any(|t| t == "Ingress") && types.iter().any(|t| t == "Egress");
    selector_is_exact
        && both_types
        && spec.ingress.as_ref().is_none_or(Vec::is_empty)
        && spec.egress.as_ref().is_none_or(Vec::is_empty)
}

/// True if `selector` selects a pod with `labels` (Kubernetes label-selector semantics; an
/// empty selector selects every pod in the namespace).
///
/// An operator this code does not know is treated as matching: the answer is used to warn that
/// a pod may still be reachable, and a false warning is the safe mistake.
pub fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_match = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let expressions_match = selector.match_expressions.iter().flatten().all(|req| {
        let current = labels.get(&req.key);
        let values = req.values.as_deref().unwrap_or_default();
        match req.operator.as_str() {
            "In" => current.is_some_and(|v| values.contains(v)),
            "NotIn" => current.is_none_or(|v| !values.contains(v)),
            "Exists" => current.is_some(),
            "DoesNotExist" => current.is_none(),
            _ => true,
        }
    });
    labels_match && expressions_match
}

/// Which directions a policy lets traffic through for the pods it selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllowingPolicy {
    /// The policy's name (from the cluster: print with `{:?}`).
    pub name: String,
    /// It has at least one ingress rule.
    pub ingress: bool,
    /// It has at least one egress rule.
    pub egress: bool,
}

/// The traffic `policy` allows to or from a pod with `labels`, or `None` if it does not select
/// that pod or allows nothing.
///
/// A policy's `policyTypes` default to `Ingress`, plus `Egress` when it has egress rules. In a
/// direction it covers, it allows exactly what its rules list: a covered direction with no rules
/// allows nothing, and one empty rule (`{}`) allows everything.
pub fn allowed_directions(
    policy: &NetworkPolicy,
    labels: &BTreeMap<String, String>,
) -> Option<AllowingPolicy> {
    let spec = policy.spec.as_ref()?;
    let everyone = LabelSelector::default();
    if !selects(spec.pod_selector.as_ref().unwrap_or(&everyone), labels) {
        return None;
    }
    let ingress_rules = spec.ingress.as_ref().is_some_and(|r| !r.is_empty());
    let egress_rules = spec.egress.as_ref().is_some_and(|r| !r.is_empty());
    let (covers_ingress, covers_egress) = match spec.policy_types.as_deref() {
        Some(types) if !types.is_empty() => (
            types.iter().any(|t| t == "Ingress"),
            types.iter().any(|t| t == "Egress"),
        ),
        _ => (true, egress_rules),
    };
    let ingress = covers_ingress && ingress_rules;
    let egress = covers_egress && egress_rules;
    (ingress || egress).then(|| AllowingPolicy {
        name: policy.metadata.name.clone().unwrap_or_default(),
        ingress,
        egress,
    })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::networking::v1::{NetworkPolicyEgressRule, NetworkPolicyIngressRule};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.to_owned(),
            operator: op.to_owned(),
            values: Some(values.iter().map(|v| (*v).to_owned()).collect()),
        }
    }

    fn policy(
        selector: LabelSelector,
        types: Option<&[&str]>,
        ingress: usize,
        egress: usize,
    ) -> NetworkPolicy {
        NetworkPolicy {
            metadata: ObjectMeta {
                name: Some("p".to_owned()),
                ..ObjectMeta::default()
            },
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(selector),
                policy_types: types.map(|t| t.iter().map(|s| (*s).to_owned()).collect()),
                ingress: Some(vec![NetworkPolicyIngressRule::default(); ingress]),
                egress: Some(vec![NetworkPolicyEgressRule::default(); egress]),
            }),
        }
    }

    #[test]
    fn selector_semantics() {
        let pod = labels(&[("app", "api"), ("tier", "web")]);
        assert!(
            selects(&LabelSelector::default(), &pod),
            "empty selects all"
        );
        let by = |l: &[(&str, &str)], e: Vec<LabelSelectorRequirement>| LabelSelector {
            match_labels: Some(labels(l)),
            match_expressions: Some(e),
        };
        assert!(selects(&by(&[("app", "api")], vec![]), &pod));
        assert!(!selects(&by(&[("app", "db")], vec![]), &pod));
        assert!(selects(
            &by(&[], vec![expr("tier", "In", &["web", "x"])]),
            &pod
        ));
        assert!(!selects(
            &by(&[], vec![expr("tier", "NotIn", &["web"])]),
            &pod
        ));
        assert!(selects(&by(&[], vec![expr("zone", "NotIn", &["a"])]), &pod));
        assert!(selects(&by(&[], vec![expr("app", "Exists", &[])]), &pod));
        assert!(!selects(
            &by(&[], vec![expr("app", "DoesNotExist", &[])]),
            &pod
        ));
        assert!(
            selects(&by(&[], vec![expr("app", "Gt", &["1"])]), &pod),
            "unknown: assume it selects"
        );
    }

    #[test]
    fn directions_follow_policy_types_and_rules() {
        let pod = labels(&[("app", "api")]);
        let all = LabelSelector::default();
        // Default types: Ingress (+ Egress when egress rules exist).
        let p = policy(all.clone(), None, 1, 0);
        assert_eq!(
            allowed_directions(&p, &pod).map(|a| (a.ingress, a.egress)),
            Some((true, false))
        );
        let p = policy(all.clone(), None, 0, 2);
        assert_eq!(
            allowed_directions(&p, &pod).map(|a| (a.ingress, a.egress)),
            Some((false, true))
        );
        // A default-deny policy allows nothing.
        assert_eq!(
            allowed_directions(
                &policy(all.clone(), Some(&["Ingress", "Egress"]), 0, 0),
                &pod
            ),
            None
        );
        // Rules in a direction the policy does not cover do not count.
        assert_eq!(
            allowed_directions(&policy(all.clone(), Some(&["Egress"]), 3, 0), &pod),
            None
        );
        // Not selected: irrelevant.
        let other = LabelSelector {
            match_labels: Some(labels(&[("app", "db")])),
            match_expressions: None,
        };
        assert_eq!(allowed_directions(&policy(other, None, 1, 1), &pod), None);
    }

    #[test]
    fn deny_all_is_recognised_only_when_exact() {
        let ours = deny_all_policy(
            "payments",
            "custody-deny-all-x",
            "custody/quarantine",
            "case-1",
        );
        assert!(is_deny_all_for(&ours, "custody/quarantine", "case-1"));
        assert!(!is_deny_all_for(&ours, "custody/quarantine", "case-2"));
        assert_eq!(
            allowed_directions(&ours, &labels(&[("custody/quarantine", "case-1")])),
            None
        );

        let mut widened = ours.clone();
        if let Some(spec) = widened.spec.as_mut() {
            spec.ingress = Some(vec![NetworkPolicyIngressRule::default()]);
        }
        assert!(!is_deny_all_for(&widened, "custody/quarantine", "case-1"));

        let mut ingress_only = ours;
        if let Some(spec) = ingress_only.spec.as_mut() {
            spec.policy_types = Some(vec!["Ingress".to_owned()]);
        }
        assert!(!is_deny_all_for(
            &ingress_only,
            "custody/quarantine",
            "case-1"
        ));
    }
}
