//! What the simulated cluster refuses before it acts, by the same rules as the Kubernetes API
//! server and custody-kube: label syntax, object names, workload kinds and selectors that would
//! widen a case. The shared contract suite (`crates/custody-scenarios/tests/cluster_contract/`)
//! holds both sides to these rules.
//!
//! The label and name syntax is custody-core's (`custody_core::id`), the one custody-kube checks
//! too; this file decides what the simulated cluster refuses and with which error.

use std::collections::BTreeMap;

use custody_core::error::StepError;
use custody_core::id::{check_label_key, check_label_value, is_dns_subdomain};

use crate::errs;

/// The workload kinds whose pod selector the `Cluster` port reads, as Kubernetes names them.
const WORKLOAD_KINDS: [&str; 5] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
];

/// Refuses a label the API server would refuse (422 Invalid).
pub(crate) fn check_label(key: &str, value: &str) -> Result<(), StepError> {
    if check_label_key(key).is_ok() && check_label_value(value).is_ok() {
        Ok(())
    } else {
        Err(errs::invalid(
            "Invalid",
            format!("label {key:?}={value:?} is not a valid Kubernetes label"),
        ))
    }
}

/// Refuses a label selector that is empty (it would select every pod of the namespace and widen
/// the case) or holds a label that is not a label.
pub(crate) fn check_selector(labels: &BTreeMap<String, String>) -> Result<(), StepError> {
    if labels.is_empty() {
        return Err(errs::invalid(
            "Invalid",
            "the pod label selector is empty and would select every pod",
        ));
    }
    labels.iter().try_for_each(|(k, v)| check_label(k, v))
}

/// Refuses an object name that is not a DNS subdomain.
pub(crate) fn check_name(what: &str, name: &str) -> Result<(), StepError> {
    if is_dns_subdomain(name) {
        Ok(())
    } else {
        Err(errs::invalid(
            "Invalid",
            format!("{what} name {name:?} is not a lowercase DNS subdomain"),
        ))
    }
}

/// The Kubernetes kind for a workload kind as a finding writes it: the kind or its resource
/// name, any case, singular or plural (`Deployment`, `deployments`). `None` for a kind without a
/// pod selector the port can read (CronJob, ReplicationController, anything else).
pub(crate) fn workload_kind(kind: &str) -> Option<&'static str> {
    let lower = kind.trim().to_ascii_lowercase();
    let singular = lower.strip_suffix('s').unwrap_or(&lower);
    WORKLOAD_KINDS
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(singular))
}

/// The refusal for a workload kind [`workload_kind`] does not know.
pub(crate) fn unsupported_kind(kind: &str) -> StepError {
    errs::unsupported(
        "UnsupportedWorkloadKind",
        format!(
            "workload kind {kind:?} has no pod selector custody can read (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_as_findings_write_them() {
        assert_eq!(workload_kind("Deployment"), Some("Deployment"));
        assert_eq!(workload_kind("deployments"), Some("Deployment"));
        assert_eq!(workload_kind("JOBS"), Some("Job"));
        assert_eq!(workload_kind("statefulset"), Some("StatefulSet"));
        assert_eq!(workload_kind("CronJob"), None);
        assert_eq!(workload_kind("ReplicationController"), None);
        assert_eq!(workload_kind(""), None);
    }

    #[test]
    fn labels_and_names() {
        assert!(check_label("custody.io/quarantine", "01JD").is_ok());
        assert!(check_label("app", "").is_ok());
        assert!(check_label("bad key!", "x").is_err());
        assert!(check_label("-x.io/a", "x").is_err());
        assert!(check_label("app", "x,team!=payments").is_err());
        assert!(check_selector(&BTreeMap::new()).is_err());
        assert!(check_name("NetworkPolicy", "custody-deny-all-01jd").is_ok());
        assert!(check_name("NetworkPolicy", "custody-deny-all-01JD").is_err());
    }
}
