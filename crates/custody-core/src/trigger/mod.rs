//! The ways a case starts, parsed into one validated [`CaseRequest`].
//!
//! Accepted start inputs (the shape is sniffed, then validated strictly):
//!
//! 1. An EventBridge "Security Hub Findings - Custom Action" event: a person selected findings
//!    in Security Hub and chose the triage or the isolation action.
//! 2. A SIEM request, `{"finding": <GuardDuty or ASFF finding>, "isolate", "requestedBy", "reason"}`.
//! 3. A plain request naming the target, `{"target", "account", "region", "isolate",
//!    "requestedBy", "reason"}`.
//! 4. ASFF on its own: `{"findings": [...]}`, `{"Findings": [...]}` or one ASFF finding.
//! 5. A bare GuardDuty finding.
//!
//! Anything else is refused with the JSON path of the field at fault. Other EventBridge events
//! (e.g. every imported finding) are refused on purpose: acting on a production workload is
//! chosen by a person, or by a request that names who asked.

mod asff;
mod guardduty;
mod json;
mod plain;
mod request;
mod subject;

use serde::{Deserialize, Serialize};

pub use request::{
    CaseRequest, FindingRef, Intent, RequestSource, Requester, Target, WorkloadKind,
};

use crate::error::StepError;
use crate::id::{AccountId, Arn, Region, Timestamp};
use json::{Node, truncate};

/// The largest start input accepted: Step Functions' limit on execution input (256 KiB).
pub const MAX_INPUT_BYTES: usize = 256 * 1024;

/// The `detail-type` of a Security Hub custom action event.
pub const CUSTOM_ACTION_DETAIL_TYPE: &str = "Security Hub Findings - Custom Action";

/// Which Security Hub custom actions may start a case, and from where.
///
/// Action ids are configuration, not code: a deployment names its own actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TriggerConfig {
    /// The custom action id (last segment of its ARN) meaning "acquire and investigate".
    pub triage_action_id: String,
    /// The custom action id meaning "acquire, investigate and isolate".
    pub isolation_action_id: String,
    /// If set, only events from this Security Hub (administrator) account start cases.
    pub securityhub_account: Option<AccountId>,
}

impl Default for TriggerConfig {
    fn default() -> Self {
        Self {
            triage_action_id: "ForensicTriage".to_owned(),
            isolation_action_id: "ForensicIsolation".to_owned(),
            securityhub_account: None,
        }
    }
}

/// A start input was refused. `path` is the JSON path of the field at fault (`$` for the whole
/// input), e.g. `$.detail.findings[0].Resources[1].Id`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid start input at {path}: {reason}")]
pub struct InputError {
    /// JSON path of the offending field.
    pub path: String,
    /// Why it was refused (untrusted values quoted and truncated).
    pub reason: String,
}

impl From<InputError> for StepError {
    fn from(err: InputError) -> Self {
        StepError::invalid_input(err.to_string())
    }
}

/// Parses raw start input, refusing anything over [`MAX_INPUT_BYTES`] before parsing it.
///
/// # Errors
/// [`InputError`] at `$` for oversize or malformed JSON, else as [`parse_start`].
pub fn parse_start_bytes(input: &[u8], cfg: &TriggerConfig) -> Result<CaseRequest, InputError> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(too_large(input.len()));
    }
    let value: serde_json::Value = serde_json::from_slice(input).map_err(|e| InputError {
        path: "$".to_owned(),
        reason: format!("is not valid JSON ({e})"),
    })?;
    parse_start(&value, cfg)
}

fn too_large(len: usize) -> InputError {
    InputError {
        path: "$".to_owned(),
        reason: format!(
            "input is {len} bytes; Step Functions accepts at most {MAX_INPUT_BYTES} (256 KiB)"
        ),
    }
}

/// Parses a start input of any accepted shape into a validated request.
///
/// # Errors
/// [`InputError`] naming the JSON path of the first field at fault: an unknown shape, a
/// malformed or hostile identifier, an unconfigured custom action, an unsupported resource type,
/// findings about different subjects, a missing requester.
pub fn parse_start(
    input: &serde_json::Value,
    cfg: &TriggerConfig,
) -> Result<CaseRequest, InputError> {
    let size = serde_json::to_vec(input)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_INPUT_BYTES {
        return Err(too_large(size));
    }
    let root = Node::root(input);
    root.object()?;
    if root.has("detail-type") || (root.has("source") && root.has("detail")) {
        return custom_action(&root, cfg);
    }
    if root.has("finding") {
        return plain::siem_request(&root);
    }
    if root.has("target") {
        return plain::plain_request(&root);
    }
    if root.has("findings") || root.has("Findings") {
        return plain::asff_batch(&root);
    }
    if asff::looks_like(&root) {
        let (target, finding) = asff::parse(&root)?;
        return Ok(CaseRequest {
            source: RequestSource::AsffFinding,
            intent: Intent { isolate: false },
            target,
            findings: vec![finding],
            requested_by: Requester::Automation {
                rule: plain::FORWARDED_ASFF.to_owned(),
            },
            reason: None,
        });
    }
    if guardduty::looks_like(&root) {
        let (target, finding) = guardduty::parse(&root)?;
        return Ok(CaseRequest {
            source: RequestSource::GuardDutyFinding,
            intent: Intent { isolate: false },
            target,
            findings: vec![finding],
            requested_by: Requester::Automation {
                rule: plain::FORWARDED_GUARDDUTY.to_owned(),
            },
            reason: None,
        });
    }
    Err(root.error(
        "unrecognised start input: expected a Security Hub custom-action event, a SIEM request \
         {finding, requestedBy}, a plain request {target, account, region, requestedBy}, ASFF \
         findings, or a GuardDuty finding",
    ))
}

/// Parses a Security Hub custom-action event.
fn custom_action(root: &Node<'_>, cfg: &TriggerConfig) -> Result<CaseRequest, InputError> {
    let detail_type = root.field("detail-type")?;
    let dt = detail_type.str()?;
    if dt != CUSTOM_ACTION_DETAIL_TYPE {
        return Err(detail_type.error(format!(
            "EventBridge events of type {:?} do not start cases; custody starts from the Security Hub custom action event {CUSTOM_ACTION_DETAIL_TYPE:?}, so that a person chooses what to act on",
            truncate(dt)
        )));
    }
    root.field("source")?.expect_str("aws.securityhub")?;
    let account_node = root.field("account")?;
    let account = account_node.id(AccountId::parse)?;
    let region = root.field("region")?.id(Region::parse)?;
    if let Some(t) = root.opt("time")? {
        t.id(Timestamp::parse)?;
    }
    if let Some(allowed) = &cfg.securityhub_account
        && allowed != &account
    {
        return Err(account_node.error(format!(
            "event comes from Security Hub account {account}; only {allowed} may start cases"
        )));
    }
    let resources = root.field("resources")?;
    let action_node = match resources.array()?.into_iter().next() {
        Some(first) => first,
        None => return Err(resources.error("must name the custom action ARN")),
    };
    let action_arn = action_node.id(Arn::parse)?;
    let Some(action_id) = action_arn.resource().strip_prefix("action/custom/") else {
        return Err(action_node.error("must be a Security Hub custom action ARN (…:securityhub:<region>:<account>:action/custom/<id>)"));
    };
    if action_arn.service() != "securityhub"
        || action_arn.account() != Some(&account)
        || action_arn.region() != Some(&region)
    {
        return Err(action_node.error(format!(
            "custom action must belong to the event's account {account} and region {region}"
        )));
    }
    let isolate = if action_id == cfg.isolation_action_id {
        true
    } else if action_id == cfg.triage_action_id {
        false
    } else {
        return Err(action_node.error(format!(
            "custom action {:?} is not configured to start cases (triage: {:?}, isolation: {:?})",
            truncate(action_id),
            cfg.triage_action_id,
            cfg.isolation_action_id
        )));
    };
    let detail = root.field("detail")?;
    detail.field("actionName")?.text(128)?;
    let reason = detail
        .opt("actionDescription")?
        .map(|d| d.text(1024))
        .transpose()?;
    let (target, findings) = plain::findings(&detail.field("findings")?, asff::parse)?;
    Ok(CaseRequest {
        source: RequestSource::SecurityHubAction {
            action_arn: action_arn.clone(),
        },
        intent: Intent { isolate },
        target,
        findings,
        requested_by: Requester::Automation {
            rule: action_arn.as_str().to_owned(),
        },
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversize_input_is_refused_before_parsing() {
        let big = vec![b' '; MAX_INPUT_BYTES + 1];
        let err = parse_start_bytes(&big, &TriggerConfig::default()).unwrap_err();
        assert_eq!(err.path, "$");
        assert!(err.reason.contains("256 KiB"), "{err}");
    }

    #[test]
    fn unknown_shapes_are_refused_at_the_root() {
        for input in [
            serde_json::json!([]),
            serde_json::json!("x"),
            serde_json::json!({"hello": 1}),
        ] {
            let err = parse_start(&input, &TriggerConfig::default()).unwrap_err();
            assert_eq!(err.path, "$", "{input}");
        }
    }

    #[test]
    fn other_eventbridge_events_are_refused() {
        let event = serde_json::json!({"detail-type": "Security Hub Findings - Imported", "source": "aws.securityhub", "detail": {}});
        let err = parse_start(&event, &TriggerConfig::default()).unwrap_err();
        assert_eq!(err.path, r#"$["detail-type"]"#);
    }

    #[test]
    fn config_defaults_and_serde() {
        let cfg: TriggerConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(cfg, TriggerConfig::default());
        assert_eq!(cfg.triage_action_id, "ForensicTriage");
        assert_eq!(cfg.isolation_action_id, "ForensicIsolation");
    }
}
