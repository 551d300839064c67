//! The EKS half of [`ClusterConnector`]: `DescribeCluster` gives the cluster's tags (the guardrail
//! may be there), its API endpoint and its certificate authority. The Kubernetes half (the bearer
//! token and the API client) lives in custody-kube and is plugged in through [`KubeOpener`], so
//! this crate does not depend on kube-rs and custody-kube does not depend on the SDK clients.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_credential_types::Credentials;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use custody_core::error::{ErrorName, StepError};
use custody_core::id::{AccountId, Arn, CaseId, ClusterName, Region};
use custody_steps::ports::{Cluster, ClusterConnector, ClusterInfo};

use crate::error::{sdk_error, step_error};

/// What EKS says about a cluster, and how to reach its API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EksCluster {
    /// Name, ARN and tags, as the steps see them.
    pub info: ClusterInfo,
    /// The API server URL (`https://….eks.amazonaws.com`).
    pub endpoint: String,
    /// The cluster CA bundle, PEM (decoded from EKS's base64).
    pub certificate_authority: Vec<u8>,
    /// The cluster's region (the bearer token is signed for its regional STS endpoint).
    pub region: Region,
}

/// Opens the Kubernetes API of a described cluster as the responder (custody-kube implements
/// it: a presigned-STS bearer token from `credentials`, TLS pinned to the cluster's CA).
#[async_trait]
pub trait KubeOpener: Send + Sync {
    /// A client for `cluster`'s API; `case` names the session in audit logs where possible.
    async fn open(
        &self,
        cluster: &EksCluster,
        credentials: &Credentials,
        case: &CaseId,
    ) -> Result<Arc<dyn Cluster>, StepError>;
}

/// `eks:DescribeCluster`, turned into domain types.
///
/// # Errors
/// `Custody.NotFound` for an unknown cluster, the usual SDK mapping otherwise, and
/// `Custody.Internal` when EKS's answer lacks the ARN, endpoint or CA (a cluster still creating).
pub async fn describe_cluster(
    client: &aws_sdk_eks::Client,
    name: &ClusterName,
    region: &Region,
) -> Result<EksCluster, StepError> {
    let context = format!("eks:DescribeCluster {name}");
    let out = client
        .describe_cluster()
        .name(name.as_str())
        .send()
        .await
        .map_err(|e| sdk_error(&context, e))?;
    let cluster = out
        .cluster()
        .ok_or_else(|| crate::error::missing(&context, "cluster"))?;
    let arn = cluster
        .arn()
        .ok_or_else(|| crate::error::missing(&context, "ARN"))?;
    let arn = Arn::parse(arn).map_err(|e| crate::error::unexpected(&context, "ARN", e))?;
    let tags: BTreeMap<String, String> = cluster
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let endpoint = cluster
        .endpoint()
        .ok_or_else(|| crate::error::missing(&context, "endpoint"))?
        .to_owned();
    let ca = cluster
        .certificate_authority()
        .and_then(|c| c.data())
        .ok_or_else(|| crate::error::missing(&context, "certificate authority"))?;
    let certificate_authority = BASE64
        .decode(ca.trim())
        .map_err(|e| crate::error::unexpected(&context, "certificate authority", e))?;
    Ok(EksCluster {
        info: ClusterInfo {
            name: name.clone(),
            arn,
            tags,
        },
        endpoint,
        certificate_authority,
        region: region.clone(),
    })
}

/// [`ClusterConnector`] for one target account: describes with EKS, opens with a [`KubeOpener`].
#[derive(Clone)]
pub struct EksConnector {
    client: aws_sdk_eks::Client,
    account: AccountId,
    region: Region,
    credentials: Credentials,
    opener: Option<Arc<dyn KubeOpener>>,
}

impl std::fmt::Debug for EksConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EksConnector")
            .field("account", &self.account)
            .field("region", &self.region)
            .field("opener", &self.opener.is_some())
            .finish_non_exhaustive()
    }
}

impl EksConnector {
    /// EKS in `account`/`region` as `credentials` (the responder session); without an opener,
    /// [`connect`](ClusterConnector::connect) fails with `Custody.Unsupported`.
    pub fn new(
        client: aws_sdk_eks::Client,
        account: AccountId,
        region: Region,
        credentials: Credentials,
        opener: Option<Arc<dyn KubeOpener>>,
    ) -> Self {
        Self {
            client,
            account,
            region,
            credentials,
            opener,
        }
    }
}

#[async_trait]
impl ClusterConnector for EksConnector {
    async fn connect(
        &self,
        account: &AccountId,
        region: &Region,
        cluster: &ClusterName,
        case: &CaseId,
    ) -> Result<(ClusterInfo, Arc<dyn Cluster>), StepError> {
        if account != &self.account || region != &self.region {
            return Err(step_error(
                ErrorName::InvalidInput,
                format!(
                    "cluster {cluster} is asked for in {account}/{region}, but these ports act in {}/{}",
                    self.account, self.region
                ),
                None,
                None,
            ));
        }
        let described = describe_cluster(&self.client, cluster, region).await?;
        let opener = self.opener.as_ref().ok_or_else(|| {
            step_error(
                ErrorName::Unsupported,
                format!("cluster {cluster}: this build has no Kubernetes client (no KubeOpener configured)"),
                None,
                None,
            )
        })?;
        let api = opener.open(&described, &self.credentials, case).await?;
        Ok((described.info, api))
    }
}
