//! The production environment is built offline from explicit options, in the forensic region.

use custody_aws::AwsOptions;
use custody_runtime::production_environment;
use custody_steps::ports::{Environment, Settings};

fn settings() -> Settings {
    let world: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/worlds/eks-three-nodes.json"
        ))
        .unwrap(),
    )
    .unwrap();
    serde_json::from_value(world["settings"].clone()).unwrap()
}

#[tokio::test]
async fn builds_without_calling_aws() {
    let mut options = AwsOptions::new("custody-cases", "arn:aws:sns:us-east-1:444455556666:t");
    // Unroutable: a build that called out would fail or hang here, and nothing may.
    options.endpoint_url = Some("http://127.0.0.1:9".to_owned());
    let env = production_environment(settings(), options.clone())
        .await
        .unwrap();
    assert_eq!(env.settings(), &settings());
    assert_eq!(env.options(), &options);
    assert!(env.operation_log().entries().is_empty());
}
