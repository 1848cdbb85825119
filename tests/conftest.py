"""Shared helpers: run the real CLI, write input files, read an output folder back."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gristmill.engine.layout import Layout

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample.jsonl.gz"
DIRTY = ROOT / "data" / "dirty.jsonl.gz"


def gristmill(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run the installed CLI as a user would, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "gristmill.cli", *map(str, args)],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def write_jsonl(path: Path, rows: list[Any], gz: bool = False) -> Path:
    data = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def write_recipe(path: Path, steps: list[dict] | None = None, **extra: Any) -> Path:
    import yaml

    doc = {"name": "test", "steps": steps if steps is not None else [{"op": "normalize_text"}], **extra}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def read_kept(out: Path, columns: list[str] | None = None) -> pa.Table:
    files = [f for f in Layout(out).kept_files() if f.suffix == ".parquet"]
    if not files:
        return pa.table({})
    return pa.concat_tables([pq.read_table(f, columns=columns) for f in files], promote_options="default")


def read_rejects(out: Path) -> list[dict]:
    files = sorted(Layout(out).rejected_dir.glob("*.pq"))
    return pa.concat_tables([pq.read_table(f) for f in files]).to_pylist() if files else []


def summary(out: Path) -> dict:
    return json.loads(Layout(out).summary.read_text())


@pytest.fixture
def identity_recipe(tmp_path: Path) -> Path:
    return write_recipe(tmp_path / "identity.yaml", steps=[])


@pytest.fixture(autouse=True)
def _isolated_operator_registry(monkeypatch):
    """Operators a test registers (generated ones, saved plugins) and the plugin path it exports stay in it."""
    from gristmill.ops import registry

    registry.all_ops()  # built-ins in first, so they are part of the snapshot
    saved = dict(registry._REGISTRY)
    monkeypatch.delenv("GRISTMILL_PLUGINS", raising=False)
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved)
