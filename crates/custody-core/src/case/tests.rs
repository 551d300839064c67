use std::collections::BTreeMap;

use super::*;
use crate::id::{InstanceId, Region, Sha256Digest};
use crate::plan::Plan;
use crate::trigger::{Intent, RequestSource, Requester, Target};

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn case() -> Case {
    let request = CaseRequest {
        source: RequestSource::PlainRequest,
        intent: Intent { isolate: true },
        target: Target::Instance {
            account: "111122223333".parse().unwrap(),
            region: Region::parse("us-east-1").unwrap(),
            instance_id: InstanceId::parse("i-0123456789abcdef0").unwrap(),
        },
        findings: Vec::new(),
        requested_by: Requester::Human {
            principal: "alice@example.com".to_owned(),
        },
        reason: Some("suspected miner".to_owned()),
    };
    Case::open(
        CaseId::for_execution(at("2026-11-23T08:00:00Z"), "exec-1"),
        "exec-1".to_owned(),
        request,
        Inventory::default(),
        Plan::default(),
        at("2026-11-23T08:00:00Z"),
    )
}

fn memory(sha: &[u8]) -> Evidence {
    Evidence {
        id: EvidenceKind::MemoryImage.evidence_id("i-0123456789abcdef0"),
        kind: EvidenceKind::MemoryImage,
        resource: "i-0123456789abcdef0".to_owned(),
        location: "s3://evidence/cases/x/memory/i-0123456789abcdef0.lime".to_owned(),
        sha256: Some(Sha256Digest::of(sha)),
        digest_source: Some(DigestSource::SourceHost),
        size_bytes: Some(3),
        taken_at: at("2026-11-23T08:10:00Z"),
        taken_by: "check-memory".to_owned(),
        method: Some("lime".to_owned()),
        details: serde_json::json!({"commandId": "c-1"}),
    }
}

fn sg_action() -> Action {
    Action {
        id: "sg/eni-0123456789abcdef0".to_owned(),
        kind: ActionKind::QuarantineSecurityGroup,
        target: "network interface eni-0123456789abcdef0".to_owned(),
        prior: PriorState::SecurityGroups {
            eni: "eni-0123456789abcdef0".parse().unwrap(),
            groups: vec!["sg-0123456789abcdef0".parse().unwrap()],
        },
        status: ActionStatus::Applied,
        applied_at: at("2026-11-23T08:05:00Z"),
        by: Actor::Automation {
            step: "isolate".to_owned(),
        },
        detail: None,
    }
}

#[test]
fn open_starts_triaged_with_a_timeline_event() {
    let c = case();
    assert_eq!(c.status, CaseStatus::Triaged);
    assert_eq!(c.version, 0);
    assert_eq!(c.timeline.len(), 1);
    assert!(
        c.timeline[0].message.contains("\"alice@example.com\""),
        "{}",
        c.timeline[0].message
    );
    assert!(c.id.as_str().starts_with("case-"));
}

#[test]
fn evidence_is_idempotent_by_id() {
    let mut c = case();
    c.add_evidence(memory(b"abc")).unwrap();
    c.add_evidence(memory(b"abc")).unwrap();
    assert_eq!(c.evidence.len(), 1);
    assert_eq!(c.timeline.len(), 2);
    assert_eq!(c.updated_at, at("2026-11-23T08:10:00Z"));
    let err = c.add_evidence(memory(b"xyz")).unwrap_err();
    assert_eq!(err.name, crate::error::ErrorName::EvidenceMismatch);
    assert_eq!(c.evidence[0], memory(b"abc"));
}

#[test]
fn the_timeline_says_who_computed_an_evidence_digest() {
    let mut c = case();
    c.add_evidence(memory(b"abc")).unwrap();
    let last = &c.timeline.last().unwrap().message;
    assert!(
        last.contains("computed by the source host, not by S3"),
        "{last}"
    );
    let json = serde_json::to_value(&c.evidence[0]).unwrap();
    assert_eq!(json["digestSource"], "source-host");
    let mut s3 = memory(b"abc");
    s3.digest_source = Some(DigestSource::S3);
    assert_eq!(serde_json::to_value(&s3).unwrap()["digestSource"], "s3");
    let mut none = memory(b"abc");
    none.digest_source = None;
    let back: Evidence = serde_json::from_value(serde_json::to_value(&none).unwrap()).unwrap();
    assert_eq!(
        back, none,
        "records written before the field existed still read"
    );
}

#[test]
fn actions_are_idempotent_and_keep_their_prior_state() {
    let mut c = case();
    c.record_action(sg_action()).unwrap();
    c.record_action(sg_action()).unwrap();
    assert_eq!(c.actions.len(), 1);
    let mut changed = sg_action();
    changed.prior = PriorState::SecurityGroups {
        eni: "eni-0123456789abcdef0".parse().unwrap(),
        groups: Vec::new(),
    };
    assert_eq!(
        c.record_action(changed).unwrap_err().name,
        crate::error::ErrorName::Conflict
    );
    assert_eq!(c.actions[0], sg_action());

    let mut wrong_kind = sg_action();
    wrong_kind.id = "other".to_owned();
    wrong_kind.kind = ActionKind::CordonNode;
    assert_eq!(
        c.record_action(wrong_kind).unwrap_err().name,
        crate::error::ErrorName::Internal
    );
}

#[test]
fn action_status_and_release() {
    let mut c = case();
    c.record_action(sg_action()).unwrap();
    let t = at("2026-11-23T09:00:00Z");
    c.set_action_status(
        "sg/eni-0123456789abcdef0",
        ActionStatus::Failed,
        Some("Custody.Throttled: x".to_owned()),
        t,
    )
    .unwrap();
    assert_eq!(c.actions[0].status, ActionStatus::Failed);
    assert_eq!(
        c.set_action_status("nope", ActionStatus::Failed, None, t)
            .unwrap_err()
            .name,
        crate::error::ErrorName::NotFound
    );
    let human = Actor::Human {
        principal: "bob".to_owned(),
    };
    c.release_action(
        "sg/eni-0123456789abcdef0",
        human.clone(),
        "all clear".to_owned(),
        t,
    )
    .unwrap();
    c.release_action("sg/eni-0123456789abcdef0", human, "again".to_owned(), t)
        .unwrap();
    assert_eq!(c.actions[0].status, ActionStatus::Released);
    assert_eq!(c.actions[0].detail.as_deref(), Some("all clear"));
    assert!(matches!(
        c.timeline.last().unwrap().actor,
        Actor::Human { .. }
    ));
    assert_eq!(
        c.set_action_status("sg/eni-0123456789abcdef0", ActionStatus::Applied, None, t)
            .unwrap_err()
            .name,
        crate::error::ErrorName::Conflict
    );
}

#[test]
fn lifecycle_table() {
    use CaseStatus as S;
    let legal = [
        (S::Triaged, S::Acquiring),
        (S::Triaged, S::Skipped),
        (S::Acquiring, S::Investigating),
        (S::Acquiring, S::Reporting),
        (S::Investigating, S::Reporting),
        (S::Reporting, S::Completed),
        (S::Completed, S::Released),
        (S::Failed, S::Released),
    ];
    for from in CaseStatus::ALL {
        assert!(from.can_transition(S::Failed), "{from} -> failed");
        for to in CaseStatus::ALL {
            let expected = to == S::Failed
                || (to == S::Released && from != S::Skipped)
                || legal.contains(&(from, to));
            assert_eq!(from.can_transition(to), expected, "{from} -> {to}");
        }
    }
    let mut c = case();
    let t = at("2026-11-23T08:30:00Z");
    assert_eq!(
        c.transition(S::Completed, t).unwrap_err().name,
        crate::error::ErrorName::Conflict
    );
    c.transition(S::Acquiring, t).unwrap();
    c.transition(S::Acquiring, t).unwrap();
    c.transition(S::Reporting, t).unwrap();
    c.transition(S::Completed, t).unwrap();
    assert!(c.transition(S::Acquiring, t).is_err());
    c.transition(S::Released, t).unwrap();
    assert_eq!(c.status, S::Released);
}

#[test]
fn close_completes_or_skips() {
    let t = at("2026-11-23T08:30:00Z");
    let mut c = case();
    c.close(CaseStatus::Completed, t).unwrap();
    c.close(CaseStatus::Completed, t).unwrap();
    assert_eq!(c.status, CaseStatus::Completed);
    assert!(c.close(CaseStatus::Skipped, t).is_err());

    let mut skipped = case();
    skipped.close(CaseStatus::Skipped, t).unwrap();
    assert_eq!(skipped.status, CaseStatus::Skipped);

    let mut acquiring = case();
    acquiring.transition(CaseStatus::Acquiring, t).unwrap();
    assert!(acquiring.close(CaseStatus::Skipped, t).is_err());
    assert!(acquiring.close(CaseStatus::Failed, t).is_err());
}

#[test]
fn failure_is_recorded_without_changing_status() {
    let mut c = case();
    let err = StepError::agent_offline("instance \"i-0123456789abcdef0\" is not reachable by SSM");
    c.record_failure("capture-memory", &err, at("2026-11-23T08:20:00Z"));
    assert_eq!(c.status, CaseStatus::Triaged);
    assert_eq!(c.failure.as_ref().unwrap().error, err);
    assert_eq!(c.timeline.last().unwrap().kind, "failure");
}

#[test]
fn round_trips_and_refuses_tampered_records_with_a_path() {
    let mut c = case();
    c.add_evidence(memory(b"abc")).unwrap();
    c.record_action(sg_action()).unwrap();
    c.record_action(Action {
        id: "preserve-volumes/i-0123456789abcdef0".to_owned(),
        kind: ActionKind::PreserveVolumes,
        target: "instance i-0123456789abcdef0".to_owned(),
        prior: PriorState::DeleteOnTermination {
            instance: "i-0123456789abcdef0".parse().unwrap(),
            volumes: BTreeMap::from([("/dev/xvda".to_owned(), true)]),
        },
        status: ActionStatus::Applied,
        applied_at: at("2026-11-23T08:06:00Z"),
        by: Actor::Automation {
            step: "isolate".to_owned(),
        },
        detail: None,
    })
    .unwrap();
    let bytes = serde_json::to_vec(&c).unwrap();
    assert_eq!(Case::from_json(&bytes).unwrap(), c);

    let mut v = serde_json::to_value(&c).unwrap();
    v["actions"][0]["prior"]["eni"] = serde_json::json!("eni-$(reboot)");
    let err = Case::from_json(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    // Internally tagged enums are buffered by serde, so the path stops at the enum; the
    // message names the identifier.
    assert_eq!(err.path, "$.actions[0].prior");
    assert!(
        err.source.to_string().contains("network interface id"),
        "{}",
        err.source
    );
}
