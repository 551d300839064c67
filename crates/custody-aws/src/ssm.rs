//! SSM Run Command: memory capture and host collection on nodes, analysis on the workstation.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_ssm::types::{CommandInvocationStatus, InstanceInformationStringFilter};
use custody_core::error::{ErrorName, StepError};
use custody_core::id::InstanceId;
use custody_steps::ports::{AgentStatus, CommandRequest, CommandStatus, Invocation, NodeCommands};

use crate::error::{invalid, sdk_error};

/// DescribeInstanceInformation's most instance ids per filter.
const IDS_PER_CALL: usize = 50;
/// SSM's limits on a command's delivery timeout.
const DELIVERY_TIMEOUT: std::ops::RangeInclusive<u32> = 30..=2_592_000;

/// SSM in one account and region.
#[derive(Debug, Clone)]
pub struct Ssm {
    client: aws_sdk_ssm::Client,
}

impl Ssm {
    /// Wraps a client built by this crate (with the recording interceptor).
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        Self { client }
    }
}

fn status(status: Option<&CommandInvocationStatus>, details: Option<&str>) -> CommandStatus {
    match details {
        Some("Undeliverable" | "DeliveryTimedOut" | "Terminated") => {
            return CommandStatus::Undeliverable;
        }
        Some("ExecutionTimedOut") => return CommandStatus::TimedOut,
        _ => {}
    }
    match status {
        Some(CommandInvocationStatus::Success) => CommandStatus::Success,
        Some(CommandInvocationStatus::Failed) => CommandStatus::Failed,
        Some(CommandInvocationStatus::TimedOut) => CommandStatus::TimedOut,
        Some(CommandInvocationStatus::Cancelled) => CommandStatus::Cancelled,
        Some(CommandInvocationStatus::InProgress | CommandInvocationStatus::Cancelling) => {
            CommandStatus::InProgress
        }
        // Pending, Delayed, and states added after this build: not finished, keep polling (the
        // state machine's poll loop is bounded).
        _ => CommandStatus::Pending,
    }
}

#[async_trait]
impl NodeCommands for Ssm {
    async fn agent_status(&self, instances: &[InstanceId]) -> Result<Vec<AgentStatus>, StepError> {
        let mut known: HashMap<String, (String, Option<String>)> = HashMap::new();
        for chunk in instances.chunks(IDS_PER_CALL) {
            let context = format!(
                "ssm:DescribeInstanceInformation for {} instance(s)",
                chunk.len()
            );
            let filter = InstanceInformationStringFilter::builder()
                .key("InstanceIds")
                .set_values(Some(chunk.iter().map(ToString::to_string).collect()))
                .build()
                .map_err(|e| invalid(format!("{context}: {e}")))?;
            let mut pages = self
                .client
                .describe_instance_information()
                .filters(filter)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| sdk_error(&context, e))?;
                for info in page.instance_information_list() {
                    if let Some(id) = info.instance_id() {
                        let ping = info
                            .ping_status()
                            .map_or_else(|| "Unknown".to_owned(), |p| p.as_str().to_owned());
                        let platform = info
                            .platform_name()
                            .or(info.platform_type().map(|p| p.as_str()))
                            .map(str::to_owned);
                        known.insert(id.to_owned(), (ping, platform));
                    }
                }
            }
        }
        Ok(instances
            .iter()
            .map(|id| match known.get(id.as_str()) {
                Some((ping, platform)) => AgentStatus {
                    instance_id: id.clone(),
                    online: ping == "Online",
                    ping_status: ping.clone(),
                    platform: platform.clone(),
                },
                None => AgentStatus {
                    instance_id: id.clone(),
                    online: false,
                    ping_status: "NotManaged".to_owned(),
                    platform: None,
                },
            })
            .collect())
    }

    async fn find_command(
        &self,
        instance: &InstanceId,
        comment: &str,
    ) -> Result<Option<String>, StepError> {
        let context = format!("ssm:ListCommands on {instance} for {comment:?}");
        let mut pages = self
            .client
            .list_commands()
            .instance_id(instance.as_str())
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(&context, e))?;
            if let Some(found) = page
                .commands()
                .iter()
                .find(|c| c.comment() == Some(comment))
            {
                return found
                    .command_id()
                    .map(|id| Some(id.to_owned()))
                    .ok_or_else(|| crate::error::missing(&context, "command id"));
            }
        }
        Ok(None)
    }

    /// `timeout_seconds` becomes SSM's delivery timeout (clamped to 30 s–30 days): a command the
    /// agent has not picked up by then never runs. How long it may *run* is the document's own
    /// `timeoutSeconds`.
    async fn send_command(&self, request: &CommandRequest) -> Result<String, StepError> {
        let context = format!(
            "ssm:SendCommand {:?} to {}",
            request.document, request.instance_id
        );
        if request.comment.is_empty() || request.comment.chars().count() > 100 {
            return Err(invalid(format!(
                "{context}: the comment must be 1-100 characters (it is how a retry finds the command)"
            )));
        }
        let parameters: HashMap<String, Vec<String>> = request
            .parameters
            .iter()
            .map(|(k, v)| (k.clone(), vec![v.clone()]))
            .collect();
        let timeout = request
            .timeout_seconds
            .clamp(*DELIVERY_TIMEOUT.start(), *DELIVERY_TIMEOUT.end());
        let sent = self
            .client
            .send_command()
            .document_name(&request.document)
            .instance_ids(request.instance_id.as_str())
            .set_parameters(Some(parameters))
            .comment(&request.comment)
            .timeout_seconds(i32::try_from(timeout).unwrap_or(i32::MAX))
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(e) => {
                let offline = e
                    .as_service_error()
                    .is_some_and(|s| s.is_invalid_instance_id());
                let mut error = sdk_error(&context, e);
                if offline {
                    // SSM's InvalidInstanceId: not managed, not running, or the agent is offline.
                    error.name = ErrorName::AgentOffline;
                }
                return Err(error);
            }
        };
        out.command()
            .and_then(|c| c.command_id())
            .map(str::to_owned)
            .ok_or_else(|| crate::error::missing(&context, "command id"))
    }

    async fn invocation(
        &self,
        command_id: &str,
        instance: &InstanceId,
    ) -> Result<Invocation, StepError> {
        let context = format!("ssm:GetCommandInvocation {command_id:?} on {instance}");
        let sent = self
            .client
            .get_command_invocation()
            .command_id(command_id)
            .instance_id(instance.as_str())
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            // Right after SendCommand the invocation may not exist yet: it is pending.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_invocation_does_not_exist()) =>
            {
                return Ok(Invocation {
                    status: CommandStatus::Pending,
                    exit_code: None,
                    stdout: String::new(),
                    stderr: String::new(),
                });
            }
            Err(e) => return Err(sdk_error(&context, e)),
        };
        let status = status(out.status(), out.status_details());
        let exit_code = Some(out.response_code()).filter(|code| status.is_terminal() && *code >= 0);
        Ok(Invocation {
            status,
            exit_code,
            stdout: out.standard_output_content().unwrap_or_default().to_owned(),
            stderr: out.standard_error_content().unwrap_or_default().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_with_details_first() {
        assert_eq!(
            status(Some(&CommandInvocationStatus::Success), Some("Success")),
            CommandStatus::Success
        );
        assert_eq!(
            status(Some(&CommandInvocationStatus::Failed), Some("Failed")),
            CommandStatus::Failed
        );
        assert_eq!(
            status(
                Some(&CommandInvocationStatus::TimedOut),
                Some("DeliveryTimedOut")
            ),
            CommandStatus::Undeliverable
        );
        assert_eq!(
            status(
                Some(&CommandInvocationStatus::Failed),
                Some("ExecutionTimedOut")
            ),
            CommandStatus::TimedOut
        );
        assert_eq!(
            status(Some(&CommandInvocationStatus::Delayed), None),
            CommandStatus::Pending
        );
        assert_eq!(
            status(Some(&CommandInvocationStatus::Cancelling), None),
            CommandStatus::InProgress
        );
        assert_eq!(status(None, None), CommandStatus::Pending);
    }
}
