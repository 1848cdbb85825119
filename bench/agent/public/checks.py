"""Checks on the OUTPUT DATA of a prepare run, written without looking at the planner.

Nothing here imports gristmill: the regexes, the shingling, the language detector (pycld2 called
directly) and the text measures are this file's own, so a check cannot agree with the planner merely
because it shares its code. A check receives the kept rows, the input rows and the side labels of the
corpus, and returns ``None`` when it holds or a short reason when it does not.

Label selectors (``where``) match the side labels written by ``corpora.py``: ``{kind: spam}``,
``{lang: [zh, ja]}``, ``{refusal: true}``, ``{n_pii: ">5"}``; a key prefixed ``not_`` negates.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Reason = str | None


@dataclass
class Ctx:
    """What a check sees: kept rows (as written by prepare), the input rows, the corpus's side labels."""

    kept: list[dict]
    inputs: list[dict]
    labels: dict[str, dict]
    order: list[str] = field(default_factory=list)

    @property
    def kept_ids(self) -> set[str]:
        return {str(r.get("id")) for r in self.kept}


# -- label selection ---------------------------------------------------------------------------------------

_CMP = re.compile(r"^(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)$")


def _label_value(lab: dict, key: str) -> Any:
    if key == "n_pii":
        return len(lab.get("pii") or [])
    return lab.get(key)


def _matches(lab: dict, where: dict[str, Any]) -> bool:
    for key, want in where.items():
        neg = key.startswith("not_")
        val = _label_value(lab, key[4:] if neg else key)
        if isinstance(want, str) and (m := _CMP.match(want)):
            op, num = m.group(1), float(m.group(2))
            ok = val is not None and {">": val > num, "<": val < num, ">=": val >= num, "<=": val <= num}[op]
        elif isinstance(want, list):
            ok = val in want
        elif want is True:
            ok = bool(val)
        else:
            ok = val == want
        if ok == neg:
            return False
    return True


def selected(ctx: Ctx, where: dict[str, Any]) -> set[str]:
    return {i for i, lab in ctx.labels.items() if _matches(lab, where)}


def _desc(where: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in where.items())


# -- text measures (own implementations of the published rules) ------------------------------------------

TERMINAL = (".", "!", "?", '"', "'", "\u201d", "\u2019")
BULLETS = ("\u2022", "-", "*", "\u2023", "\u25e6", "\u25cf", "\u2043")


def _lines(text: str) -> list[str]:
    return [ln for ln in text.split("\n") if ln.strip()]


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def m_words(t: str) -> float:
    return len(t.split())


def m_chars_no_punct_ws(t: str) -> float:
    """SlimPajama's length: characters left after removing punctuation, whitespace, newlines and tabs."""
    return sum(1 for ch in t if not ch.isspace() and not _is_punct(ch))


def m_mean_word_length(t: str) -> float:
    ws = [w.strip("".join(ch for ch in w if _is_punct(ch))) for w in t.split()]
    ws = [w for w in ws if w]
    return sum(len(w) for w in ws) / len(ws) if ws else 0.0


def m_symbol_word_ratio(t: str) -> float:
    n = len(t.split())
    return (t.count("#") + t.count("...") + t.count("\u2026")) / n if n else 0.0


def m_bullet_line_share(t: str) -> float:
    ls = _lines(t)
    return sum(ln.lstrip().startswith(BULLETS) for ln in ls) / len(ls) if ls else 0.0


def m_ellipsis_line_share(t: str) -> float:
    ls = _lines(t)
    return sum(ln.rstrip().endswith(("...", "\u2026")) for ln in ls) / len(ls) if ls else 0.0


def m_avg_line_length(t: str) -> float:
    ls = t.split("\n")
    return sum(len(ln) for ln in ls) / len(ls) if ls else 0.0


def m_max_line_length(t: str) -> float:
    return max((len(ln) for ln in t.split("\n")), default=0)


def m_alnum_fraction(t: str) -> float:
    return sum(ch.isalnum() for ch in t) / len(t) if t else 0.0


def m_punct_end_line_share(t: str) -> float:
    ls = _lines(t)
    return sum(ln.rstrip().endswith(TERMINAL) for ln in ls) / len(ls) if ls else 0.0


def m_dup_line_char_share(t: str) -> float:
    ls = _lines(t)
    total = sum(len(ln) for ln in ls)
    seen: dict[str, int] = {}
    for ln in ls:
        seen[ln.strip()] = seen.get(ln.strip(), 0) + 1
    dup = sum(len(ln) for ln in ls if seen[ln.strip()] > 1)
    return dup / total if total else 0.0


def m_short_line_share(t: str) -> float:
    ls = _lines(t)
    return sum(len(ln.strip()) < 30 for ln in ls) / len(ls) if ls else 0.0


METRICS: dict[str, Callable[[str], float]] = {
    "words": m_words, "chars_no_punct_ws": m_chars_no_punct_ws, "mean_word_length": m_mean_word_length,
    "symbol_word_ratio": m_symbol_word_ratio, "bullet_line_share": m_bullet_line_share,
    "ellipsis_line_share": m_ellipsis_line_share, "avg_line_length": m_avg_line_length,
    "max_line_length": m_max_line_length, "alnum_fraction": m_alnum_fraction,
    "punct_end_line_share": m_punct_end_line_share, "dup_line_char_share": m_dup_line_char_share,
    "short_line_share": m_short_line_share,
}


def _within(v: float, rule: dict) -> bool:
    return (("min" not in rule or v >= rule["min"]) and ("max" not in rule or v <= rule["max"])
            and ("gt" not in rule or v > rule["gt"]) and ("lt" not in rule or v < rule["lt"]))


def _text(r: dict) -> str:
    t = r.get("text")
    return t if isinstance(t, str) else ""


# -- language (pycld2, called directly) ------------------------------------------------------------------

def detect_language(text: str) -> str | None:
    """ISO code of the main language, ``None`` when pycld2 is not reliable about it."""
    import pycld2

    try:
        reliable, _, details = pycld2.detect(text.encode("utf-8", "replace").decode("utf-8"))
    except pycld2.error:
        return None
    code = details[0][1] if details else "un"
    if not reliable or code in ("un", "xxx"):
        return None
    return code.split("-")[0].lower()


# -- near duplicates (own shingling; MinHash only proposes candidates, Jaccard is then exact) ------------

_WORD = re.compile(r"\w+", re.UNICODE)
_RNG = np.random.default_rng(20261202)
_A = (_RNG.integers(1, 2**63, size=64, dtype=np.uint64) | np.uint64(1))
_B = _RNG.integers(0, 2**63, size=64, dtype=np.uint64)


def shingles(text: str, n: int, normalise: bool) -> set[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(text)] if normalise else text.split()
    if not words:
        return set()
    if len(words) < n:
        return {tuple(words)}
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def near_pairs(texts: list[str], threshold: float, n: int = 5, normalise: bool = True) -> list[tuple[int, int, float]]:
    """Pairs (i, j, jaccard) with exact shingle Jaccard above ``threshold``."""
    sets = [shingles(t, n, normalise) for t in texts]
    buckets: dict[tuple, list[int]] = {}
    for i, s in enumerate(sets):
        if not s:
            continue
        h = np.fromiter((zlib.crc32(" ".join(x).encode("utf-8")) for x in s), dtype=np.uint64, count=len(s))
        sig = ((_A[:, None] * h[None, :] + _B[:, None]) >> np.uint64(32)).min(axis=1)
        for band in range(16):
            buckets.setdefault((band, sig[band * 4:band * 4 + 4].tobytes()), []).append(i)
    cands = {(a, b) for ids in buckets.values() for k, a in enumerate(ids) for b in ids[k + 1:]}
    out = []
    for a, b in sorted(cands):
        inter = len(sets[a] & sets[b])
        j = inter / (len(sets[a]) + len(sets[b]) - inter)
        if j > threshold:
            out.append((a, b, j))
    return out


# -- the checks -----------------------------------------------------------------------------------------

def kept_share(ctx: Ctx, min: float = 0.0, max: float = 1.0) -> Reason:  # noqa: A002 - names as in goals.yaml
    share = len(ctx.kept) / len(ctx.inputs) if ctx.inputs else 0.0
    return None if min <= share <= max else f"kept {share:.0%} of the input, expected {min:.0%}..{max:.0%}"


def kept_count(ctx: Ctx, min: int = 0, max: int = 10**9) -> Reason:  # noqa: A002
    return None if min <= len(ctx.kept) <= max else f"kept {len(ctx.kept)} docs, expected {min}..{max}"


def recall(ctx: Ctx, where: dict, min: float) -> Reason:  # noqa: A002
    """Not over-filtering: at least ``min`` of the selected input docs are kept."""
    sel = selected(ctx, where)
    share = len(sel & ctx.kept_ids) / len(sel) if sel else 1.0
    return None if share >= min else f"kept only {share:.0%} of {len(sel)} docs with {_desc(where)} (want >= {min:.0%})"


def absent(ctx: Ctx, where: dict, max: float = 0.0) -> Reason:  # noqa: A002
    """At most ``max`` of the selected input docs survive."""
    sel = selected(ctx, where)
    left = sel & ctx.kept_ids
    share = len(left) / len(sel) if sel else 0.0
    return None if share <= max else f"{len(left)}/{len(sel)} docs with {_desc(where)} kept, e.g. {sorted(left)[0]}"


def purity(ctx: Ctx, where: dict, min: float) -> Reason:  # noqa: A002
    sel = selected(ctx, where)
    share = len(sel & ctx.kept_ids) / len(ctx.kept) if ctx.kept else 0.0
    return None if share >= min else f"only {share:.0%} of kept docs have {_desc(where)} (want >= {min:.0%})"


def no_match(ctx: Ctx, pattern: str, ignore_case: bool = True, max_docs: int = 0) -> Reason:
    rx = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    hits = [r for r in ctx.kept if rx.search(_text(r))]
    if len(hits) <= max_docs:
        return None
    return f"{len(hits)} kept docs match /{pattern}/, e.g. {rx.search(_text(hits[0])).group(0)!r} in {hits[0].get('id')}"


def _as_list(v: Any) -> list[str]:
    return [v] if isinstance(v, str) else list(v or [])


def values_gone(ctx: Ctx, key: str = "pii") -> Reason:
    """No value injected into any input doc (``labels[id][key]``) appears in any kept text."""
    vals = sorted({v for lab in ctx.labels.values() for v in _as_list(lab.get(key))})
    text = "\n".join(_text(r) for r in ctx.kept)
    left = [v for v in vals if v in text]
    return None if not left else f"{len(left)}/{len(vals)} injected {key} values remain, e.g. {left[0]!r}"


def values_kept(ctx: Ctx, key: str) -> Reason:
    """Each kept doc still carries the value it was given (a decoy that must not be scrubbed)."""
    lost = [r.get("id") for r in ctx.kept if (v := ctx.labels.get(str(r.get("id")), {}).get(key)) and v not in _text(r)]
    return None if not lost else f"{len(lost)} kept docs lost their {key} value, e.g. {lost[0]}"


def language_share(ctx: Ctx, langs: list[str], min: float = 0.0, max: float = 1.0) -> Reason:  # noqa: A002
    """Share of kept docs (those pycld2 is reliable about) whose language is in ``langs``."""
    codes = [c for c in (detect_language(_text(r)) for r in ctx.kept) if c]
    share = sum(c in langs for c in codes) / len(codes) if codes else 0.0
    return None if min <= share <= max else f"{share:.1%} of {len(codes)} detected kept docs in {langs}, expected {min:.0%}..{max:.0%}"


def no_exact_dups(ctx: Ctx) -> Reason:
    seen: set[str] = set()
    dups = 0
    for r in ctx.kept:
        k = " ".join(_text(r).split())
        dups += k in seen
        seen.add(k)
    return None if not dups else f"{dups} kept docs repeat an earlier kept doc's text"


def no_near_dups(ctx: Ctx, threshold: float = 0.8, n: int = 5, normalise: bool = True, max_pairs: int = 0) -> Reason:
    pairs = near_pairs([_text(r) for r in ctx.kept], threshold, n, normalise)
    if len(pairs) <= max_pairs:
        return None
    a, b, j = pairs[0]
    return f"{len(pairs)} kept pairs with {n}-gram Jaccard > {threshold}, e.g. {ctx.kept[a].get('id')}~{ctx.kept[b].get('id')} ({j:.2f})"


def _groups(ctx: Ctx) -> list[list[str]]:
    """Input docs grouped with the copies the labels say were made of them (original first)."""
    groups: dict[str, list[str]] = {}
    for i, lab in ctx.labels.items():
        if lab.get("original") and lab["original"] in ctx.labels:
            groups.setdefault(lab["original"], [lab["original"]]).append(i)
    return list(groups.values())


def dup_groups_kept(ctx: Ctx, where: dict | None = None) -> Reason:
    """Dedup must keep one of each group: a group wholly dropped is over-filtering."""
    ids = ctx.kept_ids
    groups = [g for g in _groups(ctx) if not where or all(_matches(ctx.labels[i], where) for i in g)]
    lost = [g for g in groups if not set(g) & ids]
    return None if not lost else f"{len(lost)}/{len(groups)} duplicate groups lost every copy, e.g. {lost[0]}"


def dup_groups_single(ctx: Ctx, max_share: float = 0.0) -> Reason:
    """Dedup must leave one copy: groups with two or more members kept are at most ``max_share`` of all."""
    ids = ctx.kept_ids
    groups = _groups(ctx)
    twice = [g for g in groups if len(set(g) & ids) > 1]
    share = len(twice) / len(groups) if groups else 0.0
    return None if share <= max_share else f"{len(twice)}/{len(groups)} duplicate groups kept more than once, e.g. {twice[0]}"


def first_kept(ctx: Ctx) -> Reason:
    """For exact copies, the kept one is the first in input order."""
    pos = {i: k for k, i in enumerate(ctx.order)}
    by_text: dict[str, list[str]] = {}
    for r in ctx.inputs:
        by_text.setdefault(" ".join(_text(r).split()), []).append(str(r["id"]))
    ids = ctx.kept_ids
    wrong = [g for g in by_text.values() if len(g) > 1 and set(g) & ids and min(g, key=pos.get) not in ids]
    return None if not wrong else f"{len(wrong)} duplicate groups kept a later copy, not the first, e.g. {wrong[0]}"


def every_doc(ctx: Ctx, metric: str, max_docs: int = 0, **rule: float) -> Reason:
    fn = METRICS[metric]
    bad = [(r.get("id"), fn(_text(r))) for r in ctx.kept if not _within(fn(_text(r)), rule)]
    if len(bad) <= max_docs:
        return None
    return f"{len(bad)} kept docs break {metric} {rule}, e.g. {bad[0][0]} ({bad[0][1]:.3g})"


def recall_passing(ctx: Ctx, rules: list[dict], min: float) -> Reason:  # noqa: A002
    """Of the input docs that satisfy every rule (so the goal allows them), at least ``min`` are kept."""
    ok = {str(r["id"]) for r in ctx.inputs if all(_within(METRICS[x["metric"]](_text(r)), x) for x in rules)}
    share = len(ok & ctx.kept_ids) / len(ok) if ok else 1.0
    return None if share >= min else f"kept only {share:.0%} of the {len(ok)} docs the rules allow (want >= {min:.0%})"


def no_shared_paragraph(ctx: Ctx, min_chars: int = 40) -> Reason:
    owner: dict[str, str] = {}
    for r in ctx.kept:
        for p in {" ".join(p.split()) for p in _text(r).split("\n\n")}:
            if len(p) < min_chars:
                continue
            if p in owner and owner[p] != r.get("id"):
                return f"paragraph {p[:50]!r} kept in {owner[p]} and {r.get('id')}"
            owner[p] = str(r.get("id"))
    return None


def _new_columns(ctx: Ctx) -> list[str]:
    if not ctx.kept:
        return []
    return [c for c in ctx.kept[0] if c not in ("id", "text") and all(r.get(c) is not None for r in ctx.kept)]


def category_column(ctx: Ctx, min_distinct: int = 2, max_distinct: int = 20) -> Reason:
    """Some added column holds a class name per doc: strings, between ``min_distinct`` and ``max_distinct`` values."""
    good = [c for c in _new_columns(ctx) if all(isinstance(r[c], str) for r in ctx.kept)
            and min_distinct <= len({r[c] for r in ctx.kept}) <= max_distinct]
    cols = sorted(ctx.kept[0]) if ctx.kept else []
    return None if good else f"no added column of {min_distinct}-{max_distinct} class names (columns: {cols[:6]}{'...' if len(cols) > 6 else ''})"


def language_column(ctx: Ctx, min: float = 0.8) -> Reason:  # noqa: A002
    """Some added column names each doc's language (its first two letters match the labelled language)."""
    rows = [r for r in ctx.kept if ctx.labels.get(str(r.get("id")), {}).get("lang") not in (None, "code")]
    best = 0.0
    for c in _new_columns(ctx):
        agree = sum(str(r[c]).lower()[:2] == ctx.labels[str(r["id"])]["lang"] for r in rows)
        best = max(best, agree / len(rows) if rows else 0.0)
    return None if best >= min else f"no added column agrees with the documents' language (best {best:.0%}, want >= {min:.0%})"


def tidy_whitespace(ctx: Ctx) -> Reason:
    bad = [r.get("id") for r in ctx.kept if _text(r) != _text(r).strip() or "  " in _text(r) or "\t" in _text(r)]
    return None if not bad else f"{len(bad)} kept docs still have runs of blanks or leading/trailing whitespace, e.g. {bad[0]}"


CHECKS: dict[str, Callable[..., Reason]] = {f.__name__: f for f in (
    kept_share, kept_count, recall, absent, purity, no_match, values_gone, values_kept, language_share,
    no_exact_dups, no_near_dups, dup_groups_kept, dup_groups_single, first_kept, every_doc, recall_passing, no_shared_paragraph,
    category_column, language_column, tidy_whitespace,
)}


def run_checks(ctx: Ctx, specs: list[dict]) -> list[tuple[str, Reason]]:
    """Every check of a goal, in order, with an implicit first one: the output is not empty."""
    out: list[tuple[str, Reason]] = [("nonempty", None if ctx.kept else "no document kept")]
    for spec in specs:
        params = {k: v for k, v in spec.items() if k != "check"}
        out.append((spec["check"], CHECKS[spec["check"]](ctx, **params)))
    return out
