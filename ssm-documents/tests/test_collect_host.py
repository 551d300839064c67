"""custody-collect-host runs for real under bash (the machine's own ps/ss/… as the host's tools),
with moto's S3 over TLS."""

import hashlib
import json
import os

from harness import CASE_ID, INSTANCE_ID, Case, run_script, shm_custody_dirs, watched_entries


def collect(moto, sandbox, case, extra_env=None):
    before = shm_custody_dirs()
    run = run_script(
        "collect-host",
        {"CaseId": case.case_id, "InstanceId": case.instance_id, "ManifestUrl": case.manifest_url()},
        sandbox=sandbox,
        cert=moto.cert,
        extra_env=extra_env,
    )
    assert watched_entries(sandbox) == []
    assert shm_custody_dirs() <= before
    return run


def test_volatile_state_is_bundled_and_uploaded_with_each_sections_exit_code(moto, sandbox):
    case = Case(moto, "collect-host")
    case.add_output("hoststate", f"cases/{CASE_ID}/host/{INSTANCE_ID}.txt", 3)
    run = collect(moto, sandbox, case)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    names = [s["name"] for s in out["sections"]]
    assert names[:2] == ["processes", "connections"]
    assert {s["name"]: s["exit"] for s in out["sections"]}["processes"] == 0

    held = case.complete("hoststate", out["hoststate"]["parts"])
    assert hashlib.sha256(held).hexdigest() == out["hoststate"]["sha256"]
    text = held.decode(errors="replace")
    for section in out["sections"]:
        assert f"=== custody section {section['name']} exit={section['exit']} bytes={section['bytes']} ===" in text
    # the test's own process is in the process list the host reported
    assert f"\n{os.getpid():>7} " in text or f" {os.getpid()} " in text


def test_a_required_section_that_cannot_be_collected_fails_the_document(moto, sandbox, tmp_path):
    # A PATH where "ss" is missing (only the tools the script needs besides ss are linked).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("ps", "curl", "sha256sum", "md5sum", "base64", "sed", "head", "stat", "mktemp", "rm",
                 "cat", "date", "tee", "mkfifo", "timeout", "tail", "wc", "grep"):
        for d in os.environ["PATH"].split(":") + ["/usr/bin", "/bin"]:
            if os.path.exists(os.path.join(d, tool)):
                (bin_dir / tool).symlink_to(os.path.join(d, tool))
                break
    case = Case(moto, "collect-host")
    case.add_output("hoststate", f"cases/{CASE_ID}/host/{INSTANCE_ID}.txt", 3)
    run = collect(moto, sandbox, case, extra_env={"PATH": str(bin_dir)})
    assert run.returncode == 1
    assert run.stdout == ""
    assert "required host state could not be collected: connections" in run.stderr
