//! The record of every port call the world served.
//!
//! Tests read it to assert what a step did: "no mutating call named a protected resource", "the
//! step called exactly the capabilities it declares".

use custody_core::id::{AccountId, Timestamp};
use custody_steps::capability::{Capability, Effect};
use custody_steps::ports::ops;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallOutcome {
    /// It succeeded.
    Ok,
    /// It failed with this `Custody.<Reason>` name.
    Err(String),
}

/// One call of one port operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallRecord {
    /// Virtual time of the call.
    pub at: Timestamp,
    /// The account whose port served it.
    pub account: AccountId,
    /// The operation, with its IAM actions and effect.
    #[serde(serialize_with = "ser_cap", deserialize_with = "de_cap")]
    pub capability: &'static Capability,
    /// The resource the call named (`i-…`, `eni-…`, `s3://bucket/key`, `eks:cluster/ns/pod`…).
    pub resource: String,
    /// The resources the named one belongs to (an ENI's instance, a pod's node and that node's
    /// instance, the cluster…), so a guardrail test can ask about a subject as a whole.
    #[serde(default)]
    pub related: Vec<String>,
    /// How it ended.
    pub outcome: CallOutcome,
}

impl CallRecord {
    /// Whether the call could change the world.
    pub fn is_mutation(&self) -> bool {
        self.capability.effect == Effect::Mutate
    }

    /// Whether the call named `resource` or something that belongs to it.
    pub fn concerns(&self, resource: &str) -> bool {
        self.resource == resource || self.related.iter().any(|r| r == resource)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CapRef {
    port: String,
    operation: String,
}

fn port_name(cap: &Capability) -> String {
    match serde_json::to_value(cap.port) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{:?}", cap.port),
    }
}

fn ser_cap<S: Serializer>(cap: &&'static Capability, s: S) -> Result<S::Ok, S::Error> {
    CapRef {
        port: port_name(cap),
        operation: cap.operation.to_string(),
    }
    .serialize(s)
}

fn de_cap<'de, D: Deserializer<'de>>(d: D) -> Result<&'static Capability, D::Error> {
    let r = CapRef::deserialize(d)?;
    lookup(&r.port, &r.operation).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "no capability {:?} on port {:?} in this version of custody",
            r.operation, r.port
        ))
    })
}

/// The capability of `operation` on `port` (kebab-case port name).
pub fn lookup(port: &str, operation: &str) -> Option<&'static Capability> {
    ops::all()
        .into_iter()
        .find(|c| c.operation == operation && port_name(c) == port)
}

/// Whether some port has an operation of this name (failure knobs name operations).
pub fn operation_exists(operation: &str) -> bool {
    ops::all().iter().any(|c| c.operation == operation)
}
