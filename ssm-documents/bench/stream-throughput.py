#!/usr/bin/env python3
"""Throughput of the memory-streaming path, printed (not asserted).

Runs the real scripts/capture-memory.sh under bash with the insmod stand-in serving a synthetic
LiME image (1 GiB by default) over loopback TCP, into moto's S3 server over TLS on loopback,
through presigned part URLs, and prints MiB/s for the whole run and for the stream alone.

    .venv/bin/python ssm-documents/bench/stream-throughput.py [--size-mib 1024] [--part-mib 64]

What it measures: LiME socket -> tee -> sha256sum, head into tmpfs, MD5 for Content-MD5, curl PUT
over TLS, and moto storing the part. moto (a Python dev server) is likely the bottleneck, so the
figure is a floor for the script, not a prediction for S3.
"""

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from harness import CASE_ID, INSTANCE_ID, MIB, Case, MotoServer, lime_image, run_script  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--part-mib", type=int, default=64)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="custody-bench-") as tmp:
        tmp = Path(tmp)
        server = MotoServer(tmp)
        try:
            size = args.size_mib * MIB
            image_path = tmp / "image.lime"
            with open(image_path, "wb") as f:  # a header, then pseudo-random data in 64 MiB blocks
                block = os.urandom(64 * MIB)
                f.write(lime_image([(0x1000, b"")])[:32])
                written = 32
                while written < size:
                    chunk = block[: min(len(block), size - written)]
                    f.write(chunk)
                    written += len(chunk)
            case = Case(server, "capture-memory", part_size=args.part_mib * MIB)
            case.add_get(f"lime:{os.uname().release}", b"bench module")
            parts = -(-size // case.part_size) + 1
            case.add_output("image", f"cases/{CASE_ID}/memory/{INSTANCE_ID}.lime", parts)
            case.add_output("report", f"cases/{CASE_ID}/memory/{INSTANCE_ID}.capture.json", 1)
            sandbox = tmp / "host"
            sandbox.mkdir()
            start = time.monotonic()
            run = run_script(
                "capture-memory",
                {"CaseId": CASE_ID, "InstanceId": INSTANCE_ID, "ManifestUrl": case.manifest_url()},
                sandbox=sandbox,
                cert=server.cert,
                extra_env={"CUSTODY_TEST_LOG": str(tmp / "calls.log"), "CUSTODY_TEST_IMAGE": str(image_path)},
                timeout=3600,
            )
            elapsed = time.monotonic() - start
            if run.returncode != 0:
                print(run.stderr, file=sys.stderr)
                return 1
            out = json.loads(run.stdout)
            expected = hashlib.sha256(image_path.read_bytes()).hexdigest()
            status = "ok" if out["image"]["sha256"] == expected else "HASH MISMATCH"
            mib = out["image"]["bytes"] / MIB
            print(
                f"stream-throughput: {mib:.0f} MiB in {out['image']['part_count']} parts of {args.part_mib} MiB: "
                f"{mib / elapsed:.1f} MiB/s end to end ({elapsed:.1f} s), "
                f"{mib / (out['stream_ms'] / 1000):.1f} MiB/s streaming; hash {status}"
            )
            return 0 if status == "ok" else 1
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
