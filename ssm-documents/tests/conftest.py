"""Fixtures for the SSM-document tests: one moto S3 server (TLS, loopback) per session."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import MotoServer  # noqa: E402


@pytest.fixture(scope="session")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture
def sandbox(tmp_path):
    """The watched host paths (cwd, HOME, TMPDIR) plus the test's own files (log, image)."""
    box = tmp_path / "host"
    box.mkdir()
    return box
