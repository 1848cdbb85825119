"""Bad input never crashes a run and never disappears: each case lands in the rejects with its place and reason."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from tests.conftest import gristmill, read_kept, read_rejects, summary, write_jsonl

GOOD = [{"id": f"g{i}", "text": f"good document number {i} with a few words"} for i in range(3)]


def run_ok(recipe: Path, inp: Path, out: Path, *extra: str) -> dict:
    res = gristmill("run", recipe, "--input", inp, "--output", out, "--workers", "1", *extra)
    assert res.returncode == 0, res.stderr
    s = summary(out)
    assert s["balance"]["holds"], s["balance"]
    return s


def only_reject(out: Path) -> dict:
    rejects = read_rejects(out)
    assert len(rejects) == 1, rejects
    return rejects[0]


def test_malformed_json_line_is_rejected_with_its_line(tmp_path, identity_recipe):
    inp = write_jsonl(tmp_path / "in.jsonl", [GOOD[0], '{"text": "unterminated', GOOD[1]])
    s = run_ok(identity_recipe, inp, tmp_path / "out")
    assert (s["input"], s["kept"], s["rejected"]["total"]) == (3, 2, 1)
    r = only_reject(tmp_path / "out")
    assert (r["source"], r["unit"], r["location"], r["kind"]) == ("in.jsonl", "line", 2, "malformed_json")
    assert r["raw"] == '{"text": "unterminated'


def test_truncated_gzip_keeps_complete_lines_and_rejects_the_tail(tmp_path, identity_recipe):
    rows = [{"id": f"d{i}", "text": f"document {i} " + "word " * 50} for i in range(200)]
    whole = gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode())
    inp = tmp_path / "cut.jsonl.gz"
    inp.write_bytes(whole[: len(whole) * 2 // 3])
    s = run_ok(identity_recipe, inp, tmp_path / "out")
    kept = read_kept(tmp_path / "out").column("id").to_pylist()
    assert 0 < len(kept) < 200
    assert kept == [f"d{i}" for i in range(len(kept))]  # a prefix, in order
    r = only_reject(tmp_path / "out")
    assert r["kind"] == "truncated" and r["location"] == len(kept) + 1
    assert s["input"] == len(kept) + 1


def test_invalid_utf8_line_is_rejected(tmp_path, identity_recipe):
    inp = tmp_path / "bad.jsonl"
    inp.write_bytes(json.dumps(GOOD[0]).encode() + b"\n" + b'{"text": "caf\xe9 au lait"}\n' + json.dumps(GOOD[1]).encode() + b"\n")
    s = run_ok(identity_recipe, inp, tmp_path / "out")
    assert s["kept"] == 2
    r = only_reject(tmp_path / "out")
    assert (r["location"], r["kind"]) == (2, "invalid_utf8")


@pytest.mark.parametrize(
    "row, kind",
    [
        ({"id": "x", "body": "no text field"}, "missing_text"),
        ({"id": "x", "text": None}, "null_text"),
        ({"id": "x", "text": 42}, "non_string_text"),
        ({"id": "x", "text": ["a", "list"]}, "non_string_text"),
        ({"id": "x", "text": ""}, "empty_text"),
        ({"id": "x", "text": "   \n\t "}, "empty_text"),
    ],
)
def test_bad_text_values_are_rejected(tmp_path, identity_recipe, row, kind):
    inp = write_jsonl(tmp_path / "in.jsonl", [GOOD[0], row])
    s = run_ok(identity_recipe, inp, tmp_path / "out")
    assert s["kept"] == 1 and s["rejected"]["by_kind"] == {kind: 1}
    r = only_reject(tmp_path / "out")
    assert r["location"] == 2 and r["source"] == "in.jsonl"


def test_50mb_document_is_rejected_not_crashing_and_kept_when_allowed(tmp_path):
    big = {"id": "big", "text": ("lorem ipsum dolor sit amet " * 2_000_000)[: 50 << 20]}
    inp = write_jsonl(tmp_path / "in.jsonl", [GOOD[0], big, GOOD[1]])
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: t\nsteps: []\n")
    s = run_ok(recipe, inp, tmp_path / "out")
    assert s["kept"] == 2 and s["rejected"]["by_kind"] == {"too_large": 1}
    assert "50.0 MiB" in only_reject(tmp_path / "out")["reason"]
    roomy = tmp_path / "roomy.yaml"
    roomy.write_text(f"name: t\ninput: {{max_doc_bytes: {64 << 20}}}\nsteps: [{{op: length_filter}}]\n")
    s = run_ok(roomy, inp, tmp_path / "out2")
    assert s["kept"] == 3
    lengths = read_kept(tmp_path / "out2").column("length_filter.chars").to_pylist()
    assert max(lengths) == 50 << 20


def test_parquet_files_with_differing_schemas(tmp_path, identity_recipe):
    d = tmp_path / "in"
    d.mkdir()
    pq.write_table(pa.table({"id": ["a1", "a2"], "text": ["first file one", "first file two"], "domain": ["x", "y"]}), d / "a.parquet")
    pq.write_table(pa.table({"text": ["no id column here"], "domain": [7], "extra": [1.5]}), d / "b.parquet")
    pq.write_table(pa.table({"id": ["c1", "c2"], "text": [1, 2]}), d / "c.parquet")  # text is not a string
    pq.write_table(pa.table({"id": ["d1"], "body": ["wrong column name"]}), d / "d.parquet")
    res = gristmill("run", identity_recipe, "--input", d, "--output", tmp_path / "out", "--workers", "1")
    # every row of c.parquet is rejected for one reason: a mass reject, so exit 1 with the summary written
    assert res.returncode == 1 and "2 of the 2 rows of input file c.parquet" in res.stderr, res.stderr
    s = summary(tmp_path / "out")
    assert s["mass_rejects"] == [{"file": "c.parquet", "reason": "non_string_text", "rejected": 2, "of": 2}]
    assert (s["input"], s["kept"], s["rejected"]["total"]) == (6, 3, 3)
    assert s["rejected"]["by_kind"] == {"missing_text": 1, "non_string_text": 2}
    kept = read_kept(tmp_path / "out", columns=["id", "text"])
    assert sorted(kept.column("id").to_pylist()) == ["a1", "a2", "b.parquet#R0"]
    assert s["schema_conflicts"] == {"domain": ["int64", "string"]}
    assert s["schema_unified"] == {"domain": "string"}
    rejects = {(r["source"], r["location"]) for r in read_rejects(tmp_path / "out")}
    assert rejects == {("c.parquet", 0), ("c.parquet", 1), ("d.parquet", 0)}
    # the output reads as one table: every part carries the unified schema, the integer became its text
    parts = [str(p) for p in sorted((tmp_path / "out").glob("part-*.parquet"))]
    assert len(parts) > 1 and len({pq.read_schema(p).remove_metadata().to_string() for p in parts}) == 1
    whole = pads.dataset(parts, format="parquet").to_table(columns=["id", "domain", "extra"]).to_pylist()
    assert sorted((r["id"], r["domain"], r["extra"]) for r in whole) == [
        ("a1", "x", None), ("a2", "y", None), ("b.parquet#R0", "7", 1.5)]


def test_unify_parts_promotes_widens_and_falls_back_to_text(tmp_path):
    from gristmill.engine.unify import unify_parts

    pq.write_table(pa.table({"n": pa.array([1], pa.int32()), "v": [1], "m": [[1, 2]]}), tmp_path / "part-000000.parquet")
    pq.write_table(pa.table({"n": pa.array([2**40], pa.int64()), "v": [2.5], "m": ["plain"]}), tmp_path / "part-000001.parquet")
    pq.write_table(pa.table({"n": pa.array([None], pa.null())}), tmp_path / "part-000002.parquet")
    report = unify_parts(tmp_path)
    assert {k: r["unified"] for k, r in report.items()} == {"n": "int64", "v": "double", "m": "string"}
    rows = pads.dataset(str(tmp_path), format="parquet").to_table().to_pylist()
    assert rows == [{"n": 1, "v": 1.0, "m": "[1, 2]"}, {"n": 2**40, "v": 2.5, "m": "plain"},
                    {"n": None, "v": None, "m": None}]
    assert unify_parts(tmp_path) == {}  # idempotent: a resumed run finds nothing left to do


@pytest.mark.parametrize(
    "name, content, needle",
    [
        ("plain.jsonl.gz", b'{"text": "not compressed at all"}\n', "named as gzip"),
        ("data.parquet", b'{"text": "json pretending to be parquet"}\n', "not a Parquet file"),
        ("packed.jsonl", gzip.compress(b'{"text": "gzip without .gz"}\n'), "gzip-compressed"),
    ],
)
def test_content_that_contradicts_the_extension(tmp_path, identity_recipe, name, content, needle):
    d = tmp_path / "in"
    write_jsonl(d / "good.jsonl", GOOD)
    (d / name).write_bytes(content)
    s = run_ok(identity_recipe, d, tmp_path / "out")
    assert s["kept"] == 3 and s["rejected"]["by_kind"] == {"format_mismatch": 1}
    r = only_reject(tmp_path / "out")
    assert r["source"] == name and r["unit"] == "file" and needle in r["reason"]


def test_empty_file_is_reported(tmp_path, identity_recipe):
    d = tmp_path / "in"
    write_jsonl(d / "good.jsonl", GOOD)
    (d / "empty.jsonl").write_bytes(b"")
    (d / "empty2.jsonl.gz").write_bytes(gzip.compress(b""))
    s = run_ok(identity_recipe, d, tmp_path / "out")
    assert s["kept"] == 3 and s["rejected"]["by_kind"] == {"empty_file": 2}
    assert {r["source"] for r in read_rejects(tmp_path / "out")} == {"empty.jsonl", "empty2.jsonl.gz"}


def test_strict_fails_on_first_reject(tmp_path, identity_recipe):
    inp = write_jsonl(tmp_path / "in.jsonl", [GOOD[0], "nope", GOOD[1]])
    res = gristmill("run", identity_recipe, "--input", inp, "--output", tmp_path / "out", "--strict", "--workers", "1")
    assert res.returncode == 1
    assert "line 2" in res.stderr and "malformed JSON" in res.stderr
    assert gristmill("run", identity_recipe, "--input", inp, "--output", tmp_path / "out", "--workers", "1").returncode == 0


def test_mixed_formats_in_one_input(tmp_path, identity_recipe):
    d = tmp_path / "in"
    write_jsonl(d / "a.jsonl", GOOD[:1])
    write_jsonl(d / "b.jsonl.gz", GOOD[1:2], gz=True)
    import zstandard

    (d / "c.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(json.dumps(GOOD[2]).encode() + b"\n"))
    pq.write_table(pa.table({"text": ["from parquet"]}), d / "d.parquet")
    (d / "e.csv").write_text('id,text,note\ncsv1,"from csv, with comma",n\n')
    (d / "f.tsv").write_text("text\tnote\nfrom tsv\tm\n")
    (d / "README.md").write_text("not data: ignored in folders")
    s = run_ok(identity_recipe, d, tmp_path / "out")
    assert (s["input"], s["kept"]) == (6, 6)
    ids = read_kept(tmp_path / "out").column("id").to_pylist()
    assert ids == ["g0", "g1", "g2", "d.parquet#R0", "csv1", "f.tsv#L2"]
