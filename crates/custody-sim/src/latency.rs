//! How long simulated operations take, in virtual time. See `LATENCY.md` for the sources and
//! the reasoning behind each default.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The latency model. Every field has a default (see `LATENCY.md`); a world fixture may override
/// any of them under `"latency"` to rehearse a slow day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct LatencyModel {
    /// Virtual time every API call takes (the clock advances by it on each call).
    pub api_call_ms: u64,
    /// Fixed part of an EBS snapshot: from `CreateSnapshots` to the first progress.
    pub snapshot_base_seconds: f64,
    /// Seconds per GiB of volume for a full (first) EBS snapshot.
    pub snapshot_seconds_per_gib: f64,
    /// Fixed part of `CopySnapshot`.
    pub copy_base_seconds: f64,
    /// Seconds per GiB for `CopySnapshot` (re-encryption copies every block).
    pub copy_seconds_per_gib: f64,
    /// From `SendCommand` to the agent starting the document.
    pub command_dispatch_seconds: f64,
    /// Memory capture (LiME or AVML streamed to S3): seconds per GiB of RAM.
    pub memory_capture_seconds_per_gib: f64,
    /// The pod-to-PID collection (`crictl ps` + `inspect` per container).
    pub map_pods_seconds: f64,
    /// Volatile host state collection.
    pub collect_host_seconds: f64,
    /// Memory analysis on the workstation: seconds per GiB of image.
    pub analyse_memory_seconds_per_gib: f64,
    /// Disk analysis on the workstation: seconds per GiB of evidence volume.
    pub analyse_disk_seconds_per_gib: f64,
    /// From `RunInstances` to `running`.
    pub instance_boot_seconds: f64,
    /// From `running` to the SSM agent reporting `Online`.
    pub agent_registration_seconds: f64,
    /// From `CreateVolume` to `available`.
    pub volume_create_seconds: f64,
    /// From `TerminateInstances` to `terminated`.
    pub instance_terminate_seconds: f64,
}

impl Default for LatencyModel {
    fn default() -> Self {
        Self {
            api_call_ms: 80,
            snapshot_base_seconds: 30.0,
            snapshot_seconds_per_gib: 6.0,
            copy_base_seconds: 60.0,
            copy_seconds_per_gib: 4.0,
            command_dispatch_seconds: 2.0,
            memory_capture_seconds_per_gib: 12.0,
            map_pods_seconds: 6.0,
            collect_host_seconds: 20.0,
            analyse_memory_seconds_per_gib: 90.0,
            analyse_disk_seconds_per_gib: 15.0,
            instance_boot_seconds: 45.0,
            agent_registration_seconds: 30.0,
            volume_create_seconds: 8.0,
            instance_terminate_seconds: 40.0,
        }
    }
}

impl LatencyModel {
    /// Time one API call takes.
    pub fn api_call(&self) -> Duration {
        Duration::from_millis(self.api_call_ms)
    }

    /// Time to snapshot a volume of `size_gib`.
    pub fn snapshot(&self, size_gib: u64) -> Duration {
        secs(self.snapshot_base_seconds + self.snapshot_seconds_per_gib * size_gib as f64)
    }

    /// Time to copy a snapshot of `size_gib`.
    pub fn copy(&self, size_gib: u64) -> Duration {
        secs(self.copy_base_seconds + self.copy_seconds_per_gib * size_gib as f64)
    }

    /// Time to capture and upload `memory_gib` of RAM, dispatch included.
    pub fn memory_capture(&self, memory_gib: u64) -> Duration {
        secs(
            self.command_dispatch_seconds + self.memory_capture_seconds_per_gib * memory_gib as f64,
        )
    }

    /// Time for a fixed-cost document (`seconds` of work after dispatch).
    pub fn command(&self, seconds: f64) -> Duration {
        secs(self.command_dispatch_seconds + seconds)
    }

    /// Time for a workstation to go from launch to agent `Online`.
    pub fn workstation_ready(&self) -> Duration {
        secs(self.instance_boot_seconds + self.agent_registration_seconds)
    }
}

/// Seconds as a duration; negative or non-finite values (a bad fixture override) count as zero.
pub(crate) fn secs(s: f64) -> Duration {
    if s.is_finite() && s > 0.0 {
        Duration::from_secs_f64(s)
    } else {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_grow_with_size() {
        let m = LatencyModel::default();
        assert_eq!(m.snapshot(0), Duration::from_secs(30));
        assert_eq!(m.snapshot(100), Duration::from_secs(630));
        assert!(m.memory_capture(16) > m.memory_capture(4));
        assert_eq!(secs(-3.0), Duration::ZERO);
        assert_eq!(secs(f64::NAN), Duration::ZERO);
    }
}
