"""Toxicity / profanity score per document, from a bundled word list or the alt-profanity-check model.

A document is cut into segments (lines; long lines into sentences). A segment is *offensive* when it holds
a listed term (``lists`` backend) or when alt-profanity-check's linear SVM (trained on English tweets and
Wikipedia comments) gives it probability >= ``segment_threshold`` (``model`` backend). The main signal is
the share of the document's characters in offensive segments, so one rude comment under a long article
does not condemn the article, while a page of abuse does.

Language coverage: both backends are English only. The bundled list is English
(``gristmill/assets/safety/profanity_en.txt``); pass ``wordlist`` with your own list for other languages.
The model backend needs the extra ``safety`` (alt-profanity-check, which pins its scikit-learn version).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from gristmill.batch import Batch
from gristmill.errors import UsageError
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "safety"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def segments(text: str, max_len: int = 500) -> list[str]:
    """Non-empty lines; lines longer than ``max_len`` characters are cut at sentence ends."""
    out = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        if len(line) <= max_len:
            out.append(line)
        else:
            out.extend(s for s in _SENTENCE.split(line) if s.strip())
    return out


@lru_cache(maxsize=16)
def term_pattern(path: str | None) -> re.Pattern[str]:
    """One case-insensitive regex for a word list (``term*`` = prefix; several words = phrase)."""
    if path is None:
        text = (ASSETS / "profanity_en.txt").read_text("utf-8")
        where = "bundled profanity_en.txt"
    else:
        p = Path(path)
        if not p.exists():
            raise UsageError(f"toxicity wordlist {path!r} does not exist")
        text, where = p.read_text("utf-8"), path
    alts = []
    for line in text.splitlines():
        term = line.strip().lower()
        if not term or term.startswith("#"):
            continue
        prefix = term.endswith("*")
        body = r"\s+".join(re.escape(w) for w in term.rstrip("*").split())
        alts.append(body + (r"\w*" if prefix else ""))
    if not alts:
        raise UsageError(f"toxicity wordlist {where} holds no terms")
    alts.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alts) + r")(?!\w)", re.IGNORECASE)


class ToxicityParams(OpParams):
    backend: Literal["lists", "model"] = Field(
        "lists",
        description="lists: bundled/own word list (fast, no extra); model: alt-profanity-check (extra safety)",
    )
    wordlist: str | None = Field(
        None, description="path of your own word list (lists backend; default: English)"
    )
    segment_threshold: float = Field(
        0.5, gt=0.0, lt=1.0, description="model backend: a segment is offensive at this probability or more"
    )
    max_share: float = Field(
        0.25,
        ge=0.0,
        le=1.0,
        description="drop documents with more than this share of characters in offensive segments",
    )


@register
class Toxicity(Operator):
    name = "toxicity"
    family = "safety"
    description = """Score profanity and abuse: the share of a document's text (by characters) in offensive
    lines or sentences, the number of listed offensive words, and the worst segment's probability. Drops
    documents whose offensive share exceeds `max_share`. Backends: a bundled English word list (fast, no
    extra; your own list for other languages) or the alt-profanity-check model (English, `safety`
    extra). Use on web, forum and chat data."""
    Params = ToxicityParams
    signals = (
        Signal("share", "float", "share of characters in offensive segments (0 for empty documents)"),
        Signal("flagged_segments", "int", "number of offensive segments"),
        Signal("flagged_words", "int", "number of word-list matches (lists backend; 0 with the model)"),
        Signal("max_prob", "float", "highest segment probability (model) or 1/0 for a listed term (lists)"),
    )
    languages = ("en",)
    cost = "cheap"
    references = (
        "alt-profanity-check (linear SVM on English tweets/Wikipedia comments), github.com/dimitrismistriotis",
        "Raffel et al. 2020 (C4 drops pages containing a bad word); Rae et al. 2021 (Gopher)",
    )

    def required_modules(self) -> tuple[tuple[str, str], ...]:
        return (("profanity_check", "safety"),) if self.params.backend == "model" else ()  # type: ignore[attr-defined]

    def setup(self) -> None:
        p: ToxicityParams = self.params  # type: ignore[assignment]
        if p.backend == "lists":
            term_pattern(p.wordlist)
        else:
            _predict_prob()

    def rules(self) -> dict[str, str]:
        return {"offensive": f"{self.signal_column('share')} <= {self.params.max_share}"}  # type: ignore[attr-defined]

    def apply(self, batch: Batch) -> dict[str, Any]:
        p: ToxicityParams = self.params  # type: ignore[assignment]
        texts = batch.texts()
        n = len(texts)
        segs = [segments(t or "") for t in texts]
        flat = [s for ss in segs for s in ss]
        owner = np.repeat(np.arange(n), [len(ss) for ss in segs])
        lengths = np.fromiter((len(s) for s in flat), np.float64, len(flat))
        pattern = term_pattern(p.wordlist) if p.backend == "lists" or p.wordlist else None
        words = np.fromiter((len(pattern.findall(s)) for s in flat), np.int64, len(flat)) if pattern else None
        if p.backend == "lists":
            prob = (words > 0).astype(np.float64)
            bad = prob > 0
        else:
            prob = np.asarray(_predict_prob()(flat), np.float64) if flat else np.zeros(0)
            bad = prob >= p.segment_threshold
        total = np.bincount(owner, weights=lengths, minlength=n)
        bad_chars = np.bincount(owner, weights=lengths * bad, minlength=n)
        max_prob = np.zeros(n)
        if len(flat):
            np.maximum.at(max_prob, owner, prob)
        return {
            "share": np.divide(bad_chars, total, out=np.zeros(n), where=total > 0),
            "flagged_segments": np.bincount(owner, weights=bad, minlength=n).astype(np.int64),
            "flagged_words": (
                np.bincount(owner, weights=words, minlength=n).astype(np.int64)
                if words is not None
                else np.zeros(n, np.int64)
            ),
            "max_prob": max_prob,
        }


@lru_cache(maxsize=1)
def _predict_prob() -> Any:
    try:
        from profanity_check import predict_prob
    except ImportError:
        raise UsageError(
            "toxicity backend 'model' needs alt-profanity-check: pip install 'gristmill[safety]'"
        ) from None
    return predict_prob
