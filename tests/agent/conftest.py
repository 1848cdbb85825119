"""Shared fixtures: the bundled sample and dirty corpora (data/ at the repository root)."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path | None:
    for cand in (ROOT / "data", Path(os.environ.get("GRISTMILL_DATA_DIR", "/nonexistent"))):
        if (cand / "dirty.jsonl.gz").is_file() and (cand / "sample.jsonl.gz").is_file():
            return cand
    return None


@pytest.fixture(scope="session")
def data() -> Path:
    d = data_dir()
    if d is None:
        pytest.skip("bundled data/sample.jsonl.gz and data/dirty.jsonl.gz not present (merge the sample branch)")
    return d


@pytest.fixture(scope="session")
def dirty(data: Path) -> Path:
    return data / "dirty.jsonl.gz"


@pytest.fixture(scope="session")
def manifest(data: Path) -> dict:
    return json.loads((data / "dirty_manifest.json").read_text())


def read_jsonl(path: Path) -> list[dict]:
    op = gzip.open if str(path).endswith(".gz") else open
    rows = []
    with op(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


@pytest.fixture(scope="session")
def sample_rows(data: Path) -> list[dict]:
    return read_jsonl(data / "sample.jsonl.gz")


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def english_docs(sample_rows: list[dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 English documentation pages: an all-English corpus."""
    rows = [r for r in sample_rows if r["domain"] == "docs"][:300]
    return write_jsonl(tmp_path_factory.mktemp("en") / "docs.jsonl", rows)


@pytest.fixture(scope="session")
def mixed_small(sample_rows: list[dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 400-document multi-domain slice of the sample (every domain present)."""
    by: dict[str, list[dict]] = {}
    for r in sample_rows:
        by.setdefault(r["domain"], []).append(r)
    rows = [r for rows in by.values() for r in rows[:60]]
    return write_jsonl(tmp_path_factory.mktemp("mixed") / "mixed.jsonl", rows)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The real SmolLM2 run takes ~2 minutes on 2 cores: run it with `-m llama` or GRISTMILL_RUN_LLAMA=1."""
    if "llama" in (config.getoption("-m") or "") or os.environ.get("GRISTMILL_RUN_LLAMA") == "1":
        return
    skip = pytest.mark.skip(reason="slow local-model test: run with -m llama or GRISTMILL_RUN_LLAMA=1")
    for item in items:
        if "llama" in item.keywords:
            item.add_marker(skip)
