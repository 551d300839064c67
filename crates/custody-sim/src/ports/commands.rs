//! [`NodeCommands`] over the world: commands are "run" by the simulated documents when sent, and
//! their status follows virtual time (`Pending` → `InProgress` → final).

use async_trait::async_trait;
use custody_core::error::StepError;
use custody_core::id::InstanceId;
use custody_steps::ports::ops::commands as ops;
use custody_steps::ports::{AgentStatus, CommandRequest, CommandStatus, Invocation, NodeCommands};

use super::SimAccount;
use super::documents::{self, RunContext};
use crate::errs;
use crate::faults;
use crate::model::{CommandRecord, Instance, WorldState};
use crate::time::{plus, reached};
use crate::world::Ctx;

/// SSM's stdout limit in `GetCommandInvocation`.
const STDOUT_LIMIT: usize = 24_000;

/// SSM's view of an instance's agent at `now`: `(ping status, online)`.
fn ping(st: &WorldState, inst: &Instance, now: &custody_core::id::Timestamp) -> (String, bool) {
    if !inst.ssm_managed || inst.state == "terminated" {
        return ("NotManaged".into(), false);
    }
    if faults::agent_offline(st, &inst.id) {
        return ("ConnectionLost".into(), false);
    }
    if let Some(running_at) = &inst.running_at {
        let registered = plus(running_at, st.latency.agent_registration_seconds);
        if !reached(&registered, now) {
            return ("NotManaged".into(), false);
        }
    }
    let online = inst.ssm_ping_status == "Online" && inst.state == "running";
    (inst.ssm_ping_status.clone(), online)
}

fn truncate(mut s: String) -> String {
    if s.len() > STDOUT_LIMIT {
        let mut cut = STDOUT_LIMIT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

fn send(cx: &mut Ctx<'_>, request: &CommandRequest) -> Result<String, StepError> {
    if request.comment.chars().count() > 100 {
        return Err(errs::invalid(
            "ValidationException",
            "a command comment is at most 100 characters",
        ));
    }
    let kind =
        documents::kind_of(&cx.st.settings.documents, &request.document).ok_or_else(|| {
            errs::not_found(
                "InvalidDocument",
                format!(
                    "document {:?} does not exist in the account",
                    request.document
                ),
            )
        })?;
    let now = cx.now;
    let inst = cx
        .acct()?
        .instances
        .iter()
        .find(|i| i.id == request.instance_id)
        .cloned()
        .ok_or_else(|| {
            errs::agent_offline(format!(
                "instance {} is not known to SSM",
                request.instance_id
            ))
        })?;
    let (status, _) = ping(cx.st, &inst, &now);
    if status == "NotManaged" {
        return Err(errs::agent_offline(format!(
            "instance {} is not a managed instance (SSM agent not registered)",
            request.instance_id
        )));
    }
    let command_id = {
        let h = cx.fresh_hex("command", 32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    };
    let lat = cx.st.latency.clone();
    let starts_at = plus(&now, lat.command_dispatch_seconds);
    let timeout = f64::from(request.timeout_seconds.max(1));
    let record = |status, exit_code, stdout, stderr, seconds: f64, effects| CommandRecord {
        command_id: command_id.clone(),
        account: cx.account.clone(),
        instance_id: request.instance_id.clone(),
        document: request.document.clone(),
        parameters: request.parameters.clone(),
        comment: request.comment.clone(),
        sent_at: now,
        starts_at,
        finishes_at: plus(&starts_at, seconds),
        status,
        exit_code,
        stdout,
        stderr,
        effects,
        effects_applied: false,
    };
    let rec = if status != "Online" {
        // SSM accepts the command and holds it until the delivery timeout.
        record(
            CommandStatus::Undeliverable,
            None,
            String::new(),
            String::new(),
            timeout,
            Vec::new(),
        )
    } else {
        let outcome = match faults::command_failure(cx.st, &request.document, &inst.id) {
            Some((code, stderr)) => documents::knob_failure(code, stderr, 5.0),
            None => {
                let account = cx.account.clone();
                let region = cx.region.clone();
                let attached = cx
                    .st
                    .accounts
                    .iter()
                    .filter(|a| a.id == account && a.region == region)
                    .flat_map(|a| &a.volumes)
                    .filter(|v| {
                        !v.deleted && v.attachment.as_ref().is_some_and(|(i, _)| i == &inst.id)
                    })
                    .collect();
                let rc = RunContext {
                    st: cx.st,
                    instance: &inst,
                    attached,
                    parameters: &request.parameters,
                    command_id: &command_id,
                    starts_at,
                };
                documents::run(kind, &rc)
            }
        };
        if outcome.seconds > timeout {
            record(
                CommandStatus::TimedOut,
                None,
                String::new(),
                "command timed out".into(),
                timeout,
                Vec::new(),
            )
        } else {
            record(
                outcome.status,
                Some(outcome.exit_code),
                truncate(outcome.stdout),
                truncate(outcome.stderr),
                outcome.seconds,
                outcome.effects,
            )
        }
    };
    cx.st.runtime.commands.push(rec);
    Ok(command_id)
}

#[async_trait]
impl NodeCommands for SimAccount {
    async fn agent_status(&self, instances: &[InstanceId]) -> Result<Vec<AgentStatus>, StepError> {
        self.call(
            &ops::AGENT_STATUS,
            instances.iter().map(ToString::to_string).collect(),
            |cx| {
                let now = cx.now;
                let account = cx.account.clone();
                let region = cx.region.clone();
                let a = cx
                    .st
                    .accounts
                    .iter()
                    .find(|a| a.id == account && a.region == region);
                Ok(instances
                    .iter()
                    .map(
                        |id| match a.and_then(|a| a.instances.iter().find(|i| &i.id == id)) {
                            Some(inst) => {
                                let (ping_status, online) = ping(cx.st, inst, &now);
                                let platform =
                                    (ping_status != "NotManaged").then(|| inst.platform.clone());
                                AgentStatus {
                                    instance_id: id.clone(),
                                    online,
                                    ping_status,
                                    platform,
                                }
                            }
                            None => AgentStatus {
                                instance_id: id.clone(),
                                online: false,
                                ping_status: "NotManaged".into(),
                                platform: None,
                            },
                        },
                    )
                    .collect())
            },
        )
    }

    async fn find_command(
        &self,
        instance: &InstanceId,
        comment: &str,
    ) -> Result<Option<String>, StepError> {
        self.call(&ops::FIND_COMMAND, vec![instance.to_string()], |cx| {
            Ok(cx
                .st
                .runtime
                .commands
                .iter()
                .rev()
                .find(|c| {
                    c.account == cx.account && &c.instance_id == instance && c.comment == comment
                })
                .map(|c| c.command_id.clone()))
        })
    }

    async fn send_command(&self, request: &CommandRequest) -> Result<String, StepError> {
        self.call(
            &ops::SEND_COMMAND,
            vec![request.instance_id.to_string()],
            |cx| send(cx, request),
        )
    }

    async fn invocation(
        &self,
        command_id: &str,
        instance: &InstanceId,
    ) -> Result<Invocation, StepError> {
        self.call(&ops::INVOCATION, vec![instance.to_string()], |cx| {
            let c = cx
                .st
                .runtime
                .commands
                .iter()
                .find(|c| {
                    c.command_id == command_id
                        && &c.instance_id == instance
                        && c.account == cx.account
                })
                .ok_or_else(|| {
                    errs::not_found(
                        "InvocationDoesNotExist",
                        format!("no invocation of {command_id:?} on {instance}"),
                    )
                })?;
            let status = if reached(&c.finishes_at, &cx.now) {
                c.status
            } else if reached(&c.starts_at, &cx.now) && c.status != CommandStatus::Undeliverable {
                CommandStatus::InProgress
            } else {
                CommandStatus::Pending
            };
            let done = status.is_terminal();
            Ok(Invocation {
                status,
                exit_code: if done { c.exit_code } else { None },
                stdout: if done {
                    c.stdout.clone()
                } else {
                    String::new()
                },
                stderr: if done {
                    c.stderr.clone()
                } else {
                    String::new()
                },
            })
        })
    }
}
