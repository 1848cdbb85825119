"""Training from a catalog version, per-document signals, and writing them back as a version (issue 14)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from click.testing import CliRunner

import gristmill as gm
from gristmill.catalog.core import Catalog
from gristmill.cli import main
from gristmill.errors import UsageError
from gristmill.shards import open_shards, read_doc_map
from gristmill.train.config import load_config
from gristmill.train.data import MixtureSampler
from gristmill.train.loop import train
from gristmill.train.model import build_model
from gristmill.train.score import score_run
from gristmill.train.synthetic import make_corpus, write_jsonl_gz
from gristmill.train.writeback import write_back

pytestmark = pytest.mark.train

DOCS = {"books": 80, "code": 80, "legal": 80, "chat": 12, "noisy": 40}


def _commit(tmp: Path, root: Path, records: list[dict], name: str = "corpus") -> gm.catalog.Version:
    src = write_jsonl_gz(records, tmp / f"{name}.jsonl.gz")
    recipe = tmp / f"{name}.yaml"
    recipe.write_text(f"input: {{path: '{src}'}}\nsteps: []\noutput: {{path: '{tmp / ('out-' + name)}'}}\n"
                      "engine: {chunk_rows: 100}\n")
    return gm.Recipe.load(str(recipe)).run(workers=1, into=name, catalog=str(root)).version


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    """A catalog holding ``corpus@1``: the test corpus (292 documents, 5 domains) in 3 data files."""
    tmp = tmp_path_factory.mktemp("cat")
    root = tmp / "catalog"
    version = _commit(tmp, root, make_corpus(DOCS, seed=0))
    assert version.ref == "corpus@1" and len(version.manifest["files"]) == 3
    return root


def _cfg(catalog: Path, output: Path, *overrides: str):
    base = [
        "data.train=catalog://corpus@1", f"data.catalog={catalog}", "data.vocab_size=384", f"output={output}",
        "model.config={model_type: gpt2, n_layer: 1, n_head: 2, n_embd: 64}", "train.seq_len=32",
        "train.batch_size=8", "train.max_tokens=10240", "train.lr=3e-3", "train.warmup_steps=5",
        "train.eval_every=10", "train.eval_tokens=512", "log.plot=false",
    ]
    return load_config(None, base + list(overrides))


@pytest.fixture(scope="module")
def run1(catalog, tmp_path_factory) -> Path:
    """One finished run on corpus@1 with its step-0 weights and first/last-draw losses (uniform policy)."""
    out = tmp_path_factory.mktemp("runs") / "r1"
    train(_cfg(catalog, out, "signals.save_init=true", "signals.doc_losses=true"))
    return out


def test_a_run_records_the_version_it_read_and_a_second_run_reuses_the_tokens(catalog, run1, tmp_path, monkeypatch):
    source = json.loads((run1 / "source.json").read_text())
    version = Catalog(str(catalog)).get("corpus@1")
    assert source["ref"] == "corpus@1" and source["content_hash"] == version.content_hash
    assert Path(source["shards"]).parent == catalog / "cache" / "shards"
    recorded = load_config(run1 / "config.yaml")
    assert recorded.data.train == "catalog://corpus@1" and recorded.data.version_hash == version.content_hash
    # every training document's map entry points at its own row of the version
    table = version.to_arrow()
    for dom, shard in open_shards(Path(source["shards"]) / "train").items():
        doc_map = read_doc_map(shard.path)
        rows = doc_map["row"].to_pylist()
        assert table["id"].take(rows).to_pylist() == doc_map["id"].to_pylist()
        assert set(table["domain"].take(rows).to_pylist()) == {dom}

    import gristmill.train.source as source_mod

    calls = []
    real = source_mod.build_shards
    monkeypatch.setattr(source_mod, "build_shards", lambda *a, **k: calls.append(1) or real(*a, **k))
    train(_cfg(catalog, tmp_path / "again", "train.max_tokens=2560"))
    assert calls == [] and json.loads((tmp_path / "again" / "source.json").read_text())["reused"] is True
    train(_cfg(catalog, tmp_path / "other", "train.max_tokens=2560", "data.heldout_fraction=0.1"))
    assert calls == [1]  # other split settings: another cached set


def test_draws_count_every_window_that_touched_a_document(catalog, run1):
    """Replay the run's sampler (uniform weights never change) and count, token by token, the documents whose
    tokens each window predicts: the loop's difference-array counts must be the same."""
    source = json.loads((run1 / "source.json").read_text())
    shards = list(open_shards(Path(source["shards"]) / "train").values())
    sampler = MixtureSampler(shards, 32, seed=0, rank=0)
    expected = [np.zeros(s.n_docs, dtype=np.int64) for s in shards]
    weights = np.full(len(shards), 1 / len(shards))
    for _ in range(10240 // (8 * 32)):
        sampler.sample(8, weights)
        for d, s in zip(*sampler.last_draw, strict=True):
            touched = {int(np.searchsorted(shards[d].offsets, t, side="right") - 1) for t in range(s + 1, s + 33)}
            expected[d][sorted(touched)] += 1
    got = pq.read_table(run1 / "doc_signals.parquet")
    by_id = dict(zip(got["id"].to_pylist(), got["draws"].to_pylist(), strict=True))
    for shard, counts in zip(shards, expected, strict=True):
        ids = read_doc_map(shard.path)["id"].to_pylist()
        assert [by_id[i] for i in ids] == counts.tolist()
    assert got["row"].to_pylist() == sorted(got["row"].to_pylist())


def test_first_and_last_draw_losses_show_learning(run1):
    t = pq.read_table(run1 / "doc_signals.parquet").to_pandas()
    drawn = t[t.draws > 0]
    assert drawn.first_loss.notna().all() and drawn.last_loss.notna().all()
    assert t[t.draws == 0].first_loss.isna().all()
    twice = drawn[drawn.draws >= 2]
    assert len(twice) > 20 and twice.first_loss.mean() > twice.last_loss.mean() + 0.5


def test_draws_survive_a_resume_exactly(catalog, tmp_path):
    common = ("train.max_tokens=6144", "train.ckpt_every=6", "signals.doc_losses=true")
    train(_cfg(catalog, tmp_path / "full", *common))
    train(_cfg(catalog, tmp_path / "cut", *common, "train.stop_at_step=12"))
    train(_cfg(catalog, tmp_path / "cut", *common, "train.resume=true"))
    full, cut = (pq.read_table(tmp_path / r / "doc_signals.parquet") for r in ("full", "cut"))
    assert full.equals(cut)


def test_mixture_json_holds_the_learnt_weights_and_utility(catalog, tmp_path):
    train(_cfg(catalog, tmp_path / "ado", "policy.name=ado", "policy.update_every=2"))
    mix = json.loads((tmp_path / "ado" / "mixture.json").read_text())
    metrics = [json.loads(x) for x in (tmp_path / "ado" / "metrics.jsonl").read_text().splitlines()]
    assert mix["policy"] == "ado" and mix["domains"] == sorted(DOCS) and mix["average"] is None
    assert mix["final"] == metrics[-1]["weights"]
    curves = mix["utility"]["curves"]
    assert set(curves) == set(DOCS) and all(c is None or c["slope"] >= 0 for c in curves.values())
    assert any(c is not None for c in curves.values())


def test_score_writes_every_document_in_version_order_and_writeback_commits_a_version(catalog, run1, tmp_path):
    version = Catalog(str(catalog)).get("corpus@1")
    report = score_run(run1, reference="init", batch_size=16)
    assert report.rows == report.docs_scored == 292 and report.tokens > 0 and report.tokens_per_s > 0
    signals = pq.read_table(run1 / "signals.parquet")
    assert signals["id"].to_pylist() == version.to_arrow()["id"].to_pylist()
    assert signals.column_names == ["id"] + [f"train.r1.{s}" for s in
                                             ("loss", "ref_loss", "excess_loss", "draws", "first_loss", "last_loss")]
    df = signals.to_pandas()
    assert np.allclose(df["train.r1.excess_loss"], df["train.r1.loss"] - df["train.r1.ref_loss"])
    assert (df["train.r1.ref_loss"] > df["train.r1.loss"] + 1).all()  # the step-0 model knows nothing
    doc = pq.read_table(run1 / "doc_signals.parquet").to_pandas().set_index("id")
    merged = df.set_index("id").join(doc, how="left")
    assert (merged["train.r1.draws"] == merged["draws"].fillna(0)).all()  # held-out documents: 0 draws

    # a document's loss: its tokens after an eos, eos included, predicted in pieces of seq_len, one piece at a
    # time here (no batching, no padding)
    model = build_model(load_config(run1 / "config.yaml").model.model_copy(update={"path": str(run1)}), 384, 32, 0)
    from gristmill.shards import load_tokenizer
    from gristmill.train.model import per_token_loss

    tok = load_tokenizer(run1 / "model" / "tokenizer.json")
    texts = version.to_arrow()["text"].to_pylist()
    for i in (0, 150, 291):
        seq = [0, *tok.encode_batch([texts[i]])[0].ids, 0]
        with torch.no_grad():
            losses = [per_token_loss(model.eval(), torch.tensor([seq[a : a + 33]]))[0] for a in range(0, len(seq) - 1, 32)]
        assert df["train.r1.loss"][i] == pytest.approx(float(torch.cat(losses).mean()), rel=1e-5)

    v2 = write_back(run1)
    assert v2.ref == "corpus@2"
    lineage = v2.manifest["lineage"]
    assert lineage["kind"] == "run" and lineage["run"] == "r1" and lineage["version"] == "corpus@1"
    assert lineage["checkpoint_hash"] == report.checkpoint_hash and lineage["config_hash"].startswith("xxh3-128:")
    table = v2.to_arrow()
    assert table["train.r1.loss"].to_pylist() == df["train.r1.loss"].tolist()
    assert v2.manifest["files"] == version.manifest["files"]  # the text was not rewritten

    # a run on the new version reuses the tokens of corpus@1: the added columns are not text
    out = tmp_path / "r2"
    train(_cfg(catalog, out, "data.train=catalog://corpus@2", "train.max_tokens=2560"))
    assert json.loads((out / "source.json").read_text())["reused"] is True


def _cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_score_and_writeback(catalog, run1, tmp_path):
    run = tmp_path / "cli-run"
    shutil.copytree(run1, run)
    res = _cli("train", "score", run, "--batch-size", "8", "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["run"] == "cli-run" and report["measured"]["ref_loss"] is False and report["docs_per_s"] > 0
    assert pq.read_table(run / "signals.parquet")["train.cli-run.ref_loss"].null_count == 292
    res = _cli("train", "writeback", run, "--catalog", catalog, "--tag", "scored")
    assert res.exit_code == 0, res.output
    assert "train.cli-run.loss" in res.output
    ref = res.output.split()[1].rstrip(":")
    assert Catalog(str(catalog)).tags("corpus")["scored"] == int(ref.split("@")[1])


# --- bad input: each a clear error, exit 2, nothing written ---------------------------------------------


def test_a_version_without_a_domain_field_is_refused_before_anything_is_written(tmp_path):
    root = tmp_path / "cat"
    records = [dict(r, source=r.pop("domain")) for r in make_corpus({"books": 30, "code": 30}, seed=1)]
    _commit(tmp_path, root, records, name="flat")
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(_cfg(root, tmp_path / "out", "data.train=catalog://flat@1").model_dump_json())
    res = _cli("train", cfg_file)
    assert res.exit_code == 2 and "has no domain column 'domain'" in res.output and "data.domain_field" in res.output
    assert not (tmp_path / "out").exists() and not (root / "cache").exists()
    res = _cli("train", cfg_file, "--set", "data.domain_field=source", "--set", "train.max_tokens=256",
               "--set", "data.min_heldout_tokens=64")
    assert res.exit_code == 0, res.output  # any column may name the domain
    assert json.loads((tmp_path / "out" / "mixture.json").read_text())["domains"] == ["books", "code"]


def test_a_tokenizer_that_did_not_make_the_shards_is_refused(catalog, run1, tmp_path, shards):
    from gristmill.shards import train_bpe

    other = tmp_path / "other.json"  # a tokenizer trained on other text
    train_bpe((r["text"] for r in make_corpus({"legal": 40}, seed=3)), vocab_size=384).save(str(other))
    # explicit shard folders with a tokenizer that did not make them
    cfg = load_config(None, [f"data.train={shards / 'train'}", f"data.heldout={shards / 'heldout'}",
                             f"data.tokenizer={other}", f"output={tmp_path / 'o1'}", "train.seq_len=32"])
    with pytest.raises(UsageError, match="did not make the shards"):
        train(cfg)
    # a cached shard set whose tokenizer is not the one its key names (changed by hand)
    cfg = _cfg(catalog, tmp_path / "o2", f"data.tokenizer={other}", "train.max_tokens=2560")
    train(cfg)
    cached = Path(json.loads((tmp_path / "o2" / "source.json").read_text())["shards"])
    for meta in cached.glob("*/*/meta.json"):
        m = json.loads(meta.read_text())
        meta.write_text(json.dumps(m | {"tokenizer_hash": "0123456789abcdef"}))
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(_cfg(catalog, tmp_path / "o3", f"data.tokenizer={other}").model_dump_json())
    res = _cli("train", cfg_file)
    assert res.exit_code == 2 and "was tokenized by tokenizer 0123456789abcdef" in res.output
    assert not (tmp_path / "o3").exists()


def test_scoring_a_run_without_its_model_is_refused(run1, tmp_path):
    run = tmp_path / "unfinished"
    shutil.copytree(run1, run, ignore=shutil.ignore_patterns("signals.*"))
    shutil.rmtree(run / "model")
    res = _cli("train", "score", run)
    assert res.exit_code == 2 and "has no trained model" in res.output and "resume it" in res.output
    assert not (run / "signals.parquet").exists()


def test_scoring_a_version_the_model_never_saw_needs_force(catalog, run1, tmp_path):
    _commit(tmp_path, catalog, make_corpus({"books": 10, "code": 10}, seed=5), name="unseen")
    run = tmp_path / "run"
    shutil.copytree(run1, run, ignore=shutil.ignore_patterns("signals.*"))
    res = _cli("train", "score", run, "--version", "catalog://unseen@1")
    assert res.exit_code == 2 and "never saw" in res.output and "--force" in res.output
    assert not (run / "signals.parquet").exists()
    res = _cli("train", "score", run, "--version", "catalog://unseen@1", "--force")
    assert res.exit_code == 0, res.output
    t = pq.read_table(run / "signals.parquet")
    assert t.num_rows == 20 and t["train.run.loss"].null_count == 0 and t["train.run.draws"].null_count == 20


def test_signals_whose_ids_do_not_match_the_version_are_refused(catalog, run1, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run1, run)
    if not (run / "signals.parquet").exists():
        score_run(run, batch_size=16)
    t = pq.read_table(run / "signals.parquet")
    t = t.set_column(0, "id", pa.array([f"x{i}" if i == 7 else v for i, v in enumerate(t["id"].to_pylist())]))
    pq.write_table(t, run / "signals.parquet")
    before = [v.number for v in Catalog(str(catalog)).versions("corpus")]
    res = _cli("train", "writeback", run, "--catalog", catalog)
    assert res.exit_code == 2 and "no row for" in res.output, res.output
    assert [v.number for v in Catalog(str(catalog)).versions("corpus")] == before


def test_a_fixed_heldout_set_replaces_the_versions_split_for_evaluation(catalog, tmp_path):
    """``data.heldout`` with a catalog version: evaluation on the given shard set (whose documents are kept out
    of training; tests/train/test_loop_command.py checks that part), which needs the same tokenizer and domains."""
    from gristmill.shards import build_shards

    def metrics(out: Path) -> list[dict]:
        return [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]

    train(_cfg(catalog, tmp_path / "a", "train.max_tokens=2560"))
    cached = Path(json.loads((tmp_path / "a" / "source.json").read_text())["shards"])
    tok = f"data.tokenizer={cached / 'tokenizer.json'}"
    other = tmp_path / "other"  # other held-out text, same domains and tokenizer
    build_shards(str(write_jsonl_gz(make_corpus(DOCS, seed=7), tmp_path / "other.jsonl.gz")), other,
                 tokenizer=str(cached / "tokenizer.json"))
    train(_cfg(catalog, tmp_path / "c", "train.max_tokens=2560", tok, f"data.heldout={other / 'heldout'}"))
    source = json.loads((tmp_path / "c" / "source.json").read_text())
    assert source["heldout"] == str((other / "heldout").resolve())
    a, c = metrics(tmp_path / "a"), metrics(tmp_path / "c")
    assert len(a) == len(c) and all(r["heldout"] != s["heldout"] for r, s in zip(a, c, strict=True))
    assert set(c[-1]["heldout"]) == set(a[-1]["heldout"])  # the same domains, evaluated on other documents
    shutil.rmtree(other / "heldout" / "chat")  # every training domain needs its held-out shard
    with pytest.raises(UsageError, match="held-out split missing for domain 'chat'"):
        train(_cfg(catalog, tmp_path / "d", "train.max_tokens=2560", tok, f"data.heldout={other / 'heldout'}"))
