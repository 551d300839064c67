//! The world's state: what a fixture describes at the start, and what a saved world holds after a
//! run. One serde model serves both, so a saved world is a fixture that starts where the run
//! stopped.

pub mod ec2;
pub mod eks;
pub mod runtime;

use custody_core::id::{InstanceId, Timestamp, VolumeId};
use custody_steps::ports::Settings;
use serde::{Deserialize, Serialize};

use crate::latency::LatencyModel;

pub use ec2::{
    Account, AttachedVolume, Instance, InstanceProfile, LooseVolume, NetworkAcl, NetworkInterface,
    ProfileAttachment, Role, SecurityGroup, Subnet, Vpc,
};
pub use eks::{Container, EksCluster, NetworkPolicy, Node, Pod, Workload};
pub use runtime::{
    Annotation, CommandRecord, Effect, MultipartUpload, ObjectVersion, PublishedNotification,
    Runtime, Snapshot, UploadState, UploadedPartRecord,
};

/// The whole world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorldState {
    /// A free-text description of what the world rehearses.
    #[serde(default)]
    pub description: String,
    /// Virtual time at which the world starts.
    pub start_time: Timestamp,
    /// Virtual time when the world was saved (absent in a fixture).
    #[serde(default)]
    pub now: Option<Timestamp>,
    /// custody's configuration in this world.
    pub settings: Settings,
    /// How long operations take.
    #[serde(default)]
    pub latency: LatencyModel,
    /// Accounts (the forensic account among them), each in one region.
    pub accounts: Vec<Account>,
    /// What the artifacts bucket holds.
    #[serde(default)]
    pub artifacts: Artifacts,
    /// The Security Hub findings that exist; `None` means Security Hub accepts any finding id.
    #[serde(default)]
    pub security_hub_findings: Option<Vec<String>>,
    /// Failure knobs.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Run-time state.
    #[serde(default)]
    pub runtime: Runtime,
}

/// The acquisition tools in the artifacts bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Artifacts {
    /// Kernel releases that have a prebuilt LiME module (`modules/lime/<release>.ko`).
    #[serde(default)]
    pub lime_modules: Vec<String>,
    /// Whether the AVML static binary (`tools/avml`) is present.
    #[serde(default = "yes")]
    pub avml: bool,
}

impl Default for Artifacts {
    fn default() -> Self {
        Self {
            lime_modules: Vec::new(),
            avml: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// Key of the LiME module for a kernel release in the artifacts bucket.
pub fn lime_module_key(kernel_release: &str) -> String {
    format!("modules/lime/{kernel_release}.ko")
}

/// Key of the AVML binary in the artifacts bucket.
pub const AVML_KEY: &str = "tools/avml";

/// A failure knob: makes the world misbehave the way AWS does on a bad day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", deny_unknown_fields)]
pub enum Fault {
    /// The operation is throttled (`Custody.Throttled`) the next `times` calls, then succeeds.
    #[serde(rename_all = "camelCase")]
    Throttle {
        /// Port operation name (`create_snapshots`).
        operation: String,
        /// Only calls naming this resource; any resource when absent.
        #[serde(default)]
        resource: Option<String>,
        /// How many calls are still throttled (counts down as they happen).
        times: u32,
    },
    /// The operation is denied (`Custody.AccessDenied`), as by an SCP or a missing permission.
    #[serde(rename_all = "camelCase")]
    Deny {
        /// Port operation name.
        operation: String,
        /// Only calls naming this resource; any resource when absent.
        #[serde(default)]
        resource: Option<String>,
    },
    /// The instance's SSM agent is offline, whatever the instance says.
    #[serde(rename_all = "camelCase")]
    AgentOffline {
        /// The instance.
        instance_id: InstanceId,
    },
    /// A document fails on an instance (or on every instance).
    #[serde(rename_all = "camelCase")]
    CommandFails {
        /// Document name.
        document: String,
        /// Only on this instance; every instance when absent.
        #[serde(default)]
        instance_id: Option<InstanceId>,
        /// Exit code.
        #[serde(default = "one")]
        exit_code: i32,
        /// Standard error.
        #[serde(default)]
        stderr: String,
    },
    /// Snapshots of this volume stay `pending` forever.
    #[serde(rename_all = "camelCase")]
    SnapshotStuck {
        /// The volume.
        volume_id: VolumeId,
    },
}

fn one() -> i32 {
    1
}

/// Serde helper: bytes as base64.
pub(crate) mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// Serde helper: optional bytes as base64.
pub(crate) mod b64_opt {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_some(&STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => STANDARD
                .decode(text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}
