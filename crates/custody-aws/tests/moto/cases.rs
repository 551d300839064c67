//! The case store against moto's DynamoDB: versions, conflicts, append-only lists, listings.

use custody_aws::{DynamoCases, create_table};
use custody_core::case::{Case, CaseStatus, Evidence, EvidenceKind};
use custody_core::error::ErrorName;
use custody_core::id::{CaseId, Sha256Digest, Timestamp};
use custody_core::inventory::Inventory;
use custody_core::plan::{PlanConfig, plan};
use custody_core::trigger::{TriggerConfig, parse_start};
use custody_steps::ports::ops::cases as c;
use custody_steps::ports::{CaseStore, CreateOutcome};

use super::harness::Moto;
use super::seed::{assert_declared, case_id, clients};

const TABLE: &str = "custody-cases";

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_795_400_000_000 + seconds * 1000).unwrap()
}

fn new_case(id: CaseId, opened: i64) -> Case {
    let request = parse_start(
        &serde_json::json!({
            "target": {"instanceId": "i-0123456789abcdef0"},
            "account": "111122223333",
            "region": "us-east-1",
            "isolate": false,
            "requestedBy": "alice@example.com",
            "reason": "test"
        }),
        &TriggerConfig::default(),
    )
    .unwrap();
    let inventory = Inventory::default();
    let plan = plan(&request, &inventory, &PlanConfig::default());
    Case::open(
        id,
        "arn:aws:states:us-east-1:123456789012:execution:triage:x".to_owned(),
        request,
        inventory,
        plan,
        at(opened),
    )
}

fn evidence(n: u32) -> Evidence {
    Evidence {
        id: format!("snapshot/snap-0000000000000000{n}"),
        kind: EvidenceKind::EbsSnapshot,
        resource: "vol-0123456789abcdef0".to_owned(),
        location: format!("arn:aws:ec2:us-east-1::snapshot/snap-0000000000000000{n}"),
        sha256: Some(Sha256Digest::of(&[n as u8])),
        digest_source: Some(custody_core::case::DigestSource::SourceHost),
        size_bytes: Some(8 << 30),
        taken_at: at(60),
        taken_by: "snapshot-disks".to_owned(),
        method: Some("ebs-snapshot".to_owned()),
        details: serde_json::json!({}),
    }
}

#[tokio::test]
async fn cases_are_created_once_and_saved_with_versions() {
    let moto = Moto::start();
    let (clients, a, log) = clients(&moto);
    create_table(&clients.dynamodb, TABLE).await.unwrap();
    log.clear();
    let store = DynamoCases::new(a.dynamodb.clone(), TABLE);
    let id = case_id(20);
    let case = new_case(id.clone(), 0);

    assert_eq!(store.load(&id).await.unwrap(), None);
    assert_eq!(store.create(&case).await.unwrap(), CreateOutcome::Created);
    assert_declared(&log, &[&c::CREATE, &c::LOAD]);
    // A retried triage finds the case instead of overwriting it.
    let mut retried = case.clone();
    retried.execution_id = "other".to_owned();
    match store.create(&retried).await.unwrap() {
        CreateOutcome::AlreadyExists(stored) => assert_eq!(*stored, case),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(store.load(&id).await.unwrap().as_ref(), Some(&case));
    assert_declared(&log, &[&c::CREATE, &c::LOAD]);

    // Save: the stored version moves, and the new timeline entry and evidence are there.
    let mut changed = store.load(&id).await.unwrap().unwrap();
    changed.transition(CaseStatus::Acquiring, at(10)).unwrap();
    changed.add_evidence(evidence(1)).unwrap();
    let version = store.save(&changed, 0).await.unwrap();
    assert_eq!(version, 1);
    assert_declared(&log, &[&c::LOAD, &c::SAVE]);
    let item = clients
        .dynamodb
        .get_item()
        .table_name(TABLE)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("CASE#{id}")),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("CASE".to_owned()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        item.item().unwrap()["version"].as_n().unwrap(),
        "1",
        "the item's version moved"
    );
    let loaded = store.load(&id).await.unwrap().unwrap();
    assert_eq!(loaded.version, 1);
    assert_eq!(loaded.status, CaseStatus::Acquiring);
    assert_eq!(loaded.evidence, vec![evidence(1)]);
    assert_eq!(loaded.timeline, changed.timeline);

    // A second writer that loaded version 0 loses: StaleCase, and nothing of it is stored.
    let mut stale = case.clone();
    stale.note("isolate", "note", "from a stale copy", at(20));
    let err = store.save(&stale, 0).await.unwrap_err();
    assert_eq!(err.name, ErrorName::StaleCase);
    assert!(err.is_transient());
    assert_eq!(
        store.load(&id).await.unwrap().unwrap().timeline,
        changed.timeline
    );

    // The timeline is append-only: a case missing stored entries is refused.
    let mut truncated = loaded.clone();
    truncated.timeline.pop();
    assert_eq!(
        store.save(&truncated, 1).await.unwrap_err().name,
        ErrorName::InvalidInput
    );
    let mut rewritten = loaded.clone();
    rewritten.timeline[0].message = "rewritten".to_owned();
    assert_eq!(
        store.save(&rewritten, 1).await.unwrap_err().name,
        ErrorName::InvalidInput
    );

    let mut next = loaded.clone();
    next.add_evidence(evidence(2)).unwrap();
    assert_eq!(store.save(&next, 1).await.unwrap(), 2);
    assert_eq!(
        store.load(&id).await.unwrap().unwrap().evidence,
        vec![evidence(1), evidence(2)]
    );
    assert_eq!(
        store.save(&next, 7).await.unwrap_err().name,
        ErrorName::StaleCase
    );
    assert_eq!(
        store
            .save(&new_case(case_id(21), 0), 0)
            .await
            .unwrap_err()
            .name,
        ErrorName::NotFound
    );
}

#[tokio::test]
async fn interleaved_saves_never_lose_an_update() {
    // Two writers that loaded the same version, interleaved request by request. (Not truly
    // concurrent: moto's TransactWriteItems is not atomic across its server threads — a failing
    // transaction restores a deep copy of the table taken before it began, erasing another
    // thread's commit — so a concurrent test would measure moto, not custody.)
    let moto = Moto::start();
    let (clients, a, _log) = clients(&moto);
    create_table(&clients.dynamodb, TABLE).await.unwrap();
    let store = DynamoCases::new(a.dynamodb.clone(), TABLE);
    let id = case_id(22);
    store.create(&new_case(id.clone(), 0)).await.unwrap();

    let mut first = store.load(&id).await.unwrap().unwrap();
    let mut second = store.load(&id).await.unwrap().unwrap();
    first.note("writer", "note", "writer 0", at(100));
    second.note("writer", "note", "writer 1", at(101));
    assert_eq!(store.save(&first, first.version).await.unwrap(), 1);
    let stale = store.save(&second, second.version).await.unwrap_err();
    assert_eq!(stale.name, ErrorName::StaleCase, "{stale:?}");

    // The loser reloads, re-applies its change and wins the next version.
    let mut second = store.load(&id).await.unwrap().unwrap();
    second.note("writer", "note", "writer 1", at(101));
    assert_eq!(store.save(&second, second.version).await.unwrap(), 2);

    let case = store.load(&id).await.unwrap().unwrap();
    let notes: Vec<_> = case
        .timeline
        .iter()
        .filter(|e| e.kind == "note")
        .map(|e| e.message.clone())
        .collect();
    assert_eq!(
        notes,
        vec!["writer 0", "writer 1"],
        "every writer's note survived"
    );
}

#[tokio::test]
async fn cases_are_listed_newest_first_by_status() {
    let moto = Moto::start();
    let (clients, a, log) = clients(&moto);
    create_table(&clients.dynamodb, TABLE).await.unwrap();
    let store = DynamoCases::new(a.dynamodb.clone(), TABLE);
    for (n, opened) in [(30, 0), (31, 100), (32, 50)] {
        store.create(&new_case(case_id(n), opened)).await.unwrap();
    }
    let mut done = store.load(&case_id(32)).await.unwrap().unwrap();
    done.transition(CaseStatus::Acquiring, at(60)).unwrap();
    store.save(&done, 0).await.unwrap();
    log.clear();

    let all = store.list(None).await.unwrap();
    let ids: Vec<_> = all.iter().map(|s| s.case_id.clone()).collect();
    assert_eq!(ids, vec![case_id(31), case_id(32), case_id(30)]);
    let triaged = store.list(Some(CaseStatus::Triaged)).await.unwrap();
    assert_eq!(
        triaged
            .iter()
            .map(|s| s.case_id.clone())
            .collect::<Vec<_>>(),
        vec![case_id(31), case_id(30)]
    );
    assert_eq!(
        store.list(Some(CaseStatus::Acquiring)).await.unwrap()[0].status,
        CaseStatus::Acquiring
    );
    assert!(
        all[0].subject.contains("i-0123456789abcdef0"),
        "{}",
        all[0].subject
    );
    assert_declared(&log, &[&c::LIST]);
}
