//! EKS authentication and the Kubernetes operations custody performs on a subject's cluster.
//!
//! - [`token`]: the bearer token `aws eks get-token` would make (a presigned STS
//!   `GetCallerIdentity` URL), cached and re-signed before it expires.
//!
//! Nothing here changes how the cluster authenticates or grants the responder anything: the
//! responder's RBAC is installed ahead of time from `cdk/manifests/responder-clusterrole.yaml`
//! (see this crate's README).

mod names;
pub mod token;

pub use token::{Clock, EksToken, EksTokenSource, SystemClock, TokenError};
