//! The capability ports of `custody-steps` implemented over the AWS SDK for Rust.
//!
//! One adapter per service, each a thin translation between domain types and SDK calls:
//! [`Ec2`] (compute, snapshots, quarantine, workstation), [`Ssm`] (Run Command), [`S3Evidence`]
//! (evidence bucket with Object Lock), [`DynamoCases`] (the case store, see `SCHEMA.md`), [`Sns`],
//! [`SecurityHub`], [`Iam`], the EKS half of cluster access ([`EksConnector`], [`describe_cluster`])
//! and STS ([`assume_role`]). [`AwsEnvironment`] puts them together as the steps' `Environment`:
//! forensic-account ports from the process's own credentials, target-account ports as the
//! responder role assumed per case.
//!
//! SDK types stay inside this crate: the ports speak domain types, and every failure is a
//! `StepError` named for the state machine, keeping the service's error code and request id:
//! throttling → `Custody.Throttled`; 5xx → `Custody.ServiceUnavailable`; timeouts →
//! `Custody.Timeout`; `AccessDenied`/`UnauthorizedOperation` → `Custody.AccessDenied`;
//! `*.NotFound`/`NoSuchEntity`/`ResourceNotFoundException` → `Custody.NotFound`;
//! `ConditionalCheckFailed` → `Custody.StaleCase`; duplicates → `Custody.Conflict`; validation →
//! `Custody.InvalidInput`; S3 checksum mismatches → `Custody.EvidenceMismatch`. Every client
//! carries a [`RecordingInterceptor`] that logs the IAM actions each request exercises, so tests
//! can hold the code to the capabilities it declares.

mod clients;
mod config;
mod dynamodb;
mod ec2;
mod eks;
mod environment;
mod error;
mod iam;
mod interceptor;
mod s3;
mod securityhub;
mod sns;
mod ssm;
mod sts;

pub use clients::Clients;
pub use config::{AwsOptions, ConfigError, LockMode};
pub use dynamodb::{DynamoCases, create_table};
pub use ec2::{CASE_TAG, COPY_TOKEN_TAG, Ec2, INSTANCE_TAG, ROLE_TAG};
pub use eks::{EksCluster, EksConnector, KubeOpener, describe_cluster};
pub use environment::{AwsEnvironment, SystemClock};
pub use iam::Iam;
pub use interceptor::{OperationLog, RecordingInterceptor, iam_actions};
pub use s3::{MAX_GET_BYTES, MAX_PRESIGN_SECONDS, S3Evidence, check_key, checksum_of};
pub use securityhub::SecurityHub;
pub use sns::Sns;
pub use ssm::Ssm;
pub use sts::{AssumeRequest, assume_role, session_name};
