//! Snapshots progress in virtual time; copies and shares behave like EC2's.

use std::collections::BTreeMap;
use std::time::Duration;

use custody_core::error::ErrorName;
use custody_core::id::{AccountId, CaseId, InstanceId, Timestamp};
use custody_steps::ports::{CopySnapshotRequest, SnapshotState, Snapshots};

use super::common::{FORENSIC, forensic, target, world};

fn case() -> CaseId {
    CaseId::for_execution(Timestamp::parse("2026-11-23T03:07:00Z").unwrap(), "exec-1")
}

fn tags(case: &CaseId, instance: &InstanceId) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("custody:case".to_string(), case.to_string()),
        ("custody:instance".to_string(), instance.to_string()),
    ])
}

#[tokio::test]
async fn a_snapshot_is_pending_until_the_latency_model_says_it_is_done() {
    let w = world("ec2-single.json");
    let t = target(&w);
    let i = InstanceId::parse("i-0123456789abcdef0").unwrap();
    let c = case();
    let made = t
        .create_snapshots(&i, "custody evidence", &tags(&c, &i))
        .await
        .unwrap();
    assert_eq!(made.len(), 2);
    assert!(
        made.iter()
            .all(|s| s.state == SnapshotState::Pending && s.progress_percent == 0)
    );
    let ids: Vec<_> = made.iter().map(|s| s.snapshot_id.clone()).collect();

    // 30 GiB: 30 + 6*30 = 210 s; 100 GiB: 630 s.
    w.advance(Duration::from_secs(200));
    let mid = t.describe_snapshots(&ids).await.unwrap();
    assert_eq!(mid[0].state, SnapshotState::Pending);
    assert!(
        mid[0].progress_percent > 90 && mid[0].progress_percent < 100,
        "{}",
        mid[0].progress_percent
    );
    assert!(
        mid[1].progress_percent > 25 && mid[1].progress_percent < 40,
        "{}",
        mid[1].progress_percent
    );
    w.advance(Duration::from_secs(15));
    let later = t.describe_snapshots(&ids).await.unwrap();
    assert_eq!(
        (later[0].state, later[1].state),
        (SnapshotState::Completed, SnapshotState::Pending)
    );
    w.advance(Duration::from_secs(420));
    assert!(
        t.describe_snapshots(&ids)
            .await
            .unwrap()
            .iter()
            .all(|s| s.state == SnapshotState::Completed)
    );

    // A retry finds them by the case tags instead of taking a second set.
    let found = t.find_case_snapshots(&c, &i).await.unwrap();
    assert_eq!(found.len(), 2);
    let other = InstanceId::parse("i-0123456789abcdef1").unwrap();
    assert!(t.find_case_snapshots(&c, &other).await.unwrap().is_empty());
}

#[tokio::test]
async fn copies_are_idempotent_by_token_and_only_customer_keys_can_be_shared() {
    let w = world("ec2-single.json");
    let t = target(&w);
    let i = InstanceId::parse("i-0123456789abcdef0").unwrap();
    let c = case();
    let made = t
        .create_snapshots(&i, "custody evidence", &tags(&c, &i))
        .await
        .unwrap();
    let root = made[0].snapshot_id.clone();
    let forensic_account = AccountId::parse(FORENSIC).unwrap();

    let req = CopySnapshotRequest {
        source: root.clone(),
        source_region: "us-east-1".into(),
        kms_key_id: "arn:aws:kms:us-east-1:444455556666:key/5b8f2c1e-7d4a-4e3b-9c6f-1a2b3c4d5e6f"
            .into(),
        client_token: format!("{c}-{root}"),
        description: "custody copy".into(),
        tags: tags(&c, &i),
    };
    // Not completed yet: EC2 refuses to copy.
    assert_eq!(
        t.copy_snapshot(&req).await.unwrap_err().name,
        ErrorName::InvalidInput
    );
    // The AWS-managed key cannot be shared.
    let err = t
        .share_snapshot(&root, &forensic_account)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::Unsupported);

    w.advance(Duration::from_secs(3600));
    let copy = t.copy_snapshot(&req).await.unwrap();
    assert_eq!(
        t.copy_snapshot(&req).await.unwrap(),
        copy,
        "same token, same copy"
    );
    let mut other = req.clone();
    other.source = made[1].snapshot_id.clone();
    assert_eq!(
        t.copy_snapshot(&other).await.unwrap_err().name,
        ErrorName::Conflict
    );

    // The forensic account cannot see the copy until it is shared.
    let f = forensic(&w);
    assert_eq!(
        f.describe_snapshots(std::slice::from_ref(&copy))
            .await
            .unwrap_err()
            .name,
        ErrorName::NotFound
    );
    t.share_snapshot(&copy, &forensic_account).await.unwrap();
    t.share_snapshot(&copy, &forensic_account).await.unwrap();
    let seen = f
        .describe_snapshots(std::slice::from_ref(&copy))
        .await
        .unwrap();
    assert_eq!(seen[0].state, SnapshotState::Pending);
    assert!(seen[0].encrypted);
    w.advance(Duration::from_secs(3600));
    assert_eq!(
        f.describe_snapshots(&[copy]).await.unwrap()[0].state,
        SnapshotState::Completed
    );
}
