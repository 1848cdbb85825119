"""`gristmill catalog trace`: a document's source line/row through every parent version, its steps and
signals, and the step and rule that dropped it; and the provenance side table the engine writes for it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gristmill.engine.layout import Layout
from tests.catalog.helpers import clear_failure, ok_json, recipe
from tests.conftest import gristmill, write_jsonl

STEPS = [{"op": "normalize_text"}, {"op": "length_filter", "params": {"min_words": 5}}, {"op": "exact_dedup"}]
SIX = "one two three four five six"


def _inputs(folder: Path) -> Path:
    """Ids given by the input in a.jsonl (with a blank and a malformed line, so line numbers are not row
    numbers), none in n.jsonl (the fast JSON path), a Parquet file and a CSV file."""
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_text(
        '{"id": "a1", "text": "alpha beta gamma delta epsilon zeta eta theta"}\n'
        "\n"
        '{"id": "a2", "text": "too short"}\n'
        '{"id": "broken", "text": \n'
        '{"id": "a3", "text": "' + SIX + ' seven"}\n'
        '{"id": "a1dup", "text": "alpha beta gamma delta epsilon zeta eta theta"}\n')
    write_jsonl(folder / "n.jsonl", [{"text": f"{SIX} n{i}"} for i in range(30)])
    pq.write_table(pa.table({"id": ["p0", "p1", "p2"], "text": [f"{SIX} p0", "short p1", f"{SIX} seven p2"]}),
                   folder / "b.parquet")
    (folder / "c.csv").write_text(f"id,text\nc0,{SIX} c0\nc1,{SIX} c1 more\n")
    return folder


@pytest.fixture
def web(tmp_path):
    env = {"GRISTMILL_HOME": str(tmp_path / "catalog")}
    data = _inputs(tmp_path / "in")
    r = recipe(tmp_path / "web.yaml", str(data), tmp_path / "out", STEPS, engine={"chunk_rows": 7})
    p = gristmill("run", r, "--workers", "2", "--into", "web", env=env)
    assert p.returncode == 0, p.stderr
    return tmp_path, env


def _trace(env, ref, doc):
    return ok_json(gristmill("catalog", "trace", ref, doc, "--json", env=env))


def _steps(occ: dict) -> dict[str, dict]:
    return {s["step"]: s for s in occ["steps"]}


def test_the_provenance_table_names_every_parsed_document_where_it_was_read(web):
    tmp, _ = web
    lay = Layout(tmp / "out")
    prov = pa.concat_tables([pq.read_table(p) for p in sorted(lay.provenance_dir.glob("*.pq"))]).to_pylist()
    summary = __import__("json").loads(lay.summary.read_text())
    assert len(prov) == summary["kept"] + summary["dropped"]["total"]  # kept and dropped, every chunk
    generated = [r for r in prov if "#" in r["id"]]
    assert len(generated) == 30 and all(r["id"] == f"{r['source']}#L{r['location']}" for r in generated)
    given = {r["id"]: (r["source"], r["unit"], r["location"]) for r in prov if "#" not in r["id"]}
    assert given["a1"] == ("a.jsonl", "line", 1) and given["a3"] == ("a.jsonl", "line", 5)
    assert given["a1dup"] == ("a.jsonl", "line", 6) and "broken" not in given
    assert given["p2"] == ("b.parquet", "row", 2) and given["c1"] == ("c.csv", "line", 3)


def test_trace_kept_dropped_and_rejected_documents(web):
    tmp, env = web
    kept = _trace(env, "web@1", "a3")
    (occ,) = kept["occurrences"]
    assert occ["status"] == "kept" and occ["text"] == f"{SIX} seven"
    assert [s["status"] for s in occ["steps"]] == ["passed"] * 3
    assert _steps(occ)["length_filter"]["signals"]["words"] == 7
    (src,) = kept["sources"]
    assert src["kind"] == "input" and (src["file"], src["unit"], src["location"]) == ("a.jsonl", "line", 5)
    assert src["path"] == str(tmp / "in" / "a.jsonl") and src["fingerprint"].startswith("xxh3-128:")

    short = _trace(env, "web@1", "p1")["occurrences"][0]
    assert short["status"] == "dropped" and (short["step"], short["rule"]) == ("length_filter", "too_few_words")
    steps = _steps(short)
    assert steps["length_filter"]["rule_text"] == "length_filter.words >= 5"
    assert steps["length_filter"]["signals"]["words"] == 2 and steps["exact_dedup"]["status"] == "not reached"
    assert _trace(env, "web@1", "p1")["sources"][0]["location"] == 1  # Parquet rows count from 0

    dup = _trace(env, "web@1", "a1dup")["occurrences"][0]
    assert (dup["status"], dup["step"]) == ("dropped", "exact_dedup")

    bad = _trace(env, "web@1", "a.jsonl#L4")["occurrences"][0]  # the id gristmill would have given line 4
    assert bad["status"] == "rejected" and bad["kind"] == "malformed_json" and bad["location"] == 4

    text = gristmill("catalog", "trace", "web@1", "p1", env=env)
    assert text.returncode == 0 and "DROPPED by step 'length_filter', rule 'too_few_words'" in text.stdout
    assert "from input b.parquet row 1" in text.stdout
    clear_failure(gristmill("catalog", "trace", "web@1", "nope", env=env), 2, "no document with id 'nope' in web@1")


def test_trace_follows_a_document_through_every_parent_version(web):
    tmp, env = web
    steps = [{"op": "length_filter", "params": {"min_words": 8}}]
    r2 = recipe(tmp / "long.yaml", "catalog://web@1", tmp / "out2", steps)
    assert gristmill("run", r2, "--workers", "1", "--into", "long", env=env).returncode == 0
    r3 = recipe(tmp / "longer.yaml", "catalog://long@1", tmp / "out3", [{"op": "normalize_text"}])
    assert gristmill("run", r3, "--workers", "1", "--into", "longer", env=env).returncode == 0

    top = _trace(env, "longer@1", "a1")
    chain, node = [], top
    while True:
        chain.append((node["version"], node["occurrences"][0]["status"]))
        (src,) = node["sources"]
        if src["kind"] == "input":
            break
        assert src["id"] == "a1" and src["unit"] == "row"
        node = src["trace"]
    assert chain == [("longer@1", "kept"), ("long@1", "kept"), ("web@1", "kept")]
    assert (src["file"], src["location"]) == ("a.jsonl", 1)

    dropped = _trace(env, "long@1", "c0")  # kept by web@1, dropped by long@1's stricter filter
    assert dropped["occurrences"][0]["status"] == "dropped"
    parent = dropped["sources"][0]
    assert parent["ref"] == "web@1" and parent["trace"]["sources"][0]["file"] == "c.csv"
    assert parent["trace"]["sources"][0]["location"] == 2


def test_a_run_without_provenance_says_so(tmp_path):
    env = {"GRISTMILL_HOME": str(tmp_path / "catalog")}
    data = write_jsonl(tmp_path / "in" / "a.jsonl", [{"id": f"d{i}", "text": SIX} for i in range(4)])
    r = recipe(tmp_path / "r.yaml", str(data), tmp_path / "o", [{"op": "normalize_text"}],
               output_options={"provenance": False})
    assert gristmill("run", r, "--workers", "1", "--into", "web", env=env).returncode == 0
    assert not Layout(tmp_path / "o").provenance_dir.exists()
    node = _trace(env, "web@1", "d2")
    assert node["occurrences"][0]["status"] == "kept" and node["sources"] == [] and "no provenance" in node["note"]


def test_the_signals_note_only_when_the_recipe_turned_signals_off(tmp_path):
    """A recipe of filters on fields has no signal columns to show: no note blames keep_signals for that."""
    env = {"GRISTMILL_HOME": str(tmp_path / "catalog")}
    data = write_jsonl(tmp_path / "in" / "a.jsonl", [{"id": f"d{i}", "text": SIX} for i in range(4)])
    steps = [{"op": "filter", "name": "not_d0", "keep": "field('id') != 'd0'"}]
    for name, options in (("plain", {}), ("off", {"keep_signals": False})):
        r = recipe(tmp_path / f"{name}.yaml", str(data), tmp_path / name, steps, output_options=options)
        assert gristmill("run", r, "--workers", "1", "--into", name, env=env).returncode == 0
    assert "note" not in _trace(env, "plain@1", "d2")["occurrences"][0]
    assert "keep_signals: false" in _trace(env, "off@1", "d2")["occurrences"][0]["note"]
