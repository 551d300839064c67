//! IAM, STS and EKS against moto.

use custody_aws::{AssumeRequest, Iam, assume_role, describe_cluster, session_name};
use custody_core::error::ErrorName;
use custody_core::id::{AccountId, Arn, ClusterName, Partition, Region, RoleArn};
use custody_steps::ports::Identity;
use custody_steps::ports::ops::identity as i;

use super::harness::{ACCOUNT, Moto};
use super::seed::{assert_declared, case_id, clients};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const REVOKE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-11-23T09:00:00Z"}}}]}"#;

#[tokio::test]
async fn role_policies_are_put_read_and_deleted() {
    let moto = Moto::start();
    let (c, a, log) = clients(&moto);
    c.iam
        .create_role()
        .role_name("web")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let profile = c
        .iam
        .create_instance_profile()
        .instance_profile_name("web-profile")
        .send()
        .await
        .unwrap();
    c.iam
        .add_role_to_instance_profile()
        .instance_profile_name("web-profile")
        .role_name("web")
        .send()
        .await
        .unwrap();
    log.clear();
    let iam = Iam::new(a.iam.clone());

    let profile_arn = Arn::parse(profile.instance_profile().unwrap().arn()).unwrap();
    let roles = iam.instance_profile_roles(&profile_arn).await.unwrap();
    let role = RoleArn::parse(&format!("arn:aws:iam::{ACCOUNT}:role/web")).unwrap();
    assert_eq!(roles, vec![role.clone()]);
    assert_declared(&log, &[&i::INSTANCE_PROFILE_ROLES]);

    let name = format!("custody-revoke-{}", case_id(7));
    assert_eq!(iam.role_policy(&role, &name).await.unwrap(), None);
    iam.put_role_policy(&role, &name, REVOKE).await.unwrap();
    iam.put_role_policy(&role, &name, REVOKE).await.unwrap();
    // The effect, through the API: the policy is attached to the role, with this document.
    let stored = iam
        .role_policy(&role, &name)
        .await
        .unwrap()
        .expect("policy attached");
    let stored: serde_json::Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(
        stored,
        serde_json::from_str::<serde_json::Value>(REVOKE).unwrap()
    );
    let listed = c
        .iam
        .list_role_policies()
        .role_name("web")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.policy_names(), std::slice::from_ref(&name));
    assert_declared(&log, &[&i::ROLE_POLICY, &i::PUT_ROLE_POLICY]);

    iam.delete_role_policy(&role, &name).await.unwrap();
    iam.delete_role_policy(&role, &name).await.unwrap();
    assert_eq!(iam.role_policy(&role, &name).await.unwrap(), None);
    assert_declared(&log, &[&i::ROLE_POLICY, &i::DELETE_ROLE_POLICY]);

    let ghost = RoleArn::parse(&format!("arn:aws:iam::{ACCOUNT}:role/ghost")).unwrap();
    let err = iam
        .put_role_policy(&ghost, &name, REVOKE)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::NotFound);
    assert_eq!(err.service_code.as_deref(), Some("NoSuchEntity"));
    let err = iam
        .put_role_policy(&role, &name, "not json")
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput, "{err:?}");
    let missing = Arn::parse(&format!("arn:aws:iam::{ACCOUNT}:instance-profile/none")).unwrap();
    assert_eq!(
        iam.instance_profile_roles(&missing).await.unwrap_err().name,
        ErrorName::NotFound
    );
}

#[tokio::test]
async fn the_responder_session_is_named_after_the_case() {
    let moto = Moto::start();
    let (_, a, log) = clients(&moto);
    let case = case_id(8);
    let target = AccountId::parse("111122223333").unwrap();
    let request = AssumeRequest::responder(
        Partition::Aws,
        &target,
        "custody-responder",
        &case,
        Some("external-123"),
        &[("team".to_owned(), "ir".to_owned())].into(),
        900,
    );
    let credentials = assume_role(&a.sts, &request).await.unwrap();
    assert!(credentials.expiry().is_some());
    let recorded = log.take();
    assert!(
        recorded.contains("sts:AssumeRole") && recorded.contains("sts:TagSession"),
        "{recorded:?}"
    );

    let as_responder = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&moto.sdk_config())
            .credentials_provider(credentials)
            .build(),
    );
    let me = as_responder.get_caller_identity().send().await.unwrap();
    let arn = me.arn().unwrap();
    assert!(
        arn.ends_with(&format!(
            "assumed-role/custody-responder/{}",
            session_name(&case)
        )),
        "{arn}"
    );
    assert_eq!(me.account(), Some("111122223333"));
}

#[tokio::test]
async fn eks_describe_gives_tags_endpoint_and_ca() {
    let moto = Moto::start();
    let (c, a, log) = clients(&moto);
    let role = c
        .iam
        .create_role()
        .role_name("eks")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    c.eks
        .create_cluster()
        .name("prod-payments")
        .role_arn(role.role().unwrap().arn())
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .subnet_ids("subnet-12345678")
                .build(),
        )
        .tags("IsTriageRequired", "true")
        .send()
        .await
        .unwrap();
    log.clear();
    let region = Region::parse("us-east-1").unwrap();
    let name = ClusterName::parse("prod-payments").unwrap();
    let cluster = describe_cluster(&a.eks, &name, &region).await.unwrap();
    assert_eq!(cluster.info.name, name);
    assert_eq!(
        cluster
            .info
            .tags
            .get("IsTriageRequired")
            .map(String::as_str),
        Some("true")
    );
    assert!(
        cluster
            .info
            .arn
            .as_str()
            .ends_with(":cluster/prod-payments")
    );
    assert!(
        cluster.endpoint.starts_with("https://"),
        "{}",
        cluster.endpoint
    );
    assert!(!cluster.certificate_authority.is_empty());
    assert_declared(&log, &[&custody_steps::ports::ops::cluster::CONNECT]);

    let ghost = ClusterName::parse("ghost").unwrap();
    let err = describe_cluster(&a.eks, &ghost, &region).await.unwrap_err();
    assert_eq!(err.name, ErrorName::NotFound);
    assert_eq!(
        err.service_code.as_deref(),
        Some("ResourceNotFoundException")
    );
}
