//! What a function reads at cold start, and the checks that make a bad deployment fail its init.

use custody_aws::{AwsOptions, MAX_PRESIGN_SECONDS};
use custody_steps::ports::Settings;
use custody_steps::{StepName, UnknownStep};
use serde_json::Value;

/// The step this function runs (one of [`StepName::ALL`], kebab-case).
pub const STEP_VAR: &str = "CUSTODY_STEP";

/// The steps' [`Settings`] as JSON.
pub const SETTINGS_VAR: &str = "CUSTODY_SETTINGS";

/// Every environment variable a custody function reads, with whether it is required, and what
/// it is. The CDK app sets these and only these (`cdk/generated/lambda-env.json` is this list,
/// kept in step by a test). `AWS_*` variables Lambda sets itself are not listed.
pub const ENV_CONTRACT: &[EnvVar] = &[
    EnvVar::required(
        STEP_VAR,
        "the step this function runs (kebab-case StepName)",
    ),
    EnvVar::required(SETTINGS_VAR, "the steps' Settings, JSON"),
    EnvVar::required("CUSTODY_CASE_TABLE", "DynamoDB case table name"),
    EnvVar::required("CUSTODY_TOPIC_ARN", "SNS topic for responder notifications"),
    EnvVar::optional(
        "CUSTODY_RESPONDER_ROLE",
        "role name assumed in each target account",
    ),
    EnvVar::optional(
        "CUSTODY_RESPONDER_EXTERNAL_ID",
        "external id the responder role's trust policy requires",
    ),
    EnvVar::optional(
        "CUSTODY_SESSION_TAGS",
        "session tags on the assumed role, key=value,key=value",
    ),
    EnvVar::optional(
        "CUSTODY_SESSION_SECONDS",
        "lifetime of assumed-role credentials (900-43200)",
    ),
    EnvVar::optional("CUSTODY_OBJECT_LOCK_MODE", "GOVERNANCE or COMPLIANCE"),
    EnvVar::optional(
        "CUSTODY_OBJECT_LOCK_DAYS",
        "retention put on every evidence object (1-36500)",
    ),
    EnvVar::optional(
        "CUSTODY_MAX_ATTEMPTS",
        "SDK attempts per call, standard retry mode",
    ),
    EnvVar::optional(
        "CUSTODY_ENDPOINT_URL",
        "one endpoint for every service (an emulator); unset in AWS",
    ),
    EnvVar::optional(
        "CUSTODY_LOG",
        "tracing filter (e.g. info,custody_aws=debug); default info",
    ),
];

/// One entry of [`ENV_CONTRACT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    /// The variable.
    pub name: &'static str,
    /// Whether init fails without it.
    pub required: bool,
    /// What it holds.
    pub meaning: &'static str,
}

impl EnvVar {
    const fn required(name: &'static str, meaning: &'static str) -> Self {
        Self {
            name,
            required: true,
            meaning,
        }
    }

    const fn optional(name: &'static str, meaning: &'static str) -> Self {
        Self {
            name,
            required: false,
            meaning,
        }
    }
}

/// [`ENV_CONTRACT`] as the JSON committed in `cdk/generated/lambda-env.json`.
pub fn env_contract_json() -> Value {
    let vars: Vec<Value> = ENV_CONTRACT
        .iter()
        .map(
            |v| serde_json::json!({ "name": v.name, "required": v.required, "meaning": v.meaning }),
        )
        .collect();
    serde_json::json!({
        "comment": "Generated from crates/custody-lambda/src/config.rs (ENV_CONTRACT); a Rust test keeps it in step. The CDK app sets exactly these on every step function.",
        "variables": vars,
    })
}

/// Why a function cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `CUSTODY_STEP` is not set.
    #[error("{STEP_VAR} is not set; it must be one of: {known}")]
    NoStep {
        /// The allowed values, comma-separated.
        known: String,
    },
    /// `CUSTODY_STEP` is not a step.
    #[error("{STEP_VAR} is invalid")]
    UnknownStep(#[source] UnknownStep),
    /// `CUSTODY_SETTINGS` is not set.
    #[error("{SETTINGS_VAR} is not set (the steps' Settings as JSON)")]
    NoSettings,
    /// `CUSTODY_SETTINGS` is not JSON, or not the steps' Settings.
    #[error("{SETTINGS_VAR} is not the steps' Settings: at {path}: {reason}")]
    Settings {
        /// JSON path of the field at fault (`$.workstation.subnet`).
        path: String,
        /// What is wrong there.
        reason: String,
    },
    /// One of custody-aws's variables is missing or malformed.
    #[error("AWS options")]
    Aws(#[source] custody_aws::ConfigError),
}

/// Everything a function needs, read once.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// The step it runs.
    pub step: StepName,
    /// The steps' settings.
    pub settings: Settings,
    /// custody-aws's options.
    pub options: AwsOptions,
}

impl FunctionConfig {
    /// Reads the process environment.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (the environment, or a map in tests).
    ///
    /// # Errors
    /// The first [`ConfigError`] found, step first, then settings, then the AWS options.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let step = lookup(STEP_VAR)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ConfigError::NoStep {
                known: known_steps(),
            })?
            .parse::<StepName>()
            .map_err(ConfigError::UnknownStep)?;
        let text = lookup(SETTINGS_VAR)
            .filter(|s| !s.trim().is_empty())
            .ok_or(ConfigError::NoSettings)?;
        let settings = parse_settings(&text)?;
        let options = AwsOptions::from_lookup(&lookup).map_err(ConfigError::Aws)?;
        Ok(Self {
            step,
            settings,
            options,
        })
    }
}

fn known_steps() -> String {
    StepName::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The S3 multipart limits a part size must respect (every part but the last).
const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
const MAX_PART_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// Parses and checks the steps' settings.
///
/// Beyond the types (account ids, regions and AMI ids are validated as they deserialize), a
/// key the settings do not have is refused (a misspelt `isolateSubnetNACL` would otherwise be
/// ignored and its default silently used), and the values S3 and EC2 would refuse mid-case
/// are refused now.
///
/// # Errors
/// [`ConfigError::Settings`] naming the JSON path at fault.
pub fn parse_settings(text: &str) -> Result<Settings, ConfigError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ConfigError::Settings {
        path: "$".to_owned(),
        reason: format!("not JSON: {e}"),
    })?;
    let settings: Settings =
        serde_path_to_error::deserialize(&value).map_err(|e| ConfigError::Settings {
            path: json_path(&e.path().to_string()),
            reason: e.inner().to_string(),
        })?;
    let known = serde_json::to_value(&settings).map_err(|e| ConfigError::Settings {
        path: "$".to_owned(),
        reason: format!("cannot be serialised back: {e}"),
    })?;
    if let Some(path) = unknown_key(&value, &known, "$") {
        return Err(ConfigError::Settings {
            path,
            reason: "not a setting custody knows (misspelt?)".to_owned(),
        });
    }
    let refuse = |path: &str, reason: String| ConfigError::Settings {
        path: path.to_owned(),
        reason,
    };
    for (path, name) in [
        ("$.evidenceBucket", &settings.evidence_bucket),
        ("$.artifactsBucket", &settings.artifacts_bucket),
        ("$.snapshotKmsKey", &settings.snapshot_kms_key),
        ("$.quarantineLabel", &settings.quarantine_label),
    ] {
        if name.trim().is_empty() {
            return Err(refuse(path, "is empty".to_owned()));
        }
    }
    if !(MIN_PART_BYTES..=MAX_PART_BYTES).contains(&settings.upload_part_size_bytes) {
        return Err(refuse(
            "$.uploadPartSizeBytes",
            format!(
                "is {}, outside S3's multipart part sizes {MIN_PART_BYTES}..={MAX_PART_BYTES}",
                settings.upload_part_size_bytes
            ),
        ));
    }
    if !(1..=MAX_PRESIGN_SECONDS).contains(&settings.presigned_url_seconds) {
        return Err(refuse(
            "$.presignedUrlSeconds",
            format!(
                "is {}, outside 1..={MAX_PRESIGN_SECONDS}",
                settings.presigned_url_seconds
            ),
        ));
    }
    Ok(settings)
}

/// `a.b[0]` from serde_path_to_error as `$.a.b[0]`.
fn json_path(path: &str) -> String {
    if path == "." || path.is_empty() {
        "$".to_owned()
    } else {
        format!("$.{path}")
    }
}

/// The path of the first object key in `given` that `known` (the settings serialised back) does
/// not have.
fn unknown_key(given: &Value, known: &Value, path: &str) -> Option<String> {
    match (given, known) {
        (Value::Object(g), Value::Object(k)) => g.iter().find_map(|(key, v)| match k.get(key) {
            None => Some(format!("{path}.{key}")),
            Some(kv) => unknown_key(v, kv, &format!("{path}.{key}")),
        }),
        (Value::Array(g), Value::Array(k)) => g
            .iter()
            .zip(k)
            .enumerate()
            .find_map(|(i, (gv, kv))| unknown_key(gv, kv, &format!("{path}[{i}]"))),
        _ => None,
    }
}
