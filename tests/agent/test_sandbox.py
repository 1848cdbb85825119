"""The sandbox for LLM-written operators: good code is accepted and usable by `gristmill run`; code that
imports os or socket, writes a file, loops forever or allocates 2 GB is refused with a clear reason."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from tests.agent.test_llm import KEY, stub_factory  # noqa: F401 - the stub server fixture
from tests.conftest import gristmill
from tests.sandbox.gate import os_sandbox  # noqa: F401 - the fixture

from gristmill.agent.prepare import prepare
from gristmill.agent.sandbox import Limits, Proposal, run_sandboxed, save_operator
from gristmill.engine.layout import Layout

pytestmark = pytest.mark.usefixtures("os_sandbox")  # fails where the sandbox cannot start (see the gate)

TEXTS = ["a short line", "Digits 1234 5678 everywhere 9999", "plain prose with several words in it", ""] * 10
GOOD = "import re\n\ndef score(text):\n    words = re.findall(r'[A-Za-z]+', text)\n    return len(words) >= 3\n"
FAST = Limits(cpu_s=2, wall_s=20, memory_mb=768)

BAD = {
    "imports os": ("import os\ndef score(text):\n    return os.getpid()\n", "imports 'os'"),
    "imports socket": ("import socket\ndef score(text):\n    return 1\n", "imports 'socket'"),
    "writes a file": ("def score(text):\n    open('/tmp/gristmill-sandbox-escape', 'w').write(text)\n    return 1\n", "'open'"),
    "escapes via a private attribute": ("import collections\ndef score(text):\n    return collections._sys.modules['os'].system('true')\n",
                                        "private attribute '_sys'"),
    "loops forever": ("def score(text):\n    while True:\n        pass\n", "CPU-time limit of 2 s"),
    "allocates 2 GB": ("def score(text):\n    block = bytearray(2 * 1024 ** 3)\n    return len(block)\n", "memory limit (768 MB) exceeded"),
    "raises": ("def score(text):\n    return 1 / len(text)\n", "ZeroDivisionError"),
    "returns text": ("def score(text):\n    return text\n", "expected a bool or a number"),
    "returns NaN": ("def score(text):\n    return float('nan')\n", "finite"),
    "no score function": ("def keep(text):\n    return True\n", "does not define"),
}


def test_good_snippet_is_accepted_with_a_value_per_document() -> None:
    v = run_sandboxed(GOOD, TEXTS, FAST)
    assert v.accepted, v.reason
    assert v.values[:4] == [1.0, 0.0, 1.0, 0.0] and len(v.values) == len(TEXTS)


@pytest.mark.parametrize("case", list(BAD))
def test_bad_snippets_are_refused_with_a_reason(case: str) -> None:
    code, reason = BAD[case]
    v = run_sandboxed(code, TEXTS, FAST)
    assert not v.accepted and reason in v.reason, v.reason


@pytest.mark.parametrize("code,reason", [
    ("import os\ndef score(text):\n    return 1\n", "import of 'os' is not allowed"),
    ("def score(text):\n    import socket\n    return 1\n", "import of 'socket' is not allowed"),
    ("def score(text):\n    open('/tmp/../usr/gristmill-sandbox-escape', 'w').write(text)\n    return 1\n", "Read-only file system"),
    ("import json\ndef score(text):\n    json.codecs.open('/etc/passwd').read()\n    return 1\n", "No such file or directory"),
    ("import collections\ndef score(text):\n    collections._sys.modules['os'].fork()\n    return 1\n", "Operation not permitted"),
    ("import collections\ndef score(text):\n    collections._sys.modules['builtins'].__import__('socket').socket()\n    return 1\n", "Operation not permitted"),
])
def test_os_sandbox_refuses_without_the_static_check(code: str, reason: str) -> None:
    """The OS-level sandbox (read-only view, no /etc, seccomp: no fork, no socket) holds even if the static check is fooled."""
    v = run_sandboxed(code, TEXTS, FAST, static=False)
    assert not v.accepted and reason in v.reason, v.reason
    assert not Path("/tmp/gristmill-sandbox-escape").exists()


def test_writes_inside_the_temporary_folder_are_allowed() -> None:
    v = run_sandboxed("def score(text):\n    open('scratch.txt', 'w').write(text)\n    return 1\n", TEXTS[:2], FAST, static=False)
    assert v.accepted, v.reason


def test_saved_operator_runs_with_gristmill_run_and_an_edit_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS[:4])))
    save_operator(tmp_path / "operators", Proposal("three_words", "keep documents with 3+ alphabetic words", GOOD, "score > 0"), "test")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"name": "t", "input": {"path": str(src)}, "steps": [{"op": "three_words"}],
                                      "output": {"path": str(tmp_path / "out")}}))
    res = gristmill("run", recipe, "--workers", "2", "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["input"] == 4 and summary["kept"] == 2
    op_file = tmp_path / "operators" / "three_words.py"
    op_file.write_text(op_file.read_text().replace(">= 3", ">= 1"))
    res = gristmill("run", recipe, "--output", tmp_path / "out2")
    assert res.returncode == 2 and "changed since it was accepted" in res.stderr


def _stub_reply(code: str, name: str = "few_digits") -> dict:
    return {"new_operators": [{"name": name, "description": "share of digit characters below 20%", "code": code, "keep": "score < 0.2"}],
            "steps": [{"op": "normalize_text"}, {"op": "length_filter", "params": {"min_words": 50}},
                      {"op": "exact_dedup"}, {"op": name, "why": "drop number-heavy documents"}]}


DIGITS = "def score(text):\n    return sum(c.isdigit() for c in text) / max(1, len(text))\n"


def test_llm_written_operator_end_to_end(dirty: Path, tmp_path: Path, stub_factory, monkeypatch) -> None:  # noqa: F811
    """A stub LLM first proposes code that imports os (refused; the reason goes back to it), then good code:
    the plan uses it, the recipe and operators/ are written, and `gristmill run` reproduces the output."""
    stub = stub_factory([_stub_reply("import os\n" + DIGITS), _stub_reply(DIGITS)])
    monkeypatch.setenv("GRISTMILL_LLM_API_KEY", KEY)
    logs: list[str] = []
    out = tmp_path / "o"
    res = prepare(str(dirty), "at least 50 words, remove exact duplicates", out, llm=stub.spec, log=logs.append,
                  sample=300, workers=1)
    assert res.planner.startswith("llm") and "2 attempt" in res.planner and res.passed
    feedback = stub.requests[1]["body"]["messages"][-1]["content"]
    assert "refused by the sandbox" in feedback and "imports 'os'" in feedback
    assert "few_digits" in [s["op"] for s in res.recipe["steps"]]
    manifest = json.loads((Layout(out).prepare_dir / "operators" / "manifest.json").read_text())
    assert set(manifest) == {"few_digits"}
    assert "few_digits" in (Layout(out).prepare_dir / "recipe.yaml").read_text()
    res2 = gristmill("run", Layout(out).prepare_dir / "recipe.yaml", "--output", tmp_path / "again", "--workers", "2", "--json")
    assert res2.returncode == 0, res2.stderr
    assert json.loads(res2.stdout)["kept"] == res.summary["kept"]


def test_refused_operator_every_time_falls_back_to_builtin(dirty: Path, tmp_path: Path, stub_factory, monkeypatch) -> None:  # noqa: F811
    loop = "def score(text):\n    while True:\n        pass\n"
    stub = stub_factory([_stub_reply("import socket\n" + DIGITS), _stub_reply(loop.replace("while", "whilst")), _stub_reply(DIGITS, "length_filter")])
    logs: list[str] = []
    res = prepare(str(dirty), "at least 50 words", tmp_path / "o", llm=stub.spec, log=logs.append, sample=200, plan_only=True)
    text = "\n".join(logs)
    assert res.planner == "built-in" and "falling back to the built-in planner" in text
    assert "imports 'socket'" in text and "syntax error" in text and "taken by a built-in operator" in text
    assert not (Layout(tmp_path / "o").prepare_dir / "operators").exists()


if sys.platform != "linux":  # the OS sandbox is Linux only
    pytestmark = pytest.mark.skip("sandbox tests need Linux")
