"""moto's server, over TLS, with a stand-in for the SSM Agent on every instance.

This is a TEST DOUBLE OF THE SSM AGENT ON THE HOST (and of the little of the SSM service that
talks to it), not of custody: custody's Rust code, its SSM documents and their scripts all run
for real. moto's SSM records a SendCommand and answers "Success" with empty output without running
anything (TOOLING.md section 2), so a whole custody case cannot run against plain moto. Started
by custody-testkit's `Moto::start_with_agent`, this launcher starts moto's server in this process
and wraps moto's SSM so that:

- SendCommand of a Command document created in moto whose step is `aws:runShellScript` (custody's
  documents, ssm-documents/*.yaml) runs the document's shell text under bash, synchronously, once
  per instance, the way the agent would:
  - parameters are checked against the document's `allowedPattern` (a mismatch or a missing
    parameter is SSM's `InvalidParameters`, before anything runs), defaults filled in;
  - parameters with `interpolationType: ENV_VAR` reach the script ONLY as `SSM_<Name>`
    environment variables, exactly as SSM Agent >= 3.3.2746.0 passes them (custody's documents
    contain no `{{ }}`, and this stand-in interpolates nothing);
  - the host's tools are the stand-ins of tests/support/standins (first) and
    ssm-documents/tests/standins (insmod serving a synthetic LiME image, rmmod, crictl, nsenter,
    vol, mount, umount, blockdev), so nothing touches this machine's kernel or disks;
  - each instance has its own host directory under --work-dir (`hosts/<instance-id>/`: cwd,
    HOME, TMPDIR, the data root, `calls.log` of every stand-in call, `image.lime`); the scripts'
    own work dir is a fresh directory on /dev/shm, as on a real host;
  - the real exit code, stdout and stderr are stored, so GetCommandInvocation returns them with
    Status Success (exit 0) or Failed (anything else), and ListCommands shows the command;
  - the EBS volumes moto has attached to the instance are what the host "sees" as NVMe devices
    (`CUSTODY_AGENT_VOLUMES`, read by the lsblk stand-in), each with one ext4 partition.
- DescribeInstanceInformation (which moto lacks) lists every pending or running EC2 instance as
  a managed Linux node whose agent is Online, unless the instance carries the tag
  `custody-test:agent=offline` (then ConnectionLost): the agent stand-in runs on every instance.

- SendCommand runs on exactly the InstanceIds given (moto 5.2.5 also adds every instance its
  empty Targets "select", i.e. all of them).

Also, for a whole custody case: Security Hub's BatchUpdateFindings (securityhub_standin.py), S3's
ListParts answered under S3's root element name (fix_list_parts_root), and a network interface's
security groups as EC2 answers them (fix_interface_groups).

Not modelled: asynchronous execution (every command has finished when SendCommand returns, so
there is never a Pending or InProgress invocation), delivery and execution timeouts beyond a hard
cap, output to S3 or CloudWatch, the 24,000-character stdout truncation, document preconditions
(every instance is Linux), and anything of a real host's kernel.

Usage: moto_ssm_agent.py --host 127.0.0.1 --port PORT --work-dir DIR
(writes DIR/cert.pem, the test CA clients trust, and the server's certificate signed by it).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SUPPORT_STANDINS = Path(__file__).resolve().parent / "standins"
DOCUMENT_STANDINS = REPO / "ssm-documents" / "tests" / "standins"
sys.path.insert(0, str(REPO / "ssm-documents" / "tests"))

from harness import synthetic_image  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import securityhub_standin  # noqa: E402

# A command never runs longer than this here, whatever the document says (a test must not hang).
MAX_RUN_SECONDS = 300
# The synthetic memory each host's LiME/AVML stand-in serves: just over one 5 MiB part.
IMAGE_BYTES = 7 * 1024 * 1024 + 4321
OFFLINE_TAG = ("custody-test:agent", "offline")
AGENT_VERSION = "3.3.2746.0"

_lock = threading.Lock()


class InvalidParameters(Exception):
    """SSM's InvalidParameters: raised before anything runs."""


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A test CA (cert.pem, what clients trust) and a server certificate for 127.0.0.1 signed by
    it (server.pem + server-key.pem). Two certificates, not one self-signed: rustls (the Rust
    SDK's TLS) refuses a CA certificate presented as the server's own (CaUsedAsEndEntity)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "custody test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = directory / "cert.pem", directory / "server.pem", directory / "server-key.pem"
    pem = serialization.Encoding.PEM
    ca_path.write_bytes(ca.public_bytes(pem))
    cert_path.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    )
    return ca_path, cert_path, key_path


def shell_step(content: str) -> tuple[dict, str, dict] | None:
    """(parameters, shell text, inputs) of a schema-2.2 document with one aws:runShellScript step."""
    try:
        doc = yaml.safe_load(content)
    except yaml.YAMLError:
        return None
    if not isinstance(doc, dict):
        return None
    steps = doc.get("mainSteps") or []
    if len(steps) != 1 or steps[0].get("action") != "aws:runShellScript":
        return None
    run = steps[0].get("inputs", {}).get("runCommand")
    if isinstance(run, str):
        run = [run]
    if not isinstance(run, list):
        return None
    return doc.get("parameters") or {}, "\n".join(run), steps[0].get("inputs", {})


def environment(declared: dict, given: dict[str, list[str]]) -> dict[str, str]:
    """The SSM_<Name> variables for the given parameters, checked as SSM checks them."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise InvalidParameters(f"parameters {unknown} are not defined by the document")
    env = {}
    for name, spec in declared.items():
        values = given.get(name)
        if values is None:
            if "default" not in spec:
                raise InvalidParameters(f"parameter {name} is required")
            values = [str(spec["default"])]
        if len(values) != 1:
            raise InvalidParameters(f"parameter {name} takes one value")
        value = values[0]
        pattern = spec.get("allowedPattern")
        # SSM's dialect: `$` also matches before a final newline, like Python's re.search.
        if pattern is not None and re.search(pattern, value) is None:
            raise InvalidParameters(f"parameter {name} does not match its allowedPattern")
        if "maxChars" in spec and len(value) > int(spec["maxChars"]):
            raise InvalidParameters(f"parameter {name} is longer than maxChars")
        if spec.get("interpolationType") != "ENV_VAR":
            # custody's documents never interpolate; a document that would is not run here.
            raise InvalidParameters(f"parameter {name} is not interpolationType ENV_VAR")
        env[f"SSM_{name}"] = value
    return env


def host_dir(work: Path, instance_id: str) -> Path:
    """The instance's host directory, prepared on first use."""
    host = work / "hosts" / instance_id
    with _lock:
        if not host.exists():
            for sub in ("cwd", "home", "tmp", "data"):
                (host / sub).mkdir(parents=True)
            (host / "image.lime").write_bytes(synthetic_image(IMAGE_BYTES))
            (host / "calls.log").touch()
    return host


def attached_volumes(account_id: str, region: str, instance_id: str) -> list[str]:
    """The EBS volumes moto has attached to the instance, in device order."""
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account_id][region]
    found = []
    for volume in backend.volumes.values():
        attachment = getattr(volume, "attachment", None)
        if attachment is not None and getattr(attachment.instance, "id", None) == instance_id:
            found.append((attachment.device, volume.id))
    return [vol for _, vol in sorted(found)]


def run_document(work: Path, cert: Path, backend, command, instance_id: str) -> dict:
    """Runs the document's shell text for one instance; the invocation fields to store."""
    documents = backend._get_documents(command.document_name)
    document = documents.find(None, None)
    declared, script, inputs = shell_step(document.content)
    env = environment(declared, command.parameters)
    host = host_dir(work, instance_id)
    env.update(
        {
            "PATH": f"{SUPPORT_STANDINS}:{DOCUMENT_STANDINS}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(host / "home"),
            "TMPDIR": str(host / "tmp"),
            "LANG": "C.UTF-8",
            "CURL_CA_BUNDLE": str(cert),
            "CUSTODY_TEST_PYTHON": sys.executable,
            "CUSTODY_TEST_LOG": str(host / "calls.log"),
            "CUSTODY_TEST_IMAGE": str(host / "image.lime"),
            "CUSTODY_DATA_ROOT": str(host / "data"),
            "CUSTODY_AGENT_VOLUMES": ",".join(
                attached_volumes(backend.account_id, backend.region_name, instance_id)
            ),
        }
    )
    timeout = min(int(inputs.get("timeoutSeconds", 3600)), MAX_RUN_SECONDS)
    try:
        proc = subprocess.run(
            ["bash", "-c", script],
            cwd=host / "cwd",
            env=env,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        return {
            "Status": "TimedOut",
            "StatusDetails": "ExecutionTimedOut",
            "ResponseCode": -1,
            "StandardOutputContent": (e.stdout or b"").decode(errors="replace"),
            "StandardErrorContent": (e.stderr or b"").decode(errors="replace"),
        }
    status = "Success" if proc.returncode == 0 else "Failed"
    return {
        "Status": status,
        "StatusDetails": status,
        "ResponseCode": proc.returncode,
        "StandardOutputContent": proc.stdout.decode(errors="replace"),
        "StandardErrorContent": proc.stderr.decode(errors="replace"),
    }


def restrict_to_requested(command, instance_ids: list[str], targets) -> None:
    """moto 5.2.5 adds the instances its Targets select to the InstanceIds given, and an empty
    Targets list selects every instance in the region: a command sent to one instance would run
    on all of them (and every host would write to the one set of presigned URLs). SSM sends to
    exactly the InstanceIds when there are no Targets; so does this stand-in."""
    if targets:
        return
    wanted = list(dict.fromkeys(instance_ids))
    command.instance_ids = wanted
    command.invocations = [i for i in command.invocations if i["InstanceId"] in wanted]
    command.completed_count = len(wanted)
    command.target_count = len(wanted)


def install(work: Path, cert: Path) -> None:
    """Wraps moto's SSM: SendCommand runs documents, DescribeInstanceInformation answers."""
    from moto.ssm.exceptions import SSMException
    from moto.core.responses import ActionResult
    from moto.ec2.models import ec2_backends
    from moto.ssm.models import SimpleSystemManagerBackend
    from moto.ssm.responses import SimpleSystemManagerResponse

    original_send = SimpleSystemManagerBackend.send_command

    def send_command(self, **kwargs):
        name = kwargs.get("document_name")
        runnable = None
        if name and name in self._documents:
            runnable = shell_step(self._documents[name].find(None, None).content)
        if runnable is not None:
            try:
                environment(runnable[0], kwargs.get("parameters") or {})
            except InvalidParameters as e:
                raise SSMException("InvalidParameters", str(e))
        requested = list(kwargs.get("instance_ids") or [])  # moto extends the list it is given
        command = original_send(self, **kwargs)
        restrict_to_requested(command, requested, kwargs.get("targets"))
        if runnable is None:
            return command
        failed = 0
        for invocation in command.invocations:
            outcome = run_document(work, cert, self, command, invocation["InstanceId"])
            invocation.update(outcome)
            failed += outcome["Status"] != "Success"
        command.error_count = failed
        command.status = "Failed" if failed else "Success"
        command.status_details = command.status
        return command

    def describe_instance_information(self):
        wanted = None
        for f in self._get_param("Filters", []) or []:
            if f.get("Key") == "InstanceIds":
                wanted = set(f.get("Values", []))
        for f in self._get_param("InstanceInformationFilterList", []) or []:
            if f.get("key") == "InstanceIds":
                wanted = set(f.get("valueSet", []))
        backend = ec2_backends[self.current_account][self.region]
        listed = []
        for reservation in backend.all_reservations():
            for instance in reservation.instances:
                if wanted is not None and instance.id not in wanted:
                    continue
                if instance.state not in ("pending", "running"):
                    continue
                tags = {t["key"]: t["value"] for t in instance.get_tags()}
                offline = tags.get(OFFLINE_TAG[0]) == OFFLINE_TAG[1]
                listed.append(
                    {
                        "InstanceId": instance.id,
                        "PingStatus": "ConnectionLost" if offline else "Online",
                        "AgentVersion": AGENT_VERSION,
                        "IsLatestVersion": True,
                        "PlatformType": "Linux",
                        "PlatformName": "Amazon Linux",
                        "PlatformVersion": "2023",
                        "ResourceType": "EC2Instance",
                        "IPAddress": instance.private_ip,
                    }
                )
        return ActionResult({"InstanceInformationList": listed})

    SimpleSystemManagerBackend.send_command = send_command
    SimpleSystemManagerResponse.describe_instance_information = describe_instance_information
    fix_list_parts_root()
    fix_interface_groups()
    securityhub_standin.install()


def fix_list_parts_root() -> None:
    """moto 5.2.5 names ListParts' root element `ListPartsResponse`; S3 (and the Rust SDK, which
    checks it) say `ListPartsResult`. Not an SSM Agent matter, but the step that completes a host's
    upload lists its parts, so a whole run needs S3's real spelling."""
    from moto.s3.responses import S3Response

    original = S3Response.list_parts

    def list_parts(self):  # type: ignore[no-untyped-def]
        status, headers, body = original(self)
        if isinstance(body, bytes):
            body = body.replace(b"ListPartsResponse", b"ListPartsResult")
        elif isinstance(body, str):
            body = body.replace("ListPartsResponse", "ListPartsResult")
        headers.pop("Content-Length", None)
        headers.pop("content-length", None)
        return status, headers, body

    S3Response.list_parts = list_parts


def fix_interface_groups() -> None:
    """moto 5.2.5 answers a network interface's groups as its own groups UNION the groups its
    instance was launched with, so ModifyNetworkInterfaceAttribute can never be seen to take a
    group away (EC2 replaces the interface's groups). An interface's groups here are its own: moto
    already gives a launched instance's primary interface the launch groups."""
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    NetworkInterface.group_set = property(lambda self: self._group_set)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--work-dir", type=Path, required=True)
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    ca, cert, key = make_certificates(args.work_dir)
    install(args.work_dir, ca)
    from moto.server import main as moto_main

    moto_main(["-H", args.host, "-p", str(args.port), "-c", str(cert), "-k", str(key)])


if __name__ == "__main__":
    main()
