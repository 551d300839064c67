//! [`EksKubeOpener`] end to end over TLS on loopback: the client it opens sends the EKS bearer
//! token to the endpoint DescribeCluster gave, trusts only that cluster's CA, and answers through
//! the steps' `Cluster` port.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use aws_credential_types::Credentials;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use custody_aws::{EksCluster, KubeOpener};
use custody_core::error::ErrorName;
use custody_core::id::{Arn, CaseId, ClusterName, NodeName, Region};
use custody_runtime::EksKubeOpener;
use custody_steps::ports::ClusterInfo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn kube_fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/kube")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One request as the server saw it.
#[derive(Debug)]
struct Seen {
    request_line: String,
    headers: BTreeMap<String, String>,
}

/// A TLS server on 127.0.0.1 with `server.pem` that answers one request with `body` (HTTP 200,
/// JSON) and reports what it was sent. `None` when the TLS handshake failed.
async fn serve_once(body: Vec<u8>) -> (u16, oneshot::Receiver<Option<Seen>>) {
    let certs = vec![CertificateDer::from_pem_slice(&fixture("server.pem")).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(&fixture("server.key")).unwrap();
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let Ok(mut tls) = acceptor.accept(tcp).await else {
            let _ = tx.send(None);
            return;
        };
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tls.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed before the request head ended");
            head.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8(head).unwrap();
        let mut lines = text.split("\r\n");
        let request_line = lines.next().unwrap().to_owned();
        let headers = lines
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        tls.write_all(response.as_bytes()).await.unwrap();
        tls.write_all(&body).await.unwrap();
        tls.shutdown().await.unwrap();
        let _ = tx.send(Some(Seen {
            request_line,
            headers,
        }));
    });
    (port, rx)
}

fn described(endpoint: String, ca_pem: Vec<u8>) -> EksCluster {
    EksCluster {
        info: ClusterInfo {
            name: ClusterName::parse("prod-payments").unwrap(),
            arn: Arn::parse("arn:aws:eks:us-east-1:111122223333:cluster/prod-payments").unwrap(),
            tags: BTreeMap::new(),
        },
        endpoint,
        certificate_authority: ca_pem,
        region: Region::parse("us-east-1").unwrap(),
    }
}

fn responder() -> Credentials {
    Credentials::new(
        "ASIARESPONDER0000001",
        "secret",
        Some("session-token".to_owned()),
        None,
        "test",
    )
}

fn case() -> CaseId {
    CaseId::parse("case-01JDX3K9Q8R7T6V5W4X3Y2Z1A0").unwrap()
}

#[tokio::test]
async fn opened_cluster_sends_the_eks_token_to_the_described_endpoint() {
    let (port, seen) = serve_once(kube_fixture("node-ip-10-0-1-23.json")).await;
    let cluster = described(format!("https://127.0.0.1:{port}"), fixture("ca.pem"));

    let api = EksKubeOpener::new()
        .open(&cluster, &responder(), &case())
        .await
        .unwrap();
    let node = api
        .get_node(&NodeName::parse("ip-10-0-1-23.ec2.internal").unwrap())
        .await
        .unwrap()
        .expect("the node the server answered with");

    assert_eq!(
        node.instance_id.map(|i| i.to_string()).as_deref(),
        Some("i-0abc1230000000001")
    );
    let seen = seen
        .await
        .unwrap()
        .expect("a TLS handshake with the described CA");
    assert_eq!(
        seen.request_line,
        "GET /api/v1/nodes/ip-10-0-1-23.ec2.internal HTTP/1.1"
    );
    assert_eq!(
        seen.headers.get("host").map(String::as_str),
        Some(format!("127.0.0.1:{port}").as_str())
    );
    let bearer = seen
        .headers
        .get("authorization")
        .expect("an Authorization header");
    let token = bearer
        .strip_prefix("Bearer k8s-aws-v1.")
        .unwrap_or_else(|| panic!("not an EKS bearer token: {bearer}"));
    let url = String::from_utf8(URL_SAFE_NO_PAD.decode(token).unwrap()).unwrap();
    assert!(
        url.starts_with("https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity"),
        "{url}"
    );
    assert!(
        url.contains("X-Amz-Credential=ASIARESPONDER0000001%2F"),
        "signed with the responder session: {url}"
    );
    assert!(
        url.contains("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"),
        "bound to the cluster: {url}"
    );
    assert!(url.contains("X-Amz-Security-Token=session-token"), "{url}");
}

#[tokio::test]
async fn a_server_outside_the_clusters_ca_is_refused() {
    let (port, seen) = serve_once(kube_fixture("node-ip-10-0-1-23.json")).await;
    // A real EKS CA, not the one that signed the loopback server's certificate.
    let other_ca = STANDARD
        .decode(
            String::from_utf8(kube_fixture("eks-certificate-authority.b64"))
                .unwrap()
                .trim(),
        )
        .unwrap();
    let cluster = described(format!("https://127.0.0.1:{port}"), other_ca);

    let api = EksKubeOpener::new()
        .open(&cluster, &responder(), &case())
        .await
        .unwrap();
    let err = api
        .get_node(&NodeName::parse("ip-10-0-1-23.ec2.internal").unwrap())
        .await
        .unwrap_err();

    assert_eq!(err.name, ErrorName::ServiceUnavailable, "{err}");
    assert!(
        seen.await.unwrap().is_none(),
        "no request may reach a server the cluster CA did not sign"
    );
}

#[tokio::test]
async fn an_unusable_endpoint_or_ca_fails_the_open_with_a_named_error() {
    let bad_scheme = described("http://127.0.0.1:1".to_owned(), fixture("ca.pem"));
    let err = EksKubeOpener::new()
        .open(&bad_scheme, &responder(), &case())
        .await
        .err()
        .unwrap();
    assert_eq!(err.name, ErrorName::Internal);
    assert!(err.cause.contains("\"prod-payments\""), "{}", err.cause);
    assert!(err.cause.contains("https"), "{}", err.cause);

    let no_pem = described(
        "https://127.0.0.1:1".to_owned(),
        b"not a certificate".to_vec(),
    );
    let err = EksKubeOpener::new()
        .open(&no_pem, &responder(), &case())
        .await
        .err()
        .unwrap();
    assert_eq!(err.name, ErrorName::Internal);
    assert!(err.cause.contains("certificate authority"), "{}", err.cause);
}

#[tokio::test]
async fn expired_responder_credentials_are_access_denied() {
    let expired = Credentials::new(
        "ASIARESPONDER0000001",
        "secret",
        None,
        Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(60)),
        "test",
    );
    let cluster = described("https://127.0.0.1:1".to_owned(), fixture("ca.pem"));
    let api = EksKubeOpener::new()
        .open(&cluster, &expired, &case())
        .await
        .unwrap();
    let err = api
        .get_node(&NodeName::parse("ip-10-0-1-23.ec2.internal").unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::AccessDenied, "{err}");
}
