//! A world saved after a run restores to the same state and time.

use std::collections::BTreeMap;
use std::time::Duration;

use custody_core::id::{InstanceId, Timestamp, VpcId};
use custody_sim::{SimClock, World};
use custody_steps::ports::{Quarantine, SnapshotState, Snapshots};

use super::common::{target, world};

#[tokio::test]
async fn save_and_restore_round_trips_the_whole_state() {
    let w = world("eks-three-nodes.json");
    let t = target(&w);
    let vpc = VpcId::parse("vpc-0a11b22c33d44e55f").unwrap();
    t.create_quarantine_group(&vpc, "q", "q", &BTreeMap::new())
        .await
        .unwrap();
    let i = InstanceId::parse("i-0abc1230000000001").unwrap();
    let snaps = t.create_snapshots(&i, "d", &BTreeMap::new()).await.unwrap();
    w.advance(Duration::from_secs(100));

    let saved = w.to_json().unwrap();
    let back = World::from_state_json(&saved).unwrap();
    assert_eq!(back.now(), w.now());
    assert_eq!(back.snapshot_state(), {
        let mut s = w.snapshot_state();
        s.now = Some(w.now());
        s
    });
    assert_eq!(back.calls(), w.calls());
    assert_eq!(back.to_json().unwrap(), saved);

    // The restored world goes on where it stopped.
    let rt = target(&back);
    let id = snaps[0].snapshot_id.clone();
    assert_eq!(
        rt.describe_snapshots(std::slice::from_ref(&id))
            .await
            .unwrap()[0]
            .state,
        SnapshotState::Pending
    );
    back.advance(Duration::from_secs(3600));
    assert_eq!(
        rt.describe_snapshots(&[id]).await.unwrap()[0].state,
        SnapshotState::Completed
    );
    assert!(rt.find_security_group(&vpc, "q").await.unwrap().is_some());
}

#[tokio::test]
async fn a_world_can_follow_another_clock() {
    let engine = SimClock::new(Timestamp::parse("2026-11-23T03:07:00Z").unwrap());
    let driver = engine.clone();
    let w = world("ec2-single.json").with_clock(SimClock::driven_by(move || driver.now()));
    let i = InstanceId::parse("i-0123456789abcdef0").unwrap();
    let t = target(&w);
    let snaps = t.create_snapshots(&i, "d", &BTreeMap::new()).await.unwrap();
    engine.advance(Duration::from_secs(3600));
    let ids: Vec<_> = snaps.into_iter().map(|s| s.snapshot_id).collect();
    assert!(
        t.describe_snapshots(&ids)
            .await
            .unwrap()
            .iter()
            .all(|s| s.state == SnapshotState::Completed)
    );
    assert!(w.now() >= engine.now());
}
