//! Failure knobs applied to every call before it runs.

use custody_core::error::StepError;
use custody_core::id::InstanceId;
use custody_steps::capability::{Capability, PortName};

use crate::errs;
use crate::model::{Fault, WorldState};

fn matches(filter: &Option<String>, resources: &[String], related: &[String]) -> bool {
    match filter {
        None => true,
        Some(r) => resources.iter().chain(related).any(|x| x == r),
    }
}

/// The service error code AWS uses for throttling on this port.
fn throttle_code(port: PortName) -> &'static str {
    match port {
        PortName::Compute | PortName::Snapshots | PortName::Quarantine | PortName::Workstation => {
            "RequestLimitExceeded"
        }
        PortName::EvidenceStore => "SlowDown",
        PortName::CaseStore => "ProvisionedThroughputExceededException",
        PortName::Identity | PortName::Notifier => "Throttling",
        PortName::NodeCommands | PortName::FindingsHub | PortName::Cluster => "ThrottlingException",
    }
}

/// The service error code AWS uses for a denied call on this port.
fn denied_code(port: PortName) -> &'static str {
    match port {
        PortName::Compute | PortName::Snapshots | PortName::Quarantine | PortName::Workstation => {
            "UnauthorizedOperation"
        }
        PortName::Cluster => "Forbidden",
        PortName::NodeCommands | PortName::CaseStore | PortName::FindingsHub => {
            "AccessDeniedException"
        }
        _ => "AccessDenied",
    }
}

/// Applies `Deny` and `Throttle` knobs to a call (a throttle knob counts down).
pub(crate) fn check(
    st: &mut WorldState,
    capability: &Capability,
    resources: &[String],
    related: &[String],
) -> Result<(), StepError> {
    for fault in &mut st.faults {
        match fault {
            Fault::Deny {
                operation,
                resource,
            } if operation == capability.operation && matches(resource, resources, related) => {
                return Err(errs::denied(
                    denied_code(capability.port),
                    format!(
                        "simulated denial: {} is not allowed on {}",
                        capability.operation,
                        resources.join(",")
                    ),
                ));
            }
            Fault::Throttle {
                operation,
                resource,
                times,
            } if *times > 0
                && operation == capability.operation
                && matches(resource, resources, related) =>
            {
                *times -= 1;
                return Err(errs::throttled(
                    throttle_code(capability.port),
                    format!(
                        "simulated throttling of {}: rate exceeded",
                        capability.operation
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether a knob takes this instance's agent offline.
pub(crate) fn agent_offline(st: &WorldState, instance: &InstanceId) -> bool {
    st.faults
        .iter()
        .any(|f| matches!(f, Fault::AgentOffline { instance_id } if instance_id == instance))
}

/// The failure a knob imposes on a document on this instance: `(exit code, stderr)`.
pub(crate) fn command_failure(
    st: &WorldState,
    document: &str,
    instance: &InstanceId,
) -> Option<(i32, String)> {
    st.faults.iter().find_map(|f| match f {
        Fault::CommandFails {
            document: d,
            instance_id,
            exit_code,
            stderr,
        } if d == document && instance_id.as_ref().is_none_or(|i| i == instance) => {
            Some((*exit_code, stderr.clone()))
        }
        _ => None,
    })
}

/// Whether snapshots of this volume stay pending.
pub(crate) fn snapshot_stuck(st: &WorldState, volume: &custody_core::id::VolumeId) -> bool {
    st.faults
        .iter()
        .any(|f| matches!(f, Fault::SnapshotStuck { volume_id } if volume_id == volume))
}
