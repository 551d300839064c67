"""Per-part integrity of what the scripts upload: each part PUT carries Content-MD5 and no
x-amz-* header; the upload has no checksum algorithm; every script reports, for each part, its
size, the ETag S3 returned and the SHA-256 of its bytes. The harness's `Case.complete` (used by
every document test) checks S3's part list against the report as the Rust step does, then the
reported part hashes against S3's bytes; these tests pin that it refuses what it must."""

import copy
import json
import re

import pytest

from harness import CASE_ID, INSTANCE_ID, SCRIPTS, Case, etag_unquoted, run_script


def test_part_puts_carry_content_md5_and_no_x_amz_header():
    # The part URLs sign only the host: S3 refuses any unsigned x-amz-* header on a presigned
    # request (README.md, "Per-part integrity"), so the PUT must not send x-amz-checksum-sha256.
    common = (SCRIPTS / "common.sh").read_text()
    assert not re.search(r"(?i)--header\s+[\"']?x-amz-", common)
    assert "Content-MD5" in common


def test_etags_compare_without_their_quotes():
    assert etag_unquoted('"9b2cf535f27731c974343645a3985328"') == "9b2cf535f27731c974343645a3985328"
    assert etag_unquoted("9b2cf535f27731c974343645a3985328") == "9b2cf535f27731c974343645a3985328"
    assert etag_unquoted(' "abc-2" ') == "abc-2"


@pytest.fixture
def podmap_run(moto, sandbox):
    case = Case(moto, "map-pods")
    case.add_output("podmap", f"cases/{CASE_ID}/pods/{INSTANCE_ID}.json", 2)
    run = run_script(
        "map-pods",
        {"CaseId": case.case_id, "InstanceId": case.instance_id, "ManifestUrl": case.manifest_url()},
        sandbox=sandbox,
        cert=moto.cert,
    )
    assert run.returncode == 0, run.stderr
    return case, json.loads(run.stdout)["podmap"]["parts"]


def test_uploads_have_no_checksum_algorithm(podmap_run):
    case, _ = podmap_run
    out = case.outputs["podmap"]
    uploads = case.s3.list_multipart_uploads(Bucket=case.evidence)["Uploads"]
    upload = next(u for u in uploads if u["UploadId"] == out.upload_id)
    assert "ChecksumAlgorithm" not in upload


def test_a_reported_part_hash_that_is_not_what_s3_holds_is_caught(podmap_run):
    case, parts = podmap_run
    assert all(re.fullmatch(r"[0-9a-f]{64}", p["sha256"]) for p in parts)
    tampered = copy.deepcopy(parts)
    tampered[0]["sha256"] = "0" * 64
    with pytest.raises(AssertionError, match="part 1 of podmap"):
        case.complete("podmap", tampered)


def test_a_reported_etag_that_s3_does_not_list_is_caught_before_completion(podmap_run):
    case, parts = podmap_run
    tampered = copy.deepcopy(parts)
    tampered[0]["etag"] = "0123456789abcdef0123456789abcdef"
    with pytest.raises(AssertionError, match="part list differs"):
        case.complete("podmap", tampered)
    # Nothing was completed; the true report still completes.
    assert case.complete("podmap", parts)
