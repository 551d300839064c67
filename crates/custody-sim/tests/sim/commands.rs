//! Simulated documents: memory capture (LiME and AVML), pod map, agent status, command failures.

use std::collections::BTreeMap;
use std::time::Duration;

use custody_core::error::ErrorName;
use custody_core::id::{CaseId, InstanceId, Sha256Digest, Timestamp};
use custody_sim::{SimAccount, World};
use custody_steps::ports::{
    Bucket, CommandRequest, CommandStatus, EvidenceStore, NodeCommands, UploadedPart, etag_unquoted,
};
use serde_json::Value;

use super::common::{forensic, patched, target, world};

const PART: u64 = 100 * 1024 * 1024;
const GIB: u64 = 1024 * 1024 * 1024;

fn case() -> CaseId {
    CaseId::for_execution(
        Timestamp::parse("2026-11-23T03:07:00Z").unwrap(),
        "exec-commands",
    )
}

struct Capture {
    key: String,
    upload_id: String,
    report_key: String,
    report_upload: String,
    request: CommandRequest,
}

/// A manifest in the documents' format (ssm-documents/scripts/common.sh, `load_manifest`).
async fn manifest(
    f: &SimAccount,
    document: &str,
    instance: &str,
    gets: &[(&str, Bucket, String)],
    outputs: &[(&str, &custody_steps::ports::UploadTicket)],
) -> String {
    let c = case();
    let mut m = format!(
        "custody-manifest 1\ndocument={document}\ncase_id={c}\ninstance_id={instance}\npart_size={PART}\n"
    );
    for (name, bucket, key) in gets {
        let sha = f
            .head_object(*bucket, key)
            .await
            .unwrap()
            .and_then(|o| o.sha256)
            .map(|d| d.to_string());
        let url = f.presign_get(*bucket, key, 3600).await.unwrap();
        m.push_str(&format!(
            "get {name} {} {url}\n",
            sha.unwrap_or_else(|| "0".repeat(64))
        ));
    }
    for (name, ticket) in outputs {
        for (n, url) in ticket.part_urls.iter().enumerate() {
            m.push_str(&format!("part {name} {} {url}\n", n + 1));
        }
    }
    let key = format!("cases/{c}/manifests/{document}-{instance}.txt");
    f.put_object(&key, m.as_bytes(), "text/plain")
        .await
        .unwrap();
    f.presign_get(Bucket::Evidence, &key, 3600).await.unwrap()
}

fn request(document: &str, instance: &str, manifest_url: String, what: &str) -> CommandRequest {
    let c = case();
    CommandRequest {
        document: document.into(),
        instance_id: InstanceId::parse(instance).unwrap(),
        parameters: BTreeMap::from([
            ("CaseId".to_string(), c.to_string()),
            ("InstanceId".to_string(), instance.to_string()),
            ("ManifestUrl".to_string(), manifest_url),
        ]),
        comment: format!("custody {c} {what}"),
        timeout_seconds: 3600,
    }
}

/// What the capture step does before sending: uploads, manifest, presigned GET of the manifest.
async fn prepare_capture(f: &SimAccount, instance: &str, kernel: &str, memory_gib: u64) -> Capture {
    let c = case();
    let key = format!("cases/{c}/memory/{instance}.lime");
    let report_key = format!("cases/{c}/memory/{instance}.report.json");
    let parts = u32::try_from((memory_gib * GIB).div_ceil(PART)).unwrap();
    let image = f.begin_upload(&key, PART, parts, 3600).await.unwrap();
    let report = f.begin_upload(&report_key, PART, 1, 3600).await.unwrap();
    let gets = [
        (
            &*format!("lime:{kernel}"),
            Bucket::Artifacts,
            format!("modules/lime/{kernel}.ko"),
        ),
        ("avml", Bucket::Artifacts, "tools/avml".to_string()),
    ];
    // Only tools that exist are listed, as the step does after a HEAD.
    let mut present = Vec::new();
    for g in gets {
        if f.head_object(g.1, &g.2).await.unwrap().is_some() {
            present.push((g.0.to_string(), g.1, g.2));
        }
    }
    let present: Vec<(&str, Bucket, String)> = present
        .iter()
        .map(|(n, b, k)| (n.as_str(), *b, k.clone()))
        .collect();
    let url = manifest(
        f,
        "capture-memory",
        instance,
        &present,
        &[("image", &image), ("report", &report)],
    )
    .await;
    Capture {
        key,
        upload_id: image.upload_id,
        report_key,
        report_upload: report.upload_id,
        request: request("custody-capture-memory", instance, url, "capture-memory"),
    }
}

fn parts_of(shipped: &Value) -> Vec<UploadedPart> {
    shipped["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| UploadedPart {
            part_number: u32::try_from(p["part"].as_u64().unwrap()).unwrap(),
            etag: p["etag"].as_str().unwrap().to_string(),
            sha256: Sha256Digest::parse(p["sha256"].as_str().unwrap()).unwrap(),
            size_bytes: p["bytes"].as_u64().unwrap(),
        })
        .collect()
}

/// Completes the report upload the host shipped and reads it back.
async fn report(f: &SimAccount, cap: &Capture, stdout: &str) -> Value {
    let summary: Value = serde_json::from_str(stdout).unwrap();
    f.complete_upload(
        &cap.report_key,
        &cap.report_upload,
        &parts_of(&summary["report"]),
    )
    .await
    .unwrap();
    serde_json::from_slice(&f.get_object(&cap.report_key).await.unwrap()).unwrap()
}

#[tokio::test]
async fn a_lime_capture_runs_in_virtual_time_and_its_upload_verifies() {
    let w = world("eks-three-nodes.json");
    let (t, f) = (target(&w), forensic(&w));
    let cap = prepare_capture(
        &f,
        "i-0abc1230000000001",
        "5.10.220-209.869.amzn2.x86_64",
        16,
    )
    .await;
    let i = cap.request.instance_id.clone();

    assert_eq!(
        t.find_command(&i, &cap.request.comment).await.unwrap(),
        None
    );
    let id = t.send_command(&cap.request).await.unwrap();
    assert_eq!(
        t.find_command(&i, &cap.request.comment).await.unwrap(),
        Some(id.clone())
    );
    assert_eq!(
        t.invocation(&id, &i).await.unwrap().status,
        CommandStatus::Pending
    );
    w.advance(Duration::from_secs(10));
    let running = t.invocation(&id, &i).await.unwrap();
    assert_eq!(running.status, CommandStatus::InProgress);
    assert!(running.stdout.is_empty() && running.exit_code.is_none());
    // Nothing is in S3 before the host has finished.
    assert!(w.inspect(|st| st.runtime.uploads[0].parts.is_empty()));

    w.advance(Duration::from_secs(16 * 12));
    let done = t.invocation(&id, &i).await.unwrap();
    assert_eq!(done.status, CommandStatus::Success, "{}", done.stderr);
    assert_eq!(done.exit_code, Some(0));
    let summary: Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(summary["document"], "custody-capture-memory");
    assert_eq!(summary["image"]["part_count"], 164);
    let out = report(&f, &cap, &done.stdout).await;
    assert_eq!(out["image"]["sha256"], summary["image"]["sha256"]);
    assert_eq!(out["method"], "lime");
    assert_eq!(out["image"]["bytes"].as_u64(), Some(16 * GIB));
    let parts = parts_of(&out["image"]);
    assert_eq!(parts.len(), 164);
    assert_eq!(parts.iter().map(|p| p.size_bytes).sum::<u64>(), 16 * GIB);
    assert!(Sha256Digest::parse(out["image"]["sha256"].as_str().unwrap()).is_ok());

    let stored = f
        .complete_upload(&cap.key, &cap.upload_id, &parts)
        .await
        .unwrap();
    assert_eq!(stored.size_bytes, 16 * GIB);
    // No checksum algorithm on host uploads: S3 (and the sim) know no checksum of the object.
    assert_eq!(stored.checksum_sha256, None);
    assert_eq!(stored.lock_mode.as_deref(), Some("GOVERNANCE"));
    assert!(stored.retain_until.is_some());
    let head = f
        .head_object(Bucket::Evidence, &cap.key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head.size_bytes, 16 * GIB);
    // The image has no bytes in the sim: reading it says so instead of pretending.
    assert_eq!(
        f.get_object(&cap.key).await.unwrap_err().name,
        ErrorName::Unsupported
    );

    // A part ETag S3 does not hold is refused, like S3's InvalidPart; S3's part list is what the
    // host reported (the ETags the sim's hosts report are quoted).
    let again = prepare_capture(
        &f,
        "i-0abc1230000000002",
        "5.10.220-209.869.amzn2.x86_64",
        16,
    )
    .await;
    let id2 = t.send_command(&again.request).await.unwrap();
    w.advance(Duration::from_secs(600));
    let out2 = report(
        &f,
        &again,
        &t.invocation(&id2, &again.request.instance_id)
            .await
            .unwrap()
            .stdout,
    )
    .await;
    let reported = parts_of(&out2["image"]);
    let listed = f.list_parts(&again.key, &again.upload_id).await.unwrap();
    assert_eq!(listed.len(), reported.len());
    for (l, r) in listed.iter().zip(&reported) {
        assert_eq!((l.part_number, l.size_bytes), (r.part_number, r.size_bytes));
        assert_eq!(etag_unquoted(&l.etag), etag_unquoted(&r.etag));
    }
    let mut bad = reported.clone();
    bad[3].etag = "\"0123456789abcdef0123456789abcdef\"".to_owned();
    assert_eq!(
        f.complete_upload(&again.key, &again.upload_id, &bad)
            .await
            .unwrap_err()
            .name,
        ErrorName::InvalidInput
    );
    // The same command on another instance yields a different image.
    assert_ne!(out["image"]["sha256"], out2["image"]["sha256"]);
}

#[tokio::test]
async fn without_a_lime_module_the_capture_falls_back_to_avml() {
    let w = world("ec2-single.json");
    let (t, f) = (target(&w), forensic(&w));
    let cap = prepare_capture(&f, "i-0123456789abcdef0", "6.8.0-1015-aws", 8).await;
    let id = t.send_command(&cap.request).await.unwrap();
    w.advance(Duration::from_secs(300));
    let inv = t.invocation(&id, &cap.request.instance_id).await.unwrap();
    assert_eq!(inv.status, CommandStatus::Success, "{}", inv.stderr);
    let out: Value = serde_json::from_str(&inv.stdout).unwrap();
    assert_eq!(out["method"], "avml");
    assert_eq!(out["image"]["bytes"].as_u64(), Some(8 * GIB));

    // Without AVML either, the capture fails and says why.
    let json = patched("ec2-single.json", |v| {
        v["artifacts"]["avml"] = Value::Bool(false)
    });
    let w = World::from_json(&json).unwrap();
    let (t, f) = (target(&w), forensic(&w));
    let cap = prepare_capture(&f, "i-0123456789abcdef0", "6.8.0-1015-aws", 8).await;
    let id = t.send_command(&cap.request).await.unwrap();
    w.advance(Duration::from_secs(300));
    let inv = t.invocation(&id, &cap.request.instance_id).await.unwrap();
    assert_eq!(inv.status, CommandStatus::Failed);
    assert_ne!(inv.exit_code, Some(0));
    assert!(inv.stderr.contains("no LiME module"), "{}", inv.stderr);
}

#[tokio::test]
async fn an_aborted_upload_makes_the_capture_fail() {
    let w = world("eks-three-nodes.json");
    let (t, f) = (target(&w), forensic(&w));
    let cap = prepare_capture(
        &f,
        "i-0abc1230000000001",
        "5.10.220-209.869.amzn2.x86_64",
        16,
    )
    .await;
    f.abort_upload(&cap.key, &cap.upload_id).await.unwrap();
    f.abort_upload(&cap.key, &cap.upload_id).await.unwrap();
    let id = t.send_command(&cap.request).await.unwrap();
    w.advance(Duration::from_secs(600));
    let inv = t.invocation(&id, &cap.request.instance_id).await.unwrap();
    assert_eq!(inv.status, CommandStatus::Failed);
    assert!(inv.stderr.contains("NoSuchUpload"), "{}", inv.stderr);
}

#[tokio::test]
async fn the_pod_map_lists_every_container_of_the_node() {
    let w = world("eks-three-nodes.json");
    let (t, f) = (target(&w), forensic(&w));
    let c = case();
    let instance = "i-0abc1230000000001";
    let key = format!("cases/{c}/pod-pid-map/ip-10-0-1-23.ec2.internal.json");
    let ticket = f.begin_upload(&key, PART, 1, 900).await.unwrap();
    let url = manifest(&f, "map-pods", instance, &[], &[("podmap", &ticket)]).await;
    let mut req = request(
        "arn:aws:ssm:us-east-1:444455556666:document/custody-map-pods",
        instance,
        url,
        "map-pods",
    );
    req.timeout_seconds = 600;
    let id = t.send_command(&req).await.unwrap();
    w.advance(Duration::from_secs(30));
    let inv = t.invocation(&id, &req.instance_id).await.unwrap();
    assert_eq!(inv.status, CommandStatus::Success, "{}", inv.stderr);
    let out: Value = serde_json::from_str(&inv.stdout).unwrap();
    assert_eq!(out["containers"], 3);
    let stored = f
        .complete_upload(&key, &ticket.upload_id, &parts_of(&out["podmap"]))
        .await
        .unwrap();
    assert_eq!(stored.size_bytes, out["podmap"]["bytes"].as_u64().unwrap());
    let bytes = f.get_object(&key).await.unwrap();
    assert_eq!(
        Sha256Digest::of(&bytes).as_str(),
        out["podmap"]["sha256"].as_str().unwrap()
    );
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["node_hostname"], "ip-10-0-1-23.ec2.internal");
    let containers = doc["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 3);
    let api = containers
        .iter()
        .find(|c| c["inspect"]["status"]["metadata"]["name"] == "api")
        .unwrap();
    assert_eq!(
        api["inspect"]["status"]["labels"]["io.kubernetes.pod.name"],
        "payments-api-7d9f8b6c5d-x2k4q"
    );
    assert_eq!(api["pid"], 4121);
    assert_eq!(doc["crictl_ps"]["containers"].as_array().unwrap().len(), 3);

    // A manifest made for another instance is refused by the host.
    let other = manifest(
        &f,
        "map-pods",
        "i-0abc1230000000002",
        &[],
        &[("podmap", &ticket)],
    )
    .await;
    let mut wrong = request("custody-map-pods", instance, other, "map-pods-2");
    wrong.timeout_seconds = 600;
    let id = t.send_command(&wrong).await.unwrap();
    w.advance(Duration::from_secs(30));
    let inv = t.invocation(&id, &wrong.instance_id).await.unwrap();
    assert_eq!(inv.status, CommandStatus::Failed);
    assert!(inv.stderr.contains("another instance"), "{}", inv.stderr);
}

#[tokio::test]
async fn an_unmanaged_node_reports_not_managed_and_refuses_commands() {
    let w = world("eks-agent-offline.json");
    let (t, f) = (target(&w), forensic(&w));
    let ids: Vec<InstanceId> = [
        "i-0abc1230000000001",
        "i-0abc1230000000002",
        "i-0123456789abcdef9",
    ]
    .iter()
    .map(|s| InstanceId::parse(s).unwrap())
    .collect();
    let status = t.agent_status(&ids).await.unwrap();
    assert!(status[0].online);
    assert_eq!(status[0].ping_status, "Online");
    assert!(!status[1].online);
    assert_eq!(status[1].ping_status, "NotManaged");
    assert!(
        !status[2].online,
        "unknown instances are reported, not an error"
    );
    let cap = prepare_capture(
        &f,
        "i-0abc1230000000002",
        "5.10.220-209.869.amzn2.x86_64",
        16,
    )
    .await;
    assert_eq!(
        t.send_command(&cap.request).await.unwrap_err().name,
        ErrorName::AgentOffline
    );
}

#[tokio::test]
async fn an_offline_agent_leaves_the_command_undeliverable_at_its_timeout() {
    let json = patched("eks-three-nodes.json", |v| {
        v["faults"] =
            serde_json::json!([{"kind": "agentOffline", "instanceId": "i-0abc1230000000003"}]);
    });
    let w = World::from_json(&json).unwrap();
    let (t, f) = (target(&w), forensic(&w));
    let i = InstanceId::parse("i-0abc1230000000003").unwrap();
    assert_eq!(
        t.agent_status(std::slice::from_ref(&i)).await.unwrap()[0].ping_status,
        "ConnectionLost"
    );
    let cap = prepare_capture(
        &f,
        "i-0abc1230000000003",
        "5.10.220-209.869.amzn2.x86_64",
        16,
    )
    .await;
    let id = t.send_command(&cap.request).await.unwrap();
    w.advance(Duration::from_secs(600));
    assert_eq!(
        t.invocation(&id, &i).await.unwrap().status,
        CommandStatus::Pending
    );
    w.advance(Duration::from_secs(3600));
    assert_eq!(
        t.invocation(&id, &i).await.unwrap().status,
        CommandStatus::Undeliverable
    );
}

#[tokio::test]
async fn a_failing_command_knob_fails_that_document_only() {
    let json = patched("eks-three-nodes.json", |v| {
        v["faults"] = serde_json::json!([{"kind": "commandFails", "document": "custody-capture-memory",
            "instanceId": "i-0abc1230000000001", "exitCode": 7, "stderr": "insmod: ERROR: could not insert module"}]);
    });
    let w = World::from_json(&json).unwrap();
    let (t, f) = (target(&w), forensic(&w));
    let cap = prepare_capture(
        &f,
        "i-0abc1230000000001",
        "5.10.220-209.869.amzn2.x86_64",
        16,
    )
    .await;
    let other = prepare_capture(
        &f,
        "i-0abc1230000000002",
        "5.10.220-209.869.amzn2.x86_64",
        16,
    )
    .await;
    let a = t.send_command(&cap.request).await.unwrap();
    let b = t.send_command(&other.request).await.unwrap();
    w.advance(Duration::from_secs(900));
    let failed = t.invocation(&a, &cap.request.instance_id).await.unwrap();
    assert_eq!(
        (failed.status, failed.exit_code),
        (CommandStatus::Failed, Some(7))
    );
    assert!(failed.stderr.contains("insmod"));
    assert_eq!(
        t.invocation(&b, &other.request.instance_id)
            .await
            .unwrap()
            .status,
        CommandStatus::Success
    );
    assert_eq!(
        t.invocation("not-a-command", &cap.request.instance_id)
            .await
            .unwrap_err()
            .name,
        ErrorName::NotFound
    );
}

#[tokio::test]
async fn a_command_longer_than_its_timeout_times_out() {
    let w = world("eks-three-nodes.json");
    let (t, f) = (target(&w), forensic(&w));
    let mut cap = prepare_capture(
        &f,
        "i-0abc1230000000001",
        "5.10.220-209.869.amzn2.x86_64",
        16,
    )
    .await;
    cap.request.timeout_seconds = 60;
    let id = t.send_command(&cap.request).await.unwrap();
    w.advance(Duration::from_secs(59));
    assert_eq!(
        t.invocation(&id, &cap.request.instance_id)
            .await
            .unwrap()
            .status,
        CommandStatus::InProgress
    );
    w.advance(Duration::from_secs(10));
    assert_eq!(
        t.invocation(&id, &cap.request.instance_id)
            .await
            .unwrap()
            .status,
        CommandStatus::TimedOut
    );
    assert!(w.inspect(|st| st.runtime.uploads[0].parts.is_empty()));
}
