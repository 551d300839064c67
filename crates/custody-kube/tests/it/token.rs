//! The EKS token against a known answer computed here, independently of aws-sigv4, by following
//! the SigV4 specification's steps (canonical request → string to sign → derived key →
//! HMAC-SHA256), with the presigned-URL ("query string authentication") variant that
//! `aws eks get-token` uses.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use custody_kube::token::{Clock, EksTokenSource, REFRESH_AFTER, TokenError, sts_host};
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

/// 2026-11-23T08:30:00Z.
const T0: u64 = 1_795_422_600;

/// The SigV4 test suite's example access key pair, plus a session token with characters that
/// must be percent-encoded.
fn credentials() -> Credentials {
    Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("FQoGZXIvYXdzEXAMPLE//session+token=".to_owned()),
        None,
        "test",
    )
}

/// A clock the test moves by hand.
#[derive(Debug)]
struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    fn at(secs: u64) -> Arc<Self> {
        Arc::new(Self(Mutex::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        )))
    }
    fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

fn hmac(key: &[u8], msg: &str) -> Vec<u8> {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(msg.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// RFC 3986 percent-encoding of everything but the unreserved characters (SigV4's `UriEncode`).
fn uri_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The expected signature, step by step from the SigV4 specification.
fn expected_signature(
    host: &str,
    region: &str,
    cluster: &str,
    amz_date: &str,
    date: &str,
) -> String {
    let scope = format!("{date}/{region}/sts/aws4_request");
    let credential = format!("AKIDEXAMPLE/{scope}");
    // Canonical query string: every parameter but the signature, sorted by name, values encoded.
    let mut query = [
        ("Action", "GetCallerIdentity".to_owned()),
        ("Version", "2011-06-15".to_owned()),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_owned()),
        ("X-Amz-Credential", credential),
        ("X-Amz-Date", amz_date.to_owned()),
        ("X-Amz-Expires", "60".to_owned()),
        (
            "X-Amz-Security-Token",
            "FQoGZXIvYXdzEXAMPLE//session+token=".to_owned(),
        ),
        ("X-Amz-SignedHeaders", "host;x-k8s-aws-id".to_owned()),
    ];
    query.sort_by(|a, b| a.0.cmp(b.0));
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k), uri_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let canonical_request = format!(
        "GET\n/\n{canonical_query}\nhost:{host}\nx-k8s-aws-id:{cluster}\n\nhost;x-k8s-aws-id\n{}",
        sha256_hex("")
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(&canonical_request)
    );
    let k_date = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", date);
    let k_region = hmac(&k_date, region);
    let k_service = hmac(&k_region, "sts");
    let k_signing = hmac(&k_service, "aws4_request");
    hex::encode(hmac(&k_signing, &string_to_sign))
}

#[test]
fn token_is_the_presigned_sts_url_aws_eks_get_token_makes() {
    let clock = ManualClock::at(T0);
    let source =
        EksTokenSource::with_clock("prod-payments", "us-west-2", credentials(), clock).unwrap();
    let token = source.token().unwrap();

    let signature = expected_signature(
        "sts.us-west-2.amazonaws.com",
        "us-west-2",
        "prod-payments",
        "20261123T083000Z",
        "20261123",
    );
    let expected_url = format!(
        "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15\
         &X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIDEXAMPLE%2F20261123%2Fus-west-2%2Fsts%2Faws4_request\
         &X-Amz-Date=20261123T083000Z\
         &X-Amz-Expires=60\
         &X-Amz-SignedHeaders=host%3Bx-k8s-aws-id\
         &X-Amz-Signature={signature}\
         &X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE%2F%2Fsession%2Btoken%3D"
    );
    // The parameter order in the URL is aws-sigv4's (the token is appended after the signature,
    // as the SDKs do); STS verifies the signature over the sorted canonical query, which is
    // what `expected_signature` recomputed, security token included.
    assert_eq!(token.presigned_url(), expected_url);

    let body = token.token().strip_prefix("k8s-aws-v1.").unwrap();
    assert!(!body.contains('='), "base64url without padding");
    assert!(
        !body.contains('+') && !body.contains('/'),
        "URL-safe alphabet"
    );
    assert_eq!(
        URL_SAFE_NO_PAD.decode(body).unwrap(),
        expected_url.as_bytes()
    );
    assert_eq!(
        token.expires_at(),
        token.signed_at() + Duration::from_secs(14 * 60)
    );
}

#[test]
fn token_is_cached_then_resigned_before_it_expires() {
    let clock = ManualClock::at(T0);
    let source =
        EksTokenSource::with_clock("prod-payments", "us-east-1", credentials(), clock.clone())
            .unwrap();
    let first = source.token().unwrap();

    clock.advance(REFRESH_AFTER - Duration::from_secs(1));
    assert_eq!(
        source.token().unwrap().token(),
        first.token(),
        "still fresh: cached"
    );

    clock.advance(Duration::from_secs(1));
    let second = source.token().unwrap();
    assert_ne!(
        second.token(),
        first.token(),
        "re-signed at the refresh point"
    );
    assert_eq!(second.signed_at(), first.signed_at() + REFRESH_AFTER);
    assert!(second.signed_at() + Duration::from_secs(15 * 60) > first.expires_at());
}

#[test]
fn expired_credentials_are_refused_not_signed() {
    let clock = ManualClock::at(T0);
    let creds = Credentials::new(
        "AKIDEXAMPLE",
        "secret",
        Some("token".to_owned()),
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + 60)),
        "test",
    );
    let source =
        EksTokenSource::with_clock("prod-payments", "us-east-1", creds, clock.clone()).unwrap();
    assert!(source.token().is_ok());
    clock.advance(REFRESH_AFTER);
    assert!(matches!(
        source.token(),
        Err(TokenError::CredentialsExpired { .. })
    ));
}

#[test]
fn regional_sts_endpoint_follows_the_partition() {
    assert_eq!(
        sts_host("us-east-1").unwrap(),
        "sts.us-east-1.amazonaws.com"
    );
    assert_eq!(
        sts_host("us-gov-west-1").unwrap(),
        "sts.us-gov-west-1.amazonaws.com"
    );
    assert_eq!(
        sts_host("cn-northwest-1").unwrap(),
        "sts.cn-northwest-1.amazonaws.com.cn"
    );
    assert_eq!(
        sts_host("us-iso-east-1").unwrap(),
        "sts.us-iso-east-1.c2s.ic.gov"
    );
    assert_eq!(
        sts_host("us-isob-east-1").unwrap(),
        "sts.us-isob-east-1.sc2s.sgov.gov"
    );
    assert!(sts_host("evil.example.com/x").is_none());
    // Partitions whose DNS suffix custody has not been verified against get no guessed host.
    for unverified in ["eu-isoe-west-1", "us-isof-south-1", "eusc-de-east-1"] {
        assert!(sts_host(unverified).is_none(), "{unverified}");
    }

    let source = EksTokenSource::new("c1", "cn-north-1", credentials()).unwrap();
    let url = source.token().unwrap().presigned_url().to_owned();
    assert!(
        url.starts_with("https://sts.cn-north-1.amazonaws.com.cn/?"),
        "{url}"
    );
    assert!(url.contains("%2Fcn-north-1%2Fsts%2Faws4_request"), "{url}");
}

#[test]
fn hostile_cluster_and_region_names_are_refused() {
    let err =
        EksTokenSource::new("prod\nx-k8s-aws-id: other", "us-east-1", credentials()).unwrap_err();
    assert!(matches!(err, TokenError::InvalidCluster { .. }));
    assert!(
        err.to_string().contains(r#""prod\nx-k8s-aws-id: other""#),
        "{err}"
    );
    let err = EksTokenSource::new("prod", "us-east-1.evil.com", credentials()).unwrap_err();
    assert!(matches!(err, TokenError::UnknownRegion { .. }));
}

#[test]
fn debug_output_never_shows_the_token() {
    let source = EksTokenSource::new("prod", "us-east-1", credentials()).unwrap();
    let token = source.token().unwrap();
    let printed = format!("{token:?} {source:?}");
    assert!(!printed.contains("k8s-aws-v1."), "{printed}");
    assert!(!printed.contains("AKIDEXAMPLE"), "{printed}");
}
