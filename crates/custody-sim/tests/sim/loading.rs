//! World fixtures load; bad ones are refused with the JSON path of the problem.

use custody_sim::{World, WorldError};
use serde_json::json;

use super::common::{fixture_text, patched, world};

#[test]
fn every_fixture_loads() {
    for name in [
        "eks-three-nodes.json",
        "eks-agent-offline.json",
        "eks-protected-cluster.json",
        "ec2-single.json",
        "ec2-protected-instance.json",
    ] {
        let w = World::from_json(&fixture_text(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(w.now().to_string(), "2026-11-23T03:07:00Z", "{name}");
    }
}

#[test]
fn three_node_world_has_the_names_the_events_use() {
    let w = world("eks-three-nodes.json");
    w.inspect(|st| {
        let target = st
            .accounts
            .iter()
            .find(|a| a.id.as_str() == "111122223333")
            .unwrap();
        let c = &target.clusters[0];
        assert_eq!(c.name.as_str(), "prod-payments");
        assert_eq!(c.nodes.len(), 3);
        assert_eq!(c.nodes[0].name.as_str(), "ip-10-0-1-23.ec2.internal");
        let compromised: Vec<_> = c
            .pods
            .iter()
            .filter(|p| p.labels.get("app").map(String::as_str) == Some("payments-api"))
            .collect();
        assert_eq!(compromised.len(), 2);
        assert_ne!(compromised[0].node, compromised[1].node);
    });
}

fn refused(json: &str) -> (String, String) {
    match World::from_json(json) {
        Err(e @ (WorldError::Parse { .. } | WorldError::Invalid { .. })) => {
            (e.path().unwrap().to_string(), e.to_string())
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("world was accepted"),
    }
}

#[test]
fn an_unknown_field_is_refused_with_its_path() {
    let json = patched("eks-three-nodes.json", |v| {
        v["accounts"][1]["instances"][0]["colour"] = json!("blue");
    });
    let (path, msg) = refused(&json);
    assert_eq!(path, "$.accounts[1].instances[0].colour", "{msg}");
    assert!(msg.contains("unknown field"), "{msg}");
}

#[test]
fn an_invalid_id_is_refused_by_the_core_type_with_its_path() {
    let json = patched("eks-three-nodes.json", |v| {
        v["accounts"][1]["instances"][2]["id"] = json!("i-NOTHEX; rm -rf /");
    });
    let (path, msg) = refused(&json);
    assert_eq!(path, "$.accounts[1].instances[2].id", "{msg}");
}

#[test]
fn a_hostile_pod_name_is_refused() {
    let json = patched("eks-three-nodes.json", |v| {
        v["accounts"][1]["clusters"][0]["pods"][0]["name"] = json!("$(curl evil)");
    });
    let (path, _) = refused(&json);
    assert_eq!(path, "$.accounts[1].clusters[0].pods[0].name");
}

#[test]
fn dangling_references_are_refused_with_their_path() {
    type Patch = Box<dyn FnOnce(&mut serde_json::Value)>;
    let cases: Vec<(Patch, &str)> = vec![
        (
            Box::new(|v| {
                v["accounts"][1]["instances"][0]["networkInterfaces"][0]["subnetId"] =
                    json!("subnet-0123456789abcdef9")
            }),
            "$.accounts[1].instances[0].networkInterfaces[0].subnetId",
        ),
        (
            Box::new(|v| {
                v["accounts"][1]["instances"][0]["networkInterfaces"][0]["securityGroups"][1] =
                    json!("sg-0123456789abcdef9")
            }),
            "$.accounts[1].instances[0].networkInterfaces[0].securityGroups[1]",
        ),
        (
            Box::new(|v| {
                v["accounts"][1]["clusters"][0]["nodes"][2]["providerId"] =
                    json!("aws:///us-east-1b/i-0123456789abcdef9")
            }),
            "$.accounts[1].clusters[0].nodes[2].providerId",
        ),
        (
            Box::new(|v| {
                v["accounts"][1]["clusters"][0]["pods"][1]["node"] =
                    json!("ip-10-9-9-9.ec2.internal")
            }),
            "$.accounts[1].clusters[0].pods[1].node",
        ),
        (
            Box::new(|v| v["settings"]["forensicAccount"] = json!("999999999999")),
            "$.settings.forensicAccount",
        ),
        (
            Box::new(|v| {
                v["faults"] =
                    json!([{"kind": "throttle", "operation": "fly_to_the_moon", "times": 1}])
            }),
            "$.faults[0].operation",
        ),
        (
            Box::new(|v| {
                v["faults"] = json!([{"kind": "agentOffline", "instanceId": "i-0123456789abcdef9"}])
            }),
            "$.faults[0].instanceId",
        ),
    ];
    for (patch, want) in cases {
        let (path, msg) = refused(&patched("eks-three-nodes.json", patch));
        assert_eq!(path, want, "{msg}");
    }
}

#[test]
fn trailing_garbage_and_wrong_types_are_refused() {
    let mut text = fixture_text("ec2-single.json");
    text.push_str("{}");
    assert!(World::from_json(&text).is_err());
    let json = patched("ec2-single.json", |v| {
        v["accounts"][1]["instances"][0]["memoryGib"] = json!("lots")
    });
    let (path, _) = refused(&json);
    assert_eq!(path, "$.accounts[1].instances[0].memoryGib");
}

#[test]
fn the_latency_model_can_be_overridden_but_not_misspelt() {
    let ok = patched("ec2-single.json", |v| {
        v["latency"] = json!({"snapshotSecondsPerGib": 1.0})
    });
    let w = World::from_json(&ok).unwrap();
    assert_eq!(w.inspect(|s| s.latency.snapshot_seconds_per_gib), 1.0);
    assert_eq!(w.inspect(|s| s.latency.api_call_ms), 80);
    let bad = patched("ec2-single.json", |v| {
        v["latency"] = json!({"snapshotSecondsPerGiB": 1.0})
    });
    let (path, _) = refused(&bad);
    assert_eq!(path, "$.latency.snapshotSecondsPerGiB");
}
