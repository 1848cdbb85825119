"""Operators a user registers with ``@register`` run on every engine: Ray workers and local workers get
them from the driver (engine/custom_ops.py), whether they live in the script or in a module the workers
cannot import."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from gristmill.engine.layout import Layout
from tests.conftest import ROOT, write_jsonl

MODULE = '''
import pyarrow.compute as pc
from pydantic import Field

from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register


def _tag(text, suffix):  # a module-level helper the operator's code uses
    return pc.binary_join_element_wise(text, suffix, "")


@register
class Suffix(Operator):
    name = "user_suffix"
    family = "clean"
    description = "Appends a suffix to every text (a user's operator in a module only the driver can import)."

    class Params(OpParams):
        suffix: str = Field("!", min_length=1)

    def apply(self, batch):
        batch.set_column("text", _tag(batch.column("text"), self.params.suffix))
        return None
'''

SCRIPT = '''
import json, sys, threading, time
sys.path.insert(0, sys.argv[3])  # the user's module is importable here only, never in a worker's path

import pyarrow.compute as pc
import gristmill as gm
from gristmill.ops.base import Operator, Signal
from gristmill.ops.registry import register
import user_ops_module  # noqa: F401 - registers user_suffix


@register
class Shout(Operator):
    name = "user_shout"
    family = "clean"
    description = "Upper-cases the text and measures its length (a user's operator in the script itself)."
    signals = (Signal("chars", "int", "characters after upper-casing"),)

    def apply(self, batch):
        batch.set_column("text", pc.utf8_upper(batch.column("text")))
        return {"chars": pc.utf8_length(batch.column("text"))}


if __name__ == "__main__":
    engine, inp, _, out = sys.argv[1:5]
    if engine == "local":  # a live thread makes the local engine start workers from a fork server
        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
    recipe = gm.Recipe(input=inp, steps=[gm.ops.user_shout(), gm.ops.user_suffix(suffix=" [ok]"),
                                         gm.ops.length_filter(min_words=3)],
                       output=out, engine={"chunk_rows": 10})
    print(json.dumps(recipe.run(engine=engine, workers=2).summary["steps"]))
'''


def _run(engine: str, tmp_path) -> list[dict]:
    mod = tmp_path / "mods"
    mod.mkdir()
    (mod / "user_ops_module.py").write_text(MODULE)
    script = tmp_path / "pipeline.py"
    script.write_text(SCRIPT)
    data = write_jsonl(tmp_path / "in.jsonl", [{"id": f"d{i}", "text": "hello " * (i % 3 + 1)} for i in range(40)])
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0"}
    p = subprocess.run([sys.executable, str(script), engine, str(data), str(mod), str(out)], capture_output=True,
                       text=True, env=env, cwd=tmp_path, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    steps = {s["name"]: s for s in json.loads(p.stdout.strip().splitlines()[-1])}
    assert steps["user_shout"]["in"] == 40 and steps["length_filter"]["out"] == 26
    rows = pq.read_table(Layout(out).kept_files()[0]).to_pylist()
    assert all(r["text"].startswith("HELLO HELLO") and r["text"].endswith(" [ok]") for r in rows)
    assert all(r["user_shout.chars"] == len(r["text"]) - len(" [ok]") for r in rows)
    prov = [r for f in sorted(Layout(out).provenance_dir.glob("*.pq")) for r in pq.read_table(f).to_pylist()]
    assert [(r["id"], r["location"]) for r in prov] == [(f"d{i}", i + 1) for i in range(40)]  # on every engine
    return rows


def test_user_operators_on_local_workers(tmp_path):
    _run("local", tmp_path)


@pytest.mark.ray
def test_user_operators_on_ray(tmp_path):
    pytest.importorskip("ray")
    _run("ray", tmp_path)
