//! Shared fixtures: a valid function configuration.

use std::collections::BTreeMap;

/// The steps' settings from the bundled EKS world, as the CDK app would pass them.
pub fn settings_json() -> String {
    let world: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/worlds/eks-three-nodes.json"
        ))
        .unwrap(),
    )
    .unwrap();
    world["settings"].to_string()
}

/// Every variable a working function has.
pub fn vars() -> BTreeMap<String, String> {
    [
        ("CUSTODY_STEP", "capture-memory".to_owned()),
        ("CUSTODY_SETTINGS", settings_json()),
        ("CUSTODY_CASE_TABLE", "custody-cases".to_owned()),
        (
            "CUSTODY_TOPIC_ARN",
            "arn:aws:sns:us-east-1:444455556666:custody-notifications".to_owned(),
        ),
        (
            "CUSTODY_RESPONDER_EXTERNAL_ID",
            "custody-ext-1234".to_owned(),
        ),
        ("CUSTODY_OBJECT_LOCK_MODE", "COMPLIANCE".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A lookup over `vars`.
pub fn lookup(vars: &BTreeMap<String, String>) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| vars.get(name).cloned()
}
