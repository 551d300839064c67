"""custody-capture-memory runs for real: bash, stand-in insmod/rmmod, moto's S3 over TLS."""

import hashlib
import json
import os

import pytest

from harness import (
    CASE_ID,
    INSTANCE_ID,
    MIB,
    Case,
    run_script,
    shm_custody_dirs,
    synthetic_image,
    watched_entries,
)

KERNEL = os.uname().release
LIME_MODULE = b"\x7fELF fake lime module for the tests"
AVML_STANDIN = b"""#!/bin/bash
# avml stand-in (downloaded from the artifacts bucket like the real static binary)
if [ "$1" = --help ]; then printf 'Commands:\\n  acquire  Acquire a memory snapshot\\n'; exit 0; fi
printf 'avml %s\\n' "$*" >>"$CUSTODY_TEST_LOG"
[ "$1" = acquire ] && shift
cat "$CUSTODY_TEST_IMAGE" >"$1"
"""


def prepare(moto, sandbox, *, image_size=11 * MIB + 123, parts=4, lime=True, avml=False):
    image = synthetic_image(image_size)
    (sandbox / "image.lime").write_bytes(image)
    case = Case(moto, "capture-memory")
    if lime:
        case.add_get(f"lime:{KERNEL}", LIME_MODULE)
        case.add_get("lime:0.0.0-other-kernel", b"not this one")
    if avml:
        case.add_get("avml", AVML_STANDIN)
    case.add_output("image", f"cases/{CASE_ID}/memory/{INSTANCE_ID}.lime", parts)
    case.add_output("report", f"cases/{CASE_ID}/memory/{INSTANCE_ID}.capture.json", 1)
    return case, image


def capture(moto, sandbox, case, *, mode="ok", url=None, params=None):
    before = shm_custody_dirs()
    run = run_script(
        "capture-memory",
        params
        or {"CaseId": case.case_id, "InstanceId": case.instance_id, "ManifestUrl": url or case.manifest_url()},
        sandbox=sandbox,
        cert=moto.cert,
        extra_env={
            "CUSTODY_TEST_LOG": str(sandbox.parent / "calls.log"),
            "CUSTODY_TEST_IMAGE": str(sandbox / "image.lime"),
            "CUSTODY_TEST_INSMOD_MODE": mode,
        },
    )
    assert watched_entries(sandbox) == [], (
        "the script wrote under the watched host paths"
    )
    assert shm_custody_dirs() <= before, "the tmpfs work directory was left behind"
    return run


def calls(sandbox):
    log = sandbox.parent / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_lime_image_arrives_whole_in_parts_and_the_reported_hash_is_what_s3_holds(moto, sandbox):
    case, image = prepare(moto, sandbox)
    run = capture(moto, sandbox, case)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)

    assert out["method"] == "lime"
    assert out["kernel_release"] == KERNEL
    assert out["tool_sha256"] == hashlib.sha256(LIME_MODULE).hexdigest()
    assert out["image"]["bytes"] == len(image)
    assert out["image"]["part_count"] == 3

    report_bytes = case.complete("report", out["report"]["parts"])
    assert hashlib.sha256(report_bytes).hexdigest() == out["report"]["sha256"]
    report = json.loads(report_bytes)
    assert [p["bytes"] for p in report["image"]["parts"]] == [5 * MIB, 5 * MIB, len(image) - 10 * MIB]

    held = case.complete("image", report["image"]["parts"])
    assert held == image
    assert hashlib.sha256(held).hexdigest() == out["image"]["sha256"] == report["image"]["sha256"]

    log = calls(sandbox)
    assert len(log) == 2
    insmod, rmmod = log
    digest, module_path, params = insmod.split(" ", 3)[1:]
    assert digest == hashlib.sha256(LIME_MODULE).hexdigest()
    assert module_path.startswith("/dev/shm/custody.")
    assert params.startswith("path=tcp:") and params.endswith(" format=lime localhostonly=1")
    assert rmmod == "rmmod lime"


def test_an_image_that_is_an_exact_multiple_of_the_part_size_is_complete(moto, sandbox):
    case, image = prepare(moto, sandbox, image_size=10 * MIB)
    run = capture(moto, sandbox, case)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    report = json.loads(case.complete("report", out["report"]["parts"]))
    assert len(report["image"]["parts"]) == 2
    assert case.complete("image", report["image"]["parts"]) == image


def test_falls_back_to_avml_when_no_module_exists_for_the_kernel_and_says_so(moto, sandbox):
    case, image = prepare(moto, sandbox, lime=False, avml=True)
    run = capture(moto, sandbox, case)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["method"] == "avml"
    assert out["tool_sha256"] == hashlib.sha256(AVML_STANDIN).hexdigest()
    report = json.loads(case.complete("report", out["report"]["parts"]))
    held = case.complete("image", report["image"]["parts"])
    assert hashlib.sha256(held).hexdigest() == out["image"]["sha256"] == hashlib.sha256(image).hexdigest()
    assert calls(sandbox) == ["avml acquire /dev/stdout"]


def test_no_module_and_no_avml_fails_loudly(moto, sandbox):
    case, _ = prepare(moto, sandbox, lime=False, avml=False)
    run = capture(moto, sandbox, case)
    assert run.returncode == 1
    assert run.stdout == ""
    assert "no LiME module for kernel" in run.stderr
    assert calls(sandbox) == []


def test_lime_dying_midway_fails_and_still_unloads_the_module(moto, sandbox):
    case, _ = prepare(moto, sandbox)
    run = capture(moto, sandbox, case, mode="die-midway")
    assert run.returncode != 0
    assert run.stdout == ""
    assert "custody:" in run.stderr
    assert calls(sandbox)[-1] == "rmmod lime"


def test_a_module_the_kernel_refuses_fails_before_any_upload(moto, sandbox):
    case, _ = prepare(moto, sandbox)
    run = capture(moto, sandbox, case, mode="fail-early")
    assert run.returncode == 1
    assert "insmod of the LiME module failed" in run.stderr
    assert case.s3.list_parts(
        Bucket=case.evidence, Key=case.outputs["image"].key, UploadId=case.outputs["image"].upload_id
    ).get("Parts", []) == []


def test_an_image_larger_than_the_presigned_parts_fails_loudly(moto, sandbox):
    case, _ = prepare(moto, sandbox, parts=2)
    run = capture(moto, sandbox, case)
    assert run.returncode != 0
    assert "larger than the 2 parts the manifest presigned" in run.stderr
    assert calls(sandbox)[-1] == "rmmod lime"


def test_a_tampered_module_is_refused_before_loading(moto, sandbox):
    case, _ = prepare(moto, sandbox)
    url = case.manifest_url()
    case.s3.put_object(Bucket=case.artifacts, Key=f"tools/lime/{KERNEL}", Body=b"evil module")
    run = capture(moto, sandbox, case, url=url)
    assert run.returncode == 1
    assert "SHA-256" in run.stderr
    assert calls(sandbox) == []


@pytest.mark.parametrize(
    "override", [{"case_id": "case-01JD2ZQ5N8X7C4V3B2A1M0K9ZZ"}, {"instance_id": "i-0fedcba9876543210"}, {"document": "map-pods"}]
)
def test_a_manifest_made_for_another_case_instance_or_document_is_refused(moto, sandbox, override):
    case, _ = prepare(moto, sandbox)
    run = capture(moto, sandbox, case, url=case.manifest_url(**override))
    assert run.returncode == 1
    assert "manifest was made for another" in run.stderr
    assert calls(sandbox) == []


def test_a_missing_parameter_means_an_old_agent_and_is_refused(moto, sandbox):
    case, _ = prepare(moto, sandbox)
    run = capture(moto, sandbox, case, params={"CaseId": case.case_id, "InstanceId": case.instance_id})
    assert run.returncode == 2
    assert "SSM_ManifestUrl is unset" in run.stderr
