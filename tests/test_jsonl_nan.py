"""NaN and ±Infinity never turn into null on the way out: a JSONL output writes them as text and counts them,
the same form and count that a JSON input's NaN gets (summary ``numbers_kept_as_text``)."""

from __future__ import annotations

import gzip
import json
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gristmill.io.writers import jsonl_records
from tests.conftest import gristmill, read_kept, summary, write_jsonl, write_recipe

NAN, INF = float("nan"), float("inf")


def parquet_input(path):
    pq.write_table(pa.table({
        "id": ["a", "b", "c", "d"],
        "text": ["one doc", "two doc", "three doc", "four doc"],
        "score": [1.5, NAN, INF, -INF],
        "maybe": pa.array([None, 2.0, None, NAN], pa.float32()),
        "vec": [[1.0, NAN], [2.0], [], None],
        "meta": [{"w": -INF, "k": 1}, {"w": 0.5, "k": 2}, {"w": None, "k": 3}, {"w": 1.0, "k": 4}],
        "count": [1, 2, 3, 4],
    }), path)
    return path


def lines(out) -> dict[str, dict]:
    files = sorted(out.glob("part-*.jsonl*"))
    assert files
    texts = [gzip.decompress(f.read_bytes()).decode() if f.suffix == ".gz" else f.read_text() for f in files]
    rows = [json.loads(x) for t in texts for x in t.splitlines()]
    return {r["id"]: r for r in rows}


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz"])
@pytest.mark.parametrize("workers", ["1", "2"])
def test_parquet_nan_and_infinity_are_written_as_text_and_counted(tmp_path, fmt, workers):
    inp = parquet_input(tmp_path / "in.parquet")
    recipe = write_recipe(tmp_path / "r.yaml", steps=[], output={"format": fmt})
    res = gristmill("run", recipe, "--input", inp, "--output", tmp_path / "out", "--workers", workers)
    assert res.returncode == 0, res.stderr
    rows = lines(tmp_path / "out")
    assert [rows[k]["score"] for k in "abcd"] == [1.5, "NaN", "Infinity", "-Infinity"]
    assert [rows[k]["maybe"] for k in "abcd"] == [None, 2.0, None, "NaN"]  # null stays null
    assert [rows[k]["vec"] for k in "abcd"] == [[1.0, "NaN"], [2.0], [], None]
    assert rows["a"]["meta"] == {"w": "-Infinity", "k": 1} and rows["c"]["meta"] == {"w": None, "k": 3}
    assert [rows[k]["count"] for k in "abcd"] == [1, 2, 3, 4]
    assert summary(tmp_path / "out")["numbers_kept_as_text"] == {"score": 3, "maybe": 1, "vec": 1, "meta": 1}


def test_parquet_output_keeps_nan_as_nan_and_reports_nothing(tmp_path):
    inp = parquet_input(tmp_path / "in.parquet")
    res = gristmill("run", write_recipe(tmp_path / "r.yaml", steps=[]), "--input", inp, "--output", tmp_path / "out")
    assert res.returncode == 0, res.stderr
    score = read_kept(tmp_path / "out").column("score").to_pylist()
    assert score[0] == 1.5 and math.isnan(score[1]) and score[2:] == [INF, -INF]
    assert "numbers_kept_as_text" not in summary(tmp_path / "out")


def test_a_json_input_and_a_parquet_input_give_the_same_text(tmp_path):
    """The JSON reader keeps NaN as its text; the JSONL writer writes a float NaN as that same text."""
    inp = write_jsonl(tmp_path / "in.jsonl", ['{"id": "b", "text": "two doc", "score": NaN}',
                                              '{"id": "c", "text": "three doc", "score": Infinity}'])
    recipe = write_recipe(tmp_path / "r.yaml", steps=[], output={"format": "jsonl"})
    res = gristmill("run", recipe, "--input", inp, "--output", tmp_path / "from_json")
    assert res.returncode == 0, res.stderr
    from_json = lines(tmp_path / "from_json")
    res = gristmill("run", recipe, "--input", parquet_input(tmp_path / "in.parquet"), "--output", tmp_path / "from_pq")
    from_pq = lines(tmp_path / "from_pq")
    assert [from_json[k]["score"] for k in "bc"] == [from_pq[k]["score"] for k in "bc"] == ["NaN", "Infinity"]
    assert summary(tmp_path / "from_json")["numbers_kept_as_text"] == {"score": 2}


def test_maps_and_finite_tables_need_no_change():
    table = pa.table({"m": pa.array([[("x", NAN)], [("y", 1.0)]], pa.map_(pa.string(), pa.float64())),
                      "f": [0.0, -2.5]})
    records, counts = jsonl_records(table)
    assert counts == {"m": 1} and records[0]["m"] == [("x", "NaN")] and records[1]["m"] == [("y", 1.0)]
    assert jsonl_records(pa.table({"f": [0.0, -2.5], "s": ["NaN", "x"]}))[1] == {}
