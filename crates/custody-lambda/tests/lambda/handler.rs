//! One invocation without the runtime: outputs pass through, step errors become the Lambda
//! function error Step Functions matches on.

use custody_aws::AwsOptions;
use custody_core::error::{ErrorName, StepError};
use custody_lambda::handler::{diagnostic, handle};
use custody_steps::StepName;

use crate::common::settings_json;

#[test]
fn a_step_error_is_the_diagnostic_step_functions_matches() {
    let err = StepError::new(
        ErrorName::AgentOffline,
        "instance \"i-0abc\" has no SSM agent",
    )
    .with_service_code("InvalidInstanceId")
    .with_request_id("req-1");
    let d = diagnostic(&err);
    assert_eq!(d.error_type, "Custody.AgentOffline");
    assert_eq!(
        d.error_message,
        "instance \"i-0abc\" has no SSM agent (service code: InvalidInstanceId; request id: req-1)"
    );
    // The same payload custody's own engine expects from a Lambda, round trip included.
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json, err.to_lambda_json());
    assert_eq!(StepError::from_lambda_json(&json).unwrap(), err);
}

#[test]
fn every_error_name_is_its_custody_name() {
    for name in [
        ErrorName::InvalidInput,
        ErrorName::Throttled,
        ErrorName::StaleCase,
        ErrorName::Protected,
        ErrorName::Internal,
    ] {
        let d = diagnostic(&StepError::new(name, "x"));
        assert_eq!(d.error_type, name.as_str());
        assert!(d.error_type.starts_with("Custody."), "{}", d.error_type);
    }
}

#[tokio::test]
async fn a_bad_input_fails_the_invocation_as_invalid_input_before_any_aws_call() {
    let settings = custody_lambda::config::parse_settings(&settings_json()).unwrap();
    let mut options = AwsOptions::new("custody-cases", "arn:aws:sns:us-east-1:444455556666:t");
    options.endpoint_url = Some("http://127.0.0.1:9".to_owned());
    options.max_attempts = 1;
    let env = custody_runtime::production_environment(settings, options)
        .await
        .unwrap();

    let d = handle(
        StepName::CaptureMemory,
        &env,
        "req-1",
        serde_json::json!({ "caseId": "not a case id" }),
    )
    .await
    .unwrap_err();

    assert_eq!(d.error_type, "Custody.InvalidInput");
    assert!(d.error_message.contains("caseId"), "{}", d.error_message);
    assert!(
        env.operation_log().entries().is_empty(),
        "no AWS call for a refused input"
    );
}
