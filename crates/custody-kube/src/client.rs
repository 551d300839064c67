//! A `kube::Client` for an EKS cluster, built in memory from what `DescribeCluster` returns.
//!
//! No kubeconfig is written or read: the endpoint and certificate authority come from EKS, and
//! the bearer token is injected into every request by [`BearerLayer`] from a shared
//! [`EksTokenSource`], so a long-lived client picks up re-signed tokens by itself.
//!
//! The client never changes how the cluster authenticates (no `UpdateClusterConfig`, no access
//! entry, no `aws-auth` edit) and never grants itself anything: if the responder's ClusterRole is
//! not bound, requests fail with [`crate::KubeError::AccessDenied`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::{AUTHORIZATION, HeaderValue, InvalidHeaderValue};
use kube::client::ClientBuilder;
use tower::{BoxError, Layer, Service};

use crate::token::{EksTokenSource, TokenError};

/// How long to wait for a TCP+TLS connection: a private endpoint unreachable from the
/// function's network fails here, quickly, instead of eating the Lambda's time.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait for an answer to one request.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a cluster's API is and whom to trust there, as `DescribeCluster` gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterEndpoint {
    /// `cluster.endpoint`: `https://<id>.<suffix>.<region>.eks.amazonaws.com`.
    pub url: String,
    /// `cluster.certificateAuthority.data`: base64 of the PEM CA bundle.
    pub certificate_authority: String,
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The endpoint is not an absolute `https://` URL.
    #[error("the cluster endpoint {url:?} is not an https URL: {reason}")]
    Endpoint {
        /// The endpoint as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The certificate authority data is not base64 of PEM certificates.
    #[error("the cluster's certificate authority data is unusable: {reason}")]
    CertificateAuthority {
        /// What is wrong with it.
        reason: String,
    },
    /// kube-rs could not build its HTTP stack (TLS configuration refused the CA, …).
    #[error("could not build the Kubernetes client for {url:?}")]
    Client {
        /// The endpoint.
        url: String,
        /// What kube-rs said.
        #[source]
        source: kube::Error,
    },
}

/// Builds a client for the cluster at `endpoint`, authenticating every request with a token
/// from `tokens`.
///
/// # Errors
/// [`ConnectError`] when the endpoint or CA is unusable. Nothing is sent: the first request
/// is the first contact with the API server.
pub fn connect(
    endpoint: &ClusterEndpoint,
    tokens: Arc<EksTokenSource>,
) -> Result<kube::Client, ConnectError> {
    let url = endpoint.url.trim();
    let refuse = |reason: &str| ConnectError::Endpoint {
        url: endpoint.url.clone(),
        reason: reason.to_owned(),
    };
    let uri: http::Uri = url
        .parse()
        .map_err(|_| refuse("it does not parse as a URI"))?;
    if uri.scheme() != Some(&http::uri::Scheme::HTTPS) {
        return Err(refuse("the scheme must be https"));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(refuse("it has no host"));
    }
    let mut config = kube::Config::new(uri);
    config.root_cert = Some(ca_certificates(&endpoint.certificate_authority)?);
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    let builder = ClientBuilder::try_from(config).map_err(|source| ConnectError::Client {
        url: endpoint.url.clone(),
        source,
    })?;
    Ok(builder.with_layer(&BearerLayer::new(tokens)).build())
}

/// The DER certificates in EKS's certificate authority data (base64 of a PEM bundle).
///
/// # Errors
/// [`ConnectError::CertificateAuthority`] if it is not base64, not PEM, or holds no certificate.
pub fn ca_certificates(data: &str) -> Result<Vec<Vec<u8>>, ConnectError> {
    let fail = |reason: &str| ConnectError::CertificateAuthority {
        reason: reason.to_owned(),
    };
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let pem = STANDARD
        .decode(compact)
        .map_err(|_| fail("it is not base64"))?;
    let pem = String::from_utf8(pem).map_err(|_| fail("the decoded PEM is not UTF-8"))?;
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut certs = Vec::new();
    let mut rest = pem.as_str();
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some(end) = after.find(END) else {
            return Err(fail("a certificate has no END line"));
        };
        let body: String = after[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = STANDARD
            .decode(body)
            .map_err(|_| fail("a certificate body is not base64"))?;
        certs.push(der);
        rest = &after[end + END.len()..];
    }
    if certs.is_empty() {
        return Err(fail("it holds no PEM certificate"));
    }
    Ok(certs)
}

/// Why the bearer header could not be attached to a request.
#[derive(Debug, thiserror::Error)]
pub enum BearerError {
    /// No token could be made.
    #[error("no EKS token for this request")]
    Token(#[source] TokenError),
    /// The token is not a valid header value (it is base64url, so this is an internal error).
    #[error("the EKS token is not a valid header value")]
    Header(#[source] InvalidHeaderValue),
}

/// A tower layer that sets `Authorization: Bearer <token>` on every request, asking the token
/// source each time (it answers from its cache until the token needs re-signing).
#[derive(Debug, Clone)]
pub struct BearerLayer {
    tokens: Arc<EksTokenSource>,
}

impl BearerLayer {
    /// A layer drawing tokens from `tokens`.
    pub fn new(tokens: Arc<EksTokenSource>) -> Self {
        Self { tokens }
    }
}

impl<S> Layer<S> for BearerLayer {
    type Service = BearerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BearerService {
            inner,
            tokens: self.tokens.clone(),
        }
    }
}

/// The service [`BearerLayer`] makes.
#[derive(Debug, Clone)]
pub struct BearerService<S> {
    inner: S,
    tokens: Arc<EksTokenSource>,
}

impl<S> BearerService<S> {
    fn header(&self) -> Result<HeaderValue, BearerError> {
        let token = self.tokens.token().map_err(BearerError::Token)?;
        let mut value = HeaderValue::try_from(format!("Bearer {}", token.token()))
            .map_err(BearerError::Header)?;
        // Keeps the token out of hyper's and tower-http's debug output.
        value.set_sensitive(true);
        Ok(value)
    }
}

impl<S, B> Service<http::Request<B>> for BearerService<S>
where
    S: Service<http::Request<B>>,
    S::Response: Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        match self.header() {
            Ok(value) => {
                request.headers_mut().insert(AUTHORIZATION, value);
                let response = self.inner.call(request);
                Box::pin(async move { response.await.map_err(Into::into) })
            }
            Err(BearerError::Token(token)) => {
                // Handed back as the TokenError itself so KubeError can name it.
                let err: BoxError = Box::new(token);
                Box::pin(std::future::ready(Err(err)))
            }
            Err(err) => {
                let err: BoxError = Box::new(err);
                Box::pin(std::future::ready(Err(err)))
            }
        }
    }
}
