"""The whole operator library runs with the network blocked (issue 3: everything runs offline).

A subprocess (and its engine workers) starts with ``offline/sitecustomize.py`` on PYTHONPATH, which makes
every socket connect / DNS lookup raise; it runs a recipe with every registered operator, per-document
ones then global ones, through the local engine on the bundled sample.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SAMPLE = ROOT / "data/sample.jsonl.gz"
# optional extra -> the module that provides it
EXTRA_MODULES = {"html": "selectolax", "tokenize": "tokenizers"}


def _optional_extras() -> set[str]:
    # the [project.optional-dependencies] table of pyproject.toml (installed metadata may be older)
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    return set(re.findall(r"^(\w[\w-]*)\s*=", section, re.M))


@pytest.mark.skipif(not SAMPLE.exists(), reason="bundled sample missing")
def test_every_operator_runs_with_network_blocked(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE / "offline"), str(ROOT / "src"), env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, str(HERE / "offline/run_library.py"), str(SAMPLE), str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["blocked"], "the network block was not active in the subprocess"
    summary = report["summary"]
    # an operator that raised (e.g. NetworkBlocked) on a document gets it quarantined as a reject
    assert summary["rejected"]["total"] == 0, summary["rejected"]
    assert summary["input"] > 3000 and summary["kept"] + summary["dropped"]["total"] == summary["input"]
    from gristmill.ops.registry import all_ops

    names = set(all_ops())
    assert set(report["ran"]) | set(report["missing_extra"]) == names
    # a left-out operator must name a genuinely optional extra, and that extra must really be absent
    optional = _optional_extras()
    for name, message in report["missing_extra"].items():
        m = re.search(r"gristmill\[(\w+)\]", message)
        assert m, f"{name}: missing-dependency error does not name an extra: {message}"
        extra = m.group(1)
        assert extra in optional, f"{name}: extra {extra!r} is not declared optional"
        module = EXTRA_MODULES.get(extra)
        assert module is None or importlib.util.find_spec(module) is None, f"{name}: {module} is installed"
    assert "gopher_quality" in report["ran"] and "exact_dedup" in report["ran"]
