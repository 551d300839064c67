//! The evidence store against moto: checksums, Object Lock retention, presigned multipart uploads.

use custody_aws::{LockMode, S3Evidence, checksum_of};
use custody_core::error::ErrorName;
use custody_core::id::Sha256Digest;
use custody_steps::ports::ops::evidence as e;
use custody_steps::ports::{Bucket, EvidenceStore, UploadedPart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::harness::Moto;
use super::seed::{assert_declared, clients};

const EVIDENCE: &str = "custody-evidence";
const ARTIFACTS: &str = "custody-artifacts";

/// MD5 of `bytes` (RFC 1321), for Content-MD5: no MD5 crate in the workspace, and the tests
/// must send exactly what a host's curl sends.
pub fn md5_of(bytes: &[u8]) -> [u8; 16] {
    let out = std::process::Command::new("md5sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(bytes)?;
            child.wait_with_output()
        })
        .expect("md5sum (coreutils) runs");
    let hex = String::from_utf8(out.stdout).unwrap();
    let mut digest = [0u8; 16];
    hex::decode_to_slice(&hex[..32], &mut digest).unwrap();
    digest
}

pub async fn buckets(s3: &aws_sdk_s3::Client) {
    s3.create_bucket()
        .bucket(EVIDENCE)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    s3.create_bucket().bucket(ARTIFACTS).send().await.unwrap();
}

/// `PUT url` with a body and extra headers over plain HTTP/1.1, as a host's curl would;
/// returns the status and the ETag.
async fn http_put(url: &str, body: &[u8], headers: &[(&str, String)]) -> (u16, Option<String>) {
    let rest = url.strip_prefix("http://").expect("moto is plain HTTP");
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let mut head = format!(
        "PUT /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response);
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let etag = text
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("etag:"))
        .map(|l| l.split_once(':').unwrap().1.trim().to_owned());
    (status, etag)
}

#[tokio::test]
async fn objects_carry_checksum_and_retention() {
    let moto = Moto::start();
    let (c, a, log) = clients(&moto);
    buckets(&c.s3).await;
    log.clear();
    let store = S3Evidence::new(a.s3.clone(), EVIDENCE, ARTIFACTS, LockMode::Governance, 30);
    let key = "cases/case-01J00000000000000000000009/report.md";
    let bytes = b"# Case report\n";

    let stored = store.put_object(key, bytes, "text/markdown").await.unwrap();
    let recorded = assert_declared(&log, &[&e::PUT_OBJECT]);
    assert!(
        recorded.contains("s3:PutObjectRetention"),
        "retention is set on the request: {recorded:?}"
    );
    assert_eq!(stored.location, format!("s3://{EVIDENCE}/{key}"));
    assert_eq!(stored.sha256, Some(Sha256Digest::of(bytes)));
    assert_eq!(
        stored.checksum_sha256.as_deref(),
        Some(checksum_of(&Sha256Digest::of(bytes)).unwrap().as_str())
    );
    assert!(
        stored.version_id.is_some(),
        "Object Lock buckets are versioned"
    );

    // The effect, through the API: the object has its retention (GetObjectRetention is not in
    // moto; GetObject reports the lock headers).
    let got =
        c.s3.get_object()
            .bucket(EVIDENCE)
            .key(key)
            .send()
            .await
            .unwrap();
    assert_eq!(
        got.object_lock_mode(),
        Some(&aws_sdk_s3::types::ObjectLockMode::Governance)
    );
    let until = got
        .object_lock_retain_until_date()
        .expect("retain-until date")
        .secs();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        (until - now - 30 * 86_400).abs() < 3600,
        "retained ~30 days, got {}",
        until - now
    );
    // And it is locked: deleting the version is refused.
    let err =
        c.s3.delete_object()
            .bucket(EVIDENCE)
            .key(key)
            .version_id(stored.version_id.clone().unwrap())
            .send()
            .await;
    assert!(err.is_err(), "a locked version cannot be deleted");

    assert_eq!(store.get_object(key).await.unwrap(), bytes);
    let head = store
        .head_object(Bucket::Evidence, key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head.size_bytes, bytes.len() as u64);
    assert_eq!(head.checksum_sha256, stored.checksum_sha256);
    assert_eq!(
        store
            .head_object(Bucket::Evidence, "cases/none/x")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .head_object(Bucket::Artifacts, "modules/lime/none.ko")
            .await
            .unwrap(),
        None
    );
    assert_declared(&log, &[&e::GET_OBJECT, &e::HEAD_OBJECT]);

    let err = store.get_object("cases/none/x").await.unwrap_err();
    assert_eq!(err.name, ErrorName::NotFound);
    log.clear();
    for bad in ["report.md", "cases/../secrets", "cases/x\nrm"] {
        assert_eq!(
            store
                .put_object(bad, b"x", "text/plain")
                .await
                .unwrap_err()
                .name,
            ErrorName::InvalidInput
        );
    }
    assert!(log.take().is_empty(), "refused keys send nothing");
}

#[tokio::test]
async fn memory_arrives_through_presigned_multipart_parts() {
    let moto = Moto::start();
    let (c, a, log) = clients(&moto);
    buckets(&c.s3).await;
    log.clear();
    let store = S3Evidence::new(a.s3.clone(), EVIDENCE, ARTIFACTS, LockMode::Governance, 1);
    let key = "cases/case-01J00000000000000000000010/memory/i-0123456789abcdef0.lime";
    let part_size: u64 = 5 * 1024 * 1024;
    let image: Vec<u8> = (0..part_size + 1024).map(|i| (i % 251) as u8).collect();

    let ticket = store.begin_upload(key, part_size, 2, 900).await.unwrap();
    let recorded = assert_declared(&log, &[&e::BEGIN_UPLOAD]);
    assert!(recorded.contains("s3:PutObjectRetention"), "{recorded:?}");
    assert_eq!(ticket.part_urls.len(), 2);
    for url in &ticket.part_urls {
        assert!(url.contains("X-Amz-Expires=900"), "{url}");
        assert!(
            url.contains(&format!("uploadId={}", ticket.upload_id)),
            "{url}"
        );
        assert!(url.contains("X-Amz-Signature="), "{url}");
    }

    // The upload has no checksum algorithm (real S3 would refuse unsigned checksum headers on
    // these URLs, and checksum-less parts of a SHA-256 upload).
    let created =
        c.s3.list_multipart_uploads()
            .bucket(EVIDENCE)
            .send()
            .await
            .unwrap();
    let upload = created
        .uploads()
        .iter()
        .find(|u| u.upload_id() == Some(ticket.upload_id.as_str()))
        .expect("the upload is listed");
    assert_eq!(upload.checksum_algorithm(), None);

    // The host: PUT each part to its URL with Content-MD5 only, no credentials of its own.
    let mut parts = Vec::new();
    for (i, chunk) in image.chunks(part_size as usize).enumerate() {
        let digest = Sha256Digest::of(chunk);
        let md5 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, md5_of(chunk));
        let (status, etag) = http_put(&ticket.part_urls[i], chunk, &[("Content-MD5", md5)]).await;
        assert_eq!(status, 200, "part {} upload", i + 1);
        let etag = etag.expect("ETag");
        parts.push(UploadedPart {
            part_number: i as u32 + 1,
            // Part 1 as the real scripts report it (unquoted), part 2 as S3 returned it.
            etag: if i == 0 {
                etag.trim_matches('"').to_owned()
            } else {
                etag
            },
            sha256: digest,
            size_bytes: chunk.len() as u64,
        });
    }
    // ListParts (list_parts) is tested in host_upload.rs: moto names its response root
    // `ListPartsResponse`, which the SDK refuses, so it needs that test's bridge.
    let stored = store
        .complete_upload(key, &ticket.upload_id, &parts)
        .await
        .unwrap();
    assert_declared(&log, &[&e::COMPLETE_UPLOAD]);
    assert_eq!(stored.size_bytes, image.len() as u64);
    let head = store
        .head_object(Bucket::Evidence, key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head.size_bytes, image.len() as u64);
    assert_eq!(head.lock_mode.as_deref(), Some("GOVERNANCE"));
    assert!(head.retain_until.is_some(), "{head:?}");
    let got =
        c.s3.get_object()
            .bucket(EVIDENCE)
            .key(key)
            .send()
            .await
            .unwrap();
    assert_eq!(
        got.object_lock_mode(),
        Some(&aws_sdk_s3::types::ObjectLockMode::Governance)
    );
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        image.as_slice()
    );

    // Parts out of order are refused before anything is sent; an abandoned upload is aborted.
    let mut shuffled = parts.clone();
    shuffled.swap(0, 1);
    assert_eq!(
        store
            .complete_upload(key, &ticket.upload_id, &shuffled)
            .await
            .unwrap_err()
            .name,
        ErrorName::InvalidInput
    );
    let other = store
        .begin_upload(
            "cases/case-01J00000000000000000000010/x.lime",
            part_size,
            1,
            60,
        )
        .await
        .unwrap();
    store
        .abort_upload(
            "cases/case-01J00000000000000000000010/x.lime",
            &other.upload_id,
        )
        .await
        .unwrap();
    store
        .abort_upload(
            "cases/case-01J00000000000000000000010/x.lime",
            &other.upload_id,
        )
        .await
        .unwrap();
    assert_declared(
        &log,
        &[
            &e::BEGIN_UPLOAD,
            &e::ABORT_UPLOAD,
            &e::COMPLETE_UPLOAD,
            &e::HEAD_OBJECT,
        ],
    );
    assert_eq!(
        store.begin_upload(key, 1024, 2, 60).await.unwrap_err().name,
        ErrorName::InvalidInput
    );
    assert_eq!(
        store
            .begin_upload(key, part_size, 2, 7 * 86_400)
            .await
            .unwrap_err()
            .name,
        ErrorName::InvalidInput
    );
}

#[tokio::test]
async fn presigned_urls_work_for_one_key() {
    let moto = Moto::start();
    let (c, a, log) = clients(&moto);
    buckets(&c.s3).await;
    c.s3.put_object()
        .bucket(ARTIFACTS)
        .key("tools/avml")
        .body(b"avml-binary".to_vec().into())
        .send()
        .await
        .unwrap();
    log.clear();
    let store = S3Evidence::new(a.s3.clone(), EVIDENCE, ARTIFACTS, LockMode::Governance, 1);

    let put = store
        .presign_put("cases/case-01J00000000000000000000011/pods.json", 300)
        .await
        .unwrap();
    let get = store
        .presign_get(Bucket::Artifacts, "tools/avml", 300)
        .await
        .unwrap();
    assert_declared(&log, &[&e::PRESIGN_PUT, &e::PRESIGN_GET]);
    assert!(
        put.contains("/cases/case-01J00000000000000000000011/pods.json?"),
        "{put}"
    );
    assert!(get.contains("/tools/avml?"), "{get}");

    let (status, _) = http_put(&put, br#"{"pods":[]}"#, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        store
            .get_object("cases/case-01J00000000000000000000011/pods.json")
            .await
            .unwrap(),
        br#"{"pods":[]}"#
    );
    assert_eq!(
        store.presign_put("tools/avml", 300).await.unwrap_err().name,
        ErrorName::InvalidInput
    );
}
