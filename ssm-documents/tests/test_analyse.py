"""custody-analyse-memory and custody-analyse-disk run for real under bash on the "forensic
instance" (stand-ins for vol, lsblk, blockdev, mount, umount), with moto's S3 over TLS."""

import hashlib
import io
import json
import tarfile

from harness import CASE_ID, INSTANCE_ID, MIB, Case, run_script, shm_custody_dirs, synthetic_image

VOLUME = "vol-0123456789abcdef0"


def run(moto, sandbox, name, case, extra_params=None, extra_env=None):
    data = sandbox.parent / "data"
    data.mkdir(exist_ok=True)
    before = shm_custody_dirs()
    params = {"CaseId": case.case_id, "InstanceId": case.instance_id, "ManifestUrl": case.manifest_url()}
    params.update(extra_params or {})
    result = run_script(
        name,
        params,
        sandbox=sandbox,
        cert=moto.cert,
        extra_env={"CUSTODY_TEST_LOG": str(sandbox.parent / "calls.log"), "CUSTODY_DATA_ROOT": str(data),
                   **(extra_env or {})},
    )
    assert shm_custody_dirs() <= before
    assert list(data.iterdir()) == [], "the data directory was left behind"
    return result


def calls(sandbox):
    return (sandbox.parent / "calls.log").read_text().splitlines()


def memory_case(moto, image):
    case = Case(moto, "analyse-memory")
    case.add_get("image", image, key=f"cases/{CASE_ID}/memory/{INSTANCE_ID}.lime")
    case.add_output("results", f"cases/{CASE_ID}/analysis/memory/{INSTANCE_ID}.tar.gz", 2)
    case.add_output("report", f"cases/{CASE_ID}/analysis/memory/{INSTANCE_ID}.json", 1)
    return case


def test_memory_analysis_runs_every_documented_plugin_and_uploads_outputs_and_report(moto, sandbox):
    image = synthetic_image(2 * MIB)
    case = memory_case(moto, image)
    result = run(moto, sandbox, "analyse-memory", case)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    # The digest the document re-computed over the image it downloaded (checked, then reported).
    assert out["image_sha256"] == hashlib.sha256(image).hexdigest()
    report = json.loads(case.complete("report", out["report"]["parts"]))
    assert report["image_sha256"] == out["image_sha256"]
    plugins = [p["plugin"] for p in report["plugins"]]
    assert plugins[0] == "linux.pslist.PsList" and len(plugins) == out["plugins"] == 12
    assert all(p["exit"] == 0 for p in report["plugins"])

    bundle = case.complete("results", report["results"]["parts"])
    assert hashlib.sha256(bundle).hexdigest() == report["results"]["sha256"]
    with tarfile.open(fileobj=io.BytesIO(bundle)) as tar:
        for p in report["plugins"]:
            member = tar.extractfile(f"./{p['plugin']}.json").read()
            assert hashlib.sha256(member).hexdigest() == p["sha256"]
            assert json.loads(member)[0]["plugin"] == p["plugin"]
    assert all(" --renderer json --file " in c for c in calls(sandbox))


def test_memory_analysis_refuses_an_image_whose_hash_differs_from_the_record(moto, sandbox):
    case = memory_case(moto, synthetic_image(MIB))
    url = case.manifest_url()
    case.s3.put_object(Bucket=case.artifacts, Key=f"cases/{CASE_ID}/memory/{INSTANCE_ID}.lime", Body=b"EMiL swapped")
    case.manifest_url = lambda: url
    result = run(moto, sandbox, "analyse-memory", case)
    assert result.returncode == 1
    # The named reason: the digest re-computed over what was downloaded, and the one on record.
    recorded = case.lines[0].split(" ")[2]
    computed = hashlib.sha256(b"EMiL swapped").hexdigest()
    assert f'custody: "image" has SHA-256 {computed}, the manifest says {recorded}' in result.stderr
    assert result.stdout == ""
    assert not (sandbox.parent / "calls.log").exists(), "Volatility ran on an unverified image"


def test_memory_analysis_fails_when_processes_cannot_be_listed(moto, sandbox):
    case = memory_case(moto, synthetic_image(MIB))
    result = run(moto, sandbox, "analyse-memory", case, extra_env={"CUSTODY_TEST_VOL_FAIL": "linux.pslist.PsList"})
    assert result.returncode == 1
    assert result.stdout == ""
    assert "could not list processes" in result.stderr


def test_disk_analysis_mounts_read_only_without_journal_replay_and_uploads_listings_and_logs(moto, sandbox):
    case = Case(moto, "analyse-disk")
    case.add_output("bundle", f"cases/{CASE_ID}/analysis/disk/{INSTANCE_ID}.tar.gz", 2)
    case.add_output("report", f"cases/{CASE_ID}/analysis/disk/{INSTANCE_ID}.json", 1)
    result = run(moto, sandbox, "analyse-disk", case, extra_params={"VolumeIds": VOLUME})
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["partitions_mounted"] == 2

    log = calls(sandbox)
    assert "blockdev --setro /dev/nvme1n1" in log
    mounts = [c for c in log if c.startswith("mount ")]
    assert mounts[0].startswith("mount -t ext4 -o ro,noload /dev/nvme1n1p1 ")
    assert mounts[1].startswith("mount -t xfs -o ro,norecovery,nouuid /dev/nvme1n1p2 ")
    assert len(mounts) == 2  # swap is skipped, the forensic root volume is never touched
    assert len([c for c in log if c.startswith("umount ")]) == 2
    assert not any("nvme0n1" in c for c in log)

    report = json.loads(case.complete("report", out["report"]["parts"]))
    statuses = {(p["partition"], p["status"]) for p in report["partitions"]}
    assert statuses == {("nvme1n1p1", "analysed"), ("nvme1n1p2", "analysed"), ("nvme1n1p3", "skipped")}
    bundle = case.complete("bundle", report["bundle"]["parts"])
    assert hashlib.sha256(bundle).hexdigest() == report["bundle"]["sha256"]
    with tarfile.open(fileobj=io.BytesIO(bundle)) as tar:
        names = set(tar.getnames())
        base = f"mnt/{VOLUME}/nvme1n1p1"
        assert f"{base}/var/log/messages" in names
        assert f"{base}/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/42/fs/tmp/dropper.sh" in names
        assert not any(n.startswith(f"{base}/etc") for n in names)  # listed and hashed, not collected
        hashes = tar.extractfile(f"listings/{VOLUME}/nvme1n1p1/sha256.nul").read().split(b"\0")
        files = tar.extractfile(f"listings/{VOLUME}/nvme1n1p1/files.nul").read().split(b"\0")
    odd = b"etc/tab\tand newline\nname"
    assert any(r.endswith(b"./" + odd) for r in hashes)
    assert hashlib.sha256(b"root:x:0:0:root:/root:/bin/bash\n").hexdigest().encode() + b"  ./etc/passwd" in hashes
    assert any(r.split(b"\t", 7)[-1] == odd for r in files if r)


def test_disk_analysis_fails_when_a_volume_is_not_attached(moto, sandbox):
    case = Case(moto, "analyse-disk")
    case.add_output("bundle", "b", 1)
    case.add_output("report", "r", 1)
    result = run(moto, sandbox, "analyse-disk", case, extra_params={"VolumeIds": "vol-0fffffffffffffff0"})
    assert result.returncode == 1
    assert "vol-0fffffffffffffff0 is not attached" in result.stderr
