//! [`EksKubeOpener`]: custody-kube's client for a cluster custody-aws has described.

use std::sync::Arc;

use async_trait::async_trait;
use aws_credential_types::Credentials;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use custody_aws::{EksCluster, KubeOpener};
use custody_core::error::{ErrorName, StepError, with_sources};
use custody_core::id::CaseId;
use custody_kube::{ClusterEndpoint, EksTokenSource, KubeCluster, TokenError, connect};
use custody_steps::ports::Cluster;

/// Opens a described EKS cluster's Kubernetes API as the responder.
///
/// The bearer token is signed locally from the responder session's credentials (the role the
/// environment assumed in the cluster's account for this case), so the Kubernetes audit log and
/// CloudTrail both show the case-named session. The client trusts only the cluster's own CA as
/// `DescribeCluster` returned it: no system roots, no kubeconfig, nothing written to disk.
///
/// Nothing is sent when opening: the first request the step makes is the first contact with the
/// API server, so an unreachable private endpoint fails that request (as
/// `Custody.ServiceUnavailable`), not the open.
#[derive(Debug, Clone, Copy, Default)]
pub struct EksKubeOpener;

impl EksKubeOpener {
    /// The opener.
    pub fn new() -> Self {
        Self
    }
}

#[async_trait]
impl KubeOpener for EksKubeOpener {
    /// # Errors
    /// `Custody.InvalidInput` when no token can be signed for the cluster's name or region,
    /// `Custody.AccessDenied` when the responder credentials have already expired (a retry of
    /// the step assumes the role again), `Custody.Internal` when EKS's endpoint or CA is unusable
    /// (not https, not PEM) or the client cannot be built.
    async fn open(
        &self,
        cluster: &EksCluster,
        credentials: &Credentials,
        case: &CaseId,
    ) -> Result<Arc<dyn Cluster>, StepError> {
        let name = cluster.info.name.as_str();
        let _span = tracing::info_span!(
            "kube_open",
            case_id = %case,
            cluster = ?name,
            region = %cluster.region
        )
        .entered();
        let tokens = EksTokenSource::new(name, cluster.region.as_str(), credentials.clone())
            .map_err(|e| token_error(name, e))?;
        // custody-aws decodes EKS's base64 CA to PEM; custody-kube takes EKS's form as given.
        let endpoint = ClusterEndpoint {
            url: cluster.endpoint.clone(),
            certificate_authority: BASE64.encode(&cluster.certificate_authority),
        };
        let client = connect(&endpoint, Arc::new(tokens)).map_err(|e| {
            StepError::internal(format!(
                "cluster {name:?}: the API endpoint EKS described is unusable: {}",
                with_sources(&e)
            ))
        })?;
        tracing::debug!("kubernetes client built");
        Ok(Arc::new(KubeCluster::new(client)))
    }
}

fn token_error(cluster: &str, err: TokenError) -> StepError {
    let name = match err {
        TokenError::InvalidCluster { .. } | TokenError::UnknownRegion { .. } => {
            ErrorName::InvalidInput
        }
        TokenError::CredentialsExpired { .. } => ErrorName::AccessDenied,
        TokenError::Signing { .. } | TokenError::SigningParams { .. } | TokenError::Url { .. } => {
            ErrorName::Internal
        }
    };
    StepError::new(
        name,
        format!(
            "cluster {cluster:?}: no EKS bearer token: {}",
            with_sources(&err)
        ),
    )
}
