//! Quarantine, identity and instance-protection behaviour, seen through reads.

use std::collections::BTreeMap;

use custody_core::error::ErrorName;
use custody_core::id::{Arn, InstanceId, NetworkInterfaceId, RoleArn, SubnetId, VpcId};
use custody_steps::capability::Effect;
use custody_steps::ports::{Compute, Identity, Quarantine};

use super::common::{target, world};

fn vpc() -> VpcId {
    VpcId::parse("vpc-0a11b22c33d44e55f").unwrap()
}

#[tokio::test]
async fn a_quarantine_group_is_created_once_without_rules_and_found_by_name() {
    let w = world("eks-three-nodes.json");
    let t = target(&w);
    let name = "custody-quarantine-vpc-0a11b22c33d44e55f";
    assert_eq!(t.find_security_group(&vpc(), name).await.unwrap(), None);
    let tags = BTreeMap::from([("custody:case".to_string(), "case-x".to_string())]);
    let sg = t
        .create_quarantine_group(&vpc(), name, "quarantine", &tags)
        .await
        .unwrap();
    assert_eq!(
        t.find_security_group(&vpc(), name).await.unwrap(),
        Some(sg.clone())
    );
    let again = t
        .create_quarantine_group(&vpc(), name, "quarantine", &tags)
        .await
        .unwrap_err();
    assert_eq!(again.name, ErrorName::Conflict);
    assert_eq!(
        again.service_code.as_deref(),
        Some("InvalidGroup.Duplicate")
    );
    w.inspect(|st| {
        let g = st.accounts[1].vpcs[0]
            .security_groups
            .iter()
            .find(|g| g.id == sg)
            .unwrap();
        assert!(g.ingress.is_empty() && g.egress.is_empty());
        assert_eq!(g.tags, tags);
    });
}

#[tokio::test]
async fn eni_groups_are_replaced_and_read_back() {
    let w = world("eks-three-nodes.json");
    let t = target(&w);
    let eni = NetworkInterfaceId::parse("eni-0abc1230000000001").unwrap();
    let before = t.eni_groups(&eni).await.unwrap();
    assert_eq!(before.len(), 2);
    let sg = t
        .create_quarantine_group(&vpc(), "q", "q", &BTreeMap::new())
        .await
        .unwrap();
    t.set_eni_groups(&eni, std::slice::from_ref(&sg))
        .await
        .unwrap();
    t.set_eni_groups(&eni, std::slice::from_ref(&sg))
        .await
        .unwrap();
    assert_eq!(t.eni_groups(&eni).await.unwrap(), vec![sg]);
    assert_eq!(
        t.set_eni_groups(&eni, &[]).await.unwrap_err().name,
        ErrorName::InvalidInput
    );
    let missing = NetworkInterfaceId::parse("eni-0123456789abcdef9").unwrap();
    assert_eq!(
        t.eni_groups(&missing).await.unwrap_err().name,
        ErrorName::NotFound
    );
}

#[tokio::test]
async fn a_subnet_acl_is_swapped_and_swapped_back() {
    let w = world("eks-three-nodes.json");
    let t = target(&w);
    let subnet = SubnetId::parse("subnet-0aa11bb22cc33dd44").unwrap();
    let before = t.subnet_acl(&subnet).await.unwrap();
    let q = t
        .ensure_quarantine_acl(&vpc(), "custody-quarantine", &BTreeMap::new())
        .await
        .unwrap();
    assert_eq!(
        t.ensure_quarantine_acl(&vpc(), "custody-quarantine", &BTreeMap::new())
            .await
            .unwrap(),
        q
    );
    let assoc = t
        .replace_acl_association(&before.association_id, &q)
        .await
        .unwrap();
    let now = t.subnet_acl(&subnet).await.unwrap();
    assert_eq!(
        (now.acl_id.clone(), now.association_id.clone()),
        (q, assoc.clone())
    );
    t.replace_acl_association(&assoc, &before.acl_id)
        .await
        .unwrap();
    assert_eq!(t.subnet_acl(&subnet).await.unwrap().acl_id, before.acl_id);
    // The swap relates to every instance in the subnet: a guardrail test can see it.
    let swap = w
        .calls()
        .into_iter()
        .find(|c| c.capability.operation == "replace_acl_association")
        .unwrap();
    assert!(swap.concerns("i-0abc1230000000001") && swap.concerns("i-0abc1230000000002"));
}

#[tokio::test]
async fn role_policies_are_put_read_and_deleted() {
    let w = world("eks-three-nodes.json");
    let t = target(&w);
    let profile =
        Arn::parse("arn:aws:iam::111122223333:instance-profile/eks-node-prod-payments").unwrap();
    let roles = t.instance_profile_roles(&profile).await.unwrap();
    let role: RoleArn = roles[0].clone();
    assert_eq!(t.role_policy(&role, "custody-revoke").await.unwrap(), None);
    t.put_role_policy(&role, "custody-revoke", r#"{"Version":"2012-10-17"}"#)
        .await
        .unwrap();
    assert_eq!(
        t.role_policy(&role, "custody-revoke")
            .await
            .unwrap()
            .as_deref(),
        Some(r#"{"Version":"2012-10-17"}"#)
    );
    assert_eq!(
        t.put_role_policy(&role, "x", "not json")
            .await
            .unwrap_err()
            .name,
        ErrorName::InvalidInput
    );
    t.delete_role_policy(&role, "custody-revoke").await.unwrap();
    t.delete_role_policy(&role, "custody-revoke").await.unwrap();
    assert_eq!(t.role_policy(&role, "custody-revoke").await.unwrap(), None);
    // A call on the role concerns every instance whose profile holds it.
    let put = w
        .calls()
        .into_iter()
        .find(|c| c.capability.operation == "put_role_policy")
        .unwrap();
    assert!(put.concerns("i-0abc1230000000003") && put.concerns("eks:prod-payments"));
}

#[tokio::test]
async fn instance_protection_and_profile_changes_are_visible() {
    let w = world("ec2-single.json");
    let t = target(&w);
    let i = InstanceId::parse("i-0123456789abcdef0").unwrap();
    assert!(!t.termination_protection(&i).await.unwrap());
    t.set_termination_protection(&i, true).await.unwrap();
    assert!(t.termination_protection(&i).await.unwrap());
    t.set_delete_on_termination(&i, "/dev/sda1", false)
        .await
        .unwrap();
    assert_eq!(
        t.set_delete_on_termination(&i, "/dev/nope", false)
            .await
            .unwrap_err()
            .name,
        ErrorName::InvalidInput
    );
    w.inspect(|st| assert!(!st.accounts[1].instances[0].volumes[0].delete_on_termination));

    let assoc = t.profile_association(&i).await.unwrap().unwrap();
    let sharing = t.instances_with_profile(&assoc.profile_arn).await.unwrap();
    assert_eq!(sharing.len(), 2);
    t.disassociate_profile(&assoc.association_id).await.unwrap();
    assert_eq!(t.profile_association(&i).await.unwrap(), None);
    t.associate_profile(&i, &assoc.profile_arn).await.unwrap();
    t.associate_profile(&i, &assoc.profile_arn).await.unwrap();
    assert_eq!(
        t.profile_association(&i)
            .await
            .unwrap()
            .unwrap()
            .profile_arn,
        assoc.profile_arn
    );

    let mutations: Vec<_> = w
        .calls()
        .into_iter()
        .filter(|c| c.capability.effect == Effect::Mutate)
        .collect();
    assert!(mutations.iter().all(|c| c.concerns("i-0123456789abcdef0")));
    assert!(!mutations.iter().any(|c| c.concerns("i-0123456789abcdef1")));
}
