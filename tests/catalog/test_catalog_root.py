"""`catalog://NAME[@V]` reads the catalog the command names (`--catalog`, else $GRISTMILL_HOME), at every
entry point that takes an input: a recipe's input, `run --input`, `prepare`, `tokenize`, train's data.text and
the Python API. Each test first shows that the default root does not hold the dataset, so it can only pass
when the option reaches the place where `catalog://` is resolved."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from gristmill.catalog.core import Catalog
from gristmill.engine.layout import Layout
from tests.catalog.helpers import clear_failure, recipe
from tests.conftest import ROOT, SAMPLE, gristmill

STEPS = [{"op": "length_filter", "params": {"min_words": 20}}]


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory):
    """A catalog that is not the default one (``web@1``: the sample's documents with at least 20 words), and
    an empty default root."""
    tmp = tmp_path_factory.mktemp("root")
    root = tmp / "elsewhere"
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:  # every 12th document: all domains, quick to tokenize
        (tmp / "small.jsonl").write_text("".join(line for i, line in enumerate(f) if i % 12 == 0))
    r = recipe(tmp / "web.yaml", str(tmp / "small.jsonl"), tmp / "web-out", STEPS)
    p = gristmill("run", r, "--workers", "2", "--into", "web", "--catalog", root)
    assert p.returncode == 0, p.stderr
    rows = Catalog(str(root)).get("web@1").manifest["rows"]
    return tmp, root, {"GRISTMILL_HOME": str(tmp / "default-empty")}, rows


def _kept(out: Path) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in Layout(out).kept_files())


def test_recipe_input_and_run_input(elsewhere):
    tmp, root, env, rows = elsewhere
    r = recipe(tmp / "r.yaml", "catalog://web@1", tmp / "o1", [{"op": "normalize_text"}])
    clear_failure(gristmill("run", r, "--workers", "1", env=env), 2, "unknown dataset 'web'")
    p = gristmill("run", r, "--workers", "1", "--catalog", root, "--into", "copy", env=env)
    assert p.returncode == 0, p.stderr
    assert _kept(tmp / "o1") == rows
    copy = Catalog(str(root)).get("copy@1").manifest  # registered where it was read from: lineage holds
    assert copy["parents"] == [{"kind": "version", "ref": "web@1"}]

    r2 = recipe(tmp / "r2.yaml", str(SAMPLE), tmp / "o2", [{"op": "normalize_text"}])
    p = gristmill("run", r2, "--workers", "1", "--input", "catalog://web", "--catalog", root, "--output", tmp / "o3",
                  env=env)
    assert p.returncode == 0, p.stderr
    assert _kept(tmp / "o3") == rows
    p = gristmill("run", r2, "--workers", "1", "--input", "catalog://web", "--output", tmp / "o4",
                  env={"GRISTMILL_HOME": str(root)})
    assert p.returncode == 0 and _kept(tmp / "o4") == rows


def test_prepare(elsewhere):
    tmp, root, env, rows = elsewhere
    args = ["prepare", "catalog://web@1", "--goal", "keep documents with at least 30 words", "--sample", "100"]
    clear_failure(gristmill(*args, "--output", tmp / "p0", env=env), 2, "unknown dataset 'web'")
    p = gristmill(*args, "--output", tmp / "p1", "--catalog", root, "--workers", "1", env=env)
    assert p.returncode == 0, p.stderr
    summary = json.loads(Layout(tmp / "p1").summary.read_text())
    assert summary["input"] == rows and summary["inputs"][0]["relpath"].startswith("web@1/")


def test_tokenize(elsewhere):
    pytest.importorskip("tokenizers")
    tmp, root, env, rows = elsewhere
    clear_failure(gristmill("tokenize", "catalog://web@1", "--output", tmp / "t0", env=env), 2, "unknown dataset")
    p = gristmill("tokenize", "catalog://web@1", "--output", tmp / "t1", "--vocab-size", "512", "--catalog", root, env=env)
    assert p.returncode == 0, p.stderr
    summary = json.loads((tmp / "t1" / "summary.json").read_text())
    docs = sum(part["docs"] for d in summary["domains"].values() for part in d.values())
    assert docs == rows


def test_train_data_text(elsewhere):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    tmp, root, env, rows = elsewhere
    sets = ["--set", "data.text=catalog://web@1", "--set", "data.vocab_size=512", "--check"]
    cfg = ROOT / "examples" / "train" / "tiny.yaml"
    clear_failure(gristmill("train", cfg, "--output", tmp / "tr0", *sets, env=env), 2, "unknown dataset 'web'")
    p = gristmill("train", cfg, "--output", tmp / "tr1", "--catalog", root, *sets, env=env)
    assert p.returncode == 0, p.stderr
    shards = json.loads((tmp / "tr1" / "shards" / "summary.json").read_text())
    assert sum(part["docs"] for d in shards["domains"].values() for part in d.values()) == rows


API = """
import sys
import gristmill as gm
r = gm.Recipe(input="catalog://web@1", steps=[gm.ops.normalize_text()], output=sys.argv[2])
print(r.run(workers=1, catalog=sys.argv[1]).summary["input"])
"""


def test_python_api(elsewhere):
    tmp, root, env, rows = elsewhere
    run = subprocess.run([sys.executable, "-c", API, str(root), str(tmp / "api")], capture_output=True, text=True,
                         env={**__import__("os").environ, **env, "PYTHONPATH": str(ROOT / "src")}, timeout=300)
    assert run.returncode == 0, run.stderr
    assert int(run.stdout.strip()) == rows


def test_model_fit_lm(elsewhere):
    tmp, root, env, rows = elsewhere
    clear_failure(gristmill("model", "fit-lm", "catalog://web@1", "--output", tmp / "lm0.npz", env=env), 2,
                  "unknown dataset 'web'")
    p = gristmill("model", "fit-lm", "catalog://web@1", "--output", tmp / "lm1.npz", "--catalog", root, env=env)
    assert p.returncode == 0, p.stderr
    assert f"trained on {rows:,} documents" in p.stderr


def test_a_local_catalog_is_read_without_fsspec(elsewhere):
    """Listing and reading a local catalog are plain file calls: fsspec (and asyncio with it, ~0.05 s of every
    command) is imported only for what needs it."""
    _, root, _, rows = elsewhere
    code = ("import sys\nfrom gristmill.catalog.core import Catalog\n"
            f"v = Catalog({str(root)!r}).get('web@1')\n"
            "print(v.manifest['rows'], 'fsspec' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(rows), "False"]
