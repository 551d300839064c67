//! Step input parsing that names the JSON path of what is wrong.

use custody_core::error::StepError;
use serde::de::DeserializeOwned;

/// Deserializes a step's input; a failure is `Custody.InvalidInput` naming the JSON path
/// (`$.target.instanceId`), so an operator can find the bad field in a 256 KiB payload.
pub(crate) fn parse<T: DeserializeOwned>(
    step: &str,
    value: serde_json::Value,
) -> Result<T, StepError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let path = if path == "." {
            "$".to_owned()
        } else {
            format!("$.{path}")
        };
        StepError::invalid_input(format!("{step} input at {path}: {}", err.inner()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Outer {
        target: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Inner {
        instance_id: custody_core::id::InstanceId,
    }

    #[test]
    fn errors_name_the_json_path() {
        let err = parse::<Outer>(
            "isolate",
            serde_json::json!({"target": {"instanceId": "i-$(reboot)"}}),
        )
        .unwrap_err();
        assert_eq!(err.name.as_str(), "Custody.InvalidInput");
        assert!(err.cause.contains("$.target.instanceId"), "{}", err.cause);
    }

    #[test]
    fn missing_fields_name_their_parent() {
        let err = parse::<Outer>("isolate", serde_json::json!({})).unwrap_err();
        assert!(err.cause.contains("target"), "{}", err.cause);
    }
}
