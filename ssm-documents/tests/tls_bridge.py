"""A loopback bridge that speaks both HTTPS and plain HTTP on ONE port, in front of a plain-HTTP
server (moto, as custody-aws's Rust test harness starts it).

Why: the custody scripts only talk HTTPS (`curl --proto =https`), while the Rust SDK clients of
the tests talk plain HTTP to moto. A presigned URL signs the host and port but not the scheme, so
with both on the same port the URLs custody-aws presigns (`http://127.0.0.1:PORT/...`) work for
the script unchanged except for `https://`: exactly what the same URLs look like on real S3.

Each connection is sniffed: a TLS ClientHello (first byte 0x16) is answered with a self-signed
certificate for 127.0.0.1 (harness.make_tls_cert; curl is told to trust it through
CURL_CA_BUNDLE), anything else is forwarded as is. Bytes are forwarded unchanged both ways.

It corrects one moto defect on the way back: moto 5.2.5 names ListParts' root element
`ListPartsResponse` where S3 (and the Rust SDK, which checks) say `ListPartsResult`. The fix is a
same-length substitution (`<ListPartsResult   xmlns=...>`, `</ListPartsResult  >`: whitespace
XML allows in tags), so Content-Length stays right without parsing HTTP.

Usage: tls_bridge.py UPSTREAM_PORT WORKDIR. Prints one line, `PORT CERT_PATH`, once listening;
runs until killed. Used by crates/custody-aws/tests/moto/host_upload.rs.
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import make_tls_cert  # noqa: E402


FIXES = [
    (b"<ListPartsResponse", b"<ListPartsResult  "),
    (b"</ListPartsResponse>", b"</ListPartsResult  >"),
]
LONGEST = max(len(bad) for bad, _ in FIXES)


def held_back(data: bytes) -> int:
    """How many trailing bytes of DATA could be the start of a tag to fix (kept until the rest
    arrives; the server never stops mid-tag, so this cannot stall a response)."""
    for n in range(min(LONGEST - 1, len(data)), 0, -1):
        if any(bad.startswith(data[-n:]) for bad, _ in FIXES):
            return n
    return 0


def fix(data: bytes) -> bytes:
    for bad, good in FIXES:
        data = data.replace(bad, good)
    return data


def pump(src: socket.socket, dst: socket.socket, rewrite: bool = False) -> None:
    pending = b""
    try:
        while chunk := src.recv(1 << 16):
            if not rewrite:
                dst.sendall(chunk)
                continue
            pending = fix(pending + chunk)
            keep = held_back(pending)
            dst.sendall(pending[: len(pending) - keep])
            pending = pending[len(pending) - keep :]
        if pending:
            dst.sendall(pending)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client: socket.socket, upstream_port: int, tls: ssl.SSLContext) -> None:
    try:
        first = client.recv(1, socket.MSG_PEEK)
        if first[:1] == b"\x16":
            client = tls.wrap_socket(client, server_side=True)
        upstream = socket.create_connection(("127.0.0.1", upstream_port))
    except OSError:
        client.close()
        return
    back = threading.Thread(target=pump, args=(upstream, client, True), daemon=True)
    back.start()
    pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def main() -> None:
    upstream_port = int(sys.argv[1])
    cert, key = make_tls_cert(Path(sys.argv[2]))
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(f"{listener.getsockname()[1]} {cert}", flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, upstream_port, tls), daemon=True).start()


if __name__ == "__main__":
    main()
