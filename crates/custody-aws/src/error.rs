//! SDK errors to named step errors.
//!
//! Every failure that leaves this crate is a [`StepError`] whose name is what the state machine's
//! `Retry`/`Catch` match on, and which keeps the service's error code and request id so that a
//! responder can quote them to AWS support. Transient failures (throttling, 5xx, timeouts) are
//! retried inside the SDK first (standard retry mode); what reaches here has exhausted them.

use std::error::Error as StdError;
use std::fmt::Display;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use custody_core::error::{ErrorName, StepError};

/// Builds a step error with the service's code and request id.
pub(crate) fn step_error(
    name: ErrorName,
    cause: impl Into<String>,
    service_code: Option<&str>,
    request_id: Option<&str>,
) -> StepError {
    let mut error = StepError::new(name, cause);
    error.service_code = service_code.map(str::to_owned);
    error.request_id = request_id.map(str::to_owned);
    error
}

/// The error of an SDK call, named by what went wrong.
///
/// `context` says what was being done (`"ec2:CreateSnapshots for \"i-0abc…\""`); it is put in
/// front of the service's message.
pub(crate) fn sdk_error<E>(context: impl Display, err: SdkError<E, HttpResponse>) -> StepError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    let request_id = err
        .meta()
        .request_id()
        .or_else(|| err.request_id())
        .map(str::to_owned);
    let status = err.raw_response().map(|r| r.status().as_u16());
    let (name, detail) = match &err {
        SdkError::ServiceError(_) => {
            let name = code
                .as_deref()
                .and_then(name_for_code)
                .unwrap_or_else(|| name_for_status(status.unwrap_or(0)));
            let message = err.message().unwrap_or("no message");
            let detail = match &code {
                Some(code) => format!("{code}: {message}"),
                None => format!("HTTP {}: {message}", status.unwrap_or(0)),
            };
            (name, detail)
        }
        SdkError::TimeoutError(_) => (ErrorName::Timeout, DisplayErrorContext(&err).to_string()),
        SdkError::DispatchFailure(failure) => {
            let name = if failure.is_timeout() {
                ErrorName::Timeout
            } else if failure.is_user() {
                ErrorName::Internal
            } else {
                ErrorName::ServiceUnavailable
            };
            (name, DisplayErrorContext(&err).to_string())
        }
        // The service answered something the SDK could not read: a 5xx HTML page from a proxy,
        // or an endpoint (moto) that does not implement the operation.
        SdkError::ResponseError(_) => {
            let name = match status {
                Some(404 | 501) => ErrorName::Unsupported,
                Some(s) => name_for_status(s),
                None => ErrorName::Internal,
            };
            (name, DisplayErrorContext(&err).to_string())
        }
        _ => (ErrorName::Internal, DisplayErrorContext(&err).to_string()),
    };
    step_error(
        name,
        format!("{context}: {detail}"),
        code.as_deref(),
        request_id.as_deref(),
    )
}

/// The step error name for a service error code, when the code says it.
pub(crate) fn name_for_code(code: &str) -> Option<ErrorName> {
    const THROTTLED: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceededException",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "BandwidthLimitExceeded",
    ];
    const UNAVAILABLE: &[&str] = &[
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServerException",
        "InternalException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "Unavailable",
        "InsufficientInstanceCapacity",
    ];
    const TIMEOUT: &[&str] = &[
        "RequestTimeout",
        "RequestTimeoutException",
        "RequestExpired",
    ];
    const DENIED: &[&str] = &[
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "UnauthorizedException",
        "AuthFailure",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessException",
        "OptInRequired",
        "AllAccessDisabled",
    ];
    const NOT_FOUND: &[&str] = &[
        "NoSuchEntity",
        "NoSuchKey",
        "NoSuchBucket",
        "NoSuchUpload",
        "NoSuchVersion",
        "NotFound",
        "ResourceNotFoundException",
        "InvalidCommandId",
        "InvocationDoesNotExist",
        "InvalidDocument",
    ];
    const CONFLICT: &[&str] = &[
        "EntityAlreadyExists",
        "ResourceInUseException",
        "ResourceInUse",
        "ResourceConflictException",
        "IdempotentParameterMismatch",
        "IncorrectState",
        "IncorrectInstanceState",
        "VolumeInUse",
        "OperationNotPermitted",
        "BucketAlreadyOwnedByYou",
        "DuplicateInstanceId",
        "InvalidPermission.Duplicate",
        "InvalidGroup.Duplicate",
        "NetworkAclEntryAlreadyExists",
    ];
    const MISMATCH: &[&str] = &[
        "BadDigest",
        "InvalidDigest",
        "InvalidPart",
        "XAmzContentSHA256Mismatch",
    ];
    const INVALID: &[&str] = &[
        "ValidationError",
        "ValidationException",
        "InvalidParameter",
        "InvalidParameterValue",
        "InvalidParameterCombination",
        "InvalidParameterException",
        "InvalidParameters",
        "InvalidInputException",
        "InvalidInput",
        "InvalidRequest",
        "InvalidRequestException",
        "InvalidArgument",
        "MissingParameter",
        "MalformedPolicyDocument",
        "SerializationException",
        "InvalidPartOrder",
        "EntityTooSmall",
        "EntityTooLarge",
        "InvalidFilter",
        "InvalidResourceId",
        "InvalidDocumentVersion",
        "MaxDocumentSizeExceeded",
        "InvalidParameterValueException",
    ];
    let name = if THROTTLED.contains(&code) {
        ErrorName::Throttled
    } else if UNAVAILABLE.contains(&code) {
        ErrorName::ServiceUnavailable
    } else if TIMEOUT.contains(&code) {
        ErrorName::Timeout
    } else if DENIED.contains(&code) {
        ErrorName::AccessDenied
    } else if code == "ConditionalCheckFailedException" || code == "TransactionConflictException" {
        ErrorName::StaleCase
    } else if NOT_FOUND.contains(&code)
        || code.ends_with(".NotFound")
        || code.ends_with("NotFoundException")
    {
        ErrorName::NotFound
    } else if CONFLICT.contains(&code)
        || code.ends_with(".Duplicate")
        || code.contains("AlreadyExists")
    {
        ErrorName::Conflict
    } else if MISMATCH.contains(&code) {
        ErrorName::EvidenceMismatch
    } else if INVALID.contains(&code)
        || code.ends_with(".Malformed")
        || code.starts_with("InvalidParameter")
    {
        ErrorName::InvalidInput
    } else {
        return None;
    };
    Some(name)
}

/// The step error name for an HTTP status, when the code did not say.
fn name_for_status(status: u16) -> ErrorName {
    match status {
        400 | 413 | 422 => ErrorName::InvalidInput,
        401 | 403 => ErrorName::AccessDenied,
        404 | 410 => ErrorName::NotFound,
        409 | 412 => ErrorName::Conflict,
        429 => ErrorName::Throttled,
        408 | 504 => ErrorName::Timeout,
        500..=599 => ErrorName::ServiceUnavailable,
        _ => ErrorName::Internal,
    }
}

/// An answer the SDK parsed but that lacks something the port needs (a missing id): AWS did not
/// keep its contract, so this is internal, not the caller's fault.
pub(crate) fn missing(context: impl Display, what: &str) -> StepError {
    step_error(
        ErrorName::Internal,
        format!("{context}: the response has no {what}"),
        None,
        None,
    )
}

/// A value AWS returned that custody's validated types refuse.
pub(crate) fn unexpected(context: impl Display, what: &str, err: impl Display) -> StepError {
    step_error(
        ErrorName::Internal,
        format!("{context}: AWS returned an unusable {what}: {err}"),
        None,
        None,
    )
}

/// Bad input from the caller, refused before anything is sent.
pub(crate) fn invalid(cause: impl Into<String>) -> StepError {
    step_error(ErrorName::InvalidInput, cause, None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_names() {
        let cases = [
            ("Throttling", ErrorName::Throttled),
            ("RequestLimitExceeded", ErrorName::Throttled),
            ("SlowDown", ErrorName::Throttled),
            ("UnauthorizedOperation", ErrorName::AccessDenied),
            ("AccessDenied", ErrorName::AccessDenied),
            ("InvalidInstanceID.NotFound", ErrorName::NotFound),
            ("InvalidSnapshot.NotFound", ErrorName::NotFound),
            ("NoSuchEntity", ErrorName::NotFound),
            ("ResourceNotFoundException", ErrorName::NotFound),
            ("ConditionalCheckFailedException", ErrorName::StaleCase),
            ("InvalidGroup.Duplicate", ErrorName::Conflict),
            ("EntityAlreadyExists", ErrorName::Conflict),
            ("IdempotentParameterMismatch", ErrorName::Conflict),
            ("InvalidParameterValue", ErrorName::InvalidInput),
            ("ValidationException", ErrorName::InvalidInput),
            ("InvalidInstanceID.Malformed", ErrorName::InvalidInput),
            ("InternalError", ErrorName::ServiceUnavailable),
            ("BadDigest", ErrorName::EvidenceMismatch),
        ];
        for (code, want) in cases {
            assert_eq!(name_for_code(code), Some(want), "{code}");
        }
        assert_eq!(name_for_code("SomethingNew"), None);
    }

    #[test]
    fn statuses_map_to_names() {
        assert_eq!(name_for_status(503), ErrorName::ServiceUnavailable);
        assert_eq!(name_for_status(429), ErrorName::Throttled);
        assert_eq!(name_for_status(403), ErrorName::AccessDenied);
        assert_eq!(name_for_status(404), ErrorName::NotFound);
        assert_eq!(name_for_status(302), ErrorName::Internal);
    }
}
