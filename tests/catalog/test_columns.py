"""Columns added to a version as side files: every gristmill read sees them, the text is never rewritten,
ids must match the version exactly, and nothing is written when they do not."""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gristmill as gm
from gristmill.catalog.core import Catalog
from gristmill.errors import UsageError
from tests.conftest import gristmill, read_kept, write_jsonl

N = 120


@pytest.fixture
def web(tmp_path, monkeypatch):
    """``web@1``: 120 documents in three data files (chunks of 50), in a fresh catalog."""
    root = tmp_path / "cat"
    monkeypatch.setenv("GRISTMILL_HOME", str(root))
    r = random.Random(0)
    words = [f"w{j}" for j in range(2000)]
    rows = [{"id": f"d{i:03d}", "text": " ".join(r.choice(words) for _ in range(60 + i % 40)),
             "domain": ["a", "b", "c"][i % 3]} for i in range(N)]
    data = write_jsonl(tmp_path / "in.jsonl", rows)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"input: {{path: '{data}'}}\nsteps: []\noutput: {{path: '{tmp_path / 'out'}'}}\n"
                      "engine: {chunk_rows: 50}\n")
    version = gm.Recipe.load(str(recipe)).run(workers=1, into="web", catalog=str(root)).version
    assert len(version.manifest["files"]) == 3
    return Catalog(str(root)), version


def _signals(ids: list[str], order: list[int] | None = None) -> pa.Table:
    order = order if order is not None else list(range(len(ids)))
    return pa.table({"id": [ids[i] for i in order], "train.r1.loss": [float(i) / 10 for i in order],
                     "train.r1.draws": pa.array(order, pa.int64())})


def _store_files(root: Path) -> set[Path]:
    return {p for p in (root / "datasets").rglob("*") if p.is_file()}


def test_added_columns_are_side_files_and_read_as_ordinary_columns(web, tmp_path):
    cat, v1 = web
    ids = v1.to_arrow()["id"].to_pylist()
    before = _store_files(Path(cat.store.root))
    v2 = cat.add_columns("web@1", _signals(ids), {"kind": "run", "run": "r1"})
    assert v2.ref == "web@2" and v2.manifest["lineage"] == {"kind": "run", "run": "r1"}
    assert v2.manifest["parents"] == [{"kind": "version", "ref": "web@1"}]
    # the text is not rewritten: the same data files (keys and hashes); only the side files are new
    assert v2.manifest["files"] == v1.manifest["files"]
    new = _store_files(Path(cat.store.root)) - before
    sides = {Path(cat.store.root) / s["path"] for s in v2.manifest["side_files"]}
    assert new - {p for p in new if p.name.endswith(".json")} == sides and len(sides) == 3
    side_bytes = sum(p.stat().st_size for p in sides)
    data_bytes = sum(f["bytes"] for f in v1.manifest["files"])
    assert side_bytes < data_bytes / 5  # the new columns' size, not the data's
    for s in v2.manifest["side_files"]:
        assert pq.read_schema(Path(cat.store.root) / s["path"]).names == ["train.r1.loss", "train.r1.draws"]

    table = v2.to_arrow()
    assert table.column_names == ["id", "text", "domain", "train.r1.loss", "train.r1.draws"]
    assert table["id"].to_pylist() == ids
    assert table["train.r1.draws"].to_pylist() == list(range(N))
    assert v2.content_hash != v1.content_hash
    exported = cat.export("web@2", tmp_path / "exp")
    assert pq.read_table(exported[1]).column_names == table.column_names
    assert pq.read_table(exported[1])["train.r1.draws"].to_pylist() == list(range(50, 100))


def test_columns_given_in_another_order_are_matched_by_id_and_stack(web):
    cat, v1 = web
    ids = v1.to_arrow()["id"].to_pylist()
    order = list(range(N))
    random.Random(0).shuffle(order)
    cat.add_columns("web@1", _signals(ids, order), {"kind": "run", "run": "r1"})
    extra = pa.table({"id": ids[::-1], "train.r2.loss": [1.0 * i for i in range(N)][::-1]})
    v3 = cat.add_columns("web@2", extra, {"kind": "run", "run": "r2"})
    table = v3.to_arrow()
    assert table["train.r1.draws"].to_pylist() == list(range(N))  # realigned to the version's rows
    assert table["train.r2.loss"].to_pylist() == [1.0 * i for i in range(N)]
    assert [c for c in table.column_names if c.startswith("train.")] == ["train.r1.loss", "train.r1.draws",
                                                                         "train.r2.loss"]


@pytest.mark.parametrize("case", ["missing", "extra", "repeated", "clash", "no_id"])
def test_signals_that_do_not_match_the_version_are_refused_and_nothing_is_written(web, case):
    cat, v1 = web
    ids = v1.to_arrow()["id"].to_pylist()
    table = _signals(ids)
    if case == "missing":
        table, match = table.slice(1), "no row for"
    elif case == "extra":
        table = pa.concat_tables([table, pa.table({"id": ["zzz"], "train.r1.loss": [0.0],
                                                   "train.r1.draws": pa.array([0], pa.int64())})])
        match = "121 rows, web@1 has 120"
    elif case == "repeated":
        table = pa.concat_tables([table.slice(0, N - 1), table.slice(0, 1)])
        match = "repeat"
    elif case == "clash":
        table, match = pa.table({"id": ids, "text": ids}), "already has column"
    else:
        table, match = table.drop(["id"]), "no 'id' column"
    before = _store_files(Path(cat.store.root))
    with pytest.raises(UsageError, match=match):
        cat.add_columns("web@1", table, {"kind": "run", "run": "r1"})
    assert _store_files(Path(cat.store.root)) == before
    assert [v.number for v in cat.versions("web")] == [1]


def test_recipes_read_side_columns_and_trace_them_to_the_version(web, tmp_path):
    cat, v1 = web
    ids = v1.to_arrow()["id"].to_pylist()
    cat.add_columns("web@1", _signals(ids), {"kind": "run", "run": "r1"})
    recipe = tmp_path / "keep.yaml"
    recipe.write_text(f"input: {{path: 'catalog://web@2'}}\nsteps:\n  - op: filter\n"
                      f"    keep: \"field('train.r1.loss') < 3\"\noutput: {{path: '{tmp_path / 'kept'}'}}\n")
    proc = gristmill("run", recipe, "--workers", "1", "--into", "small")
    assert proc.returncode == 0, proc.stderr
    kept = read_kept(tmp_path / "kept")
    assert sorted(kept["id"].to_pylist()) == ids[:30]  # loss = row / 10 < 3
    assert "train.r1.draws" in kept.column_names
    shown = json.loads(gristmill("catalog", "show", "small@1", "--json").stdout)
    assert shown["parents"] == [{"kind": "version", "ref": "web@2"}]  # not web@1: the columns came from web@2
    lineage = json.loads(gristmill("catalog", "lineage", "small@1", "--json").stdout)
    assert lineage["parents"][0]["parents"][0]["ref"] == "web@1"


def test_external_readers_join_side_files_by_position(web):
    """What docs/catalog.md tells DuckDB users: data file i POSITIONAL JOIN its side file."""
    cat, v1 = web
    ids = v1.to_arrow()["id"].to_pylist()
    v2 = cat.add_columns("web@1", _signals(ids), {"kind": "run", "run": "r1"})
    root = Path(cat.store.root)
    data = root / v2.manifest["files"][1]["path"]
    side = root / next(s for s in v2.manifest["side_files"] if s["file"] == 1)["path"]
    rows = duckdb.sql(f"select id, \"train.r1.draws\" from read_parquet('{data}') positional join "
                      f"read_parquet('{side}')").fetchall()
    assert rows == [(ids[i], i) for i in range(50, 100)]


def test_tokenize_reads_a_side_column_as_the_domain(web, tmp_path):
    """`gristmill tokenize catalog://...` goes through the one reader, which joins side columns too."""
    cat, v1 = web
    ids = v1.to_arrow()["id"].to_pylist()
    cat.add_columns("web@1", pa.table({"id": ids, "bucket": ["low" if i < 60 else "high" for i in range(N)]}),
                    {"kind": "test"})
    proc = gristmill("tokenize", "catalog://web@2", "--output", tmp_path / "tok", "--domain-field", "bucket",
                     "--vocab-size", "300")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "tok" / "summary.json").read_text())
    assert {d: sum(s["docs"] for s in v.values()) for d, v in summary["domains"].items()} == {"high": 60, "low": 60}
