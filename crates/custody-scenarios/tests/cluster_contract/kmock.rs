//! custody-kube's `KubeCluster` under the contract, talking HTTP to kmock's KubernetesEmulator
//! on loopback.
//!
//! kmock is a stateful in-memory API server: it stores what is created and merges patches
//! (`null` deletes a key), but it ignores label and field selectors, fills in no defaults and
//! validates nothing (TOOLING.md §3). So the scenarios assert on stored objects read back here,
//! and the selector scenarios exercise `KubeCluster`'s client-side re-check of every listed pod.
//!
//! Each test starts its own server (one Python process, ready in about a second), so tests share
//! no state; the process is killed when the backend is dropped. kmock is required: when it is
//! missing the test FAILS naming the fix (`scripts/bootstrap`), it is never skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use custody_kube::KubeCluster;
use custody_steps::ports::Cluster;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::contract::{ClusterUnderTest, Seed, StoredPolicy, map};

/// How long kmock may take to start before the test fails (it is ready in about a second; the
/// margin is for a loaded 2-core machine running tests in parallel).
const READY_DEADLINE: Duration = Duration::from_secs(60);

/// A running KubernetesEmulator and a `KubeCluster` talking to it.
pub struct KmockBackend {
    /// Killed on drop (`kill_on_drop`).
    _server: Child,
    client: kube::Client,
    cluster: KubeCluster,
}

/// The Python of `$CUSTODY_PYTHON` or the repository's `.venv`.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("CUSTODY_PYTHON") {
        return PathBuf::from(python);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
}

impl KmockBackend {
    /// Starts kmock on a free loopback port and waits (with a deadline) for it to listen.
    pub async fn start() -> KmockBackend {
        let python = python();
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cluster_contract/kmock_server.py");
        let mut server = Command::new(&python)
            .arg(&script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {python:?}: {e}; run scripts/bootstrap to make .venv")
            });
        let stdout = server.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let url = match tokio::time::timeout(READY_DEADLINE, lines.next_line()).await {
            Ok(Ok(Some(line))) if line.starts_with("listening ") => {
                line["listening ".len()..].trim().to_owned()
            }
            outcome => {
                let _ = server.start_kill();
                let mut stderr = String::new();
                if let Some(mut err) = server.stderr.take() {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(5),
                        err.read_to_string(&mut stderr),
                    )
                    .await;
                }
                panic!(
                    "kmock ({python:?} {script:?}) did not start within {READY_DEADLINE:?} \
                     ({outcome:?}); is kmock installed (scripts/bootstrap, tests/requirements.txt)? \
                     stderr:\n{stderr}"
                );
            }
        };
        let config = kube::Config::new(url.parse().unwrap());
        let client = kube::Client::try_from(config).unwrap();
        KmockBackend {
            _server: server,
            cluster: KubeCluster::new(client.clone()),
            client,
        }
    }

    async fn create<K>(&self, api: Api<K>, object: Value)
    where
        K: kube::Resource
            + Clone
            + serde::de::DeserializeOwned
            + serde::Serialize
            + std::fmt::Debug,
    {
        let typed: K = serde_json::from_value(object).unwrap();
        api.create(&PostParams::default(), &typed).await.unwrap();
    }
}

fn rules(n: usize) -> Vec<Value> {
    vec![json!({}); n]
}

#[async_trait]
impl ClusterUnderTest for KmockBackend {
    fn cluster(&self) -> &dyn Cluster {
        &self.cluster
    }

    async fn seed(&self, seed: &Seed) {
        let c = &self.client;
        for n in &seed.nodes {
            let node = json!({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": n.name},
                "spec": {"providerID": n.provider_id, "unschedulable": n.unschedulable},
            });
            self.create(Api::<Node>::all(c.clone()), node).await;
        }
        for p in &seed.pods {
            let statuses: Vec<Value> = p
                .container_ids
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    json!({
                        "name": format!("c{i}"), "image": "registry.example/app:1",
                        "imageID": "", "ready": true, "restartCount": 0,
                        "containerID": format!("containerd://{id}"),
                    })
                })
                .collect();
            let pod = json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {
                    "name": p.name, "namespace": p.namespace, "uid": p.uid,
                    "labels": map(p.labels),
                },
                "spec": {
                    "nodeName": p.node, "serviceAccountName": p.service_account,
                    "containers": [{"name": "c0", "image": "registry.example/app:1"}],
                },
                "status": {"phase": "Running", "containerStatuses": statuses},
            });
            self.create(Api::<Pod>::namespaced(c.clone(), p.namespace), pod)
                .await;
        }
        for w in &seed.workloads {
            let api_version = if w.kind == "Job" {
                "batch/v1"
            } else {
                "apps/v1"
            };
            let object = json!({
                "apiVersion": api_version, "kind": w.kind,
                "metadata": {"name": w.name, "namespace": w.namespace},
                "spec": {
                    "selector": {"matchLabels": map(w.selector)},
                    "serviceName": w.name,
                    "template": {"metadata": {"labels": map(w.selector)}},
                },
            });
            let ns = w.namespace;
            match w.kind {
                "Deployment" => {
                    self.create(Api::<Deployment>::namespaced(c.clone(), ns), object)
                        .await;
                }
                "StatefulSet" => {
                    self.create(Api::<StatefulSet>::namespaced(c.clone(), ns), object)
                        .await;
                }
                "DaemonSet" => {
                    self.create(Api::<DaemonSet>::namespaced(c.clone(), ns), object)
                        .await;
                }
                "ReplicaSet" => {
                    self.create(Api::<ReplicaSet>::namespaced(c.clone(), ns), object)
                        .await;
                }
                "Job" => {
                    self.create(Api::<Job>::namespaced(c.clone(), ns), object)
                        .await;
                }
                other => panic!("no seeding for workload kind {other:?}"),
            }
        }
        for p in &seed.policies {
            let mut spec = json!({
                "podSelector": {"matchLabels": map(p.pod_selector)},
                "ingress": rules(p.ingress_rules),
                "egress": rules(p.egress_rules),
            });
            if !p.policy_types.is_empty() {
                spec["policyTypes"] = json!(p.policy_types);
            }
            let policy = json!({
                "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": p.name, "namespace": p.namespace},
                "spec": spec,
            });
            self.create(
                Api::<NetworkPolicy>::namespaced(c.clone(), p.namespace),
                policy,
            )
            .await;
        }
    }

    async fn stored_pod_labels(
        &self,
        namespace: &str,
        pod: &str,
    ) -> Option<BTreeMap<String, String>> {
        Api::<Pod>::namespaced(self.client.clone(), namespace)
            .get_opt(pod)
            .await
            .unwrap()
            .map(|p| p.metadata.labels.unwrap_or_default())
    }

    async fn stored_unschedulable(&self, node: &str) -> Option<bool> {
        Api::<Node>::all(self.client.clone())
            .get_opt(node)
            .await
            .unwrap()
            .map(|n| n.spec.and_then(|s| s.unschedulable).unwrap_or(false))
    }

    async fn stored_policy(&self, namespace: &str, name: &str) -> Option<StoredPolicy> {
        let policy = Api::<NetworkPolicy>::namespaced(self.client.clone(), namespace)
            .get_opt(name)
            .await
            .unwrap()?;
        let spec = policy.spec.unwrap_or_default();
        Some(StoredPolicy {
            pod_selector: spec
                .pod_selector
                .and_then(|s| s.match_labels)
                .unwrap_or_default(),
            policy_types: spec
                .policy_types
                .unwrap_or_default()
                .into_iter()
                .collect::<BTreeSet<_>>(),
            ingress_rules: spec.ingress.map_or(0, |r| r.len()),
            egress_rules: spec.egress.map_or(0, |r| r.len()),
        })
    }
}
