//! How a Task `Resource` finds its binding, and the shapes AWS gives Lambda results.
//!
//! - Any resource matches a binding named by the full resource string.
//! - `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` also matches `NAME`; the result is
//!   the function's payload itself.
//! - `arn:aws:states:::lambda:invoke` (and `.waitForTaskToken`) matches the `FunctionName`
//!   parameter: in full, by the function name inside it (an ARN, `NAME:ALIAS`,
//!   `ACCOUNT:function:NAME`), or, for a deploy-time placeholder `${TriageFunctionArn}`, by
//!   `TriageFunctionArn`. The function receives `Payload`; the result is the envelope AWS
//!   returns (`Payload`, `StatusCode`, `ExecutedVersion`, `SdkHttpMetadata`,
//!   `SdkResponseMetadata`).
//! - A Lambda failure keeps its `errorType` as the error; the cause is the JSON Lambda reports
//!   (`{"errorMessage","errorType"}`), as Step Functions shows it.

use custody_asl::{TaskFailure, TaskRequest};
use serde_json::{Value, json};

const INVOKE: &str = "arn:aws:states:::lambda:invoke";

/// Whether `resource` is the Lambda service integration.
pub fn is_invoke_integration(resource: &str) -> bool {
    resource == INVOKE || resource == format!("{INVOKE}.waitForTaskToken")
}

/// The function name inside a function ARN or partial ARN (`NAME`, `NAME:ALIAS`,
/// `ACCOUNT:function:NAME`, `arn:aws:lambda:R:A:function:NAME[:Q]`).
pub fn function_name(s: &str) -> Option<&str> {
    if let Some(i) = s.find(":function:") {
        return s[i + ":function:".len()..].split(':').next();
    }
    if s.starts_with("arn:") || s.is_empty() {
        return None;
    }
    s.split(':').next()
}

/// The inner name of a `${Name}` placeholder.
fn placeholder(s: &str) -> Option<&str> {
    s.strip_prefix("${").and_then(|r| r.strip_suffix('}'))
}

/// The names a static resource string may be bound by.
pub fn resource_keys(resource: &str) -> Vec<&str> {
    let mut keys = vec![resource];
    if resource.starts_with("arn:aws:lambda:") {
        keys.extend(function_name(resource));
    }
    keys.extend(placeholder(resource));
    keys
}

/// What a Task invokes, for matching and for shaping its result.
pub enum Target<'a> {
    /// A plain resource (or a bare function ARN when `lambda` is set).
    Resource { resource: &'a str, lambda: bool },
    /// The `lambda:invoke` integration calling `function`.
    Invoke { function: String },
}

impl<'a> Target<'a> {
    /// Classifies a task.
    pub fn of(task: &'a TaskRequest) -> Self {
        if is_invoke_integration(&task.resource) {
            let function = task
                .input
                .get("FunctionName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            Target::Invoke { function }
        } else {
            Target::Resource {
                resource: &task.resource,
                lambda: task.resource.starts_with("arn:aws:lambda:"),
            }
        }
    }

    /// Binding names to try, most specific first.
    pub fn keys(&self) -> Vec<&str> {
        match self {
            Target::Resource { resource, .. } => resource_keys(resource),
            Target::Invoke { function } => {
                let mut keys = vec![function.as_str()];
                keys.extend(function_name(function).filter(|n| *n != function));
                keys.extend(placeholder(function));
                keys.push(INVOKE);
                keys
            }
        }
    }

    /// What the binding receives.
    pub fn payload(&self, task: &TaskRequest) -> Value {
        match self {
            Target::Invoke { .. } => task
                .input
                .get("Payload")
                .cloned()
                .unwrap_or_else(|| json!({})),
            Target::Resource { .. } => task.input.clone(),
        }
    }

    /// The task result Step Functions would see.
    pub fn wrap_result(&self, v: Value) -> Value {
        match self {
            Target::Invoke { .. } => json!({
                "ExecutedVersion": "$LATEST",
                "Payload": v,
                "SdkHttpMetadata": {
                    "AllHttpHeaders": {"X-Amz-Executed-Version": ["$LATEST"], "Content-Type": ["application/json"]},
                    "HttpHeaders": {"X-Amz-Executed-Version": "$LATEST", "Content-Type": "application/json"},
                    "HttpStatusCode": 200
                },
                "SdkResponseMetadata": {"RequestId": uuid::Uuid::new_v4().to_string()},
                "StatusCode": 200
            }),
            Target::Resource { .. } => v,
        }
    }

    /// The failure Step Functions would see.
    pub fn wrap_failure(&self, f: TaskFailure) -> TaskFailure {
        let lambda = matches!(
            self,
            Target::Invoke { .. } | Target::Resource { lambda: true, .. }
        );
        if lambda && f.error != custody_asl::error::names::RUNTIME {
            let cause = json!({"errorMessage": f.cause, "errorType": f.error}).to_string();
            TaskFailure::new(f.error, cause)
        } else {
            f
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:1:function:triage"),
            Some("triage")
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:1:function:triage:live"),
            Some("triage")
        );
        assert_eq!(function_name("1:function:triage"), Some("triage"));
        assert_eq!(function_name("triage:live"), Some("triage"));
        assert_eq!(function_name("arn:aws:states:::x"), None);
    }

    #[test]
    fn keys_for_invoke_include_placeholder_names() {
        let t = Target::Invoke {
            function: "${TriageFunctionArn}".into(),
        };
        assert_eq!(
            t.keys(),
            ["${TriageFunctionArn}", "TriageFunctionArn", INVOKE]
        );
    }
}
