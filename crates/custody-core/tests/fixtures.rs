//! Every start-input fixture under `tests/fixtures/` parses to the expected request and
//! round-trips; every hostile input is refused with an error naming the field at fault.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a bad fixture must fail loudly"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use custody_core::id::AccountId;
use custody_core::trigger::{
    CaseRequest, MAX_INPUT_BYTES, RequestSource, TriggerConfig, parse_start, parse_start_bytes,
};
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// The JSON files of a fixture folder, by file name.
fn json_files(folder: &str) -> BTreeMap<String, Vec<u8>> {
    let dir = fixtures().join(folder);
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".json") && name != "expectations.json" {
            files.insert(name, std::fs::read(&path).unwrap());
        }
    }
    files
}

fn cfg() -> TriggerConfig {
    TriggerConfig::default()
}

const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-1";

fn pods(namespace: &str, pods: &[&str]) -> Value {
    json!({"kind": "pods", "account": ACCOUNT, "region": REGION, "cluster": "prod-payments", "namespace": namespace, "pods": pods})
}
fn instance(id: &str) -> Value {
    json!({"kind": "instance", "account": ACCOUNT, "region": REGION, "instanceId": id})
}

/// What each valid fixture must parse to: source kind, isolate, target, finding ids.
fn expected() -> BTreeMap<&'static str, (&'static str, bool, Value, Vec<&'static str>)> {
    let exec = (
        "4ac6a1f2d8e94b7c9a1e6f3b2d5c8e07",
        pods("kube-system", &["aws-node-7xk2p"]),
    );
    let btc = (
        "6e8a0c2e4f6b8d0f2a4c6e8a0b2d4f61",
        pods("payments", &["payments-api-7d9f8b6c5d-x2k4q"]),
    );
    let ssh = (
        "8f0b2d4f6a8c0e2b4d6f8a0c2e4b6d81",
        instance("i-0123456789abcdef0"),
    );
    let privileged = json!({"kind": "workload", "account": ACCOUNT, "region": REGION, "cluster": "prod-payments",
        "namespace": "payments", "workloadKind": "Deployment", "name": "payments-api"});
    let mut m = BTreeMap::new();
    m.insert(
        "securityHubAction:events/securityhub-triage-eks-audit-exec-in-kube-system-pod.json",
        ("securityHubAction", false, exec.1.clone(), vec![exec.0]),
    );
    m.insert(
        "securityHubAction:events/securityhub-isolation-eks-audit-exec-in-kube-system-pod.json",
        ("securityHubAction", true, exec.1.clone(), vec![exec.0]),
    );
    m.insert(
        "securityHubAction:events/securityhub-isolation-eks-audit-privileged-container.json",
        (
            "securityHubAction",
            true,
            privileged.clone(),
            vec!["9d1f3e5a7b2c4d6e8f0a1b3c5d7e9f21"],
        ),
    );
    m.insert(
        "securityHubAction:events/securityhub-triage-eks-runtime-bitcoin-tool.json",
        ("securityHubAction", false, btc.1.clone(), vec![btc.0]),
    );
    m.insert(
        "securityHubAction:events/securityhub-isolation-eks-runtime-bitcoin-tool.json",
        ("securityHubAction", true, btc.1.clone(), vec![btc.0]),
    );
    m.insert(
        "securityHubAction:events/securityhub-triage-ec2-ssh-bruteforce.json",
        ("securityHubAction", false, ssh.1.clone(), vec![ssh.0]),
    );
    m.insert(
        "securityHubAction:events/securityhub-isolation-ec2-ssh-bruteforce.json",
        ("securityHubAction", true, ssh.1.clone(), vec![ssh.0]),
    );
    m.insert(
        "findings/guardduty-eks-exec-in-kube-system-pod.json",
        ("guardDutyFinding", false, exec.1.clone(), vec![exec.0]),
    );
    m.insert(
        "findings/guardduty-eks-privileged-container.json",
        (
            "guardDutyFinding",
            false,
            privileged,
            vec!["9d1f3e5a7b2c4d6e8f0a1b3c5d7e9f21"],
        ),
    );
    m.insert(
        "findings/guardduty-eks-malicious-ip-caller.json",
        (
            "guardDutyFinding",
            false,
            json!({"kind": "serviceAccount", "account": ACCOUNT, "region": REGION, "cluster": "prod-payments", "namespace": "payments", "name": "payments-worker"}),
            vec!["2b4d6f8a0c1e3a5c7e9b1d3f5a7c9e0b"],
        ),
    );
    m.insert(
        "findings/guardduty-runtime-bitcoin-tool.json",
        ("guardDutyFinding", false, btc.1.clone(), vec![btc.0]),
    );
    m.insert(
        "findings/guardduty-ec2-ssh-bruteforce.json",
        ("guardDutyFinding", false, ssh.1.clone(), vec![ssh.0]),
    );
    m.insert(
        "findings/siem-request-guardduty-runtime-container.json",
        (
            "guardDutyFinding",
            true,
            pods("payments", &["payments-worker-5c8d7b9f4-tq7lp"]),
            vec!["7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d72"],
        ),
    );
    m.insert(
        "findings/siem-request-asff-ec2-ssh-bruteforce.json",
        ("asffFinding", false, ssh.1.clone(), vec![ssh.0]),
    );
    m.insert(
        "findings/asff-findings-malicious-ip-caller-node.json",
        (
            "asffFinding",
            false,
            json!({"kind": "node", "account": ACCOUNT, "region": REGION, "cluster": "prod-payments", "node": "ip-10-0-1-57.ec2.internal"}),
            vec!["2b4d6f8a0c1e3a5c7e9b1d3f5a7c9e0b"],
        ),
    );
    m.insert(
        "findings/asff-findings-two-pods.json",
        (
            "asffFinding",
            true,
            pods(
                "payments",
                &[
                    "payments-api-7d9f8b6c5d-x2k4q",
                    "payments-api-7d9f8b6c5d-m8n3z",
                ],
            ),
            vec![btc.0, "0c2e4a6c8e0a2c4e6a8c0e2a4c6e8a93"],
        ),
    );
    m.insert(
        "findings/asff-single-ec2-ssh-bruteforce.json",
        ("asffFinding", false, ssh.1.clone(), vec![ssh.0]),
    );
    m.insert(
        "findings/plain-request-pods.json",
        (
            "plainRequest",
            false,
            pods(
                "payments",
                &[
                    "payments-api-7d9f8b6c5d-x2k4q",
                    "payments-api-7d9f8b6c5d-m8n3z",
                ],
            ),
            vec![],
        ),
    );
    m.insert(
        "findings/plain-request-node.json",
        ("plainRequest", true, json!({"kind": "node", "account": ACCOUNT, "region": REGION, "cluster": "prod-payments", "node": "ip-10-0-2-88.ec2.internal"}), vec![]),
    );
    m.insert(
        "findings/plain-request-instance.json",
        ("plainRequest", false, ssh.1, vec![]),
    );
    m
}

fn parse_fixture(folder: &str, name: &str, bytes: &[u8]) -> CaseRequest {
    parse_start_bytes(bytes, &cfg()).unwrap_or_else(|e| panic!("{folder}/{name}: {e}"))
}

#[test]
fn every_fixture_parses_to_its_expected_request_and_round_trips() {
    let expected = expected();
    let mut seen = 0;
    for folder in ["events", "findings"] {
        for (name, bytes) in json_files(folder) {
            let key = format!("{folder}/{name}");
            let lookup = if folder == "events" {
                format!("securityHubAction:{key}")
            } else {
                key.clone()
            };
            let (source, isolate, target, ids) = expected
                .get(lookup.as_str())
                .unwrap_or_else(|| panic!("{key} has no expectation in this test"));
            let request = parse_fixture(folder, &name, &bytes);

            let as_json = serde_json::to_value(&request).unwrap();
            assert_eq!(as_json["source"]["kind"], *source, "{key}");
            assert_eq!(request.intent.isolate, *isolate, "{key}");
            assert_eq!(as_json["target"], *target, "{key}");
            let found: Vec<&str> = request.findings.iter().map(|f| f.id.as_str()).collect();
            assert_eq!(found, *ids, "{key}");
            for f in &request.findings {
                assert!(
                    !f.id.starts_with("arn:"),
                    "{key}: finding id must be the finding's, not an ARN"
                );
                assert!(
                    f.asff_id.as_deref().is_some_and(|a| a.ends_with(&f.id)),
                    "{key}: {f:?}"
                );
            }

            // parse -> serialise -> re-parse gives the same request.
            let text = serde_json::to_string(&request).unwrap();
            let again: CaseRequest = serde_json::from_str(&text).unwrap();
            assert_eq!(again, request, "{key}");
            // Parsing the fixture twice is deterministic.
            assert_eq!(parse_fixture(folder, &name, &bytes), request, "{key}");
            seen += 1;
        }
    }
    assert_eq!(seen, expected.len(), "every expectation has a fixture");
}

#[test]
fn custom_action_events_record_the_action_and_the_finding_refs() {
    let bytes = std::fs::read(
        fixtures().join("events/securityhub-isolation-eks-runtime-bitcoin-tool.json"),
    )
    .unwrap();
    let request = parse_start_bytes(&bytes, &cfg()).unwrap();
    let RequestSource::SecurityHubAction { action_arn } = &request.source else {
        panic!("{:?}", request.source)
    };
    assert_eq!(action_arn.resource_name(), "ForensicIsolation");
    let f = &request.findings[0];
    assert_eq!(f.product, "GuardDuty");
    assert_eq!(
        f.finding_type,
        "TTPs/Impact/CryptoCurrency:Runtime-BitcoinTool.B"
    );
    assert_eq!(f.severity, Some(8.0));
    assert_eq!(
        f.product_arn.as_deref(),
        Some("arn:aws:securityhub:us-east-1::product/aws/guardduty")
    );
    assert_eq!(f.account.as_str(), ACCOUNT);
}

#[test]
fn native_guardduty_findings_keep_type_severity_and_security_hub_ids() {
    let bytes =
        std::fs::read(fixtures().join("findings/guardduty-ec2-ssh-bruteforce.json")).unwrap();
    let request = parse_start_bytes(&bytes, &cfg()).unwrap();
    let f = &request.findings[0];
    assert_eq!(f.finding_type, "UnauthorizedAccess:EC2/SSHBruteForce");
    assert_eq!(f.severity, Some(2.0));
    assert_eq!(
        f.asff_id.as_deref(),
        Some(
            "arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0/finding/8f0b2d4f6a8c0e2b4d6f8a0c2e4b6d81"
        )
    );
    assert_eq!(
        f.product_arn.as_deref(),
        Some("arn:aws:securityhub:us-east-1::product/aws/guardduty")
    );
    assert!(matches!(
        request.requested_by,
        custody_core::trigger::Requester::Automation { .. }
    ));
}

#[test]
fn every_hostile_input_is_refused_at_its_field() {
    let manifest: BTreeMap<String, String> = serde_json::from_slice(
        &std::fs::read(fixtures().join("hostile/expectations.json")).unwrap(),
    )
    .unwrap();
    let files = json_files("hostile");
    let listed: Vec<&String> = manifest.keys().collect();
    let present: Vec<&String> = files.keys().collect();
    assert_eq!(
        listed, present,
        "hostile/expectations.json must list exactly the hostile files"
    );
    for (name, bytes) in &files {
        let want = &manifest[name];
        let err = match parse_start_bytes(bytes, &cfg()) {
            Ok(request) => panic!("hostile/{name} was accepted: {request:?}"),
            Err(err) => err,
        };
        assert!(
            err.path.contains(want.as_str()),
            "hostile/{name}: error at {:?}, expected a path containing {want:?}: {err}",
            err.path
        );
        let text = err.to_string();
        assert!(
            !text.contains('\n') && !text.contains('\u{1b}'),
            "hostile/{name}: error text is not one safe line: {text:?}"
        );
    }
}

/// A custom action event padded to 300 KiB (generated here rather than committed).
#[test]
fn a_300_kib_event_is_refused_before_parsing() {
    let bytes = std::fs::read(fixtures().join("events/securityhub-triage-ec2-ssh-bruteforce.json"))
        .unwrap();
    let mut event: Value = serde_json::from_slice(&bytes).unwrap();
    event["detail"]["findings"][0]["Description"] = Value::String("A".repeat(300 * 1024));
    let big = serde_json::to_vec(&event).unwrap();
    assert!(big.len() > MAX_INPUT_BYTES);
    let err = parse_start_bytes(&big, &cfg()).unwrap_err();
    assert_eq!(err.path, "$");
    assert!(err.reason.contains(&big.len().to_string()), "{err}");
    // The same event handed over already parsed is refused too.
    assert_eq!(parse_start(&event, &cfg()).unwrap_err().path, "$");
}

#[test]
fn custom_action_ids_and_the_security_hub_account_are_configuration() {
    let bytes = std::fs::read(fixtures().join("events/securityhub-triage-ec2-ssh-bruteforce.json"))
        .unwrap();
    let renamed = TriggerConfig {
        triage_action_id: "Triage".to_owned(),
        ..TriggerConfig::default()
    };
    let err = parse_start_bytes(&bytes, &renamed).unwrap_err();
    assert_eq!(err.path, "$.resources[0]");
    assert!(err.reason.contains("\"ForensicTriage\""), "{err}");

    let admin_only = TriggerConfig {
        securityhub_account: Some(AccountId::parse("444455556666").unwrap()),
        ..TriggerConfig::default()
    };
    let err = parse_start_bytes(&bytes, &admin_only).unwrap_err();
    assert_eq!(err.path, "$.account");

    let same = TriggerConfig {
        securityhub_account: Some(AccountId::parse(ACCOUNT).unwrap()),
        ..TriggerConfig::default()
    };
    assert!(parse_start_bytes(&bytes, &same).is_ok());
}

#[test]
fn findings_are_chosen_by_resource_type_not_position() {
    // The runtime finding lists Container, then AwsEc2Instance, then AwsEksCluster.
    let bytes =
        std::fs::read(fixtures().join("events/securityhub-triage-eks-runtime-bitcoin-tool.json"))
            .unwrap();
    let event: Value = serde_json::from_slice(&bytes).unwrap();
    let types: Vec<&str> = event["detail"]["findings"][0]["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Container", "AwsEc2Instance", "AwsEksCluster"]);
    let request = parse_start(&event, &cfg()).unwrap();
    assert_eq!(
        request.target.cluster().map(|c| c.as_str()),
        Some("prod-payments")
    );
}
