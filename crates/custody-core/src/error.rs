//! The errors a step reports to Step Functions, and their stable names.
//!
//! A step's error leaves the process as `{"errorType", "errorMessage"}`; the state machine's
//! `Retry` and `Catch` clauses match on `errorType`. Those names are therefore API: renaming one
//! silently turns a retry into a failure (or the reverse). Every name is `Custody.<Reason>`
//! (Step Functions reserves `States.`), listed in [`ErrorName::ALL`] and pinned by a test.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::id::IdError;

/// Why a step failed, as the state machine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ErrorName {
    /// The step's input (or a trigger event) is malformed or names an invalid resource.
    /// Not retryable. Operator: fix the event or request; the message names the field.
    InvalidInput,
    /// A resource the step needs does not exist (instance terminated, pod deleted, case
    /// missing). Not retryable. Operator: check whether the subject is already gone; evidence
    /// that could not be taken is listed in the case.
    NotFound,
    /// AWS or Kubernetes refused the call. Not retryable. Operator: fix the responder role's
    /// policy, the EKS access entry or the SCP; the message names the action.
    AccessDenied,
    /// The API throttled us. Retryable (with backoff). Operator: nothing, unless it persists;
    /// then raise the service quota.
    Throttled,
    /// The service had an internal error or was unreachable. Retryable. Operator: check the AWS
    /// Health Dashboard if it persists.
    ServiceUnavailable,
    /// A bounded wait ran out (an SSM command, a snapshot, an API call's deadline). Retryable.
    /// Operator: if it recurs, the subject may be overloaded or the timeout too tight.
    Timeout,
    /// The resource is in a state that forbids the change (e.g. an ENI being detached, a name
    /// taken by something custody did not create). Not retryable. Operator: inspect the resource.
    Conflict,
    /// Another step saved the case first (optimistic lock lost). Retryable: the step reloads
    /// the case and re-applies its change. Operator: nothing.
    StaleCase,
    /// The SSM agent on the instance is not online, so no command can run there. Not
    /// retryable. Operator: memory cannot be captured; disk evidence still is.
    AgentOffline,
    /// A command on the instance ran and failed (non-zero exit, acquisition tool error). Not
    /// retryable. Operator: read the command output in the evidence bucket.
    CommandFailed,
    /// Evidence failed verification (digest or size differs from what was recorded). Not
    /// retryable. Operator: treat the evidence as suspect and re-acquire if possible.
    EvidenceMismatch,
    /// Asked to act on a resource the guardrail protects (`IsTriageRequired=false`). Not
    /// retryable. Operator: remove or change the tag deliberately if action is truly wanted.
    Protected,
    /// The request is valid but custody cannot do it (platform, finding type, partition).
    /// Not retryable. Operator: handle the subject by hand.
    Unsupported,
    /// A bug or broken invariant in custody. Not retryable. Operator: report it with the
    /// case id; the case record keeps what was done so far.
    Internal,
}

impl ErrorName {
    /// Every name, in declaration order.
    pub const ALL: [ErrorName; 14] = [
        ErrorName::InvalidInput,
        ErrorName::NotFound,
        ErrorName::AccessDenied,
        ErrorName::Throttled,
        ErrorName::ServiceUnavailable,
        ErrorName::Timeout,
        ErrorName::Conflict,
        ErrorName::StaleCase,
        ErrorName::AgentOffline,
        ErrorName::CommandFailed,
        ErrorName::EvidenceMismatch,
        ErrorName::Protected,
        ErrorName::Unsupported,
        ErrorName::Internal,
    ];

    /// The `errorType` the state machine matches on, `Custody.<Reason>`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorName::InvalidInput => "Custody.InvalidInput",
            ErrorName::NotFound => "Custody.NotFound",
            ErrorName::AccessDenied => "Custody.AccessDenied",
            ErrorName::Throttled => "Custody.Throttled",
            ErrorName::ServiceUnavailable => "Custody.ServiceUnavailable",
            ErrorName::Timeout => "Custody.Timeout",
            ErrorName::Conflict => "Custody.Conflict",
            ErrorName::StaleCase => "Custody.StaleCase",
            ErrorName::AgentOffline => "Custody.AgentOffline",
            ErrorName::CommandFailed => "Custody.CommandFailed",
            ErrorName::EvidenceMismatch => "Custody.EvidenceMismatch",
            ErrorName::Protected => "Custody.Protected",
            ErrorName::Unsupported => "Custody.Unsupported",
            ErrorName::Internal => "Custody.Internal",
        }
    }

    /// Whether retrying the same step later can succeed. The state machine's `Retry` lists
    /// exactly these names.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorName::Throttled
                | ErrorName::ServiceUnavailable
                | ErrorName::Timeout
                | ErrorName::StaleCase
        )
    }

    /// Parses `Custody.<Reason>` exactly.
    ///
    /// # Errors
    /// [`UnknownErrorName`] for any other text.
    pub fn parse(s: &str) -> Result<Self, UnknownErrorName> {
        Self::ALL
            .into_iter()
            .find(|n| n.as_str() == s)
            .ok_or_else(|| UnknownErrorName {
                name: s.chars().take(120).collect(),
            })
    }
}

impl fmt::Display for ErrorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorName {
    type Err = UnknownErrorName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ErrorName {
    type Error = UnknownErrorName;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ErrorName> for String {
    fn from(n: ErrorName) -> String {
        n.as_str().to_owned()
    }
}

/// An `errorType` that is not one of custody's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error name {name:?}: custody error names are Custody.<Reason>")]
pub struct UnknownErrorName {
    /// The name seen (truncated to 120 characters).
    pub name: String,
}

/// A step failed. What every step handler and port returns as its error.
///
/// `cause` is for people: it says what was being done and to what (untrusted names escaped
/// with `{:?}`). `service_code` and `request_id` keep the AWS or Kubernetes error code and
/// request id so that an adapter's "already exists" can be recognised, and so support can trace
/// the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{name}: {cause}")]
pub struct StepError {
    /// The stable name the state machine matches on.
    pub name: ErrorName,
    /// What went wrong, with context.
    pub cause: String,
    /// The service's own error code (e.g. `InvalidInstanceID.NotFound`, `Forbidden`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_code: Option<String>,
    /// The service's request id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

macro_rules! constructors {
    ($($(#[$meta:meta])* $fn_name:ident => $variant:ident;)*) => {
        $(
            $(#[$meta])*
            pub fn $fn_name(cause: impl Into<String>) -> Self {
                Self::new(ErrorName::$variant, cause)
            }
        )*
    };
}

impl StepError {
    /// An error with a name and a cause.
    pub fn new(name: ErrorName, cause: impl Into<String>) -> Self {
        Self {
            name,
            cause: cause.into(),
            service_code: None,
            request_id: None,
        }
    }

    constructors! {
        /// `Custody.InvalidInput`.
        invalid_input => InvalidInput;
        /// `Custody.NotFound`.
        not_found => NotFound;
        /// `Custody.AccessDenied`.
        access_denied => AccessDenied;
        /// `Custody.Throttled`.
        throttled => Throttled;
        /// `Custody.ServiceUnavailable`.
        service_unavailable => ServiceUnavailable;
        /// `Custody.Timeout`.
        timeout => Timeout;
        /// `Custody.Conflict`.
        conflict => Conflict;
        /// `Custody.StaleCase`.
        stale_case => StaleCase;
        /// `Custody.AgentOffline`.
        agent_offline => AgentOffline;
        /// `Custody.CommandFailed`.
        command_failed => CommandFailed;
        /// `Custody.EvidenceMismatch`.
        evidence_mismatch => EvidenceMismatch;
        /// `Custody.Protected`.
        protected => Protected;
        /// `Custody.Unsupported`.
        unsupported => Unsupported;
        /// `Custody.Internal`.
        internal => Internal;
    }

    /// Attaches the service's error code.
    #[must_use]
    pub fn with_service_code(mut self, code: impl Into<String>) -> Self {
        self.service_code = Some(code.into());
        self
    }

    /// Attaches the service's request id.
    #[must_use]
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Whether retrying can succeed (see [`ErrorName::is_transient`]).
    pub fn is_transient(&self) -> bool {
        self.name.is_transient()
    }

    /// The text Lambda reports as `errorMessage`: the cause, then
    /// ` (service code: X; request id: Y)` when either is known.
    pub fn message(&self) -> String {
        let mut extras = Vec::new();
        if let Some(code) = &self.service_code {
            extras.push(format!("service code: {code}"));
        }
        if let Some(id) = &self.request_id {
            extras.push(format!("request id: {id}"));
        }
        if extras.is_empty() {
            self.cause.clone()
        } else {
            format!("{} ({})", self.cause, extras.join("; "))
        }
    }

    /// The Lambda error payload, `{"errorType": "Custody.<Reason>", "errorMessage": "..."}`:
    /// what the function returns so that Step Functions sees `Error` and `Cause`.
    pub fn to_lambda_json(&self) -> serde_json::Value {
        serde_json::json!({ "errorType": self.name.as_str(), "errorMessage": self.message() })
    }

    /// Parses a Lambda error payload back (the inverse of [`Self::to_lambda_json`]).
    ///
    /// # Errors
    /// [`LambdaErrorParseError`] if the payload is not an object with string `errorType` and
    /// `errorMessage`, or the type is not a custody name.
    ///
    /// # Caveats
    /// A cause that itself ends in `(service code: …)` is read as carrying that code.
    pub fn from_lambda_json(value: &serde_json::Value) -> Result<Self, LambdaErrorParseError> {
        let field = |key: &'static str| {
            value
                .get(key)
                .and_then(serde_json::Value::as_str)
                .ok_or(LambdaErrorParseError::MissingField { field: key })
        };
        let name = ErrorName::parse(field("errorType")?)?;
        Ok(Self::from_message(name, field("errorMessage")?))
    }

    /// Rebuilds an error from a name and a message written by [`Self::message`]; what the
    /// failure-recording step does with a `Catch` payload's `Error` and `Cause`.
    pub fn from_message(name: ErrorName, message: &str) -> Self {
        let Some(caps) = MESSAGE_EXTRAS.as_ref().and_then(|re| re.captures(message)) else {
            return Self::new(name, message);
        };
        let cause = caps.name("cause").map_or(message, |m| m.as_str());
        Self {
            name,
            cause: cause.to_owned(),
            service_code: caps.name("code").map(|m| m.as_str().to_owned()),
            request_id: caps
                .name("req")
                .or_else(|| caps.name("req2"))
                .map(|m| m.as_str().to_owned()),
        }
    }
}

/// Splits ` (service code: X; request id: Y)` off the end of a message.
static MESSAGE_EXTRAS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"\A(?s)(?P<cause>.*) \((?:service code: (?P<code>[^;()\s]+)(?:; request id: (?P<req>[^;()\s]+))?|request id: (?P<req2>[^;()\s]+))\)\z",
    )
    .ok()
});

impl From<IdError> for StepError {
    fn from(err: IdError) -> Self {
        StepError::invalid_input(err.to_string())
    }
}

/// An error and every source under it, `: `-joined: a step error's cause is one string (it
/// leaves the process as `errorMessage`), so a library error's chain is flattened into it rather
/// than cut at the top, where the useful part (the refused call, the OS error) usually is not.
pub fn with_sources(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}

/// A Lambda error payload could not be read back as a [`StepError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LambdaErrorParseError {
    /// `errorType` or `errorMessage` is absent or not a string.
    #[error("lambda error payload has no string field {field:?}")]
    MissingField {
        /// The missing field.
        field: &'static str,
    },
    /// `errorType` is not a custody name (e.g. `States.Timeout`, `Lambda.ServiceException`).
    #[error("lambda error payload is not a custody error")]
    UnknownName(#[from] UnknownErrorName),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_sources_keeps_the_whole_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("could not open the cluster")]
        struct Outer(#[source] std::io::Error);
        let err = Outer(std::io::Error::other("connection refused"));
        assert_eq!(
            with_sources(&err),
            "could not open the cluster: connection refused"
        );
        assert_eq!(with_sources(&std::io::Error::other("alone")), "alone");
    }

    /// These strings are matched by the state machines' Retry and Catch clauses: changing one is
    /// a breaking change to every deployed state machine.
    #[test]
    fn every_name_is_stable() {
        let expected = [
            "Custody.InvalidInput",
            "Custody.NotFound",
            "Custody.AccessDenied",
            "Custody.Throttled",
            "Custody.ServiceUnavailable",
            "Custody.Timeout",
            "Custody.Conflict",
            "Custody.StaleCase",
            "Custody.AgentOffline",
            "Custody.CommandFailed",
            "Custody.EvidenceMismatch",
            "Custody.Protected",
            "Custody.Unsupported",
            "Custody.Internal",
        ];
        let names: Vec<_> = ErrorName::ALL.iter().map(|n| n.as_str()).collect();
        assert_eq!(names, expected);
        for n in ErrorName::ALL {
            assert_eq!(ErrorName::parse(n.as_str()).unwrap(), n);
            assert_eq!(
                serde_json::to_value(n).unwrap(),
                serde_json::json!(n.as_str())
            );
        }
    }

    #[test]
    fn transient_names() {
        let transient: Vec<_> = ErrorName::ALL
            .into_iter()
            .filter(|n| n.is_transient())
            .collect();
        assert_eq!(
            transient,
            [
                ErrorName::Throttled,
                ErrorName::ServiceUnavailable,
                ErrorName::Timeout,
                ErrorName::StaleCase
            ]
        );
    }

    #[test]
    fn constructors_set_names() {
        assert_eq!(StepError::invalid_input("x").name, ErrorName::InvalidInput);
        assert_eq!(StepError::protected("x").name, ErrorName::Protected);
        assert_eq!(StepError::stale_case("x").name, ErrorName::StaleCase);
        assert_eq!(StepError::internal("x").to_string(), "Custody.Internal: x");
    }

    #[test]
    fn lambda_json_round_trips() {
        let plain = StepError::not_found("instance \"i-0123456789abcdef0\" is terminated");
        let json = plain.to_lambda_json();
        assert_eq!(json["errorType"], "Custody.NotFound");
        assert_eq!(
            json["errorMessage"],
            "instance \"i-0123456789abcdef0\" is terminated"
        );
        assert_eq!(StepError::from_lambda_json(&json).unwrap(), plain);

        let rich = StepError::throttled("DescribeInstances (attempt 3)")
            .with_service_code("RequestLimitExceeded")
            .with_request_id("7f8c1f0e-5a4b-4a3c-9d2e-0b1a2c3d4e5f");
        let json = rich.to_lambda_json();
        assert_eq!(
            json["errorMessage"],
            "DescribeInstances (attempt 3) (service code: RequestLimitExceeded; request id: 7f8c1f0e-5a4b-4a3c-9d2e-0b1a2c3d4e5f)"
        );
        assert_eq!(StepError::from_lambda_json(&json).unwrap(), rich);

        let code_only = StepError::access_denied("ec2:CreateSnapshot")
            .with_service_code("UnauthorizedOperation");
        assert_eq!(
            StepError::from_lambda_json(&code_only.to_lambda_json()).unwrap(),
            code_only
        );
        let id_only = StepError::timeout("ssm").with_request_id("abc-123");
        assert_eq!(
            StepError::from_lambda_json(&id_only.to_lambda_json()).unwrap(),
            id_only
        );
        let parens = StepError::internal("called f ()");
        assert_eq!(
            StepError::from_lambda_json(&parens.to_lambda_json()).unwrap(),
            parens
        );
    }

    #[test]
    fn foreign_payloads_are_refused() {
        let states = serde_json::json!({"errorType": "States.Timeout", "errorMessage": "x"});
        assert!(matches!(
            StepError::from_lambda_json(&states),
            Err(LambdaErrorParseError::UnknownName(_))
        ));
        let missing = serde_json::json!({"errorType": "Custody.Internal"});
        assert_eq!(
            StepError::from_lambda_json(&missing),
            Err(LambdaErrorParseError::MissingField {
                field: "errorMessage"
            })
        );
    }

    #[test]
    fn serde_uses_camel_case() {
        let e = StepError::conflict("x").with_service_code("IncorrectState");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"name": "Custody.Conflict", "cause": "x", "serviceCode": "IncorrectState"})
        );
        assert_eq!(serde_json::from_value::<StepError>(v).unwrap(), e);
    }
}
