//! A simulated AWS account and EKS cluster implementing every custody port, with a virtual clock
//! and a latency model: custody's embedded default, "like SQLite for a database".
//!
//! A [`World`] is loaded from a JSON fixture (`tests/fixtures/worlds/*.json`) describing the
//! forensic account and its settings, target accounts (VPCs, subnets, ACLs, instances with tags,
//! ENIs, volumes, instance profiles, roles, SSM status, kernel release, memory), EKS clusters
//! (nodes, pods, containers with host PIDs, workloads, NetworkPolicies), the LiME modules in the
//! artifacts bucket, and failure knobs. [`SimEnvironment`] implements
//! [`custody_steps::ports::Environment`] over it, so every step runs against it unchanged.
//!
//! Time is virtual ([`SimClock`]): snapshots stay `pending` and commands `InProgress` until the
//! latency model (`LATENCY.md`) says they are done, and only [`World::advance`] (or the ASL
//! engine's `Wait`, through a shared clock) moves time. Every call is recorded as a
//! [`CallRecord`] naming its [`Capability`](custody_steps::capability::Capability), so tests can
//! assert what a step touched. The whole state, run-time records included, is saved with
//! [`World::to_json`] and restored with [`World::from_state_json`].

pub mod calls;
pub mod clock;
pub mod error;
mod errs;
mod faults;
pub mod latency;
pub mod model;
pub mod ports;
mod relations;
pub mod s3;
mod settle;
mod time;
pub mod validate;
mod world;

pub use calls::{CallOutcome, CallRecord};
pub use clock::SimClock;
pub use error::WorldError;
pub use latency::LatencyModel;
pub use ports::{SimAccount, SimCluster, SimEnvironment};
pub use relations::{cluster_resource, node_resource, pod_resource, policy_resource};
pub use world::World;
