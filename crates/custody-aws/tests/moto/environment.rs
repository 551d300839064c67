//! `AwsEnvironment` against moto: forensic ports on the process's credentials, target ports as the
//! responder role assumed per case and cached.

use custody_aws::{AwsEnvironment, AwsOptions, create_table};
use custody_core::error::ErrorName;
use custody_core::id::{AccountId, ClusterName, Region};
use custody_core::trigger::TriggerConfig;
use custody_steps::ports::{DocumentSettings, Environment, Settings, WorkstationSettings};

use super::harness::{ACCOUNT, Moto};
use super::seed::{case_id, clients, network};

fn settings() -> Settings {
    Settings {
        forensic_account: AccountId::parse(ACCOUNT).unwrap(),
        forensic_region: Region::parse("us-east-1").unwrap(),
        evidence_bucket: "custody-evidence".to_owned(),
        artifacts_bucket: "custody-artifacts".to_owned(),
        snapshot_kms_key: "arn:aws:kms:us-east-1:123456789012:key/forensic".to_owned(),
        quarantine_label: "custody.io/quarantine".to_owned(),
        isolate_subnet_nacl: false,
        revoke_role_sessions: true,
        upload_part_size_bytes: 64 << 20,
        presigned_url_seconds: 3600,
        documents: DocumentSettings {
            capture_memory: "custody-capture-memory".to_owned(),
            map_pods: "custody-map-pods".to_owned(),
            collect_host: "custody-collect-host".to_owned(),
            analyse_memory: "custody-analyse-memory".to_owned(),
            analyse_disk: "custody-analyse-disk".to_owned(),
        },
        workstation: WorkstationSettings {
            image: None,
            instance_type: "m5.xlarge".to_owned(),
            subnet: None,
            security_group: None,
            instance_profile: "custody-workstation".to_owned(),
        },
        trigger: TriggerConfig::default(),
    }
}

#[tokio::test]
async fn target_ports_assume_the_responder_once_per_case() {
    let moto = Moto::start();
    let (c, _a, _log) = clients(&moto);
    let net = network(&c.ec2).await;
    create_table(&c.dynamodb, "cases").await.unwrap();
    let mut options = AwsOptions::new("cases", "arn:aws:sns:us-east-1:123456789012:custody");
    options.external_id = Some("custody-external-id".to_owned());
    let env = AwsEnvironment::new(settings(), options, moto.sdk_config()).unwrap();
    let log = env.operation_log().clone();

    // Forensic ports use the environment's own credentials.
    assert_eq!(env.forensic().cases.load(&case_id(40)).await.unwrap(), None);
    assert_eq!(
        log.take().into_iter().collect::<Vec<_>>(),
        vec!["dynamodb:Query"]
    );

    // Target ports: the responder role of the target account, assumed once per case.
    let account = AccountId::parse(ACCOUNT).unwrap();
    let region = Region::parse("us-east-1").unwrap();
    let ports = env.target(&account, &region, &case_id(40)).await.unwrap();
    let facts = ports
        .compute
        .describe_instances(std::slice::from_ref(&net.instance))
        .await
        .unwrap();
    assert_eq!(facts[0].instance_id, net.instance);
    assert_eq!(
        facts[0].tags.get("Name").map(String::as_str),
        Some("suspect")
    );
    assert_eq!(facts[0].vpc_id.as_ref(), Some(&net.vpc));
    assert_eq!(facts[0].network_interfaces[0].id, net.eni);
    assert_eq!(facts[0].volumes.len(), 1);
    assert!(facts[0].volumes[0].size_gib > 0);
    let _again = env.target(&account, &region, &case_id(40)).await.unwrap();
    let _other_case = env.target(&account, &region, &case_id(41)).await.unwrap();
    let assumed = log
        .entries()
        .iter()
        .filter(|a| *a == "sts:AssumeRole")
        .count();
    assert_eq!(assumed, 2, "one session per case, reused within the case");

    // The EKS half describes; without a Kubernetes client plugged in, connecting says so.
    let err = match ports
        .clusters
        .connect(
            &account,
            &region,
            &ClusterName::parse("ghost").unwrap(),
            &case_id(40),
        )
        .await
    {
        Err(e) => e,
        Ok(_) => panic!("connected to a cluster that does not exist"),
    };
    assert_eq!(err.name, ErrorName::NotFound);
    let other = Region::parse("eu-west-1").unwrap();
    match ports
        .clusters
        .connect(
            &account,
            &other,
            &ClusterName::parse("x").unwrap(),
            &case_id(40),
        )
        .await
    {
        Err(e) => assert_eq!(e.name, ErrorName::InvalidInput),
        Ok(_) => panic!("ports for one region connected in another"),
    }
}
