"""What the catalog tests share: a recipe writer, JSON from the CLI, and a local S3 server."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml


def recipe(path: Path, input: str | list[str], output: Path, steps: list[dict], **extra) -> Path:
    path.write_text(yaml.safe_dump({"name": path.stem, "input": {"path": input, **extra.pop("input_options", {})},
                                    "steps": steps, "output": {"path": str(output), **extra.pop("output_options", {})},
                                    **extra}, sort_keys=False))
    return path


def ok_json(proc: subprocess.CompletedProcess):
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def clear_failure(proc: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """Assert a one-message failure with ``code`` whose message holds every needle; returns stderr."""
    assert proc.returncode == code, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr
    for n in needles:
        assert n in proc.stderr, (n, proc.stderr)
    return proc.stderr


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@contextlib.contextmanager
def s3_server(tmp_path: Path, monkeypatch) -> Iterator[str]:
    """A local S3-compatible server (moto) with a fresh bucket; sets the environment that reaches it and
    yields the bucket's name (moto keeps buckets per process, so each test gets its own)."""
    moto_server = pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
               "GRISTMILL_S3_ENDPOINT": f"http://127.0.0.1:{port}", "XDG_CACHE_HOME": str(tmp_path / "cache")}
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        bucket = f"bucket-{uuid.uuid4().hex[:12]}"
        s3fs.S3FileSystem(client_kwargs={"endpoint_url": f"http://127.0.0.1:{port}"}).mkdir(bucket)
        yield bucket
    finally:
        server.stop()
