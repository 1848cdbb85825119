"""An output folder is a clean dataset: every common reader loads it by folder path and gets the kept rows,
exactly; dropped and rejected rows, samples, summary and state sit in .gristmill/, which readers skip."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from gristmill.engine.layout import Layout, find_summary
from gristmill.shards import iter_records
from tests.conftest import gristmill, summary, write_jsonl, write_recipe

KEPT = [{"id": f"k{i}", "text": f"kept document {i} with enough plain words to pass the filter"} for i in range(30)]
SHORT = [{"id": f"s{i}", "text": "too short"} for i in range(7)]
DUPS = [{"id": f"c{i}", "text": KEPT[i]["text"]} for i in range(5)]
BAD = ['{"id": "broken", "text": ']


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("clean")
    inp = write_jsonl(root / "in.jsonl", [*KEPT, *SHORT, *DUPS, *BAD])
    recipe = write_recipe(root / "r.yaml", [{"op": "length_filter", "params": {"min_words": 5}}, {"op": "exact_dedup"}],
                          engine={"chunk_rows": 10})
    res = gristmill("run", recipe, "--input", inp, "--output", root / "out", "--workers", "1")
    assert res.returncode == 0, res.stderr
    s = summary(root / "out")
    assert (s["input"], s["kept"], s["dropped"]["total"], s["rejected"]["total"]) == (43, 30, 12, 1)
    return root / "out"


def test_only_kept_rows_at_the_top(out):
    top = sorted(p.name for p in out.iterdir())
    assert top[0] == ".gristmill" and all(n.startswith("part-") and n.endswith(".parquet") for n in top[1:])
    lay = Layout(out)
    assert lay.dropped_dir.is_dir() and lay.rejected_dir.is_dir() and lay.samples.is_file()
    assert pq.read_table(lay.dropped_dir).num_rows == 12 and pq.read_table(lay.rejected_dir).num_rows == 1


def test_pyarrow_and_pandas_load_the_folder(out):
    assert pq.read_table(out).num_rows == 30
    assert pads.dataset(out, format="parquet").count_rows() == 30
    pd = pytest.importorskip("pandas")
    frame = pd.read_parquet(out)
    assert len(frame) == 30 and set(frame["id"]) == {r["id"] for r in KEPT}


def test_duckdb_recursive_glob_counts_the_kept_rows_only(out):
    duckdb = pytest.importorskip("duckdb")
    assert duckdb.execute(f"select count(*) from '{out}/**/*.parquet'").fetchall() == [(30,)]


def test_polars_loads_the_top_level_parts(out):
    pl = pytest.importorskip("polars")
    # polars reads every file under a folder (it skips no "_" or "." names), so it takes the parts by glob
    assert pl.read_parquet(f"{out}/*.parquet").height == 30


def test_hugging_face_datasets_loads_the_folder(out):
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset("parquet", data_dir=str(out), split="train")
    assert ds.num_rows == 30


def test_model_fit_reads_only_kept_documents(out):
    texts = [r["text"] for r in iter_records([str(out)], ["text"])]
    assert len(texts) == 30 and "too short" not in texts


def test_summary_of_the_old_layout_is_still_found(tmp_path):
    old = tmp_path / "old"
    (old / ".gristmill").mkdir(parents=True)
    (old / ".gristmill" / "run.json").write_text(json.dumps({"run_key": "x"}))
    (old / "summary.json").write_text(json.dumps({"kept": 3}))
    assert find_summary(old) == old / "summary.json"
    assert Layout(old).is_legacy()
    (old / "rejected").mkdir()
    (old / "rejected" / "s0-part-000000.parquet").write_bytes(b"x")
    (old / "rejected" / "mine.txt").write_text("mine")
    own = {p.relative_to(old).as_posix() for p in Layout(old).own_entries()}
    assert own == {".gristmill", "summary.json", "rejected/s0-part-000000.parquet"}
