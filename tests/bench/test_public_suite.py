"""The public goal suite is frozen, sourced, and its checks can both fail and pass.

The suite lives in bench/agent/public/. These tests do not run the planner: they pin the goal and
check files to the hashes in FROZEN.md, and run every goal's checks on deliberately bad outputs (the
raw corpus, nothing) and on outputs built from the side labels (what a correct run would keep).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

SUITE = Path(__file__).resolve().parents[2] / "bench" / "agent" / "public"
CORPORA = {"web", "mixed", "lang", "topics", "pii", "code", "chat"}


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"public_suite_{name}", SUITE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


checks = _load("checks")
corpora = _load("corpora")
GOALS = yaml.safe_load((SUITE / "goals.yaml").read_text(encoding="utf-8"))["goals"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("public-corpora")
    corpora.build(out)
    return out, json.loads((out / "labels.json").read_text(encoding="utf-8"))


def rows_of(out: Path, corpus: str) -> list[dict]:
    return [json.loads(line) for line in (out / f"{corpus}.jsonl").read_text(encoding="utf-8").splitlines()]


def evaluate(goal: dict, kept: list[dict], inputs: list[dict], labels: dict) -> list[str]:
    lab = labels[goal["corpus"]]
    ctx = checks.Ctx(kept=kept, inputs=inputs, labels=lab["docs"], order=lab["order"])
    return [f"{n}: {why}" for n, why in checks.run_checks(ctx, goal["checks"]) if why]


def test_files_match_the_frozen_hashes():
    frozen = (SUITE / "FROZEN.md").read_text(encoding="utf-8")
    pinned = dict((name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", frozen, re.MULTILINE))
    assert set(pinned) == {"goals.yaml", "checks.py", "corpora.py"}
    for name, digest in pinned.items():
        assert hashlib.sha256((SUITE / name).read_bytes()).hexdigest() == digest, f"{name} changed after the freeze"
    assert f"goals: {len(GOALS)}" in frozen


def test_at_least_40_goals_each_with_a_source_and_known_checks():
    assert len(GOALS) >= 40
    assert len({g["id"] for g in GOALS}) == len(GOALS)
    for g in GOALS:
        assert g["goal"].strip() and g["corpus"] in CORPORA, g["id"]
        src = g["source"]
        assert src["project"].strip() and src["where"].strip() and src["url"].startswith("https://"), g["id"]
        assert g["checks"], g["id"]
        for c in g["checks"]:
            assert c["check"] in checks.CHECKS, (g["id"], c["check"])


def test_corpora_are_unlabelled_and_deterministic(built, tmp_path):
    out, labels = built
    again = corpora.build(tmp_path)
    for name in CORPORA:
        rows = rows_of(out, name)
        assert all(set(r) == {"id", "text"} for r in rows), name
        assert len({r["id"] for r in rows}) == len(rows), name
        assert set(labels[name]["docs"]) == {r["id"] for r in rows}, name
        assert hashlib.sha256((out / f"{name}.jsonl").read_bytes()).hexdigest() == again[name]


def test_checks_fail_on_the_raw_corpus(built):
    """Keeping everything must not satisfy goals that ask for something to change."""
    out, labels = built
    passing_raw = [g["id"] for g in GOALS if not evaluate(g, rows_of(out, g["corpus"]), rows_of(out, g["corpus"]), labels)]
    assert len(passing_raw) <= len(GOALS) // 10, passing_raw


def test_checks_fail_on_an_empty_output(built):
    out, labels = built
    assert all(evaluate(g, [], rows_of(out, g["corpus"]), labels) for g in GOALS)


def _drop(pred: Callable[[dict], bool]) -> Callable[[list[dict], dict], list[dict]]:
    return lambda rows, labs: [r for r in rows if not pred(labs[r["id"]])]


def _scrub(key: str, drop_over: int | None = None) -> Callable[[list[dict], dict], list[dict]]:
    def f(rows: list[dict], labs: dict) -> list[dict]:
        vals = sorted({v for lab in labs.values() for v in lab.get(key) or []}, key=len, reverse=True)
        out = []
        for r in rows:
            if drop_over is not None and len(labs[r["id"]].get(key) or []) > drop_over:
                continue
            text = r["text"]
            for v in vals:
                text = text.replace(v, "[REDACTED]")
            out.append({**r, "text": text})
        return out
    return f


def _first_copies(rows: list[dict], labs: dict) -> list[dict]:
    seen, out = set(), []
    for r in rows:
        k = " ".join(r["text"].split())
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def _truecase(rows: list[dict], labs: dict) -> list[dict]:
    out = []
    for r in rows:
        bad = labs[r["id"]].get("casing_error")
        text = r["text"].replace(bad, bad[:2] + bad[2].upper() + bad[3:]) if bad else r["text"]
        out.append({**r, "text": text})
    return out


ORACLES: dict[str, Callable[[list[dict], dict], list[dict]]] = {
    "topic-crypto-spam": _drop(lambda lab: lab["topic"] == "crypto"),
    "topic-everything-but-pills": _drop(lambda lab: lab["topic"] == "pills"),
    "lang-all-but-russian": _drop(lambda lab: lab["lang"] == "ru"),
    "lang-drop-cjk": _drop(lambda lab: lab["lang"] in ("zh", "ja")),
    "stack-near-dedup": _drop(lambda lab: bool(lab.get("copy"))),
    "codeparrot-autogenerated": _drop(lambda lab: bool(lab.get("generated"))),
    "openhermes-dedup": _drop(lambda lab: bool(lab.get("original"))),
    "govbench-dedup-keep-first": _first_copies,
    "dolma-pii-mask-or-drop": _scrub("pii", drop_over=5),
    "stack-pii-redaction": _scrub("pii"),
    "ultrachat-truecase": _truecase,
    "govbench-refine-whitespace": lambda rows, labs: [{**r, "text": re.sub(r"[ \t]+", " ", r["text"]).strip()} for r in rows],
    "dolma-gopher-length": lambda rows, labs: [r for r in rows if 50 <= len(r["text"].split()) <= 100_000],
}


@pytest.mark.parametrize("goal_id", sorted(ORACLES))
def test_checks_pass_on_what_a_correct_run_keeps(built, goal_id):
    out, labels = built
    goal = next(g for g in GOALS if g["id"] == goal_id)
    rows = rows_of(out, goal["corpus"])
    kept = ORACLES[goal_id](rows, labels[goal["corpus"]]["docs"])
    assert evaluate(goal, kept, rows, labels) == []


def test_near_duplicate_check_finds_a_pair_just_over_the_threshold():
    base = " ".join(f"w{i}" for i in range(100))
    edited = base.replace("w50 ", "x50 ")  # one word edited: 5 of 96 shingles change
    assert checks.near_pairs([base, edited], 0.8)
    assert not checks.near_pairs([base, edited], 0.95)
    assert not checks.near_pairs([base, " ".join(f"v{i}" for i in range(100))], 0.1)
