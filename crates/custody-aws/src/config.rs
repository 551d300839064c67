//! What the AWS adapters need to know beyond the steps' [`Settings`](custody_steps::ports::Settings):
//! the responder role, the case table, the topic, Object Lock, retries and the endpoint.
//!
//! Read once at start from environment variables (the Lambda's configuration, or the CLI's):
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `CUSTODY_CASE_TABLE` | DynamoDB case table name | required |
//! | `CUSTODY_TOPIC_ARN` | SNS topic for responder notifications | required |
//! | `CUSTODY_RESPONDER_ROLE` | role name assumed in each target account | `custody-responder` |
//! | `CUSTODY_RESPONDER_EXTERNAL_ID` | external id the responder role's trust policy requires | none |
//! | `CUSTODY_SESSION_TAGS` | session tags on the assumed role, `key=value,key=value` | none |
//! | `CUSTODY_SESSION_SECONDS` | lifetime of assumed-role credentials (900–43200) | `3600` |
//! | `CUSTODY_OBJECT_LOCK_MODE` | `GOVERNANCE` or `COMPLIANCE` | `GOVERNANCE` |
//! | `CUSTODY_OBJECT_LOCK_DAYS` | retention put on every evidence object (1–36500) | `365` |
//! | `CUSTODY_MAX_ATTEMPTS` | SDK attempts per call, standard retry mode (`1` disables retries) | `5` |
//! | `CUSTODY_ENDPOINT_URL` | one endpoint for every service (moto, LocalStack) | none: AWS |
//!
//! The SDK's own variables (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL`) keep their usual
//! meaning for the forensic account's own credentials.

use std::collections::BTreeMap;

use thiserror::Error;

/// A configuration variable that is missing or malformed.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("configuration variable {variable} {reason}")]
pub struct ConfigError {
    /// The variable.
    pub variable: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// Object Lock mode put on evidence objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Users with `s3:BypassGovernanceRetention` can shorten it (mistakes can be undone).
    Governance,
    /// Nobody, not even the root user, can shorten it until it expires.
    Compliance,
}

impl LockMode {
    /// The S3 API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Governance => "GOVERNANCE",
            Self::Compliance => "COMPLIANCE",
        }
    }
}

/// The AWS-side settings, see the module docs for the variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsOptions {
    /// DynamoDB case table.
    pub case_table: String,
    /// SNS topic ARN.
    pub topic_arn: String,
    /// Name of the responder role in every target account.
    pub responder_role: String,
    /// External id the responder role requires (confused-deputy protection).
    pub external_id: Option<String>,
    /// Session tags put on each assumed-role session.
    pub session_tags: BTreeMap<String, String>,
    /// Lifetime of assumed-role credentials, in seconds.
    pub session_seconds: i32,
    /// Object Lock mode on evidence.
    pub lock_mode: LockMode,
    /// Object Lock retention on evidence, in days.
    pub lock_days: u32,
    /// Attempts per SDK call (standard retry mode); 1 disables retries.
    pub max_attempts: u32,
    /// One endpoint for every service (an emulator); `None` is AWS.
    pub endpoint_url: Option<String>,
}

impl AwsOptions {
    /// Options with the defaults of the module docs.
    pub fn new(case_table: impl Into<String>, topic_arn: impl Into<String>) -> Self {
        Self {
            case_table: case_table.into(),
            topic_arn: topic_arn.into(),
            responder_role: "custody-responder".to_owned(),
            external_id: None,
            session_tags: BTreeMap::new(),
            session_seconds: 3600,
            lock_mode: LockMode::Governance,
            lock_days: 365,
            max_attempts: 5,
            endpoint_url: None,
        }
    }

    /// Reads the process environment.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first missing or malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (the environment, or a map in tests).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first missing or malformed variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let required = |variable: &'static str| {
            get(variable).ok_or_else(|| ConfigError {
                variable,
                reason: "is not set".to_owned(),
            })
        };
        let mut options = Self::new(
            required("CUSTODY_CASE_TABLE")?,
            required("CUSTODY_TOPIC_ARN")?,
        );
        if let Some(role) = get("CUSTODY_RESPONDER_ROLE") {
            options.responder_role = role_name(&role)?;
        }
        options.external_id = get("CUSTODY_RESPONDER_EXTERNAL_ID");
        if let Some(tags) = get("CUSTODY_SESSION_TAGS") {
            options.session_tags = session_tags(&tags)?;
        }
        if let Some(v) = get("CUSTODY_SESSION_SECONDS") {
            options.session_seconds = number("CUSTODY_SESSION_SECONDS", &v, 900, 43_200)?;
        }
        if let Some(v) = get("CUSTODY_OBJECT_LOCK_MODE") {
            options.lock_mode = match v.to_ascii_uppercase().as_str() {
                "GOVERNANCE" => LockMode::Governance,
                "COMPLIANCE" => LockMode::Compliance,
                _ => {
                    return Err(ConfigError {
                        variable: "CUSTODY_OBJECT_LOCK_MODE",
                        reason: format!("is {v:?}, not GOVERNANCE or COMPLIANCE"),
                    });
                }
            };
        }
        if let Some(v) = get("CUSTODY_OBJECT_LOCK_DAYS") {
            options.lock_days = number("CUSTODY_OBJECT_LOCK_DAYS", &v, 1, 36_500)?;
        }
        if let Some(v) = get("CUSTODY_MAX_ATTEMPTS") {
            options.max_attempts = number("CUSTODY_MAX_ATTEMPTS", &v, 1, 20)?;
        }
        options.endpoint_url = get("CUSTODY_ENDPOINT_URL");
        Ok(options)
    }
}

fn number<T: TryFrom<i64>>(
    variable: &'static str,
    value: &str,
    min: i64,
    max: i64,
) -> Result<T, ConfigError> {
    let out_of_range = || ConfigError {
        variable,
        reason: format!("is {value:?}, not a number in {min}..={max}"),
    };
    let n: i64 = value.parse().map_err(|_| out_of_range())?;
    if !(min..=max).contains(&n) {
        return Err(out_of_range());
    }
    T::try_from(n).map_err(|_| out_of_range())
}

fn role_name(value: &str) -> Result<String, ConfigError> {
    let ok = value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ConfigError {
            variable: "CUSTODY_RESPONDER_ROLE",
            reason: format!("is {value:?}, not an IAM role name (at most 64 of A-Za-z0-9+=,.@_-)"),
        })
    }
}

fn session_tags(value: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut tags = BTreeMap::new();
    for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').ok_or_else(|| ConfigError {
            variable: "CUSTODY_SESSION_TAGS",
            reason: format!("has {pair:?}, not key=value"),
        })?;
        if k.is_empty() || k.len() > 128 || v.len() > 256 {
            return Err(ConfigError {
                variable: "CUSTODY_SESSION_TAGS",
                reason: format!("has {pair:?}: keys are 1-128 and values 0-256 characters"),
            });
        }
        tags.insert(k.to_owned(), v.to_owned());
    }
    if tags.len() > 50 {
        return Err(ConfigError {
            variable: "CUSTODY_SESSION_TAGS",
            reason: "has more than 50 tags".to_owned(),
        });
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn defaults_apply_when_only_the_required_variables_are_set() {
        let o = AwsOptions::from_lookup(lookup(&[
            ("CUSTODY_CASE_TABLE", "cases"),
            (
                "CUSTODY_TOPIC_ARN",
                "arn:aws:sns:us-east-1:111122223333:custody",
            ),
        ]))
        .unwrap();
        assert_eq!(
            o,
            AwsOptions::new("cases", "arn:aws:sns:us-east-1:111122223333:custody")
        );
    }

    #[test]
    fn every_variable_is_read() {
        let o = AwsOptions::from_lookup(lookup(&[
            ("CUSTODY_CASE_TABLE", "cases"),
            ("CUSTODY_TOPIC_ARN", "t"),
            ("CUSTODY_RESPONDER_ROLE", "ir-responder"),
            ("CUSTODY_RESPONDER_EXTERNAL_ID", "ext-123"),
            ("CUSTODY_SESSION_TAGS", "team=ir, app=custody"),
            ("CUSTODY_SESSION_SECONDS", "900"),
            ("CUSTODY_OBJECT_LOCK_MODE", "compliance"),
            ("CUSTODY_OBJECT_LOCK_DAYS", "30"),
            ("CUSTODY_MAX_ATTEMPTS", "1"),
            ("CUSTODY_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]))
        .unwrap();
        assert_eq!(o.responder_role, "ir-responder");
        assert_eq!(o.external_id.as_deref(), Some("ext-123"));
        assert_eq!(
            o.session_tags.get("app").map(String::as_str),
            Some("custody")
        );
        assert_eq!(o.session_seconds, 900);
        assert_eq!(o.lock_mode, LockMode::Compliance);
        assert_eq!(o.lock_days, 30);
        assert_eq!(o.max_attempts, 1);
        assert_eq!(o.endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let base = [("CUSTODY_CASE_TABLE", "c"), ("CUSTODY_TOPIC_ARN", "t")];
        for (var, value) in [
            ("CUSTODY_OBJECT_LOCK_MODE", "forever"),
            ("CUSTODY_OBJECT_LOCK_DAYS", "0"),
            ("CUSTODY_SESSION_SECONDS", "60"),
            ("CUSTODY_SESSION_TAGS", "novalue"),
            ("CUSTODY_RESPONDER_ROLE", "role/with/slash"),
            ("CUSTODY_MAX_ATTEMPTS", "many"),
        ] {
            let mut vars = base.to_vec();
            vars.push((var, value));
            let err = AwsOptions::from_lookup(lookup(&vars)).unwrap_err();
            assert_eq!(err.variable, var);
        }
        let err = AwsOptions::from_lookup(lookup(&[("CUSTODY_TOPIC_ARN", "t")])).unwrap_err();
        assert_eq!(err.variable, "CUSTODY_CASE_TABLE");
    }
}
