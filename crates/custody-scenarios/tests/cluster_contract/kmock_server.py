"""Serves kmock's KubernetesEmulator on a free loopback port until killed.

Prints one line, "listening <url>", once the socket accepts connections: the contract tests
wait for it (with a deadline) instead of polling. kmock has no CLI server mode (TOOLING.md §3).

One correction makes the emulator answer like a real API server where custody depends on it:
the Status `reason` of a missing object is `NotFound` and of a duplicate create `AlreadyExists`
(kmock 0.8 writes "Object Not Found" / "Object Already Exists"). kube-rs, like client-go, reads
only a Status with reason `NotFound` as "absent"; any other 404 (a proxy's HTML page, an API
path that does not exist) stays an error, which is what a responder wants. The patch uses kmock's
private module, so tests/requirements.txt pins kmock exactly.
"""
import asyncio

import attrs
import kmock
from kmock._internal import k8s


@attrs.frozen
class ObjectNotFound(k8s.KubernetesObjectNotFoundError):
    reason: str = "NotFound"


@attrs.frozen
class ObjectConflict(k8s.KubernetesObjectConflictError):
    reason: str = "AlreadyExists"


k8s.KubernetesObjectNotFoundError = ObjectNotFound
k8s.KubernetesObjectConflictError = ObjectConflict


async def main() -> None:
    async with kmock.KubernetesEmulator() as emulator, kmock.Server(emulator, host="127.0.0.1") as server:
        print("listening", server.url, flush=True)
        await asyncio.Event().wait()


asyncio.run(main())
