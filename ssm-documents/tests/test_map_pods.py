"""custody-map-pods runs for real: bash, stand-in crictl/nsenter with crictl-shaped JSON fixtures,
moto's S3 over TLS."""

import hashlib
import json

from harness import CASE_ID, FIXTURES, INSTANCE_ID, Case, run_script, shm_custody_dirs, watched_entries

WEB = "3f1a0c9e7b2d4c8a9e6f5b1d2c3a4e5f60718293a4b5c6d7e8f90123456789ab"
EVIL = "9b8a7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f3021120304f5e6d7c8b9"
GONE = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


def map_pods(moto, sandbox, case):
    before = shm_custody_dirs()
    run = run_script(
        "map-pods",
        {"CaseId": case.case_id, "InstanceId": case.instance_id, "ManifestUrl": case.manifest_url()},
        sandbox=sandbox,
        cert=moto.cert,
    )
    assert watched_entries(sandbox) == []
    assert shm_custody_dirs() <= before
    return run


def test_every_container_is_mapped_to_its_pid_and_uts_hostname_and_uploaded(moto, sandbox):
    case = Case(moto, "map-pods")
    case.add_output("podmap", f"cases/{CASE_ID}/pods/{INSTANCE_ID}.json", 2)
    run = map_pods(moto, sandbox, case)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["containers"] == 3
    assert out["unresolved"] == 1

    held = case.complete("podmap", out["podmap"]["parts"])
    assert hashlib.sha256(held).hexdigest() == out["podmap"]["sha256"]
    podmap = json.loads(held)  # valid JSON despite the hostile hostname
    assert podmap["case_id"] == CASE_ID
    assert podmap["crictl_ps"] == json.loads((FIXTURES / "crictl" / "ps.json").read_text())

    by_id = {c["id"]: c for c in podmap["containers"]}
    assert set(by_id) == {WEB, EVIL, GONE}  # no filtering in shell
    assert by_id[WEB]["pid"] == 4242
    assert by_id[WEB]["uts_hostname"] == "web-7d9f8c6b5-x2x9q"
    assert by_id[WEB]["error"] is None
    assert by_id[WEB]["inspect"]["info"]["pid"] == 4242
    assert by_id[EVIL]["pid"] == 4343
    assert by_id[EVIL]["uts_hostname"] == 'evil"\\name\n\u0001\u00ff"}],"x":{"'
    assert by_id[GONE]["pid"] is None
    assert "crictl inspect failed" in by_id[GONE]["error"]
    assert by_id[GONE]["inspect"] is None


def test_without_a_podmap_part_it_fails_before_running_crictl(moto, sandbox):
    case = Case(moto, "map-pods")
    run = map_pods(moto, sandbox, case)
    assert run.returncode == 1
    assert run.stdout == ""
    assert "no part for the podmap" in run.stderr
