"""Test harness for the custody SSM scripts: a real S3 (moto's server, over TLS on loopback), the
manifest producer (a Python mirror of what the Rust forensic step writes), and a runner that
executes a script under bash the way the SSM agent would (parameters as SSM_* variables), with
stand-ins for host tools on PATH.

Also used by ssm-documents/bench/stream-throughput.py.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

HERE = Path(__file__).resolve().parent
SSM_DIR = HERE.parent
SCRIPTS = SSM_DIR / "scripts"
STANDINS = HERE / "standins"
FIXTURES = HERE / "fixtures"

CASE_ID = "case-01JD2ZQ5N8X7C4V3B2A1M0K9PQ"
INSTANCE_ID = "i-0123456789abcdef0"
MIB = 1024 * 1024
BASH = shutil.which("bash") or "/bin/bash"


def free_port() -> int:
    """A free TCP port on loopback (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_tls_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 that curl and boto3 are told to trust, so the
    scripts talk HTTPS exactly as on a real host (they refuse plain HTTP)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class MotoServer:
    """moto's S3 server on a free loopback port, over TLS. Ready when it says it is running."""

    def __init__(self, directory: Path):
        self.cert, key = make_tls_cert(directory)
        self.port = free_port()
        moto = Path(sys.executable).with_name("moto_server")
        self.proc = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(self.port), "-c", str(self.cert), "-k", str(key)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        seen = []
        for line in self.proc.stderr:
            seen.append(line)
            if "Running on" in line:
                break
        else:
            raise RuntimeError("moto_server exited before it was ready:\n" + "".join(seen))
        # Keep draining its log so a chatty server never blocks on a full pipe.
        import threading

        threading.Thread(target=self.proc.stderr.read, daemon=True).start()
        self.endpoint = f"https://127.0.0.1:{self.port}"

    def s3(self):
        """A boto3 S3 client for this server (path-style, trusting the test certificate)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            verify=str(self.cert),
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def lime_image(ranges: list[tuple[int, bytes]]) -> bytes:
    """A LiME-format image: per range a 32-byte header (magic, version 1, start, end, reserved)
    followed by the range's bytes."""
    out = bytearray()
    for start, data in ranges:
        out += struct.pack("<IIQQ8x", 0x4C694D45, 1, start, start + len(data) - 1)
        out += data
    return bytes(out)


def synthetic_image(size: int) -> bytes:
    """A LiME image of about SIZE bytes in two ranges of random data."""
    first = size // 3
    return lime_image([(0x1000, os.urandom(first)), (0x100000000, os.urandom(size - first - 64))])


@dataclass
class Output:
    """One multipart upload the step created for an output of a script."""

    name: str
    key: str
    upload_id: str
    parts: int


@dataclass
class Case:
    """What the forensic step prepares for one document run: buckets, multipart uploads with
    presigned part URLs, presigned GETs for tools, and the manifest (format: README.md)."""

    server: MotoServer
    document: str
    case_id: str = CASE_ID
    instance_id: str = INSTANCE_ID
    part_size: int = 5 * MIB
    evidence: str = field(default_factory=lambda: f"evidence-{uuid.uuid4().hex[:12]}")
    artifacts: str = field(default_factory=lambda: f"artifacts-{uuid.uuid4().hex[:12]}")
    lines: list[str] = field(default_factory=list)
    outputs: dict[str, Output] = field(default_factory=dict)

    def __post_init__(self):
        self.s3 = self.server.s3()
        self.s3.create_bucket(Bucket=self.evidence)
        self.s3.create_bucket(Bucket=self.artifacts)

    def presign(self, method: str, **params) -> str:
        return self.s3.generate_presigned_url(method, Params=params, ExpiresIn=3600)

    def add_get(self, name: str, body: bytes, key: str | None = None) -> str:
        """Uploads BODY to the artifacts bucket and lists it in the manifest as object NAME."""
        key = key or f"tools/{name.replace(':', '/')}"
        self.s3.put_object(Bucket=self.artifacts, Key=key, Body=body)
        url = self.presign("get_object", Bucket=self.artifacts, Key=key)
        self.lines.append(f"get {name} {hashlib.sha256(body).hexdigest()} {url}")
        return key

    def add_output(self, name: str, key: str, parts: int) -> Output:
        """Creates a multipart upload for output NAME and presigns PARTS part URLs. Like the Rust
        step (custody-aws `begin_upload`), the upload is created WITHOUT a checksum algorithm and
        the part URLs sign nothing but the host (the host's bytes are not known yet; real S3
        refuses checksum-less parts of a SHA-256 upload, and unsigned checksum headers)."""
        upload = self.s3.create_multipart_upload(Bucket=self.evidence, Key=key)
        out = Output(name, key, upload["UploadId"], parts)
        for n in range(1, parts + 1):
            url = self.presign(
                "upload_part", Bucket=self.evidence, Key=key, UploadId=out.upload_id, PartNumber=n
            )
            self.lines.append(f"part {name} {n} {url}")
        self.outputs[name] = out
        return out

    def manifest_url(self, **overrides: str) -> str:
        """Writes the manifest to the evidence bucket; returns its presigned GET URL."""
        header = {
            "document": self.document,
            "case_id": self.case_id,
            "instance_id": self.instance_id,
            "part_size": str(self.part_size),
        }
        header.update(overrides)
        text = "custody-manifest 1\n"
        text += "".join(f"{k}={v}\n" for k, v in header.items())
        text += "\n".join(self.lines) + "\n"
        key = f"cases/{self.case_id}/manifests/{self.document}/{self.instance_id}.txt"
        self.s3.put_object(Bucket=self.evidence, Key=key, Body=text.encode())
        return self.presign("get_object", Bucket=self.evidence, Key=key)

    def complete(self, name: str, parts: list[dict]) -> bytes:
        """Completes output NAME as the Rust step does (steps/shipped.rs `complete_and_verify`
        through custody-aws): S3's part list (ListParts) must be exactly the reported parts, same
        numbers, sizes and ETags (quotes ignored); then CompleteMultipartUpload with the ETags,
        and the object's size must be the reported total. Then checks what the step cannot (it
        would have to read gigabytes back): every part's `sha256` is the SHA-256 of the bytes S3
        holds for that part's range. Returns the bytes."""
        out = self.outputs[name]
        for p in parts:
            assert set(p) == PART_FIELDS, f"part record {p} has fields {sorted(p)}, not {sorted(PART_FIELDS)}"
            assert SHA256_HEX.fullmatch(p["sha256"]), p
        ordered = sorted(parts, key=lambda p: p["part"])
        assert [p["part"] for p in ordered] == list(range(1, len(parts) + 1))
        listed = self.s3.list_parts(Bucket=self.evidence, Key=out.key, UploadId=out.upload_id).get("Parts", [])
        assert [(p["PartNumber"], p["Size"], etag_unquoted(p["ETag"])) for p in listed] == [
            (p["part"], p["bytes"], etag_unquoted(p["etag"])) for p in ordered
        ], f"{name}: S3's part list differs from the report"
        self.s3.complete_multipart_upload(
            Bucket=self.evidence,
            Key=out.key,
            UploadId=out.upload_id,
            MultipartUpload={"Parts": [{"PartNumber": p["part"], "ETag": p["etag"]} for p in ordered]},
        )
        head = self.s3.head_object(Bucket=self.evidence, Key=out.key)
        assert head["ContentLength"] == sum(p["bytes"] for p in ordered)
        held = self.s3.get_object(Bucket=self.evidence, Key=out.key)["Body"].read()
        offset = 0
        for p in ordered:
            piece = held[offset : offset + p["bytes"]]
            assert hashlib.sha256(piece).hexdigest() == p["sha256"], f"part {p['part']} of {name}"
            offset += p["bytes"]
        return held


# The per-part record every script reports, in the shape the simulated hosts emit
# (crates/custody-sim/src/ports/documents.rs) and the Rust step reads (steps/shipped.rs).
PART_FIELDS = {"part", "bytes", "etag", "sha256"}
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def etag_unquoted(etag: str) -> str:
    """An ETag without its quotes: S3 quotes them, the scripts do not (custody-steps compares
    them the same way, `etag_unquoted`)."""
    t = etag.strip()
    return t[1:-1] if len(t) >= 2 and t[0] == t[-1] == '"' else t


@dataclass
class Run:
    """A finished script run."""

    returncode: int
    stdout: str
    stderr: str


def run_script(
    name: str,
    params: dict[str, str],
    *,
    sandbox: Path,
    cert: Path,
    extra_env: dict[str, str] | None = None,
    timeout: float = 600,
) -> Run:
    """Runs scripts/NAME.sh under bash as the SSM agent would: parameters only as SSM_<Name>
    variables; stand-ins first on PATH. cwd, HOME and TMPDIR are empty directories in SANDBOX
    that the tests watch (nothing may be written there)."""
    for sub in ("cwd", "home", "tmp"):
        (sandbox / sub).mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": f"{STANDINS}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(sandbox / "home"),
        "TMPDIR": str(sandbox / "tmp"),
        "CURL_CA_BUNDLE": str(cert),
        "LANG": "C.UTF-8",
        "CUSTODY_TEST_PYTHON": sys.executable,
    }
    env.update({f"SSM_{k}": v for k, v in params.items()})
    env.update(extra_env or {})
    proc = subprocess.run(
        [BASH, str(SCRIPTS / f"{name}.sh")],
        cwd=sandbox / "cwd",
        env=env,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return Run(proc.returncode, proc.stdout.decode(), proc.stderr.decode(errors="replace"))


def watched_entries(sandbox: Path) -> list[str]:
    """Everything under the watched host paths (cwd, HOME, TMPDIR) of a sandbox."""
    return sorted(
        str(p.relative_to(sandbox)) for sub in ("cwd", "home", "tmp") for p in (sandbox / sub).rglob("*")
    )


def shm_custody_dirs() -> set[str]:
    """The custody work directories currently present on /dev/shm."""
    return {p.name for p in Path("/dev/shm").glob("custody.*")}
