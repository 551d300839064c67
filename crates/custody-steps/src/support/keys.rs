//! Object keys in the evidence and artifacts buckets. Every evidence key is under `cases/<case>/`.

use custody_core::id::{CaseId, InstanceId};

/// The memory image of one instance.
pub(crate) fn memory_image(case: &CaseId, instance: &InstanceId) -> String {
    format!("cases/{case}/memory/{instance}.lime")
}

/// The capture document's own report of the capture (method, timings, every image part).
pub(crate) fn memory_report(case: &CaseId, instance: &InstanceId) -> String {
    format!("cases/{case}/memory/{instance}.report.json")
}

/// The manifest handed to the host for the memory capture (part URLs, tool URLs).
pub(crate) fn memory_manifest(case: &CaseId, instance: &InstanceId) -> String {
    format!("cases/{case}/memory/{instance}.manifest")
}

/// The host's container listing (the map-pods document's `podmap` output).
pub(crate) fn container_listing(case: &CaseId, instance: &InstanceId) -> String {
    format!("cases/{case}/pod-map/{instance}.podmap.json")
}

/// The manifest handed to the host for the container listing.
pub(crate) fn pod_map_manifest(case: &CaseId, instance: &InstanceId) -> String {
    format!("cases/{case}/pod-map/{instance}.manifest")
}

/// The matched pod-to-PID map.
pub(crate) fn pod_pid_map(case: &CaseId, instance: &InstanceId) -> String {
    format!("cases/{case}/pod-map/{instance}.map.json")
}

/// The prefix under which the workstation's analyses write their outputs.
pub(crate) fn analysis_prefix(case: &CaseId) -> String {
    format!("cases/{case}/analysis/")
}

/// The Markdown report.
pub(crate) fn report(case: &CaseId) -> String {
    format!("cases/{case}/report.md")
}

/// The LiME module for a kernel release, in the artifacts bucket.
pub(crate) fn lime_module(kernel_release: &str) -> String {
    format!("modules/lime/{kernel_release}.ko")
}

/// The static AVML binary, in the artifacts bucket.
pub(crate) const AVML: &str = "tools/avml";
