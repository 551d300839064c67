//! What can go wrong talking to a cluster, by what the caller should do about it.
//!
//! The API server answers failures with a `Status` object whose HTTP code says what kind of
//! failure it is; each kind the steps react to differently has its own variant here, and
//! [`KubeError::to_step_error`] gives it its stable `Custody.<Reason>` name.

use custody_core::error::{ErrorName, StepError, with_sources};
use kube::core::Status;

use crate::token::TokenError;

/// A failed Kubernetes operation.
///
/// `what` fields describe the object (`pod "payments"/"api-1"`), with every name that came from
/// the cluster already escaped with `{:?}`.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// 404: the object (or its namespace) does not exist.
    #[error("{what} was not found: {message:?}")]
    NotFound {
        /// The object.
        what: String,
        /// The Status `reason` (`NotFound`, `AlreadyExists`, `Forbidden`, …), used as the
        /// step error\'s service code.
        reason: String,
        /// The API server's message.
        message: String,
    },
    /// 409: the object already exists, or changed under us (resourceVersion precondition), or
    /// exists with a spec custody did not write.
    #[error("conflict on {what}: {message:?}")]
    Conflict {
        /// The object.
        what: String,
        /// The Status `reason` (`NotFound`, `AlreadyExists`, `Forbidden`, …), used as the
        /// step error\'s service code.
        reason: String,
        /// The API server's message, or custody's explanation.
        message: String,
    },
    /// 401/403: the responder is not authenticated, or RBAC does not allow the verb. The
    /// ClusterRole in `cdk/manifests/responder-clusterrole.yaml` is missing or not bound.
    #[error("access denied to {what} (HTTP {code}): {message:?}")]
    AccessDenied {
        /// The object.
        what: String,
        /// The Status `reason` (`NotFound`, `AlreadyExists`, `Forbidden`, …), used as the
        /// step error\'s service code.
        reason: String,
        /// 401 or 403.
        code: u16,
        /// The API server's message (names the missing verb and resource).
        message: String,
    },
    /// 400/422: the API server refused the request as invalid.
    #[error("{what}: the API server refused the request as invalid (HTTP {code}): {message:?}")]
    Invalid {
        /// The object.
        what: String,
        /// The Status `reason` (`NotFound`, `AlreadyExists`, `Forbidden`, …), used as the
        /// step error\'s service code.
        reason: String,
        /// 400 or 422.
        code: u16,
        /// The API server's message.
        message: String,
    },
    /// 429: the API server (or its priority-and-fairness limits) asked us to slow down.
    #[error("{what}: throttled by the API server: {message:?}")]
    Throttled {
        /// The object.
        what: String,
        /// The Status `reason` (`NotFound`, `AlreadyExists`, `Forbidden`, …), used as the
        /// step error\'s service code.
        reason: String,
        /// The API server's message.
        message: String,
    },
    /// 5xx (and 408/504 timeouts): the API server or a webhook failed; retrying may succeed.
    #[error("{what}: the API server failed (HTTP {code}): {message:?}")]
    Unavailable {
        /// The object.
        what: String,
        /// The Status `reason` (`NotFound`, `AlreadyExists`, `Forbidden`, …), used as the
        /// step error\'s service code.
        reason: String,
        /// The HTTP status.
        code: u16,
        /// The API server's message.
        message: String,
    },
    /// Any other HTTP status.
    #[error("{what}: unexpected HTTP {code} from the API server: {message:?}")]
    Api {
        /// The object.
        what: String,
        /// The Status `reason` (`NotFound`, `AlreadyExists`, `Forbidden`, …), used as the
        /// step error\'s service code.
        reason: String,
        /// The HTTP status.
        code: u16,
        /// The API server's message.
        message: String,
    },
    /// The bearer token could not be made.
    #[error("{what}: no EKS token could be made")]
    Token {
        /// The object.
        what: String,
        /// Why.
        #[source]
        source: TokenError,
    },
    /// The request never got an HTTP answer: connection refused (private endpoint unreachable
    /// from this network?), TLS failure, timeout.
    #[error("{what}: the request to the API server failed")]
    Transport {
        /// The object.
        what: String,
        /// What kube-rs said.
        #[source]
        source: kube::Error,
    },
    /// The API server's answer could not be understood.
    #[error("{what}: the API server's answer could not be decoded")]
    Decode {
        /// The object.
        what: String,
        /// What kube-rs said.
        #[source]
        source: kube::Error,
    },
    /// An argument was refused before any request was sent (a label that would change a
    /// selector's meaning, a name that is not a Kubernetes name).
    #[error("{what}: {reason}")]
    InvalidInput {
        /// The argument.
        what: String,
        /// Why it was refused.
        reason: String,
    },
    /// An object the API server returned lacks what custody needs from it (a node without an
    /// EC2 `providerID`, a workload whose selector uses expressions).
    #[error("{what}: {reason}")]
    Unusable {
        /// The object.
        what: String,
        /// What is missing or unusable.
        reason: String,
    },
}

impl KubeError {
    /// Classifies a kube-rs error for an operation on `what`.
    pub(crate) fn from_kube(what: impl Into<String>, err: kube::Error) -> Self {
        let what = what.into();
        match err {
            kube::Error::Api(status) => Self::from_status(what, &status),
            kube::Error::Service(boxed) => match boxed.downcast::<TokenError>() {
                Ok(token) => Self::Token {
                    what,
                    source: *token,
                },
                Err(other) => Self::Transport {
                    what,
                    source: kube::Error::Service(other),
                },
            },
            err @ (kube::Error::SerdeError(_) | kube::Error::FromUtf8(_)) => {
                Self::Decode { what, source: err }
            }
            err => Self::Transport { what, source: err },
        }
    }

    /// Classifies a `Status` answer by its HTTP code.
    pub(crate) fn from_status(what: String, status: &Status) -> Self {
        let message = if status.message.is_empty() {
            &status.reason
        } else {
            &status.message
        };
        // A proxy or load balancer in front of a private endpoint may answer with a whole HTML
        // page: keep the start, which says what it is.
        let message = truncate(message.trim());
        let reason = if !status.reason.is_empty()
            && status.reason.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            status.reason.clone()
        } else {
            // kube-rs fills `reason` with prose when the body was not a Status.
            format!("HTTP{}", status.code)
        };
        match status.code {
            404 => Self::NotFound {
                what,
                reason,
                message,
            },
            409 => Self::Conflict {
                what,
                reason,
                message,
            },
            401 | 403 => Self::AccessDenied {
                what,
                reason,
                code: status.code,
                message,
            },
            400 | 422 => Self::Invalid {
                what,
                reason,
                code: status.code,
                message,
            },
            429 => Self::Throttled {
                what,
                reason,
                message,
            },
            408 | 500..=599 => Self::Unavailable {
                what,
                reason,
                code: status.code,
                message,
            },
            code => Self::Api {
                what,
                reason,
                code,
                message,
            },
        }
    }

    /// The Status reason, if the API server answered.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::NotFound { reason, .. }
            | Self::Conflict { reason, .. }
            | Self::AccessDenied { reason, .. }
            | Self::Invalid { reason, .. }
            | Self::Throttled { reason, .. }
            | Self::Unavailable { reason, .. }
            | Self::Api { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// The HTTP status the API server answered with, if it answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::NotFound { .. } => Some(404),
            Self::Conflict { .. } => Some(409),
            Self::Throttled { .. } => Some(429),
            Self::AccessDenied { code, .. }
            | Self::Invalid { code, .. }
            | Self::Unavailable { code, .. }
            | Self::Api { code, .. } => Some(*code),
            Self::Token { .. }
            | Self::Transport { .. }
            | Self::Decode { .. }
            | Self::InvalidInput { .. }
            | Self::Unusable { .. } => None,
        }
    }

    /// The `Custody.<Reason>` this error is reported as.
    pub fn error_name(&self) -> ErrorName {
        match self {
            Self::NotFound { .. } => ErrorName::NotFound,
            Self::Conflict { .. } => ErrorName::Conflict,
            Self::AccessDenied { .. } => ErrorName::AccessDenied,
            Self::Invalid { .. } | Self::InvalidInput { .. } => ErrorName::InvalidInput,
            Self::Throttled { .. } => ErrorName::Throttled,
            Self::Unavailable {
                code: 408 | 504, ..
            } => ErrorName::Timeout,
            Self::Unavailable { .. } | Self::Transport { .. } => ErrorName::ServiceUnavailable,
            // An expired credential needs a new role session, which a retry of the step does.
            Self::Token {
                source: TokenError::CredentialsExpired { .. },
                ..
            } => ErrorName::AccessDenied,
            Self::Token { .. } => ErrorName::Internal,
            Self::Unusable { .. } => ErrorName::Unsupported,
            Self::Decode { .. } | Self::Api { .. } => ErrorName::Internal,
        }
    }

    /// This error as the step error the state machine sees: its name, the whole cause chain,
    /// and the Status reason as the service code (`AlreadyExists`, `Forbidden`), as the
    /// simulated cluster reports it too.
    pub fn to_step_error(&self) -> StepError {
        let step = StepError::new(self.error_name(), with_sources(self));
        match self.reason() {
            Some(reason) => step.with_service_code(reason),
            None => step,
        }
    }
}

/// The longest API server message kept, in characters.
const MESSAGE_CHARS: usize = 512;

fn truncate(message: &str) -> String {
    let mut chars = message.chars();
    let kept: String = chars.by_ref().take(MESSAGE_CHARS).collect();
    if chars.next().is_some() {
        format!("{kept}…")
    } else {
        kept
    }
}

impl From<KubeError> for StepError {
    fn from(err: KubeError) -> Self {
        err.to_step_error()
    }
}
