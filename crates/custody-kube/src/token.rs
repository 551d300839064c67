//! The EKS bearer token, made exactly as `aws eks get-token` makes it.
//!
//! EKS authenticates an IAM principal to the Kubernetes API with a bearer token that is a
//! presigned STS `GetCallerIdentity` URL: the API server's authenticator replays the URL to STS
//! and learns who signed it. The `x-k8s-aws-id` header is signed into the URL, so a token minted
//! for one cluster cannot be replayed against another. The token is
//! `k8s-aws-v1.` + base64url (no padding) of the URL.
//!
//! The authenticator accepts a URL for 15 minutes after its `X-Amz-Date` (the `X-Amz-Expires=60`
//! in the URL is what the CLI sends and is not what bounds the token). `aws eks get-token`
//! reports an expiry of 14 minutes; custody re-signs well before that (see [`REFRESH_AFTER`]) so
//! a request in flight never carries a token about to be refused.
//!
//! No AWS SDK client is involved: signing is local (aws-sigv4), and the caller hands over the
//! responder role's credentials. Nothing is written to disk.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningError, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use custody_core::id::{ClusterName, Partition, Region};

/// The prefix the EKS authenticator expects before the base64url URL.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";

/// The header that binds a token to one cluster; it is signed into the URL.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";

/// `X-Amz-Expires` of the presigned URL, as `aws eks get-token` sets it (`URL_TIMEOUT = 60`).
pub const URL_EXPIRES: Duration = Duration::from_secs(60);

/// How long `aws eks get-token` says a token lasts (`TOKEN_EXPIRATION_MINS = 14`); the server's
/// hard limit is 15 minutes after signing.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 60);

/// A cached token is re-signed once it is this old, leaving four minutes of margin for clock
/// skew and for requests already in flight.
pub const REFRESH_AFTER: Duration = Duration::from_secs(10 * 60);

/// The STS query the token presigns.
const STS_QUERY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

/// The time source for signing and cache expiry. Tests inject a fixed or stepping clock.
pub trait Clock: Send + Sync {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The cluster name is not a valid EKS cluster name, so no token is signed for it.
    #[error("refusing to sign an EKS token for cluster {cluster:?}: {reason}")]
    InvalidCluster {
        /// The name as given (escaped when printed).
        cluster: String,
        /// The rule it breaks (custody-core's [`ClusterName`] rule).
        reason: String,
    },
    /// The region is not one custody knows the STS endpoint of.
    #[error("no regional STS endpoint is known for region {region:?}")]
    UnknownRegion {
        /// The region as given (escaped when printed).
        region: String,
    },
    /// The caller's credentials have expired: a token signed with them would be refused by STS.
    /// The responder role must be assumed again.
    #[error("the responder credentials expired at {expired_at:?}; assume the role again")]
    CredentialsExpired {
        /// When they expired.
        expired_at: SystemTime,
    },
    /// aws-sigv4 refused to sign (an internal error: every input was validated).
    #[error("could not presign the STS GetCallerIdentity URL for cluster {cluster:?}")]
    Signing {
        /// The cluster the token was for.
        cluster: String,
        /// What the signer said.
        #[source]
        source: SigningError,
    },
    /// The signing parameters were incomplete (an internal error).
    #[error("could not build the SigV4 signing parameters for cluster {cluster:?}")]
    SigningParams {
        /// The cluster the token was for.
        cluster: String,
        /// What the builder said.
        #[source]
        source: v4::signing_params::BuildError,
    },
    /// The presigned URL could not be assembled (an internal error).
    #[error("could not assemble the presigned STS URL for cluster {cluster:?}")]
    Url {
        /// The cluster the token was for.
        cluster: String,
        /// What `http` said.
        #[source]
        source: http::Error,
    },
}

/// One bearer token and when it was signed.
#[derive(Clone)]
pub struct EksToken {
    /// `k8s-aws-v1.<base64url(url)>`.
    token: String,
    /// The presigned URL inside it.
    url: String,
    /// When it was signed.
    signed_at: SystemTime,
}

impl EksToken {
    /// The bearer token, to be sent as `Authorization: Bearer <token>`.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The presigned STS URL the token wraps (for tests and diagnostics; it is a credential for
    /// 15 minutes, so never log it).
    pub fn presigned_url(&self) -> &str {
        &self.url
    }

    /// When it was signed (`X-Amz-Date`).
    pub fn signed_at(&self) -> SystemTime {
        self.signed_at
    }

    /// When `aws eks get-token` would say it expires.
    pub fn expires_at(&self) -> SystemTime {
        self.signed_at + TOKEN_LIFETIME
    }
}

impl fmt::Debug for EksToken {
    // The token is a credential: never print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EksToken")
            .field("token", &"<redacted>")
            .field("signed_at", &self.signed_at)
            .finish()
    }
}

/// Makes and caches the bearer token for one cluster.
///
/// Shared by every request of one [`kube::Client`] (see [`crate::connect`]): each request asks
/// for the token, and gets the cached one until it is [`REFRESH_AFTER`] old.
pub struct EksTokenSource {
    cluster: String,
    region: String,
    sts_host: String,
    identity: Identity,
    expiry: Option<SystemTime>,
    clock: Arc<dyn Clock>,
    cached: Mutex<Option<EksToken>>,
}

impl fmt::Debug for EksTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EksTokenSource")
            .field("cluster", &self.cluster)
            .field("region", &self.region)
            .field("sts_host", &self.sts_host)
            .finish_non_exhaustive()
    }
}

impl EksTokenSource {
    /// A token source for `cluster` in `region`, signing with `credentials` (the responder role
    /// assumed in the cluster's account) and the system clock.
    ///
    /// # Errors
    /// [`TokenError::InvalidCluster`] or [`TokenError::UnknownRegion`].
    pub fn new(cluster: &str, region: &str, credentials: Credentials) -> Result<Self, TokenError> {
        Self::with_clock(cluster, region, credentials, Arc::new(SystemClock))
    }

    /// Like [`EksTokenSource::new`] with an injected clock.
    ///
    /// # Errors
    /// [`TokenError::InvalidCluster`] or [`TokenError::UnknownRegion`].
    pub fn with_clock(
        cluster: &str,
        region: &str,
        credentials: Credentials,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, TokenError> {
        ClusterName::parse(cluster).map_err(|e| TokenError::InvalidCluster {
            cluster: cluster.to_owned(),
            reason: e.reason,
        })?;
        let sts_host = sts_host(region).ok_or_else(|| TokenError::UnknownRegion {
            region: region.to_owned(),
        })?;
        let expiry = credentials.expiry();
        Ok(Self {
            cluster: cluster.to_owned(),
            region: region.to_owned(),
            sts_host,
            identity: credentials.into(),
            expiry,
            clock,
            cached: Mutex::new(None),
        })
    }

    /// The cluster this source signs for.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The regional STS host the token names (`sts.<region>.amazonaws.com`, or the partition's
    /// equivalent).
    pub fn sts_host(&self) -> &str {
        &self.sts_host
    }

    /// The current token: the cached one while it is younger than [`REFRESH_AFTER`], otherwise
    /// a freshly signed one.
    ///
    /// # Errors
    /// [`TokenError::CredentialsExpired`] when the credentials expire before a fresh token would,
    /// or a signing error.
    pub fn token(&self) -> Result<EksToken, TokenError> {
        let now = self.clock.now();
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(token) = cached.as_ref() {
            let age = now.duration_since(token.signed_at).unwrap_or(Duration::MAX);
            if age < REFRESH_AFTER {
                return Ok(token.clone());
            }
        }
        let fresh = self.sign_at(now)?;
        *cached = Some(fresh.clone());
        Ok(fresh)
    }

    /// Signs a new token as of `now`, bypassing the cache.
    ///
    /// # Errors
    /// As [`EksTokenSource::token`].
    pub fn sign_at(&self, now: SystemTime) -> Result<EksToken, TokenError> {
        if let Some(expired_at) = self.expiry
            && expired_at <= now
        {
            return Err(TokenError::CredentialsExpired { expired_at });
        }
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(URL_EXPIRES);
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("sts")
            .time(now)
            .settings(settings)
            .build()
            .map_err(|source| TokenError::SigningParams {
                cluster: self.cluster.clone(),
                source,
            })?
            .into();
        let base = format!("https://{}/?{STS_QUERY}", self.sts_host);
        let signing_error = |source| TokenError::Signing {
            cluster: self.cluster.clone(),
            source,
        };
        // The body hash is that of the empty GET body, as aws-iam-authenticator's own client
        // (and the Go SDK presigner it uses) computes it; STS verifies whatever the URL declares.
        let signable = SignableRequest::new(
            "GET",
            base.as_str(),
            std::iter::once((CLUSTER_ID_HEADER, self.cluster.as_str())),
            SignableBody::Bytes(&[]),
        )
        .map_err(signing_error)?;
        let (instructions, _signature) =
            sign(signable, &params).map_err(signing_error)?.into_parts();
        let mut request = http::Request::builder()
            .method("GET")
            .uri(base.as_str())
            .body(())
            .map_err(|source| TokenError::Url {
                cluster: self.cluster.clone(),
                source,
            })?;
        instructions.apply_to_request_http1x(&mut request);
        let url = request.uri().to_string();
        let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(url.as_bytes()));
        Ok(EksToken {
            token,
            url,
            signed_at: now,
        })
    }
}

/// The regional STS host for `region`, by partition; `None` for a malformed region.
///
/// Regional endpoints (not the global `sts.amazonaws.com`) keep the token valid when the global
/// endpoint is unreachable, and are the only ones that exist outside the `aws` partition.
pub fn sts_host(region: &str) -> Option<String> {
    let region = Region::parse(region).ok()?;
    let suffix = match region.partition() {
        // aws and aws-us-gov share the amazonaws.com suffix.
        Partition::Aws | Partition::AwsUsGov => "amazonaws.com",
        Partition::AwsCn => "amazonaws.com.cn",
        Partition::AwsIsoB => "sc2s.sgov.gov",
        Partition::AwsIso => "c2s.ic.gov",
        // The EU ISOE, ISOF and European Sovereign Cloud partitions have DNS suffixes of their
        // own that custody has not been verified against: no host (UnknownRegion, which says
        // so) rather than a guessed one that would fail later with a confusing DNS error.
        Partition::AwsIsoE | Partition::AwsIsoF | Partition::AwsEusc => return None,
    };
    Some(format!("sts.{region}.{suffix}"))
}
