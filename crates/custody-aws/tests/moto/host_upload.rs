//! A host's memory capture, end to end against moto: custody-aws creates the uploads and
//! presigns the part URLs, the REAL `ssm-documents/scripts/capture-memory.sh` runs under bash
//! (with the Python tests' stand-ins for insmod/rmmod on PATH, staging in a tmpfs) and PUTs the
//! image to those URLs, then the step's own completion (`shipped::complete_and_verify`) runs
//! through custody-aws: S3's part list against the host's report, CompleteMultipartUpload,
//! HeadObject for size and retention.
//!
//! The scripts speak HTTPS only and the SDK clients speak plain HTTP to moto, so a small bridge
//! (`ssm-documents/tests/tls_bridge.py`) answers both on one port: the presigned URLs are used
//! exactly as presigned, with `https://` (the scheme is not signed).
//!
//! moto checks neither Content-MD5 nor checksum headers (measured; TOOLING.md), so S3's own
//! `BadDigest` refusal of a part corrupted in flight cannot be shown here; what is shown is that
//! custody refuses a part that is not the one the host reported (replaced after upload).

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use custody_aws::{Clients, LockMode, OperationLog, S3Evidence};
use custody_core::error::ErrorName;
use custody_core::id::Sha256Digest;
use custody_steps::ports::{Bucket, EvidenceStore, etag_unquoted};
use custody_steps::steps::check_memory::CaptureReportObject;
use custody_steps::steps::shipped::{self, Shipped};

use super::evidence::{buckets, md5_of};
use super::harness::Moto;

const EVIDENCE: &str = "custody-evidence";
const ARTIFACTS: &str = "custody-artifacts";
const CASE: &str = "case-01JD2ZQ5N8X7C4V3B2A1M0K9PQ";
const INSTANCE: &str = "i-0123456789abcdef0";
const MIB: u64 = 1024 * 1024;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The virtualenv's Python (the one with the test tools), as the harness finds moto.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("CUSTODY_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = repo().join(".venv/bin/python");
    assert!(
        venv.is_file(),
        "{venv:?} missing: run scripts/bootstrap to install the Python test tools"
    );
    venv
}

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "custody-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// tls_bridge.py in front of moto, killed on drop.
struct Bridge {
    child: Child,
    port: u16,
    cert: PathBuf,
}

impl Bridge {
    fn start(moto: &Moto, dir: &Path) -> Bridge {
        let moto_port = moto.endpoint.rsplit(':').next().unwrap();
        let mut child = Command::new(python())
            .arg(repo().join("ssm-documents/tests/tls_bridge.py"))
            .args([moto_port, dir.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start tls_bridge.py");
        // The bridge prints its line once it listens (a blocking read, no polling).
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let (port, cert) = line
            .trim()
            .split_once(' ')
            .unwrap_or_else(|| panic!("tls_bridge.py said {line:?}"));
        Bridge {
            port: port.parse().unwrap(),
            cert: PathBuf::from(cert),
            child,
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A LiME image: per range a 32-byte header (magic, version 1, start, end, 8 reserved bytes)
/// then the range's bytes (deterministic, not compressible).
fn lime_image(size: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(size as usize);
    let first = size / 3;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for (start, len) in [(0x1000u64, first), (0x1_0000_0000, size - first - 64)] {
        out.extend_from_slice(&0x4C69_4D45u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&start.to_le_bytes());
        out.extend_from_slice(&(start + len - 1).to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            out.push(state as u8);
        }
    }
    out
}

fn https(url: &str) -> String {
    url.strip_prefix("http://")
        .map(|rest| format!("https://{rest}"))
        .unwrap_or_else(|| panic!("presigned for moto over HTTP: {url}"))
}

fn kernel_release() -> String {
    let out = Command::new("uname").arg("-r").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

struct Capture {
    stdout: serde_json::Value,
    image_key: String,
    image_upload: String,
    report_key: String,
    report_upload: String,
    image_urls: Vec<String>,
}

/// Prepares the uploads and manifest as capture-memory's step does, and runs the real script.
async fn capture(store: &S3Evidence, bridge: &Bridge, image: &Path, work: &Path) -> Capture {
    let image_key = format!("cases/{CASE}/memory/{INSTANCE}.lime");
    let report_key = format!("cases/{CASE}/memory/{INSTANCE}.capture.json");
    let images = store
        .begin_upload(&image_key, 5 * MIB, 4, 900)
        .await
        .unwrap();
    let report = store
        .begin_upload(&report_key, 5 * MIB, 1, 900)
        .await
        .unwrap();
    let kernel = kernel_release();
    let module_key = format!("modules/lime/{kernel}.ko");
    let module_url = https(
        &store
            .presign_get(Bucket::Artifacts, &module_key, 900)
            .await
            .unwrap(),
    );
    let mut manifest = format!(
        "custody-manifest 1\ndocument=capture-memory\ncase_id={CASE}\ninstance_id={INSTANCE}\npart_size={}\nget lime:{kernel} {} {module_url}\n",
        5 * MIB,
        Sha256Digest::of(LIME_MODULE)
    );
    for (name, ticket) in [("image", &images), ("report", &report)] {
        for (i, url) in ticket.part_urls.iter().enumerate() {
            manifest.push_str(&format!("part {name} {} {}\n", i + 1, https(url)));
        }
    }
    let manifest_key = format!("cases/{CASE}/memory/{INSTANCE}.manifest");
    store
        .put_object(&manifest_key, manifest.as_bytes(), "text/plain")
        .await
        .unwrap();
    let manifest_url = https(
        &store
            .presign_get(Bucket::Evidence, &manifest_key, 900)
            .await
            .unwrap(),
    );

    for sub in ["cwd", "home", "tmp"] {
        std::fs::create_dir_all(work.join(sub)).unwrap();
    }
    let standins = repo().join("ssm-documents/tests/standins");
    let out = Command::new("bash")
        .arg(repo().join("ssm-documents/scripts/capture-memory.sh"))
        .current_dir(work.join("cwd"))
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", standins.display()),
        )
        .env("HOME", work.join("home"))
        .env("TMPDIR", work.join("tmp"))
        .env("LANG", "C.UTF-8")
        .env("CURL_CA_BUNDLE", &bridge.cert)
        .env("CUSTODY_TEST_PYTHON", python())
        .env("CUSTODY_TEST_LOG", work.join("calls.log"))
        .env("CUSTODY_TEST_IMAGE", image)
        .env("SSM_CaseId", CASE)
        .env("SSM_InstanceId", INSTANCE)
        .env("SSM_ManifestUrl", &manifest_url)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "capture-memory failed: {stderr}");
    for sub in ["cwd", "home", "tmp"] {
        assert_eq!(
            std::fs::read_dir(work.join(sub)).unwrap().count(),
            0,
            "the script wrote under the watched host path {sub}"
        );
    }
    Capture {
        stdout: serde_json::from_slice(&out.stdout).unwrap(),
        image_key,
        image_upload: images.upload_id,
        report_key,
        report_upload: report.upload_id,
        image_urls: images.part_urls,
    }
}

const LIME_MODULE: &[u8] = b"\x7fELF fake lime module for the tests";

async fn setup(moto: &Moto, bridge: &Bridge) -> (Clients, S3Evidence) {
    let config = moto
        .sdk_config()
        .to_builder()
        .endpoint_url(format!("http://127.0.0.1:{}", bridge.port))
        .build();
    let seed = Clients::new(&config, &OperationLog::new());
    buckets(&seed.s3).await;
    seed.s3
        .put_object()
        .bucket(ARTIFACTS)
        .key(format!("modules/lime/{}.ko", kernel_release()))
        .body(LIME_MODULE.to_vec().into())
        .send()
        .await
        .unwrap();
    let store = S3Evidence::new(
        Clients::new(&config, &OperationLog::new()).s3,
        EVIDENCE,
        ARTIFACTS,
        LockMode::Governance,
        1,
    );
    (seed, store)
}

#[tokio::test]
async fn the_real_capture_script_fills_custody_presigned_parts_and_the_step_completes_them() {
    let moto = Moto::start();
    let scratch = Scratch::new("host-upload");
    let bridge = Bridge::start(&moto, &scratch.0);
    let (seed, store) = setup(&moto, &bridge).await;
    let image = lime_image(11 * MIB + 123);
    let image_path = scratch.0.join("image.lime");
    std::fs::write(&image_path, &image).unwrap();

    let cap = capture(&store, &bridge, &image_path, &scratch.0.join("host")).await;
    assert_eq!(cap.stdout["method"], "lime");
    assert_eq!(cap.stdout["image"]["bytes"], image.len() as u64);
    assert_eq!(cap.stdout["image"]["part_count"], 3);

    // The report object first (it lists the image's parts), as check-memory does.
    let report: Shipped = serde_json::from_value(cap.stdout["report"].clone()).unwrap();
    shipped::complete_and_verify(
        &store,
        &cap.report_key,
        &cap.report_upload,
        &report,
        "report",
    )
    .await
    .unwrap();
    let report_bytes = store.get_object(&cap.report_key).await.unwrap();
    assert_eq!(Sha256Digest::of(&report_bytes), report.sha256);
    let object: CaptureReportObject = serde_json::from_slice(&report_bytes).unwrap();
    let host = object.image;

    // S3's part list is the host's report (the scripts report ETags unquoted, S3 quotes them).
    let listed = store
        .list_parts(&cap.image_key, &cap.image_upload)
        .await
        .unwrap();
    assert_eq!(listed.len(), 3);
    let mut reported = host.parts.clone();
    reported.sort_by_key(|p| p.part);
    for (l, r) in listed.iter().zip(&reported) {
        assert_eq!((l.part_number, l.size_bytes), (r.part, r.bytes));
        assert!(l.etag.starts_with('"'), "S3 quotes ETags: {:?}", l.etag);
        assert!(
            !r.etag.starts_with('"'),
            "the script does not: {:?}",
            r.etag
        );
        assert_eq!(etag_unquoted(&l.etag), r.etag);
    }

    let stored = shipped::complete_and_verify(
        &store,
        &cap.image_key,
        &cap.image_upload,
        &host,
        "memory image",
    )
    .await
    .unwrap();
    assert_eq!(stored.size_bytes, image.len() as u64);
    assert_eq!(stored.lock_mode.as_deref(), Some("GOVERNANCE"));
    let held = seed
        .s3
        .get_object()
        .bucket(EVIDENCE)
        .key(&cap.image_key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert!(held.as_ref() == image.as_slice(), "S3 holds the image");
    // The hash the host reported is the hash of S3's bytes, whole and per part.
    assert_eq!(Sha256Digest::of(&held), host.sha256);
    assert_eq!(
        cap.stdout["image"]["sha256"].as_str(),
        Some(host.sha256.as_str())
    );
    let mut offset = 0usize;
    for p in &reported {
        let piece = &held[offset..offset + p.bytes as usize];
        assert_eq!(Some(Sha256Digest::of(piece)), p.sha256, "part {}", p.part);
        offset += p.bytes as usize;
    }
    // A rerun finds the completed object and verifies it again, without the upload.
    shipped::complete_and_verify(
        &store,
        &cap.image_key,
        &cap.image_upload,
        &host,
        "memory image",
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_part_that_is_not_the_one_the_host_reported_is_refused() {
    let moto = Moto::start();
    let scratch = Scratch::new("host-upload-tamper");
    let bridge = Bridge::start(&moto, &scratch.0);
    let (_seed, store) = setup(&moto, &bridge).await;
    let image = lime_image(11 * MIB + 123);
    let image_path = scratch.0.join("image.lime");
    std::fs::write(&image_path, &image).unwrap();
    let cap = capture(&store, &bridge, &image_path, &scratch.0.join("host")).await;
    let report: Shipped = serde_json::from_value(cap.stdout["report"].clone()).unwrap();
    shipped::complete_and_verify(
        &store,
        &cap.report_key,
        &cap.report_upload,
        &report,
        "report",
    )
    .await
    .unwrap();
    let object: CaptureReportObject =
        serde_json::from_slice(&store.get_object(&cap.report_key).await.unwrap()).unwrap();

    // Someone who read part 2's URL (it is in the host's tmpfs while the capture runs) PUTs other
    // bytes of the same size after the host did: a valid Content-MD5, so S3 accepts it.
    let mut forged = image[5 * MIB as usize..10 * MIB as usize].to_vec();
    forged[12345] ^= 0xff;
    let md5 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, md5_of(&forged));
    let status = Command::new("curl")
        .args([
            "--silent",
            "--output",
            "/dev/null",
            "--write-out",
            "%{http_code}",
        ])
        .args(["--upload-file", "-", "--header"])
        .arg(format!("Content-MD5: {md5}"))
        .arg(&cap.image_urls[1])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(&forged)?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "200");

    let err = shipped::complete_and_verify(
        &store,
        &cap.image_key,
        &cap.image_upload,
        &object.image,
        "memory image",
    )
    .await
    .unwrap_err();
    assert_eq!(err.name, ErrorName::EvidenceMismatch, "{}", err.cause);
    assert!(err.cause.contains("part 2 has ETag"), "{}", err.cause);
    // Nothing was completed: the upload is still open for examination.
    assert_eq!(
        store
            .head_object(Bucket::Evidence, &cap.image_key)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .list_parts(&cap.image_key, &cap.image_upload)
            .await
            .unwrap()
            .len(),
        3
    );
}
