"""Profile a sample: what the data is, before deciding what to do with it.

The planner sets thresholds from these numbers (the measured distribution of every quality signal), and
the goal checker uses them to tell early when a goal cannot be met (e.g. "only French" on English data).
Signals are computed by running the registry's measuring operators directly on one Batch of the sample,
so a new quality operator is profiled as soon as it is registered.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from gristmill.agent.sampling import Sample
from gristmill.batch import Batch
from gristmill.errors import GristmillError
from gristmill.ops import templates
from gristmill.ops.registry import all_ops
from gristmill.recipe.rules import compile_rule

QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
DOMAIN_FIELDS = ("domain", "category", "subset", "source_type", "genre")
_WS = re.compile(r"\s+")


def est_tokens(text: str) -> int:
    """Tokens estimated as characters / 4 (the usual BPE rule of thumb) when no tokenizer is named."""
    return (len(text) + 3) // 4


@dataclass
class Profile:
    """Facts about a sample; ``signals`` holds the raw per-document arrays the planner thresholds on."""

    docs: int
    scanned: int
    unreadable: int
    fields: dict[str, str]
    format: str  # "pretraining" or "chat"
    chat_share: float
    domain_field: str | None
    domains: dict[str, int]
    languages: dict[str, int]
    words: dict[str, float]
    chars: dict[str, float]
    tokens_total: int
    exact_dup_rate: float
    near_dup_rate: float
    pii_docs: dict[str, int]
    signal_quantiles: dict[str, dict[str, float]]
    signals: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    notes: list[str] = field(default_factory=list)

    def share_where(self, rule: str) -> float:
        """Share of sampled documents that satisfy a rule over profiled signals (NaN-safe, False on NaN)."""
        r = compile_rule("probe", rule, list(self.signals))
        mask = r.evaluate(self.signals, self.docs)
        return float(np.mean(mask)) if self.docs else 0.0

    def language_share(self, codes: list[str]) -> float:
        total = sum(self.languages.values())
        return sum(self.languages.get(c, 0) for c in codes) / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "signals"}


def quantiles(values: np.ndarray) -> dict[str, float]:
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if not len(v):
        return {}
    qs = np.quantile(v, QUANTILES)
    out = {f"p{int(q * 100)}": round(float(x), 4) for q, x in zip(QUANTILES, qs)}
    out["mean"] = round(float(v.mean()), 4)
    return out


def norm_key(text: str) -> str:
    return hashlib.blake2b(_WS.sub(" ", text).strip().encode(), digest_size=16).hexdigest()


def shingles(text: str, n: int = 5) -> set[int]:
    """Word 5-gram shingles of lower-cased \\w+ tokens, hashed (the near-dup unit of MinHash dedup)."""
    words = re.findall(r"\w+", text.lower())
    if len(words) < n:
        return {hash(" ".join(words))} if words else set()
    return {hash(" ".join(words[i : i + n])) for i in range(len(words) - n + 1)}


def near_dup_pairs(texts: list[str], threshold: float, n: int = 5, max_posting: int = 50) -> list[tuple[int, int, float]]:
    """Pairs of documents whose exact word-5-gram Jaccard is >= threshold.

    Candidates come from an inverted index of shingles (postings longer than ``max_posting`` skipped, so
    boilerplate n-grams shared by many documents do not explode the pair count); every candidate is then
    scored exactly. Independent of the MinHash operator, so it can check it.
    """
    sets = [shingles(t, n) for t in texts]
    postings: dict[int, list[int]] = {}
    for i, s in enumerate(sets):
        for h in s:
            postings.setdefault(h, []).append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for docs in postings.values():
        if 1 < len(docs) <= max_posting:
            for a in range(len(docs)):
                for b in range(a + 1, len(docs)):
                    shared[(docs[a], docs[b])] += 1
    out = []
    for (a, b), k in shared.items():
        la, lb = len(sets[a]), len(sets[b])
        if k < threshold * min(la, lb) * 0.5:  # cannot reach the threshold (skipped shingles aside)
            continue
        inter = len(sets[a] & sets[b])
        j = inter / (la + lb - inter) if la + lb - inter else 0.0
        if j >= threshold:
            out.append((a, b, round(j, 4)))
    return sorted(out)


def _measuring_ops() -> list[Any]:
    """Every per-document operator that measures signals with its default parameters and rewrites nothing."""
    ops = []
    for name, cls in all_ops().items():
        if cls.is_global or not cls.signals or "text" in cls.writes or name in templates.TEMPLATE_OPS:
            continue
        if cls.family not in ("quality", "safety", "tokenize"):
            continue
        try:
            ops.append(cls())
        except Exception:  # noqa: BLE001 - an operator that needs parameters cannot be profiled blind
            continue
    return ops


def detect_languages(texts: list[str], backend: str = "cld2") -> list[str] | None:
    """Top language per text with the lang_id operator; None when its backend is not installed."""
    cls = all_ops().get("lang_id")
    if cls is None:
        return None
    try:
        op = cls(cls.Params(backend=backend, min_score=0.0))
        sig = op.apply(Batch(pa.table({"text": texts})))
    except (GristmillError, ImportError):
        return None
    return [str(x) for x in sig["language"]]


def profile_sample(sample: Sample) -> Profile:
    rows = sample.rows
    texts = sample.texts()
    n = len(texts)
    fields: dict[str, str] = {}
    for r in rows[:500]:
        for k, v in r.items():
            fields.setdefault(k, type(v).__name__)
    chat_n = sum(
        1 for r, t in zip(rows, texts) if templates._messages_of(r.get("messages")) or templates.parse_chat(t)
    )
    dom_field = next((f for f in DOMAIN_FIELDS if f in fields), None)
    domains = dict(Counter(str(r.get(dom_field)) for r in rows).most_common()) if dom_field else {}
    langs = detect_languages(texts)
    languages = dict(Counter(langs).most_common()) if langs else {}
    words = np.array([len(t.split()) for t in texts], dtype=float)
    chars = np.array([len(t) for t in texts], dtype=float)
    keys = [norm_key(t) for t in texts]
    exact = 1 - len(set(keys)) / n if n else 0.0
    pairs = near_dup_pairs(texts, 0.8) if n <= 20_000 else []
    in_pair = {i for a, b, _ in pairs for i in (a, b)}
    signals: dict[str, np.ndarray] = {}
    batch = Batch(pa.table({"text": texts}))
    for op in _measuring_ops():
        try:
            sig = op.apply(batch) or {}
        except Exception:  # noqa: BLE001 - an operator failing on odd text must not stop the profile
            continue
        for k, v in sig.items():
            arr = np.asarray(v)
            if arr.dtype.kind in "biuf":
                signals[op.signal_column(k)] = arr.astype(float)
    pii_docs: dict[str, int] = {}
    pii_cls = all_ops().get("pii")
    if pii_cls is not None:
        sig = pii_cls(pii_cls.Params(mode="detect")).apply(Batch(pa.table({"text": texts}))) or {}
        for k, v in sig.items():
            pii_docs[k] = int(np.count_nonzero(np.asarray(v)))
            signals[f"pii.{k}"] = np.asarray(v, dtype=float)
    if langs:
        signals["lang_id.language"] = np.array(langs, dtype=object)
    notes = []
    if langs is None:
        notes.append("language not profiled: install gristmill[lang] (pycld2) for language identification")
    return Profile(
        docs=n,
        scanned=sample.scanned,
        unreadable=sample.unreadable,
        fields=fields,
        format="chat" if n and chat_n / n >= 0.5 else "pretraining",
        chat_share=round(chat_n / n, 4) if n else 0.0,
        domain_field=dom_field,
        domains=domains,
        languages=languages,
        words=quantiles(words),
        chars=quantiles(chars),
        tokens_total=sum(est_tokens(t) for t in texts),
        exact_dup_rate=round(exact, 4),
        near_dup_rate=round(len(in_pair) / n, 4) if n else 0.0,
        pii_docs=pii_docs,
        signal_quantiles={k: quantiles(v) for k, v in sorted(signals.items()) if v.dtype != object},
        signals={"length.words": words, "length.chars": chars, **signals},
        notes=notes,
    )
