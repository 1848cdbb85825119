"""Toxicity / profanity: offensive share of the text, word matches, model backend when installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from gristmill.errors import UsageError
from gristmill.ops.safety import Toxicity, ToxicityParams, segments, term_pattern

from ._dedup_helpers import batch_of, eval_rules

CLEAN = "The committee approved the library budget after a long and polite discussion."
RUDE = "What the fuck is this shit, you stupid bastard?"


def test_word_list_matches_words_prefixes_and_phrases_not_substrings() -> None:
    pat = term_pattern(None)
    assert len(pat.findall("Fucking hell, BULLSHIT and he was pissed off.")) == 3
    assert pat.findall("Scunthorpe, classic assessment, a cocktail, summa cum laude, great tits nest") == []


def test_share_counts_characters_of_offensive_lines() -> None:
    doc = "\n".join([CLEAN, RUDE, CLEAN])
    sig = Toxicity(step="tox").apply(batch_of([doc, CLEAN, "", RUDE]))
    expected = len(RUDE) / (2 * len(CLEAN) + len(RUDE))
    assert sig["share"][0] == pytest.approx(expected)
    assert list(sig["flagged_segments"]) == [1, 0, 0, 1]
    assert list(sig["flagged_words"]) == [3, 0, 0, 3]
    assert list(sig["max_prob"]) == [1.0, 0.0, 0.0, 1.0]
    assert sig["share"][2] == 0.0  # empty document: neutral 0, kept


def test_rule_boundary_on_max_share() -> None:
    op = Toxicity(ToxicityParams(max_share=0.25), step="tox")
    assert op.rules() == {"offensive": "tox.share <= 0.25"}
    cols = {"tox.share": [0.25, 0.2501]}
    assert list(eval_rules(op.rules(), cols)) == [True, False]


def test_long_lines_are_cut_into_sentences() -> None:
    line = " ".join([CLEAN] * 8) + " " + RUDE
    segs = segments(line)
    assert len(segs) == 9 and segs[-1] == RUDE
    sig = Toxicity().apply(batch_of([line]))
    assert 0 < sig["share"][0] < 0.2


def test_own_word_list_for_another_language(tmp_path: Path) -> None:
    wl = tmp_path / "de.txt"
    wl.write_text("# German\nscheiß*\narschloch\n")
    op = Toxicity(ToxicityParams(wordlist=str(wl)))
    sig = op.apply(batch_of(["So ein Scheißtag, du Arschloch.", "Ein schöner Tag.", RUDE]))
    assert list(sig["flagged_words"]) == [2, 0, 0]
    with pytest.raises(UsageError):
        Toxicity(ToxicityParams(wordlist=str(tmp_path / "missing.txt"))).setup()


@pytest.mark.skipif(importlib.util.find_spec("profanity_check") is None, reason="needs the safety extra")
def test_model_backend() -> None:
    op = Toxicity(ToxicityParams(backend="model"))
    sig = op.apply(batch_of([CLEAN, RUDE, f"{CLEAN}\n{RUDE}"]))
    assert sig["max_prob"][0] < 0.5 < sig["max_prob"][1]
    assert sig["share"][0] == 0.0 and sig["share"][1] == 1.0 and 0 < sig["share"][2] < 1
    assert sig["flagged_words"][1] == 0  # the model backend does not count list words
