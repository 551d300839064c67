"""Stand-in for `insmod lime.ko "path=tcp:PORT format=lime localhostonly=1"` (see insmod).

Logs the call (with the module's SHA-256) to $CUSTODY_TEST_LOG, then behaves per
$CUSTODY_TEST_INSMOD_MODE: "ok" (serve the whole image, exit 0), "fail-early" (exit 1 without
listening, like a refused module), "die-midway" (send half the image, exit 1).
"""

import hashlib
import os
import re
import socket
import sys

module, params = sys.argv[1], " ".join(sys.argv[2:])
with open(module, "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
with open(os.environ["CUSTODY_TEST_LOG"], "a") as log:
    log.write(f"insmod {digest} {module} {params}\n")

mode = os.environ.get("CUSTODY_TEST_INSMOD_MODE", "ok")
if mode == "fail-early":
    print("insmod: ERROR: could not insert module: Operation not permitted", file=sys.stderr)
    sys.exit(1)
match = re.fullmatch(r"path=tcp:(\d+) format=lime localhostonly=1", params)
if not match:
    print(f"insmod stand-in: unexpected parameters {params!r}", file=sys.stderr)
    sys.exit(2)

with socket.socket() as srv:
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(match.group(1))))
    srv.listen(1)
    conn, _ = srv.accept()
    with conn, open(os.environ["CUSTODY_TEST_IMAGE"], "rb") as image:
        size = os.fstat(image.fileno()).st_size
        if mode == "die-midway":
            conn.sendfile(image, 0, size // 2)
            sys.exit(1)
        conn.sendfile(image)
