//! The in-memory case store, notifier, findings hub and the environment.

use custody_core::case::{Case, CaseStatus};
use custody_core::error::ErrorName;
use custody_core::id::{AccountId, CaseId, Region, Timestamp};
use custody_core::inventory::Inventory;
use custody_core::plan::{PlanConfig, plan};
use custody_core::trigger::FindingRef;
use custody_core::trigger::{TriggerConfig, parse_start};
use custody_sim::{SimEnvironment, World};
use custody_steps::ports::{CreateOutcome, Environment, Notification, WorkflowStatus};
use serde_json::json;

use super::common::{TARGET, patched, world};

fn new_case(execution: &str, at: &str) -> Case {
    let request = parse_start(
        &json!({
            "target": {"instanceId": "i-0123456789abcdef0"},
            "account": TARGET, "region": "us-east-1", "isolate": false,
            "requestedBy": "alice@example.com", "reason": "rehearsal"
        }),
        &TriggerConfig::default(),
    )
    .unwrap();
    let at = Timestamp::parse(at).unwrap();
    let inv = Inventory::default();
    let p = plan(&request, &inv, &PlanConfig::default());
    Case::open(
        CaseId::for_execution(at, execution),
        execution.to_string(),
        request,
        inv,
        p,
        at,
    )
}

#[tokio::test]
async fn cases_are_created_once_and_saved_with_optimistic_versions() {
    let w = world("ec2-single.json");
    let env = SimEnvironment::new(&w).unwrap();
    let store = &env.forensic().cases;
    let case = new_case("exec-a", "2026-11-23T03:07:00Z");
    assert_eq!(store.create(&case).await.unwrap(), CreateOutcome::Created);
    match store.create(&case).await.unwrap() {
        CreateOutcome::AlreadyExists(existing) => assert_eq!(*existing, case),
        other => panic!("{other:?}"),
    }
    let mut loaded = store.load(&case.id).await.unwrap().unwrap();
    let v0 = loaded.version;
    loaded.note("test", "note", "first", w.now());
    let v1 = store.save(&loaded, v0).await.unwrap();
    assert_eq!(v1, v0 + 1);
    assert_eq!(store.load(&case.id).await.unwrap().unwrap().version, v1);

    // A writer that read the old version loses.
    let stale = store.save(&loaded, v0).await.unwrap_err();
    assert_eq!(stale.name, ErrorName::StaleCase);
    assert!(stale.is_transient());

    // Timeline entries are never dropped.
    let mut shorter = store.load(&case.id).await.unwrap().unwrap();
    shorter.timeline.pop();
    assert_eq!(
        store.save(&shorter, v1).await.unwrap_err().name,
        ErrorName::Conflict
    );

    let other = new_case("exec-b", "2026-11-23T05:00:00Z");
    store.create(&other).await.unwrap();
    let all = store.list(None).await.unwrap();
    assert_eq!(
        all.iter().map(|s| s.case_id.clone()).collect::<Vec<_>>(),
        vec![other.id.clone(), case.id.clone()]
    );
    assert!(
        all[0].subject.contains("i-0123456789abcdef0"),
        "{}",
        all[0].subject
    );
    assert_eq!(
        store.list(Some(CaseStatus::Completed)).await.unwrap().len(),
        0
    );
    assert_eq!(
        store.list(Some(CaseStatus::Triaged)).await.unwrap().len(),
        2
    );
}

#[tokio::test]
async fn notifications_and_finding_updates_are_recorded() {
    let w = world("ec2-single.json");
    let env = SimEnvironment::new(&w).unwrap();
    let case = new_case("exec-n", "2026-11-23T03:07:00Z");
    let n = Notification {
        case_id: case.id.clone(),
        subject: "custody: case opened".into(),
        text: "summary".into(),
        json: json!({"caseId": case.id}),
    };
    let id = env.forensic().notifier.publish(&n).await.unwrap();
    let mut bad = n.clone();
    bad.subject = "line\nbreak".into();
    assert_eq!(
        env.forensic()
            .notifier
            .publish(&bad)
            .await
            .unwrap_err()
            .name,
        ErrorName::InvalidInput
    );
    w.inspect(|st| {
        assert_eq!(st.runtime.notifications.len(), 1);
        assert_eq!(st.runtime.notifications[0].message_id, id);
        assert_eq!(st.runtime.notifications[0].notification, n);
    });

    let findings: Vec<FindingRef> = vec![serde_json::from_value(json!({
        "id": "60c5f0a1b2c3d4e5f60718293a4b5c6d", "product": "GuardDuty",
        "findingType": "UnauthorizedAccess:EC2/SSHBruteForce", "account": TARGET, "region": "us-east-1",
        "asffId": "arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0/finding/60c5f0a1b2c3d4e5f60718293a4b5c6d"
    }))
    .unwrap()];
    env.forensic()
        .findings
        .annotate(&findings, "custody case", WorkflowStatus::Notified)
        .await
        .unwrap();
    assert_eq!(w.inspect(|st| st.runtime.annotations.len()), 1);

    // A Security Hub that knows other findings refuses unknown ones, naming them.
    let json = patched("ec2-single.json", |v| {
        v["securityHubFindings"] = json!(["arn:aws:securityhub:other"])
    });
    let w2 = World::from_json(&json).unwrap();
    let env2 = SimEnvironment::new(&w2).unwrap();
    let err = env2
        .forensic()
        .findings
        .annotate(&findings, "x", WorkflowStatus::Resolved)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::NotFound);
}

#[tokio::test]
async fn the_environment_reaches_known_accounts_only_and_shares_the_clock() {
    let w = world("eks-three-nodes.json");
    let env = SimEnvironment::new(&w).unwrap();
    let case = new_case("exec-e", "2026-11-23T03:07:00Z");
    let region = Region::parse("us-east-1").unwrap();
    assert!(
        env.target(&AccountId::parse(TARGET).unwrap(), &region, &case.id)
            .await
            .is_ok()
    );
    let err = env
        .target(
            &AccountId::parse("999999999999").unwrap(),
            &region,
            &case.id,
        )
        .await
        .err()
        .unwrap();
    assert_eq!(err.name, ErrorName::AccessDenied);
    assert_eq!(env.settings().quarantine_label, "custody.io/quarantine");
    let before = env.clock().now();
    w.advance(std::time::Duration::from_secs(60));
    assert_eq!(env.clock().now(), before.plus_seconds(60));
}
