//! The simulated cluster (custody-sim) under the contract: an empty cluster from
//! `tests/fixtures/worlds/cluster-contract.json`, seeded by changing the world directly.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use custody_core::id::{AccountId, CaseId, ClusterName, Region, Timestamp};
use custody_sim::model::{EksCluster, NetworkPolicy, Node, Pod, Workload, WorldState};
use custody_sim::{SimAccount, World};
use custody_steps::ports::{Cluster, ClusterConnector};
use serde_json::json;

use crate::contract::{ClusterUnderTest, Seed, StoredPolicy, map};

const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-1";
const CLUSTER: &str = "contract";

/// The simulated world and the port it serves.
pub struct SimBackend {
    world: World,
    api: Arc<dyn Cluster>,
}

impl SimBackend {
    /// A world with an empty cluster, connected as the responder.
    pub async fn new() -> SimBackend {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/worlds/cluster-contract.json"
        );
        let json = std::fs::read_to_string(path).unwrap();
        let world = World::from_json(&json).unwrap();
        let account = AccountId::parse(ACCOUNT).unwrap();
        let region = Region::parse(REGION).unwrap();
        let case = CaseId::for_execution(
            Timestamp::parse("2026-11-23T03:07:00Z").unwrap(),
            "exec-contract",
        );
        let (_, api) = SimAccount::new(&world, &account, &region)
            .unwrap()
            .connect(
                &account,
                &region,
                &ClusterName::parse(CLUSTER).unwrap(),
                &case,
            )
            .await
            .unwrap();
        SimBackend { world, api }
    }

    fn read<R>(&self, f: impl FnOnce(&EksCluster) -> R) -> R {
        self.world.inspect(|st| f(cluster(st)))
    }
}

fn cluster(st: &WorldState) -> &EksCluster {
    st.accounts
        .iter()
        .flat_map(|a| &a.clusters)
        .find(|c| c.name.as_str() == CLUSTER)
        .unwrap()
}

/// A model object from the fixture's JSON shape (so the ids go through custody-core's parsers).
fn model<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).unwrap()
}

#[async_trait]
impl ClusterUnderTest for SimBackend {
    fn cluster(&self) -> &dyn Cluster {
        self.api.as_ref()
    }

    async fn seed(&self, seed: &Seed) {
        let nodes: Vec<Node> = seed
            .nodes
            .iter()
            .map(|n| {
                model(json!({
                    "name": n.name,
                    "providerId": n.provider_id,
                    "unschedulable": n.unschedulable,
                }))
            })
            .collect();
        let pods: Vec<Pod> = seed
            .pods
            .iter()
            .map(|p| {
                let containers: Vec<_> = p
                    .container_ids
                    .iter()
                    .enumerate()
                    .map(|(i, id)| json!({"name": format!("c{i}"), "id": id, "hostPid": 4000 + i}))
                    .collect();
                model(json!({
                    "namespace": p.namespace,
                    "name": p.name,
                    "uid": p.uid,
                    "node": p.node,
                    "serviceAccount": p.service_account,
                    "labels": map(p.labels),
                    "containers": containers,
                }))
            })
            .collect();
        let workloads: Vec<Workload> = seed
            .workloads
            .iter()
            .map(|w| {
                model(json!({
                    "namespace": w.namespace,
                    "kind": w.kind,
                    "name": w.name,
                    "selector": map(w.selector),
                }))
            })
            .collect();
        let policies: Vec<NetworkPolicy> = seed
            .policies
            .iter()
            .map(|p| {
                model(json!({
                    "namespace": p.namespace,
                    "name": p.name,
                    "podSelector": map(p.pod_selector),
                    "policyTypes": p.policy_types,
                    "ingressRules": p.ingress_rules,
                    "egressRules": p.egress_rules,
                }))
            })
            .collect();
        self.world.modify(|st| {
            let c = st
                .accounts
                .iter_mut()
                .flat_map(|a| &mut a.clusters)
                .find(|c| c.name.as_str() == CLUSTER)
                .unwrap();
            c.nodes.extend(nodes);
            c.pods.extend(pods);
            c.workloads.extend(workloads);
            c.network_policies.extend(policies);
        });
    }

    async fn stored_pod_labels(
        &self,
        namespace: &str,
        pod: &str,
    ) -> Option<BTreeMap<String, String>> {
        self.read(|c| {
            c.pods
                .iter()
                .find(|p| p.namespace.as_str() == namespace && p.name.as_str() == pod)
                .map(|p| p.labels.clone())
        })
    }

    async fn stored_unschedulable(&self, node: &str) -> Option<bool> {
        self.read(|c| {
            c.nodes
                .iter()
                .find(|n| n.name.as_str() == node)
                .map(|n| n.unschedulable)
        })
    }

    async fn stored_policy(&self, namespace: &str, name: &str) -> Option<StoredPolicy> {
        self.read(|c| {
            c.network_policies
                .iter()
                .find(|p| p.namespace.as_str() == namespace && p.name == name)
                .map(|p| StoredPolicy {
                    pod_selector: p.pod_selector.clone(),
                    policy_types: p.policy_types.iter().cloned().collect::<BTreeSet<_>>(),
                    ingress_rules: p.ingress_rules as usize,
                    egress_rules: p.egress_rules as usize,
                })
        })
    }
}
