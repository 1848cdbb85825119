"""How an incremental run knows its inputs: by name and bytes, in their order, and only what a full run over
the same inputs would read (small inputs; test_incremental.py compares whole versions on a richer corpus)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import gristmill as gm
from gristmill.catalog.manifest import CorruptManifest
from tests.catalog.incremental_corpus import _sample
from tests.conftest import write_jsonl

TEXTS = [r["text"] for r in _sample()[:40]]


def _docs(prefix: str, n: int, start: int = 0) -> list[dict]:
    return [{"id": f"{prefix}{i}", "text": TEXTS[start + i]} for i in range(n)]


def _run(tmp: Path, inputs: str | list[str], into: str = "web", incremental: bool = True, out: str = "o"):
    recipe = tmp / f"{out}.yaml"
    recipe.write_text(yaml.safe_dump({"name": "r", "input": {"path": inputs},
                                      "steps": [{"op": "normalize_text"}, {"op": "exact_dedup"}],
                                      "output": {"path": str(tmp / out)}}))
    return gm.Recipe.load(str(recipe)).run(workers=1, into=into, catalog=str(tmp / "cat"), incremental=incremental,
                                           overwrite=not incremental)


def _ids(tmp: Path, ref: str) -> list[str]:
    return gm.catalog.get(ref, str(tmp / "cat")).to_arrow().column("id").to_pylist()


def test_the_same_name_in_two_input_folders_runs_in_full(tmp_path):
    a, b = tmp_path / "A", tmp_path / "B"
    write_jsonl(a / "x.jsonl", _docs("p", 3))
    write_jsonl(b / "x.jsonl", _docs("q", 2, 3))
    _run(tmp_path, [str(a), str(b)])
    write_jsonl(a / "y.jsonl", _docs("r", 2, 5))
    done = _run(tmp_path, [str(a), str(b)])
    assert done.summary["incremental"]["mode"] == "full"
    assert "several inputs are named ['x.jsonl']" in done.summary["incremental"]["reason"]
    _run(tmp_path, [str(a), str(b)], into="full", incremental=False, out="f")
    assert _ids(tmp_path, "web@2") == _ids(tmp_path, "full@1")


def test_a_local_folder_named_like_a_catalog_version_is_carried(tmp_path):
    data = tmp_path / "in"
    write_jsonl(data / "dump@2023" / "a.jsonl", _docs("a", 2))
    write_jsonl(data / "dump@2024" / "b.jsonl", _docs("b", 1, 2))
    _run(tmp_path, str(data))
    shutil.move(data / "dump@2023", tmp_path / "archive")
    write_jsonl(data / "dump@2025" / "c.jsonl", _docs("c", 1, 3))
    done = _run(tmp_path, str(data))
    assert done.summary["incremental"]["mode"] == "incremental"
    assert done.summary["incremental"]["inputs_carried"] == ["dump@2023/a.jsonl"]
    assert _ids(tmp_path, "web@2") == ["a0", "a1", "b0", "c0"]


def test_a_file_renamed_onto_a_covered_name_is_a_changed_input(tmp_path):
    data = tmp_path / "in"
    write_jsonl(data / "a.jsonl", _docs("a", 2))
    write_jsonl(data / "b.jsonl", _docs("b", 2, 2))
    _run(tmp_path, str(data))
    (data / "a.jsonl").rename(data / "b.jsonl")
    write_jsonl(data / "c.jsonl", _docs("c", 1, 4))
    done = _run(tmp_path, str(data))
    assert done.summary["incremental"]["mode"] == "full" and "changed since web@1" in done.summary["incremental"]["reason"]
    assert _ids(tmp_path, "web@2") == ["a0", "a1", "c0"]


def test_a_damaged_run_version_under_a_columns_version_is_refused(tmp_path):
    import pyarrow as pa

    data = tmp_path / "in"
    write_jsonl(data / "a.jsonl", _docs("a", 2))
    _run(tmp_path, str(data))
    write_jsonl(data / "b.jsonl", _docs("b", 1, 2))
    _run(tmp_path, str(data))
    cat = gm.catalog.open(str(tmp_path / "cat"))
    cat.add_columns("web@2", pa.table({"id": _ids(tmp_path, "web@2"), "x.score": [1.0, 2.0, 3.0]}), {"kind": "run"})
    manifest = tmp_path / "cat" / "datasets" / "web" / "versions" / "000002.json"
    manifest.chmod(0o644)
    manifest.write_text(manifest.read_text().replace('"rows": 3', '"rows": 4'))
    write_jsonl(data / "c.jsonl", _docs("c", 1, 3))
    with pytest.raises(CorruptManifest):  # never built on web@1, past the damaged web@2
        _run(tmp_path, str(data))


def test_trace_lists_every_reading_of_an_id_along_the_chain(tmp_path):
    from gristmill.catalog.core import Catalog
    from gristmill.catalog.trace import trace

    data = tmp_path / "in"
    write_jsonl(data / "a.jsonl", _docs("d", 2))
    _run(tmp_path, str(data))
    write_jsonl(data / "b.jsonl", [{"id": "d1", "text": TEXTS[9]}])  # the same id, another document
    _run(tmp_path, str(data))
    node = trace(Catalog(str(tmp_path / "cat")), "web@2", "d1")
    assert [(s["file"], s.get("read_by")) for s in node["sources"]] == [("a.jsonl", "web@1"), ("b.jsonl", None)]
    assert len(node["occurrences"]) == 2
