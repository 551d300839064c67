//! Building a client from what DescribeCluster returns.

use std::sync::Arc;

use aws_credential_types::Credentials;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use custody_kube::client::ca_certificates;
use custody_kube::{ClusterEndpoint, ConnectError, EksTokenSource, connect};

use crate::mock::fixture;

fn tokens() -> Arc<EksTokenSource> {
    Arc::new(
        EksTokenSource::new(
            "prod-payments",
            "us-east-1",
            Credentials::new("AKID", "secret", None, None, "test"),
        )
        .unwrap(),
    )
}

fn endpoint(url: &str, ca: &str) -> ClusterEndpoint {
    ClusterEndpoint {
        url: url.to_owned(),
        certificate_authority: ca.to_owned(),
    }
}

#[test]
fn ca_data_decodes_to_der_certificates() {
    let ders = ca_certificates(&fixture("eks-certificate-authority.b64")).unwrap();
    assert_eq!(ders.len(), 1);
    assert_eq!(ders[0].first(), Some(&0x30), "a DER SEQUENCE");

    let pem = STANDARD
        .decode(fixture("eks-certificate-authority.b64").trim())
        .unwrap();
    let two = STANDARD.encode([pem.clone(), pem].concat());
    assert_eq!(
        ca_certificates(&two).unwrap().len(),
        2,
        "bundles keep every certificate"
    );
}

#[test]
fn unusable_ca_data_is_refused() {
    for bad in [
        "not base64!",
        &STANDARD.encode("no certificate here"),
        &STANDARD.encode("-----BEGIN CERTIFICATE-----\nAAAA"),
    ] {
        assert!(
            matches!(
                ca_certificates(bad),
                Err(ConnectError::CertificateAuthority { .. })
            ),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn client_is_built_in_memory_from_endpoint_and_ca() {
    let ca = fixture("eks-certificate-authority.b64");
    let client = connect(
        &endpoint(
            "https://0123456789ABCDEF0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com",
            &ca,
        ),
        tokens(),
    );
    assert!(client.is_ok(), "{:?}", client.err());
}

#[tokio::test]
async fn only_https_endpoints_are_accepted() {
    let ca = fixture("eks-certificate-authority.b64");
    for bad in ["http://10.0.0.1", "ftp://x", "not a url", "https://"] {
        let Err(err) = connect(&endpoint(bad, &ca), tokens()) else {
            panic!("{bad} accepted");
        };
        assert!(matches!(err, ConnectError::Endpoint { .. }), "{bad}: {err}");
    }
}
