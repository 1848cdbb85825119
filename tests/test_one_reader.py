"""One way in: `run`, `tokenize`, train's data.text, `model fit-*` and prepare's sample read inputs through io/.

Every entry point gets the same mixed input (JSONL.gz with one malformed line, CSV, Parquet, a run's output
folder, an output folder in the 0.1 layout) and must read the same documents and report the same reject,
with its file and line. On clean input each reads what the readers they replaced read, in the same order.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
import zstandard
from click.testing import CliRunner

from gristmill.agent.sampling import draw_sample
from gristmill.cli import _texts, main
from gristmill.engine.layout import Layout
from gristmill.io.documents import RejectLog
from gristmill.shards import build_shards, iter_records, open_shards
from gristmill.train.synthetic import make_corpus
from tests.conftest import gristmill, read_kept, read_rejects, summary, write_jsonl, write_recipe

pytest.importorskip("tokenizers")

BAD_LINE = 6  # the malformed line of a.jsonl.gz
SHORT = [{"id": f"short-{i}", "text": "too short", "domain": "books"} for i in range(3)]


def _docs() -> list[dict]:
    docs = make_corpus({"books": 20, "code": 20, "legal": 20}, seed=1)
    for i, d in enumerate(docs):
        if i % 4 == 0:
            del d["id"]  # the reader makes ids for these; the held-out split hashes their text
    return docs


DOCS = _docs()


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> dict:
    """Five sources of DOCS in five shapes; ``inputs`` names them as a user would."""
    root = tmp_path_factory.mktemp("mixed")
    files = root / "files"
    a = [json.dumps(d) for d in DOCS[0:15]]
    a.insert(BAD_LINE - 1, '{"text": "a line cut short')
    write_jsonl(files / "a.jsonl.gz", a, gz=True)
    csv_rows = DOCS[15:27]
    pcsv.write_csv(pa.table({"id": [d.get("id", "") for d in csv_rows], "text": [d["text"] for d in csv_rows],
                             "domain": [d["domain"] for d in csv_rows]}), files / "b.csv")
    pq.write_table(pa.Table.from_pylist(DOCS[27:39]), files / "c.parquet")
    # a run's output folder: its dropped rows (and the rest of .gristmill/) must not be read
    src = write_jsonl(root / "d.jsonl", DOCS[39:51] + SHORT)
    recipe = write_recipe(root / "r.yaml", [{"op": "length_filter", "params": {"min_words": 5}}])
    res = gristmill("run", recipe, "--input", src, "--output", root / "run_out", "--workers", "1")
    assert res.returncode == 0, res.stderr
    assert summary(root / "run_out")["dropped"]["total"] == len(SHORT)
    # an output folder in the 0.1 layout: kept rows at the top, the rest beside them
    old = root / "old_out"
    (old / ".gristmill").mkdir(parents=True)
    (old / ".gristmill" / "run.json").write_text(json.dumps({"run_key": "old"}))
    pq.write_table(pa.Table.from_pylist(DOCS[51:60]), old / "part-000000.parquet")
    (old / "dropped").mkdir()
    pq.write_table(pa.Table.from_pylist(SHORT), old / "dropped" / "s0-part-000000.parquet")
    (old / "summary.json").write_text(json.dumps({"kept": 9}))
    write_jsonl(old / "dropped_samples.jsonl", SHORT)
    return {"root": root, "inputs": [str(files), str(root / "run_out"), str(old)]}


def _texts_of(docs: list[dict]) -> list[str]:
    return sorted(d["text"] for d in docs)


def _decoded_shards(folder: Path) -> list[str]:
    """Every document of a shard folder (train and held-out), decoded back to its text."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    texts = []
    for split in ("train", "heldout"):
        for shard in open_shards(folder / split).values():
            texts += [tok.decode(shard.document(i)[:-1].tolist()) for i in range(shard.n_docs)]
    return sorted(texts)


def _assert_one_reject(line: str) -> None:
    assert "rejected 1 of 61 input records (1 malformed_json)" in line
    assert f"first: a.jsonl.gz line {BAD_LINE}: malformed JSON" in line


def _assert_details(path: Path) -> None:
    [row] = pq.read_table(path).to_pylist()
    assert (row["source"], row["unit"], row["location"], row["kind"]) == ("a.jsonl.gz", "line", BAD_LINE, "malformed_json")


# -- every entry point, the same mixed input ----------------------------------------------------------------


def test_run_reads_the_mixed_input(mixed, tmp_path):
    args = [x for p in mixed["inputs"] for x in ("--input", p)]
    res = gristmill("run", write_recipe(tmp_path / "id.yaml", []), *args, "--output", tmp_path / "o", "--workers", "1")
    assert res.returncode == 0, res.stderr
    assert sorted(read_kept(tmp_path / "o", ["text"])["text"].to_pylist()) == _texts_of(DOCS)
    [rej] = read_rejects(tmp_path / "o")
    assert (rej["source"], rej["location"], rej["kind"]) == ("a.jsonl.gz", BAD_LINE, "malformed_json")


def test_tokenize_reads_the_mixed_input(mixed, tmp_path):
    out = tmp_path / "shards"
    res = CliRunner().invoke(main, ["tokenize", *mixed["inputs"], "--output", str(out), "--vocab-size", "400"])
    assert res.exit_code == 0, res.output
    assert _decoded_shards(out) == _texts_of(DOCS)
    _assert_one_reject(res.stderr)
    assert str(out / ".gristmill" / "rejected" / "input.pq") in res.stderr
    _assert_details(Layout(out).rejected_dir / "input.pq")
    assert json.loads((out / "summary.json").read_text())["rejected"]["total"] == 1


def test_train_data_text_reads_the_mixed_input(mixed, tmp_path, capsys):
    pytest.importorskip("torch")
    from gristmill.train.config import DataConfig
    from gristmill.train.data import load_data

    cfg = DataConfig(text=mixed["inputs"], vocab_size=400, min_heldout_tokens=0)
    data = load_data(cfg, tmp_path / "train", seq_len=16)
    assert data.domains == ["books", "code", "legal"]
    assert _decoded_shards(tmp_path / "train" / "shards") == _texts_of(DOCS)
    line = capsys.readouterr().out
    assert line.startswith("[gristmill] data.text: ")
    _assert_one_reject(line)
    _assert_details(tmp_path / "train" / "shards" / ".gristmill" / "rejected" / "input.pq")


def test_fit_lm_reads_the_mixed_input(mixed, tmp_path):
    model = tmp_path / "lm.npz"
    res = CliRunner().invoke(main, ["model", "fit-lm", *mixed["inputs"], "--output", str(model)])
    assert res.exit_code == 0, res.output
    assert f"trained on {len(DOCS)} documents" in res.stderr
    _assert_one_reject(res.stderr)
    _assert_details(tmp_path / "lm.rejected.pq")
    assert sorted(_texts(tuple(mixed["inputs"]), "text", None, RejectLog())) == _texts_of(DOCS)
    books = _texts(tuple(mixed["inputs"]), "text", "domain=books", RejectLog())
    assert sorted(books) == _texts_of([d for d in DOCS if d["domain"] == "books"])


def test_fit_classifier_reads_the_mixed_input(mixed, tmp_path):
    model = tmp_path / "clf.npz"
    args = ["model", "fit-classifier", "--output", str(model), "--positive-where", "domain=books",
            "--negative-where", "domain=code"]
    for p in mixed["inputs"]:
        args += ["--positive", p, "--negative", p]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "trained on 20 positive and 20 negative documents" in res.stderr
    # both sides read the inputs, so the bad line is met twice
    assert "rejected 2 of 122 input records (2 malformed_json)" in res.stderr
    assert pq.read_table(tmp_path / "clf.rejected.pq").num_rows == 2


def test_prepare_sample_reads_the_mixed_input(mixed):
    smp = draw_sample(mixed["inputs"], n=1000)
    assert (smp.scanned, smp.unreadable) == (61, 1)
    assert _texts_of(smp.rows) == _texts_of(DOCS)
    _assert_one_reject(smp.rejects.line())


def test_prepare_reports_the_sample_rejects(mixed, tmp_path):
    from gristmill.agent.cli import prepare_command

    out = tmp_path / "p"
    # a goal the profile already shows to be unmeetable: the sample is read and reported, nothing is planned
    goal = "keep 90% of documents but only those over 10k words"
    res = CliRunner().invoke(prepare_command, [mixed["inputs"][0], "--goal", goal, "--output", str(out)])
    assert res.exit_code == 1 and "contradictory" in res.output
    assert f"sample: rejected 1 of 40 input records (1 malformed_json); first: a.jsonl.gz line {BAD_LINE}" in res.output
    _assert_details(Layout(out).prepare_dir / "sample_rejected.pq")


def test_sample_stops_counting_where_it_stops_reading(mixed):
    files = mixed["inputs"][0]
    before = draw_sample(files, n=100, max_scan=BAD_LINE - 1)
    at = draw_sample(files, n=100, max_scan=BAD_LINE)
    assert (before.scanned, before.unreadable, before.rejects.total) == (BAD_LINE - 1, 0, 0)
    assert (at.scanned, at.unreadable, at.rejects.total, at.rejects.records) == (BAD_LINE, 1, 1, BAD_LINE)


# -- catalog:// --------------------------------------------------------------------------------------------


def test_a_catalog_version_is_an_input_everywhere(tmp_path, monkeypatch):
    root = tmp_path / "catalog"
    monkeypatch.setenv("GRISTMILL_HOME", str(root))
    src = write_jsonl(tmp_path / "in.jsonl", DOCS + SHORT)
    recipe = write_recipe(tmp_path / "r.yaml", [{"op": "length_filter", "params": {"min_words": 5}}])
    res = gristmill("run", recipe, "--input", src, "--output", tmp_path / "o", "--workers", "1", "--into", "web",
                    env={"GRISTMILL_HOME": str(root)})
    assert res.returncode == 0, res.stderr
    for spec in ("catalog://web", "catalog://web@1"):
        out = tmp_path / f"shards-{spec[-1]}"
        tok = CliRunner().invoke(main, ["tokenize", spec, "--output", str(out), "--vocab-size", "400"])
        assert tok.exit_code == 0, tok.output
        assert _decoded_shards(out) == _texts_of(DOCS)
        assert "read 60 input records, none rejected" in tok.stderr
    fit = CliRunner().invoke(main, ["model", "fit-lm", "catalog://web@1", "--output", str(tmp_path / "lm.npz")])
    assert fit.exit_code == 0 and f"trained on {len(DOCS)} documents" in fit.stderr
    assert _texts_of(draw_sample("catalog://web@1", n=1000).rows) == _texts_of(DOCS)
    pytest.importorskip("torch")
    from gristmill.train.config import DataConfig
    from gristmill.train.data import load_data

    load_data(DataConfig(text="catalog://web@1", vocab_size=400, min_heldout_tokens=0), tmp_path / "t", seq_len=16)
    assert _decoded_shards(tmp_path / "t" / "shards") == _texts_of(DOCS)
    missing = CliRunner().invoke(main, ["tokenize", "catalog://nope", "--output", str(tmp_path / "x")])
    assert missing.exit_code == 2 and "nope" in missing.stderr


# -- clean input: what the replaced readers read, in the same order ---------------------------------------


def _reference_records(path: Path, fields: list[str]) -> list[dict]:
    """What shards.iter_records and the agent's sampler read before io/ was the only reader."""
    if path.suffix == ".parquet":
        return [{k: r.get(k) for k in fields} for r in pq.read_table(path).to_pylist()]
    raw = path.read_bytes()
    raw = gzip.decompress(raw) if path.suffix == ".gz" else raw
    raw = zstandard.ZstdDecompressor().decompressobj().decompress(raw) if path.suffix == ".zst" else raw
    return [{k: rec.get(k) for k in fields} for rec in map(json.loads, raw.decode().splitlines()) if rec]


def _write(docs: list[dict], path: Path) -> Path:
    lines = "".join(json.dumps(d) + "\n" for d in docs).encode()
    if path.suffix == ".parquet":  # every column named (from_pylist would take the first row's keys only)
        pq.write_table(pa.table({k: [d.get(k) for d in docs] for k in ("id", "text", "domain")}), path)
    elif path.suffix == ".zst":
        path.write_bytes(zstandard.ZstdCompressor().compress(lines))
    else:
        path.write_bytes(gzip.compress(lines, mtime=0) if path.suffix == ".gz" else lines)
    return path


@pytest.mark.parametrize("name", ["d.jsonl", "d.jsonl.gz", "d.jsonl.zst", "d.parquet"])
def test_clean_input_reads_the_same_records_in_the_same_order(tmp_path, name):
    path = _write(DOCS, tmp_path / name)
    fields = ["id", "text", "domain"]
    assert list(iter_records(str(path), fields)) == _reference_records(path, fields)
    smp = draw_sample(str(path), n=len(DOCS))  # a reservoir that holds everything keeps the input's order
    # the sampler gave JSONL rows as parsed; a null id is now absent in every format (the old sampler kept
    # it as None for Parquet only)
    full = _reference_records(path, ["id", "text", "domain"])
    assert smp.rows == [{k: v for k, v in r.items() if v is not None} for r in full]
    assert (smp.scanned, smp.unreadable) == (len(DOCS), 0)


def test_clean_input_makes_the_same_shards_in_every_format(tmp_path):
    """Same documents in the same order: byte-identical tokenizer and shards, whatever the format or split
    into files (the held-out split hashes ids, or texts where the input had no id, as before)."""
    one = build_shards(str(_write(DOCS, tmp_path / "all.jsonl")), tmp_path / "ref", vocab_size=400)
    assert one["rejected"] == {"records": len(DOCS), "total": 0, "by_kind": {}, "first": None, "details": None}
    parts = tmp_path / "parts"
    parts.mkdir()
    _write(DOCS[:20], parts / "1.jsonl.gz")
    _write(DOCS[20:40], parts / "2.parquet")
    rows = DOCS[40:]
    pcsv.write_csv(pa.table({"id": [d.get("id", "") for d in rows], "text": [d["text"] for d in rows],
                             "domain": [d["domain"] for d in rows]}), parts / "3.csv")
    build_shards(str(parts), tmp_path / "split", vocab_size=400)
    for rel in ["tokenizer.json"] + [f"{s}/{d}/{f}" for s in ("train", "heldout") for d in ("books", "code", "legal")
                                     for f in ("tokens.bin", "index.npy", "meta.json")]:
        assert (tmp_path / "ref" / rel).read_bytes() == (tmp_path / "split" / rel).read_bytes(), rel
    assert not (tmp_path / "ref" / ".gristmill").exists()  # nothing rejected, nothing written aside


# -- bad input: a reject with its place, never a crash, never a silent skip ----------------------------------


@pytest.fixture
def hostile(tmp_path) -> Path:
    folder = tmp_path / "hostile"
    write_jsonl(folder / "a.jsonl", [DOCS[0], "{not json", DOCS[1], {"text": None, "domain": "books"}])
    (folder / "b.jsonl").write_bytes(json.dumps(DOCS[2]).encode() + b"\n" + b'{"text": "\xff\xfe", "domain": "x"}\n')
    (folder / "c.jsonl.gz").write_bytes(gzip.compress((json.dumps(DOCS[3]) + "\n").encode() * 3)[:-8])  # no trailer
    (folder / "d.jsonl.gz").write_bytes(b'{"text": "named gzip, is plain text"}\n')
    (folder / "e.csv").write_text('id,text,domain\nx1,"fine text",code\nx2,"one field too many",code,extra\n')
    return folder


def test_hostile_input_is_rejected_with_places_by_every_reader(hostile, tmp_path):
    kinds = {"malformed_json", "null_text", "invalid_utf8", "truncated", "format_mismatch", "bad_csv_row"}
    log = RejectLog()
    assert len(list(iter_records(str(hostile), ["text"], rejects=log))) == 7  # a: 2, b: 1, c: 3, e: 1
    assert set(log.by_kind) == kinds and (log.total, log.records) == (6, 13)
    assert {(r["source"], r["location"]) for r in log.kept} >= {("a.jsonl", 2), ("a.jsonl", 4), ("b.jsonl", 2),
                                                              ("e.csv", 3)}
    with pytest.warns(UserWarning, match="iter_records: rejected 6 of 13 input records"):
        assert len(list(iter_records(str(hostile), ["text"]))) == 7  # without a log, a warning says so
    smp = draw_sample(str(hostile))
    assert (len(smp.rows), smp.scanned, smp.unreadable, set(smp.rejects.by_kind)) == (7, 13, 6, kinds)
    built = build_shards(str(hostile), tmp_path / "s", vocab_size=300)
    assert set(built["rejected"]["by_kind"]) == kinds and built["rejected"]["total"] == 6
    assert pq.read_table(tmp_path / "s" / built["rejected"]["details"]).num_rows == 6
    res = CliRunner().invoke(main, ["model", "fit-lm", str(hostile), "--output", str(tmp_path / "lm.npz")])
    assert res.exit_code == 0, res.output
    assert "trained on 7 documents" in res.stderr and "rejected 6 of 13 input records" in res.stderr


def test_a_domain_that_cannot_name_a_folder_is_rejected(tmp_path):
    docs = [{"text": f"a document about the river number {i}", "domain": d}
            for i, d in enumerate(["books", "../../escape", "", None, "books", "a/b", ".."])]
    out = tmp_path / "deep" / "shards"
    s = build_shards(str(write_jsonl(tmp_path / "in.jsonl", docs)), out, vocab_size=300)
    assert list(s["domains"]) == ["books"]
    assert s["rejected"]["by_kind"] == {"bad_domain": 5}
    assert not (tmp_path / "escape").exists() and sorted(p.name for p in (out / "train").iterdir()) == ["books"]
    reasons = pq.read_table(out / s["rejected"]["details"]).column("reason").to_pylist()
    assert any("cannot name a shard folder" in r for r in reasons) and any("missing domain" in r for r in reasons)
    # a clean rebuild leaves no stale rejects behind
    s2 = build_shards(str(write_jsonl(tmp_path / "ok.jsonl", docs[:1] + docs[4:5])), out, vocab_size=300)
    assert s2["rejected"]["total"] == 0 and not (out / ".gristmill" / "rejected" / "input.pq").exists()


def test_everything_rejected_says_why(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"body": "no text field here", "domain": "books"}] * 3)
    res = CliRunner().invoke(main, ["tokenize", str(src), "--output", str(tmp_path / "s")])
    assert res.exit_code == 2
    assert "rejected 3 of 3 input records (3 missing_text)" in res.stderr
    assert "missing text field 'text'" in res.stderr
    fit = CliRunner().invoke(main, ["model", "fit-lm", str(src), "--output", str(tmp_path / "lm.npz")])
    assert fit.exit_code == 2 and "3 missing_text" in fit.stderr
    bad_where = CliRunner().invoke(main, ["model", "fit-lm", str(src), "--where", "domain", "--output", "x.npz"])
    assert bad_where.exit_code == 2 and "FIELD=VALUE" in bad_where.stderr


def test_parquet_projection_reads_only_needed_columns_but_names_all_when_text_is_missing(tmp_path):
    wide = tmp_path / "wide.parquet"
    pq.write_table(pa.table({"text": ["a wide row"], "domain": ["books"], "blob": [np.zeros(4).tobytes()]}), wide)
    from gristmill.io.documents import DocumentReader

    [batch] = list(DocumentReader(str(wide), columns=["domain"]))
    assert batch.table.column_names == ["id", "text", "domain"]
    pq.write_table(pa.table({"body": ["x"], "domain": ["books"]}), tmp_path / "notext.parquet")
    log = RejectLog()
    assert list(DocumentReader(str(tmp_path / "notext.parquet"), columns=["domain"], rejects=log)) == []
    assert "this file's columns: body, domain" in log.kept[0]["reason"]


def test_every_reject_is_written_in_few_row_groups(tmp_path):
    rows = [{"text": f"document {i} without a domain"} for i in range(5000)]
    rows += [{"text": f"a book about the river number {i}", "domain": "books"} for i in range(2)]
    s = build_shards(str(write_jsonl(tmp_path / "in.jsonl", rows)), tmp_path / "s", vocab_size=300)
    assert s["rejected"]["by_kind"] == {"bad_domain": 5000} and s["rejected"]["records"] == 5002
    details = pq.ParquetFile(tmp_path / "s" / s["rejected"]["details"])
    assert details.metadata.num_rows == 5000 and details.metadata.num_row_groups <= 2
    assert details.read(columns=["location"]).column(0).to_pylist() == list(range(1, 5001))
