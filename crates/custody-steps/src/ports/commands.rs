//! SSM Run Command: what runs on nodes and on the workstation.

use std::collections::BTreeMap;

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::InstanceId;
use serde::{Deserialize, Serialize};

/// Whether an instance's SSM agent can take commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentStatus {
    /// The instance.
    pub instance_id: InstanceId,
    /// Registered with SSM and pinging (`Online`).
    pub online: bool,
    /// SSM's ping status as reported (`Online`, `ConnectionLost`, `Inactive`), or `NotManaged`.
    pub ping_status: String,
    /// Platform name as SSM reports it (for choosing documents).
    pub platform: Option<String>,
}

/// A command to send. Parameters are validated by the caller and by the document's
/// `allowedPattern`s; they reach scripts as environment variables, never as shell text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandRequest {
    /// Document name or ARN.
    pub document: String,
    /// The one instance it runs on.
    pub instance_id: InstanceId,
    /// Document parameters.
    pub parameters: BTreeMap<String, String>,
    /// Comment shown in SSM; carries the case id and purpose so a retry can find the command
    /// (`custody case-… capture-memory`). At most 100 characters.
    pub comment: String,
    /// Execution timeout.
    pub timeout_seconds: u32,
}

/// Where a command invocation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandStatus {
    /// Queued or delayed.
    Pending,
    /// Running.
    InProgress,
    /// Exited 0.
    Success,
    /// Exited non-zero.
    Failed,
    /// Ran past its timeout.
    TimedOut,
    /// Cancelled.
    Cancelled,
    /// The agent never took it.
    Undeliverable,
}

impl CommandStatus {
    /// Whether the invocation has finished, one way or another.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Pending | Self::InProgress)
    }
}

/// One invocation's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    /// Status.
    pub status: CommandStatus,
    /// Exit code when finished.
    pub exit_code: Option<i32>,
    /// Standard output (SSM truncates it at 24,000 characters; documents print compact JSON).
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// SSM Run Command.
#[async_trait]
pub trait NodeCommands: Send + Sync {
    /// Agent status of each instance; instances SSM does not know are reported not online.
    async fn agent_status(&self, instances: &[InstanceId]) -> Result<Vec<AgentStatus>, StepError>;

    /// A command already sent with this exact comment to this instance, if any: SendCommand has no
    /// client token, so this is how a retried step avoids running a capture twice.
    async fn find_command(
        &self,
        instance: &InstanceId,
        comment: &str,
    ) -> Result<Option<String>, StepError>;

    /// Sends the command; returns its id.
    async fn send_command(&self, request: &CommandRequest) -> Result<String, StepError>;

    /// The invocation's status and output.
    async fn invocation(
        &self,
        command_id: &str,
        instance: &InstanceId,
    ) -> Result<Invocation, StepError>;
}

/// Capabilities of [`NodeCommands`].
pub mod ops {
    use crate::capability::{Capability, PortName::NodeCommands as P};

    /// [`super::NodeCommands::agent_status`]
    pub const AGENT_STATUS: Capability =
        Capability::read(P, "agent_status", &["ssm:DescribeInstanceInformation"]);
    /// [`super::NodeCommands::find_command`]
    pub const FIND_COMMAND: Capability = Capability::read(P, "find_command", &["ssm:ListCommands"]);
    /// [`super::NodeCommands::send_command`]
    pub const SEND_COMMAND: Capability =
        Capability::mutate(P, "send_command", &["ssm:SendCommand"]);
    /// [`super::NodeCommands::invocation`]
    pub const INVOCATION: Capability =
        Capability::read(P, "invocation", &["ssm:GetCommandInvocation"]);

    /// All of them.
    pub const ALL: &[&Capability] = &[&AGENT_STATUS, &FIND_COMMAND, &SEND_COMMAND, &INVOCATION];
}
