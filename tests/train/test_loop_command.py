"""``gristmill loop`` end to end on a tiny corpus: versions and lineage, the refinement's drop, one fixed held-out
set for both rounds, the report, reuse on a rerun, and the spec's errors (issue 14 §5)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from gristmill.catalog.core import Catalog
from gristmill.cli import main
from gristmill.shards import open_shards, read_doc_map
from gristmill.train.synthetic import make_corpus, write_jsonl_gz

pytestmark = pytest.mark.train

ROOT = Path(__file__).resolve().parents[2]
DOCS = {"books": 60, "code": 60, "legal": 60, "noisy": 30}
TRAIN_YAML = """seed: 0
data: {vocab_size: 384, min_heldout_tokens: 256}
model: {config: {model_type: gpt2, n_layer: 1, n_head: 2, n_embd: 64}}
train: {seq_len: 32, batch_size: 8, max_tokens: 5120, lr: 0.003, warmup_steps: 5, eval_every: 5, eval_tokens: 256}
policy: {name: uniform}
"""


def _cli(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("loop")
    write_jsonl_gz(make_corpus(DOCS, seed=0), tmp / "corpus.jsonl.gz")
    (tmp / "recipe.yaml").write_text(f"input: {{path: '{tmp / 'corpus.jsonl.gz'}'}}\nsteps: []\n"
                                     f"output: {{path: '{tmp / 'unused'}'}}\n")
    (tmp / "train.yaml").write_text(TRAIN_YAML)
    (tmp / "loop.yaml").write_text(f"input: {tmp / 'corpus.jsonl.gz'}\nrecipe: recipe.yaml\nname: corpus\n"
                                   f"catalog: {tmp / 'cat'}\noutput: {tmp / 'out'}\nworkers: 1\n"
                                   f"train: {{config: {tmp / 'train.yaml'}}}\n")
    return tmp


@pytest.fixture(scope="module")
def looped(setup) -> tuple[Path, str]:
    res = _cli("loop", setup / "loop.yaml", "--keep", "field('train.r1.excess_loss') < -1.0")
    assert res.exit_code == 0, res.output
    return setup, res.output


def test_the_loop_makes_three_versions_with_lineage_and_compares_on_one_heldout_set(looped):
    tmp, output = looped
    cat = Catalog(str(tmp / "cat"))
    v1, v2, v3 = (cat.get(f"corpus@{i}") for i in (1, 2, 3))
    assert v1.manifest["rows"] == sum(DOCS.values())
    assert v2.manifest["lineage"]["kind"] == "run" and v2.manifest["lineage"]["version"] == "corpus@1"
    t2 = v2.to_arrow()
    assert "train.r1.excess_loss" in t2.column_names and "train.r1.draws" in t2.column_names
    # version 3 is exactly version 2's documents that pass the rule
    excess = dict(zip(t2["id"].to_pylist(), t2["train.r1.excess_loss"].to_pylist(), strict=True))
    expected = {i for i, x in excess.items() if x is not None and x < -1.0}
    kept = set(v3.to_arrow()["id"].to_pylist())
    assert kept == expected and 0 < len(kept) < len(excess)

    result = json.loads((tmp / "out" / "loop.json").read_text())
    assert result["versions"] == {"prepared": "corpus@1", "signals": "corpus@2", "refined": "corpus@3"}
    assert result["refined"]["dropped"] == len(excess) - len(kept)
    # both rounds evaluated on round 1's held-out documents, none of which round 2 trained on
    src1 = json.loads((tmp / "out" / "r1" / "source.json").read_text())
    src2 = json.loads((tmp / "out" / "r2" / "source.json").read_text())
    held = Path(src1["shards"]) / "heldout"
    assert Path(src2["heldout"]) == held.resolve()
    held_ids = {i for d in open_shards(held).values() for i in read_doc_map(d.path)["id"].to_pylist()}
    r2_train = {i for d in open_shards(Path(src2["shards"]) / "train").values()
                for i in read_doc_map(d.path)["id"].to_pylist()}
    assert held_ids and not held_ids & r2_train
    assert src2["excluded"] == len(held_ids & kept) > 0  # held-out documents the refinement kept were left out
    # the curves: both rounds, the same domains and evaluation points, equal tokens at the end
    c1, c2 = result["curves"]["r1"], result["curves"]["r2"]
    assert [r["tokens"] for r in c1] == [r["tokens"] for r in c2] and c1[-1]["tokens"] == 5120
    assert set(c1[-1]["heldout"]) == set(DOCS) == set(result["comparison"]["domains"])
    m1 = [json.loads(x) for x in (tmp / "out" / "r1" / "metrics.jsonl").read_text().splitlines()]
    assert [r["avg"] for r in c1] == [r["avg"] for r in m1]
    assert c1[0]["avg"] > c1[-1]["avg"]  # round 1 learnt something
    # the report
    html = (tmp / "out" / "report.html").read_text()
    assert "data:image/png;base64," in html and "corpus@3" in html
    assert (tmp / "out" / "curves.png").stat().st_size > 1000
    removed = result["removed"]
    assert sum(d["removed"] for d in removed.values()) == result["refined"]["dropped"]
    assert all(s["excess_loss"] >= -1.0 for d in removed.values() for s in d["sample"])
    assert set(result["phases"]) >= {"prepare", "train_r1", "score", "writeback", "refine", "train_r2"}
    assert "| average |" in output and "report:" in output


def test_a_rerun_reuses_every_phase_and_a_new_refinement_reruns_only_what_follows(looped):
    tmp, _ = looped
    cat = Catalog(str(tmp / "cat"))
    model = (tmp / "out" / "r1" / "model" / "model.safetensors").stat().st_mtime_ns
    res = _cli("loop", tmp / "loop.yaml", "--keep", "field('train.r1.excess_loss') < -1.0")
    assert res.exit_code == 0, res.output
    assert res.output.count(": reused") == 7  # train_control was skipped: nothing to redo either
    assert [v.number for v in cat.versions("corpus")] == [1, 2, 3]
    res = _cli("loop", tmp / "loop.yaml", "--drop-share", "0.2", "--control")
    assert res.exit_code == 0, res.output
    for phase in ("prepare", "train_r1", "score", "writeback"):
        assert f"{phase}: reused" in res.output
    for phase in ("refine", "train_r2", "train_control"):
        assert f"{phase}: reused" not in res.output
    # the control: round 2's settings on the unrefined version, on the same held-out documents
    result = json.loads((tmp / "out" / "loop.json").read_text())
    control = json.loads((tmp / "out" / "r2-control" / "source.json").read_text())
    assert control["ref"] == "corpus@1" and control["heldout"] == result["heldout"]["heldout"]
    ctl = result["comparison"]["control"]
    assert ctl["refinement_delta"]["avg"] == pytest.approx(result["comparison"]["avg"]["r2"] - ctl["avg"])
    assert len(result["curves"]["r2-control"]) == len(result["curves"]["r2"])
    assert "r2 - control" in res.output
    assert (tmp / "out" / "r1" / "model" / "model.safetensors").stat().st_mtime_ns == model
    v4 = cat.get("corpus@4")  # the agent's per-domain share, by excess loss
    before, after = cat.get("corpus@2").to_arrow(), v4.to_arrow()
    kept = set(after["id"].to_pylist())
    for dom in DOCS:
        rows = [(i, x) for i, x, d in zip(before["id"].to_pylist(), before["train.r1.excess_loss"].to_pylist(),
                                          before["domain"].to_pylist(), strict=True) if d == dom]
        dropped = [x for i, x in rows if i not in kept]
        assert len(dropped) == round(0.2 * len(rows))
        assert min(dropped) >= max(x for i, x in rows if i in kept)  # the highest excess losses went


@pytest.mark.parametrize(("spec", "args", "message"), [
    ("", [], "input: Field required"),
    ("input: x.jsonl\ngoal: g\nrecipe: r.yaml\n", [], "give goal or recipe, not both"),
    ("input: x.jsonl\ngoal: g\ntrian: {}\n", [], "trian: Extra inputs are not permitted"),
    ("input: x.jsonl\ngoal: g\nrefine: {drop_share: 1.5}\n", [], "refine.drop_share"),
    ("input: x.jsonl\ngoal: g\nrefine: {drop_share: 0.1, keep: 'x > 1'}\n", [], "give one of refine.goal"),
    ("input: x.jsonl\ngoal: g\nruns: [r1, r1]\n", [], "runs: two different names"),
    ("input: catalog://web@1\ngoal: g\n", [], "prepare nothing"),
    ("input: [unclosed\n", [], "not valid YAML"),
    ("input: x.jsonl\n", ["--goal", "g", "--tokens", "0"], "train.tokens"),
    ("input: x.jsonl\ngoal: g\ntrain: {config: missing.yaml}\n", [], "cannot read"),
    ("input: x.jsonl\ngoal: g\n", ["--config", str(Path(__file__).resolve().parents[2] / "examples/train/tiny.yaml"),
                                   "--set", "train.max_tokenz=5"], "max_tokenz"),
])
def test_a_bad_spec_is_one_line_exit_2_and_writes_nothing(tmp_path, spec, args, message):
    path = tmp_path / "loop.yaml"
    path.write_text(spec + f"output: {tmp_path / 'out'}\n" if not spec.startswith("input: [") else spec)
    res = CliRunner().invoke(main, ["loop", str(path), *args])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_version_without_a_domain_field_stops_the_loop_before_training(setup, tmp_path):
    records = [dict(r, source=r.pop("domain")) for r in make_corpus({"books": 20, "code": 20}, seed=1)]
    write_jsonl_gz(records, tmp_path / "flat.jsonl.gz")
    res = _cli("loop", "--input", tmp_path / "flat.jsonl.gz", "--recipe", setup / "recipe.yaml", "--name", "flat",
               "--catalog", tmp_path / "cat", "--output", tmp_path / "out", "--config", setup / "train.yaml",
               "--workers", "1")
    assert res.exit_code == 2 and "has no domain column 'domain'" in res.output
    assert not (tmp_path / "out" / "r1").exists()


def test_training_on_a_version_with_a_fixed_heldout_set_leaves_its_documents_out(looped, tmp_path):
    """``data.heldout`` beside a catalog version: evaluated on that set, its documents never trained on."""
    from gristmill.train.config import load_config
    from gristmill.train.loop import train

    tmp, _ = looped
    src1 = json.loads((tmp / "out" / "r1" / "source.json").read_text())
    held = Path(src1["shards"]) / "heldout"
    cfg = load_config(str(tmp / "train.yaml"), [
        "data.train=catalog://corpus@1", f"data.catalog={tmp / 'cat'}", f"data.heldout={held}",
        f"data.tokenizer={tmp / 'out' / 'r1' / 'model' / 'tokenizer.json'}", "train.max_tokens=512"],
        output=str(tmp_path / "fixed"))
    train(cfg)
    src = json.loads((tmp_path / "fixed" / "source.json").read_text())
    held_ids = {i for d in open_shards(held).values() for i in read_doc_map(d.path)["id"].to_pylist()}
    trained = set(pq.read_table(tmp_path / "fixed" / "doc_signals.parquet")["id"].to_pylist())
    assert src["excluded"] == len(held_ids) and not trained & held_ids
    assert len(trained) == sum(DOCS.values()) - len(held_ids) - len(DOCS)  # one own held-out per domain


def test_paths_in_a_spec_are_relative_to_its_folder_and_flags_to_the_working_directory(tmp_path, monkeypatch):
    from gristmill.loop.spec import load_spec

    (tmp_path / "sub").mkdir()
    spec = tmp_path / "sub" / "loop.yaml"
    spec.write_text("input: data/x.jsonl\nrecipe: r.yaml\noutput: out\ncatalog: s3://bucket/cat\n"
                    "train: {config: ../t.yaml}\n")
    s = load_spec(spec)
    assert (s.input, s.recipe, s.output) == tuple(str(tmp_path / "sub" / p) for p in ("data/x.jsonl", "r.yaml", "out"))
    assert s.train.config == str(tmp_path / "sub" / "../t.yaml") and s.catalog == "s3://bucket/cat"
    monkeypatch.chdir(tmp_path)
    assert load_spec(spec, {"output": "here"}).output == "here"
    assert load_spec(ROOT / "examples" / "loop" / "sample.yaml").input == str(ROOT / "examples" / "loop" /
                                                                             "../../data/sample.jsonl.gz")


def test_a_loop_can_start_from_a_catalog_version_and_keeps_its_dataset(looped, tmp_path):
    tmp, _ = looped
    res = _cli("loop", "--input", "catalog://corpus@1", "--catalog", tmp / "cat", "--output", tmp_path / "out",
               "--config", tmp / "train.yaml", "--keep", "field('train.r1.excess_loss') < 0", "--tokens", "2560")
    assert res.exit_code == 0, res.output
    result = json.loads((tmp_path / "out" / "loop.json").read_text())
    assert result["versions"]["prepared"] == "corpus@1"
    assert result["versions"]["signals"].startswith("corpus@") and result["versions"]["refined"].startswith("corpus@")
    assert result["comparison"]["tokens"] == 2560


def test_a_fixed_heldout_set_without_document_maps_is_refused(looped, tmp_path):
    import shutil

    from gristmill.errors import UsageError
    from gristmill.shards import DOC_MAP_FILE
    from gristmill.train.config import load_config
    from gristmill.train.loop import train

    tmp, _ = looped
    src1 = json.loads((tmp / "out" / "r1" / "source.json").read_text())
    held = tmp_path / "heldout"
    shutil.copytree(Path(src1["shards"]) / "heldout", held)
    (held / "code" / DOC_MAP_FILE).unlink()
    cfg = load_config(str(tmp / "train.yaml"), ["data.train=catalog://corpus@1", f"data.catalog={tmp / 'cat'}",
                                                f"data.heldout={held}"], output=str(tmp_path / "run"))
    with pytest.raises(UsageError, match="has no document map"):
        train(cfg)
    assert not (tmp_path / "run").exists()


def test_outside_a_checkout_the_default_config_is_bundled_and_a_wrong_input_writes_nothing(tmp_path, monkeypatch):
    """A new user in an empty folder: the default training config is the packaged one, and a mistyped input
    path is one line, exit 2, before the output folder or the catalog exists."""
    from gristmill.loop.spec import load_spec

    monkeypatch.chdir(tmp_path)
    spec = load_spec(None, {"input": "docs.jsonl", "goal": "english only"})
    assert Path(spec.train.config).is_file() and "examples" not in spec.train.config
    res = CliRunner().invoke(main, ["loop", "--input", "nope.jsonl", "--goal", "english only", "--output", "o",
                                    "--catalog", "c"])
    assert res.exit_code == 2 and "nope.jsonl" in res.output and "does not exist" in res.output
    assert not (tmp_path / "o").exists() and not (tmp_path / "c").exists()


def test_the_bundled_loop_config_is_the_example_tiny_config_without_its_data_and_output():
    """Two copies of one config (the package cannot read examples/): they must not drift apart."""
    import yaml

    from gristmill.loop.spec import bundled_train_config

    example = yaml.safe_load((Path(__file__).resolve().parents[2] / "examples/train/tiny.yaml").read_text())
    bundled = yaml.safe_load(Path(bundled_train_config()).read_text())
    example.pop("output")
    example["data"].pop("text")
    assert bundled == example
