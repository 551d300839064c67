//! Cold-start configuration: a bad deployment is refused with the variable and the reason.

use custody_core::error::with_sources;
use custody_lambda::config::{ConfigError, FunctionConfig, parse_settings};
use custody_steps::StepName;

use crate::common::{lookup, settings_json, vars};

fn error_with(name: &str, value: Option<&str>) -> ConfigError {
    let mut v = vars();
    match value {
        Some(value) => v.insert(name.to_owned(), value.to_owned()),
        None => v.remove(name),
    };
    FunctionConfig::from_lookup(lookup(&v)).unwrap_err()
}

#[test]
fn a_complete_configuration_is_read() {
    let config = FunctionConfig::from_lookup(lookup(&vars())).unwrap();
    assert_eq!(config.step, StepName::CaptureMemory);
    assert_eq!(config.settings.forensic_region.as_str(), "us-east-1");
    assert_eq!(config.options.case_table, "custody-cases");
    assert_eq!(
        config.options.external_id.as_deref(),
        Some("custody-ext-1234")
    );
}

#[test]
fn every_step_name_is_accepted() {
    for step in StepName::ALL {
        let mut v = vars();
        v.insert("CUSTODY_STEP".to_owned(), step.as_str().to_owned());
        assert_eq!(FunctionConfig::from_lookup(lookup(&v)).unwrap().step, *step);
    }
}

#[test]
fn an_unknown_or_missing_step_is_refused_naming_the_allowed_values() {
    for value in [
        Some("CaptureMemory"),
        Some("capture-memory; rm -rf /"),
        Some(" "),
        None,
    ] {
        let err = error_with("CUSTODY_STEP", value);
        let text = with_sources(&err);
        assert!(text.starts_with("CUSTODY_STEP is"), "{text}");
        for step in StepName::ALL {
            assert!(text.contains(step.as_str()), "{text} lacks {step}");
        }
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            assert!(text.contains(&format!("{v:?}")), "escaped value in {text}");
        }
    }
}

#[test]
fn settings_that_are_not_the_steps_settings_are_refused_at_their_path() {
    let cases: &[(&str, &str)] = &[
        ("{", "$"),
        (r#"{"forensicAccount": "44445555666"}"#, "$.forensicAccount"),
    ];
    for (text, path) in cases {
        match parse_settings(text).unwrap_err() {
            ConfigError::Settings { path: got, .. } => assert_eq!(&got, path, "{text}"),
            other => panic!("{other}"),
        }
    }
    assert!(matches!(
        error_with("CUSTODY_SETTINGS", None),
        ConfigError::NoSettings
    ));
}

/// Edits the valid settings and returns the path of the refusal.
fn refused_at(edit: impl FnOnce(&mut serde_json::Value)) -> (String, String) {
    let mut value: serde_json::Value = serde_json::from_str(&settings_json()).unwrap();
    edit(&mut value);
    match parse_settings(&value.to_string()).unwrap_err() {
        ConfigError::Settings { path, reason } => (path, reason),
        other => panic!("{other}"),
    }
}

#[test]
fn a_misspelt_or_unknown_setting_is_refused_not_ignored() {
    let (path, reason) = refused_at(|v| {
        v["isolateSubnetNACL"] = serde_json::json!(true);
    });
    assert_eq!(path, "$.isolateSubnetNACL");
    assert!(reason.contains("misspelt"), "{reason}");
    let (path, _) = refused_at(|v| {
        v["workstation"]["instanceTpye"] = serde_json::json!("m5.large");
    });
    assert_eq!(path, "$.workstation.instanceTpye");
}

#[test]
fn values_aws_would_refuse_mid_case_are_refused_at_start() {
    let (path, _) = refused_at(|v| v["uploadPartSizeBytes"] = serde_json::json!(1024));
    assert_eq!(path, "$.uploadPartSizeBytes");
    let (path, _) = refused_at(|v| v["presignedUrlSeconds"] = serde_json::json!(0));
    assert_eq!(path, "$.presignedUrlSeconds");
    let (path, _) = refused_at(|v| v["evidenceBucket"] = serde_json::json!(""));
    assert_eq!(path, "$.evidenceBucket");
    let (path, _) = refused_at(|v| v["workstation"]["subnet"] = serde_json::json!("subnet-x"));
    assert_eq!(path, "$.workstation.subnet");
}

#[test]
fn the_aws_options_name_their_variable() {
    match error_with("CUSTODY_CASE_TABLE", None) {
        ConfigError::Aws(e) => assert_eq!(e.variable, "CUSTODY_CASE_TABLE"),
        other => panic!("{other}"),
    }
    match error_with("CUSTODY_OBJECT_LOCK_MODE", Some("forever")) {
        ConfigError::Aws(e) => assert_eq!(e.variable, "CUSTODY_OBJECT_LOCK_MODE"),
        other => panic!("{other}"),
    }
}
