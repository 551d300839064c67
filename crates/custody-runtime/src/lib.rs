//! The production environment: what the steps run against in AWS.
//!
//! custody-aws implements every port over the AWS SDK, but leaves the Kubernetes half of
//! cluster access to a [`KubeOpener`](custody_aws::KubeOpener) so that it does not depend on
//! kube-rs; custody-kube has the EKS token and the Kubernetes client but no SDK clients. This
//! crate joins them, once, so that the Lambda bootstrap (custody-lambda) and `custody run --aws`
//! build exactly the same environment:
//!
//! - [`EksKubeOpener`]: `DescribeCluster`'s endpoint and CA plus the responder session's
//!   credentials become an EKS bearer token source, an in-memory `kube::Client` pinned to the
//!   cluster's CA, and a [`KubeCluster`](custody_kube::KubeCluster) behind the steps' `Cluster`
//!   port.
//! - [`production_environment`] / [`environment_on`]: an
//!   [`AwsEnvironment`](custody_aws::AwsEnvironment) with that opener plugged in.
//!
//! TLS: the AWS SDK and kube both use rustls on the aws-lc-rs provider only (the workspace pins
//! their features), so the process has exactly one rustls crypto provider and neither client
//! panics choosing one (TOOLING.md §1.3). This crate's tests build a real kube client over TLS,
//! which is where a second provider would show.

mod environment;
mod opener;

pub use environment::{environment_on, production_environment};
pub use opener::EksKubeOpener;
