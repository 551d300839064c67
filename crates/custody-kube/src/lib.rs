//! EKS authentication and the Kubernetes operations custody performs on a subject's cluster.
//!
//! - [`token`]: the bearer token `aws eks get-token` would make (a presigned STS
//!   `GetCallerIdentity` URL), cached and re-signed before it expires.
//! - [`client`]: a `kube::Client` built in memory from `DescribeCluster`'s endpoint and CA, the
//!   token injected into every request.
//! - [`KubeCluster`]: the reads (pods by name, label, service account or node; nodes and their
//!   EC2 instances; workload selectors) and the containment actions (quarantine label, deny-all
//!   NetworkPolicy, cordon) with their inverses for release.
//! - [`KubeError`]: failures by what to do about them, with their `Custody.<Reason>` names.
//! - `KubeCluster` implements the steps' `custody_steps::ports::Cluster` port, turning
//!   Kubernetes objects into custody-core facts ([`pod_facts`], [`node_facts`]).
//!
//! Nothing here changes how the cluster authenticates or grants the responder anything: the
//! responder's RBAC is installed ahead of time from `cdk/manifests/responder-clusterrole.yaml`
//! (see this crate's README).

mod actions;
pub mod client;
mod cluster;
mod error;
pub mod policy;
mod port;
pub mod token;

pub use actions::{LabelChange, PolicyOutcome, UnlabelOutcome, deny_all_policy_name};
pub use client::{ClusterEndpoint, ConnectError, connect};
pub use cluster::{KubeCluster, PAGE_SIZE, PodQuery, WorkloadKind, instance_id_of};
pub use error::KubeError;
pub use policy::AllowingPolicy;
pub use port::{node_facts, pod_facts};
pub use token::{Clock, EksToken, EksTokenSource, SystemClock, TokenError};
