//! Matching the case's pods to the host's containers and PIDs: pure, so it is tested directly.
//!
//! The host's listing is untrusted (the node is the compromised machine): containers are matched
//! by the container ids the Kubernetes API reports for each pod, and the listing's pod labels are
//! only cross-checked. A container the API names but the host does not list is reported missing;
//! a listing whose labels disagree with the API is reported as a conflict, never silently trusted.

use custody_core::id::ContainerId;
use custody_core::inventory::PodFacts;
use serde::{Deserialize, Serialize};

/// The map-pods document's JSON (ssm-documents/README.md), as much of it as custody reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerListing {
    /// The host's own name for itself.
    #[serde(default)]
    pub hostname: Option<String>,
    /// When the host collected it.
    #[serde(default)]
    pub collected_at: Option<String>,
    /// Every container the runtime knows.
    pub containers: Vec<HostContainer>,
}

impl ContainerListing {
    /// Reads the map-pods document's `podmap` object: `crictl_ps` (the output of
    /// `crictl ps -o json`) joined by container id with `containers` (each container's host `pid`
    /// from `crictl inspect`). A flat `{"containers": [...]}` listing is accepted as well.
    pub fn from_podmap(bytes: &[u8]) -> Result<ContainerListing, serde_json::Error> {
        #[derive(Deserialize)]
        struct Podmap {
            #[serde(default)]
            node_hostname: Option<String>,
            #[serde(default)]
            collected_at: Option<String>,
            crictl_ps: CrictlPs,
            #[serde(default)]
            containers: Vec<Inspected>,
        }
        #[derive(Deserialize)]
        struct CrictlPs {
            #[serde(default)]
            containers: Vec<HostContainer>,
        }
        #[derive(Deserialize)]
        struct Inspected {
            id: String,
            #[serde(default)]
            pid: Option<u32>,
        }
        let value: serde_json::Value = serde_json::from_slice(bytes)?;
        if value.get("crictl_ps").is_none() {
            return serde_json::from_value(value);
        }
        let podmap: Podmap = serde_json::from_value(value)?;
        let containers = podmap
            .crictl_ps
            .containers
            .into_iter()
            .map(|mut c| {
                if c.pid.is_none() {
                    c.pid = podmap
                        .containers
                        .iter()
                        .find(|i| i.id == c.id)
                        .and_then(|i| i.pid);
                }
                c
            })
            .collect();
        Ok(ContainerListing {
            hostname: podmap.node_hostname,
            collected_at: podmap.collected_at,
            containers,
        })
    }
}

/// One container as the host reports it, normalised from either a flat object or the shape
/// `crictl ps -o json` + `crictl inspect` produce (`metadata.name`, `image.image`, `labels`
/// with `io.kubernetes.pod.*`, `info.pid`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RawContainer")]
pub struct HostContainer {
    /// Full 64-hex container id.
    pub id: String,
    /// Container name.
    pub name: Option<String>,
    /// Pod name label (`io.kubernetes.pod.name`).
    pub pod_name: Option<String>,
    /// Pod namespace label.
    pub pod_namespace: Option<String>,
    /// Pod UID label.
    pub pod_uid: Option<String>,
    /// Host PID of the container's init process (absent for exited containers).
    pub pid: Option<u32>,
    /// Runtime state (`CONTAINER_RUNNING`, …).
    pub state: Option<String>,
    /// Image reference.
    pub image: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContainer {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
    #[serde(default)]
    image: Option<serde_json::Value>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pid: Option<u32>,
    #[serde(default)]
    info: Option<serde_json::Value>,
    #[serde(default)]
    pod_name: Option<String>,
    #[serde(default)]
    pod_namespace: Option<String>,
    #[serde(default)]
    pod_uid: Option<String>,
}

impl From<RawContainer> for HostContainer {
    fn from(raw: RawContainer) -> Self {
        let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
        let label = |key: &str| raw.labels.get(key).cloned();
        HostContainer {
            name: raw
                .name
                .clone()
                .or_else(|| text(raw.metadata.as_ref().and_then(|m| m.get("name"))))
                .or_else(|| label("io.kubernetes.container.name")),
            pod_name: raw
                .pod_name
                .clone()
                .or_else(|| label("io.kubernetes.pod.name")),
            pod_namespace: raw
                .pod_namespace
                .clone()
                .or_else(|| label("io.kubernetes.pod.namespace")),
            pod_uid: raw
                .pod_uid
                .clone()
                .or_else(|| label("io.kubernetes.pod.uid")),
            pid: raw.pid.or_else(|| {
                raw.info
                    .as_ref()
                    .and_then(|i| i.get("pid"))
                    .and_then(serde_json::Value::as_u64)
                    .and_then(|p| u32::try_from(p).ok())
            }),
            state: raw.state.clone(),
            image: match &raw.image {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(v) => text(v.get("image")),
                None => None,
            },
            id: raw.id,
        }
    }
}

/// One matched container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MappedContainer {
    /// The container id.
    pub container_id: String,
    /// Its name.
    pub name: Option<String>,
    /// Host PID.
    pub pid: Option<u32>,
    /// Runtime state.
    pub state: Option<String>,
    /// Image.
    pub image: Option<String>,
}

/// One case pod with its containers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MappedPod {
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Pod UID.
    pub uid: Option<String>,
    /// Containers found on the host.
    pub containers: Vec<MappedContainer>,
    /// Container ids the API lists that the host does not.
    pub missing: Vec<String>,
    /// Disagreements between the host's labels and the API.
    pub conflicts: Vec<String>,
}

/// The pod-to-PID map of one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodPidMap {
    /// The pods.
    pub pods: Vec<MappedPod>,
    /// Containers on the host that belong to none of the case's pods (count only).
    pub other_containers: usize,
}

/// Matches `pods` (from the Kubernetes API) against the host's listing.
pub fn match_pods(pods: &[PodFacts], listing: &ContainerListing) -> PodPidMap {
    let mut used = 0usize;
    let mapped = pods
        .iter()
        .map(|pod| {
            let mut containers = Vec::new();
            let mut missing = Vec::new();
            let mut conflicts = Vec::new();
            for id in &pod.container_ids {
                match listing.containers.iter().find(|c| c.id == id.as_str()) {
                    Some(host) => {
                        used += 1;
                        check_labels(pod, id, host, &mut conflicts);
                        containers.push(MappedContainer {
                            container_id: host.id.clone(),
                            name: host.name.clone(),
                            pid: host.pid,
                            state: host.state.clone(),
                            image: host.image.clone(),
                        });
                    }
                    None => missing.push(id.to_string()),
                }
            }
            // Containers the host attributes to this pod's UID that the API did not list (a
            // restarted container, or an attacker's sidecar): reported, never dropped.
            if let Some(uid) = &pod.uid {
                for host in listing
                    .containers
                    .iter()
                    .filter(|c| c.pod_uid.as_deref() == Some(uid.as_str()))
                {
                    if !pod.container_ids.iter().any(|id| id.as_str() == host.id) {
                        conflicts.push(format!(
                            "host lists container {:?} under this pod's UID, the API does not",
                            host.id
                        ));
                    }
                }
            }
            MappedPod {
                namespace: pod.namespace.to_string(),
                pod: pod.name.to_string(),
                uid: pod.uid.clone(),
                containers,
                missing,
                conflicts,
            }
        })
        .collect();
    PodPidMap {
        pods: mapped,
        other_containers: listing.containers.len().saturating_sub(used),
    }
}

fn check_labels(
    pod: &PodFacts,
    id: &ContainerId,
    host: &HostContainer,
    conflicts: &mut Vec<String>,
) {
    if let Some(name) = &host.pod_name
        && name != pod.name.as_str()
    {
        conflicts.push(format!("container {id}: host says pod {name:?}"));
    }
    if let Some(ns) = &host.pod_namespace
        && ns != pod.namespace.as_str()
    {
        conflicts.push(format!("container {id}: host says namespace {ns:?}"));
    }
    if let (Some(uid), Some(expected)) = (&host.pod_uid, &pod.uid)
        && uid != expected
    {
        conflicts.push(format!("container {id}: host says pod UID {uid:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const C2: &str = "2222222222222222222222222222222222222222222222222222222222222222";
    const C3: &str = "3333333333333333333333333333333333333333333333333333333333333333";

    fn listing() -> ContainerListing {
        serde_json::from_value(serde_json::json!({
            "containers": [
                {"id": C1, "metadata": {"name": "api"}, "image": {"image": "payments:1"}, "state": "CONTAINER_RUNNING",
                 "labels": {"io.kubernetes.pod.name": "api-1", "io.kubernetes.pod.namespace": "payments", "io.kubernetes.pod.uid": "uid-1"},
                 "info": {"pid": 4242}},
                {"id": C3, "name": "sidecar", "podName": "api-1", "podNamespace": "payments", "podUid": "uid-1", "pid": 4343},
                {"id": C2, "name": "other", "podName": "api-2", "podNamespace": "payments", "pid": 99}
            ]
        }))
        .unwrap()
    }

    fn pod(uid: &str, containers: &[&str]) -> PodFacts {
        serde_json::from_value(serde_json::json!({
            "namespace": "payments", "name": "api-1", "uid": uid,
            "node": "ip-10-0-1-23.ec2.internal", "serviceAccount": "api",
            "labels": {}, "containerIds": containers,
        }))
        .unwrap()
    }

    #[test]
    fn maps_pods_to_pids_by_container_id() {
        let map = match_pods(&[pod("uid-1", &[C1])], &listing());
        let p = &map.pods[0];
        assert_eq!(p.containers.len(), 1);
        assert_eq!(p.containers[0].pid, Some(4242));
        assert_eq!(p.containers[0].name.as_deref(), Some("api"));
        assert_eq!(p.containers[0].image.as_deref(), Some("payments:1"));
        // The host lists a second container under the pod's UID that the API does not know.
        assert_eq!(p.conflicts.len(), 1, "{:?}", p.conflicts);
        assert_eq!(map.other_containers, 2);
    }

    #[test]
    fn reads_the_map_pods_document_output() {
        let podmap = serde_json::json!({
            "document": "custody-map-pods", "format": 1, "node_hostname": "ip-10-0-1-23",
            "collected_at": "2026-11-23T09:00:00Z",
            "crictl_ps": {"containers": [
                {"id": C1, "podSandboxId": "s", "metadata": {"name": "api", "attempt": 0}, "image": {"image": "payments:1"},
                 "state": "CONTAINER_RUNNING", "labels": {"io.kubernetes.pod.name": "api-1", "io.kubernetes.pod.namespace": "payments", "io.kubernetes.pod.uid": "uid-1"}}
            ]},
            "containers": [{"id": C1, "pid": 4242, "uts_hostname": "api-1", "error": null, "inspect": {"info": {"pid": 4242}}}]
        });
        let listing = ContainerListing::from_podmap(podmap.to_string().as_bytes()).unwrap();
        assert_eq!(listing.hostname.as_deref(), Some("ip-10-0-1-23"));
        assert_eq!(listing.containers[0].pid, Some(4242));
        assert_eq!(listing.containers[0].pod_uid.as_deref(), Some("uid-1"));
        let map = match_pods(&[pod("uid-1", &[C1])], &listing);
        assert_eq!(map.pods[0].containers[0].pid, Some(4242));
    }

    #[test]
    fn missing_containers_and_label_disagreements_are_reported() {
        let map = match_pods(&[pod("uid-9", &[C2, "4".repeat(64).as_str()])], &listing());
        let p = &map.pods[0];
        assert_eq!(p.missing, vec!["4".repeat(64)]);
        assert!(
            p.conflicts.iter().any(|c| c.contains("api-2")),
            "{:?}",
            p.conflicts
        );
    }
}
