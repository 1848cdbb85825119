"""sentence_case: sentence starts in lower case are capitalised, and real text that is right stays as it is."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from gristmill.ops.casing import SentenceCase, SentenceCaseParams, sentence_case_line

from .helpers import batch

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample.jsonl.gz"


def _rows() -> list[dict]:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_fixes_the_sentence_starts_and_leaves_the_rest() -> None:
    assert sentence_case_line("Hello. how are you?") == ("Hello. How are you?", 1)
    assert sentence_case_line("A jacket costs $80. it's 25% off")[0] == "A jacket costs $80. It's 25% off"
    assert sentence_case_line("with open(). what does that mean?")[0] == "with open(). What does that mean?"
    # a word used once and that reads as English is a sentence start; a repeated lower-case name is not
    assert sentence_case_line("It just clicks. lights on the dashboard are dim.")[0] == "It just clicks. Lights on the dashboard are dim."
    assert sentence_case_line("Use the server. sshd reads its config.")[1] == 0
    for same in ["See e.g. the list", "Dr. who is here", "J. doe wrote it", "wait... and then", '"Stop." she said',
                 "iii. publicity and privacy", "1. the first item", "x = a. b", "    foo. the bar", "// 3. the tail",
                 "gzip. gzip is fast", "Nice! what now?", "I bought an iPhone. iPhone is nice"]:
        assert sentence_case_line(same) == (same, 0), same
    assert sentence_case_line("Nice! what now?", ends=".!?")[0] == "Nice! What now?"


def test_restores_real_chat_sentences_and_changes_nothing_else() -> None:
    """Real conversations (data/sample.jsonl.gz, domain chat): every sentence start after a full stop that is a
    common opener is put in lower case; the operator gives the original text back."""
    chats = [r["text"] for r in _rows() if r.get("domain") == "chat"]
    broken, n_broken = [], 0
    for t in chats:
        b, k = re.subn(r"(?<=[a-z]{3}\. )(The|It|This|You|How|What|Each|If|In)\b", lambda m: m.group(1).lower(), t)
        broken.append(b)
        n_broken += k
    assert n_broken >= 20
    b = batch(*broken)
    fixed = SentenceCase(SentenceCaseParams()).apply(b)["fixed"]
    restored = sum(x == y for x, y in zip(b.texts(), chats))
    assert restored >= 0.9 * len(chats)
    assert fixed.sum() >= 0.9 * n_broken
    untouched = batch(*chats)
    assert SentenceCase(SentenceCaseParams()).apply(untouched)["fixed"].sum() <= 2  # correct text stays correct


def test_leaves_code_and_other_languages_alone() -> None:
    rows = [r for r in _rows() if r.get("domain") in ("code", "multilingual")]
    b = batch(*[r["text"] for r in rows])
    fixed = SentenceCase(SentenceCaseParams()).apply(b)["fixed"]
    assert fixed.sum() <= 0.005 * len(rows)
