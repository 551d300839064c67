"""Per-part SHA-256: every script reports, for each part it PUT, the SHA-256 of that part's bytes,
and the Rust step completes the upload with them and compares S3's composite checksum. The
harness's `Case.complete` (used by every document test) does exactly that check; these tests pin
the pieces it rests on, and that it refuses a hash that is not what S3 holds."""

import base64
import copy
import json
import re

import pytest

from harness import CASE_ID, INSTANCE_ID, SCRIPTS, Case, composite_matches, composite_sha256, run_script


def test_composite_is_the_one_real_s3_reports():
    # Observed on real S3 (floci-io/floci#3083: eu-west-1, a SHA256 multipart upload of 3 parts):
    # the parts' UploadPart checksums and CompleteMultipartUpload's composite.
    parts = [
        "lcKa6Boe7a167tUCN5C4OaFygGSYD8MBnBARTrdL+1w=",
        "gHjhbUT4oo2tSCtSZJdlKi+jeNXJT+VImqdPXsXvkOc=",
        "4l9PQ3zOPZ0oGFvknFX+J4zZwE4WMzO+l3r8XrbWOeM=",
    ]
    expected = "rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc=-3"
    assert composite_sha256([base64.b64decode(p).hex() for p in parts]) == expected
    assert composite_matches(expected, expected)
    assert composite_matches(expected.rsplit("-", 1)[0], expected)  # GetObjectAttributes' form
    assert not composite_matches(None, expected)
    assert not composite_matches("rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc=-2", expected)


def test_part_puts_carry_no_x_amz_header():
    # The part URLs sign only the host: S3 refuses any unsigned x-amz-* header on a presigned
    # request (README.md, "Per-part SHA-256"), so the PUT must not send x-amz-checksum-sha256.
    common = (SCRIPTS / "common.sh").read_text()
    assert not re.search(r"(?i)--header\s+[\"']?x-amz-", common)
    assert "Content-MD5" in common


def test_a_reported_part_hash_that_is_not_what_s3_holds_is_caught(moto, sandbox):
    case = Case(moto, "map-pods")
    case.add_output("podmap", f"cases/{CASE_ID}/pods/{INSTANCE_ID}.json", 2)
    run = run_script(
        "map-pods",
        {"CaseId": case.case_id, "InstanceId": case.instance_id, "ManifestUrl": case.manifest_url()},
        sandbox=sandbox,
        cert=moto.cert,
    )
    assert run.returncode == 0, run.stderr
    parts = json.loads(run.stdout)["podmap"]["parts"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", p["sha256"]) for p in parts)
    tampered = copy.deepcopy(parts)
    tampered[0]["sha256"] = "0" * 64
    with pytest.raises(AssertionError, match="part 1 of podmap"):
        case.complete("podmap", tampered)
