//! SNS and SSM against moto; Security Hub and SSM DescribeInstanceInformation against recorded
//! responses (moto does not implement BatchUpdateFindings nor DescribeInstanceInformation).

use std::collections::BTreeMap;

use custody_aws::{SecurityHub, Sns, Ssm};
use custody_core::error::ErrorName;
use custody_core::id::{AccountId, InstanceId, Region};
use custody_core::trigger::FindingRef;
use custody_steps::ports::ops::{commands as cmd, findings as f, notifier as n};
use custody_steps::ports::{
    CommandRequest, CommandStatus, FindingsHub, NodeCommands, Notification, Notifier,
    WorkflowStatus,
};

use super::harness::Moto;
use super::replay::Replay;
use super::seed::{assert_declared, case_id, clients, network};

#[tokio::test]
async fn notifications_reach_subscribers_with_text_and_json() {
    let moto = Moto::start();
    let (c, a, log) = clients(&moto);
    let topic = c
        .sns
        .create_topic()
        .name("custody")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned();
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config());
    let queue = sqs
        .create_queue()
        .queue_name("responders")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let queue_arn = "arn:aws:sqs:us-east-1:123456789012:responders";
    c.sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();
    log.clear();

    let sns = Sns::new(a.sns.clone(), &topic);
    let case = case_id(12);
    let notification = Notification {
        case_id: case.clone(),
        subject: "custody: pod \"miner\nx\" isolated in prod-payments".to_owned(),
        text: "Memory captured from 1 node; pod isolated.".to_owned(),
        json: serde_json::json!({"caseId": case, "status": "COMPLETED"}),
    };
    let id = sns.publish(&notification).await.unwrap();
    assert!(!id.is_empty());
    assert_declared(&log, &[&n::PUBLISH]);

    let received = sqs
        .receive_message()
        .queue_url(&queue)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let messages = received.messages();
    assert_eq!(messages.len(), 1);
    let body: serde_json::Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    assert_eq!(body, notification.json, "machines get the structured case");

    let gone = Sns::new(a.sns.clone(), "arn:aws:sns:us-east-1:123456789012:missing");
    assert_eq!(
        gone.publish(&notification).await.unwrap_err().name,
        ErrorName::NotFound
    );
}

#[tokio::test]
async fn commands_are_sent_found_by_comment_and_read() {
    let moto = Moto::start();
    let (c, a, log) = clients(&moto);
    let net = network(&c.ec2).await;
    log.clear();
    let ssm = Ssm::new(a.ssm.clone());
    let comment = format!("custody {} collect-host", case_id(13));

    assert_eq!(
        ssm.find_command(&net.instance, &comment).await.unwrap(),
        None
    );
    let request = CommandRequest {
        document: "AWS-RunShellScript".to_owned(),
        instance_id: net.instance.clone(),
        parameters: BTreeMap::from([("commands".to_owned(), "uname -r".to_owned())]),
        comment: comment.clone(),
        timeout_seconds: 600,
    };
    let id = ssm.send_command(&request).await.unwrap();
    assert_eq!(
        ssm.find_command(&net.instance, &comment).await.unwrap(),
        Some(id.clone())
    );
    assert_eq!(
        ssm.find_command(&net.instance, "custody other")
            .await
            .unwrap(),
        None
    );
    let invocation = ssm.invocation(&id, &net.instance).await.unwrap();
    assert_eq!(invocation.status, CommandStatus::Success);
    assert_eq!(invocation.exit_code, Some(0));
    assert_declared(
        &log,
        &[&cmd::FIND_COMMAND, &cmd::SEND_COMMAND, &cmd::INVOCATION],
    );

    let err = ssm
        .invocation("00000000-0000-0000-0000-000000000000", &net.instance)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::NotFound, "{err:?}");
    let long = CommandRequest {
        comment: "x".repeat(101),
        ..request
    };
    assert_eq!(
        ssm.send_command(&long).await.unwrap_err().name,
        ErrorName::InvalidInput
    );
}

/// DescribeInstanceInformation, answered with the response shape from the SSM API reference
/// (moto answers 500 "not implemented").
#[tokio::test]
async fn agent_status_reports_unknown_instances_as_not_managed() {
    let replay = Replay::default();
    replay.respond(
        200,
        &[("content-type", "application/x-amz-json-1.1"), ("x-amzn-requestid", "5d1c8b3e-0000-4000-8000-000000000001")],
        r#"{"InstanceInformationList":[{"InstanceId":"i-0123456789abcdef0","PingStatus":"Online","PlatformType":"Linux","PlatformName":"Amazon Linux","PlatformVersion":"2023","AgentVersion":"3.3.987.0","LastPingDateTime":1.7959e9,"IsLatestVersion":true,"ResourceType":"EC2Instance","IPAddress":"10.0.1.23","ComputerName":"ip-10-0-1-23.ec2.internal"},{"InstanceId":"i-0fedcba9876543210","PingStatus":"ConnectionLost","PlatformType":"Linux","PlatformName":"Bottlerocket","ResourceType":"EC2Instance"}]}"#,
    );
    let log = custody_aws::OperationLog::new();
    let clients = custody_aws::Clients::new(&replay.sdk_config(), &log);
    let ssm = Ssm::new(clients.ssm);
    let ids = [
        "i-0123456789abcdef0",
        "i-0fedcba9876543210",
        "i-00000000000000001",
    ]
    .map(|i| InstanceId::parse(i).unwrap());
    let status = ssm.agent_status(&ids).await.unwrap();
    assert_declared(&log, &[&cmd::AGENT_STATUS]);
    assert!(status[0].online);
    assert_eq!(status[0].platform.as_deref(), Some("Amazon Linux"));
    assert!(!status[1].online);
    assert_eq!(status[1].ping_status, "ConnectionLost");
    assert!(!status[2].online);
    assert_eq!(status[2].ping_status, "NotManaged");

    let sent = replay.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].header("x-amz-target"),
        Some("AmazonSSM.DescribeInstanceInformation")
    );
    let filters = &sent[0].json()["Filters"][0];
    assert_eq!(filters["Key"], "InstanceIds");
    assert_eq!(filters["Values"].as_array().unwrap().len(), 3);
}

fn hub_finding(id: &str) -> FindingRef {
    FindingRef {
        id: id.to_owned(),
        product: "GuardDuty".to_owned(),
        finding_type: "Execution:Kubernetes/ExecInKubeSystemPod".to_owned(),
        severity: Some(5.0),
        title: None,
        account: AccountId::parse("111122223333").unwrap(),
        region: Region::parse("us-east-1").unwrap(),
        product_arn: Some("arn:aws:securityhub:us-east-1::product/aws/guardduty".to_owned()),
        asff_id: Some(format!(
            "arn:aws:guardduty:us-east-1:111122223333:detector/12abc/finding/{id}"
        )),
    }
}

/// BatchUpdateFindings, answered with the response shape from the Security Hub API reference
/// (moto answers 404: not implemented).
#[tokio::test]
async fn findings_get_a_note_and_a_workflow_status() {
    let replay = Replay::default();
    replay.respond(
        200,
        &[("content-type", "application/json"), ("x-amzn-requestid", "b2c3d4e5-0000-4000-8000-000000000002")],
        r#"{"ProcessedFindings":[{"Id":"arn:aws:guardduty:us-east-1:111122223333:detector/12abc/finding/f1","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/guardduty"}],"UnprocessedFindings":[]}"#,
    );
    replay.respond(
        200,
        &[("content-type", "application/json")],
        r#"{"ProcessedFindings":[],"UnprocessedFindings":[{"FindingIdentifier":{"Id":"arn:aws:guardduty:us-east-1:111122223333:detector/12abc/finding/f2","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/guardduty"},"ErrorCode":"FindingNotFound","ErrorMessage":"Finding not found"}]}"#,
    );
    let log = custody_aws::OperationLog::new();
    let clients = custody_aws::Clients::new(&replay.sdk_config(), &log);
    let hub = SecurityHub::new(clients.securityhub);

    let mut siem_only = hub_finding("f0");
    siem_only.asff_id = None;
    siem_only.product_arn = None;
    hub.annotate(
        &[hub_finding("f1"), siem_only],
        "custody case-1: memory captured",
        WorkflowStatus::Notified,
    )
    .await
    .unwrap();
    assert_declared(&log, &[&f::ANNOTATE]);
    let sent = replay.sent();
    assert_eq!(sent.len(), 1);
    let body = sent[0].json();
    assert_eq!(
        body["FindingIdentifiers"].as_array().unwrap().len(),
        1,
        "only Security Hub findings are addressed"
    );
    assert_eq!(
        body["FindingIdentifiers"][0]["Id"],
        hub_finding("f1").asff_id.unwrap().as_str()
    );
    assert_eq!(body["Note"]["Text"], "custody case-1: memory captured");
    assert_eq!(body["Note"]["UpdatedBy"], "custody");
    assert_eq!(body["Workflow"]["Status"], "NOTIFIED");

    let err = hub
        .annotate(&[hub_finding("f2")], "done", WorkflowStatus::Resolved)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::NotFound);
    assert!(
        err.cause.contains("FindingNotFound") && err.cause.contains("finding/f2"),
        "{}",
        err.cause
    );
    assert_eq!(replay.sent()[1].json()["Workflow"]["Status"], "RESOLVED");
}

/// Throttling and access errors keep the service's code and request id.
#[tokio::test]
async fn service_errors_keep_code_and_request_id() {
    let replay = Replay::default();
    replay.respond(
        400,
        &[
            ("content-type", "application/json"),
            ("x-amzn-requestid", "req-throttled-1"),
        ],
        r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#,
    );
    replay.respond(
        403,
        &[("content-type", "application/json"), ("x-amzn-requestid", "req-denied-2")],
        r#"{"__type":"AccessDeniedException","Message":"User is not authorized to perform: securityhub:BatchUpdateFindings"}"#,
    );
    let log = custody_aws::OperationLog::new();
    let hub = SecurityHub::new(custody_aws::Clients::new(&replay.sdk_config(), &log).securityhub);
    let err = hub
        .annotate(&[hub_finding("f1")], "n", WorkflowStatus::Notified)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::Throttled);
    assert_eq!(
        err.service_code.as_deref(),
        Some("TooManyRequestsException")
    );
    assert_eq!(err.request_id.as_deref(), Some("req-throttled-1"));
    assert!(err.is_transient());
    let err = hub
        .annotate(&[hub_finding("f1")], "n", WorkflowStatus::Notified)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::AccessDenied);
    assert_eq!(err.request_id.as_deref(), Some("req-denied-2"));
    assert!(err.cause.contains("not authorized"), "{}", err.cause);
}
