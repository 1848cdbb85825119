"""Language: keep or drop documents by language ("English only", "no German or Spanish", "non-English")."""

from __future__ import annotations

import re
from collections import Counter

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import (
    CheckContext,
    GoalText,
    PlanContext,
    RepairContext,
    RequirementKind,
    register,
)
from gristmill.agent.phrases import excluded, vocabulary
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

_VOCAB = vocabulary("languages")
LANGUAGES: dict[str, str] = _VOCAB["names"]
CODES = set(LANGUAGES.values()) | set(_VOCAB["extra_codes"])
# two-letter codes that are also English words: read as a code only when written in capitals or quoted
_WORDLIKE = frozenset({"it", "no", "id", "is", "in", "on", "at", "to", "as", "an", "am", "be", "he", "we", "me", "my", "so",
                       "do", "or", "if", "of", "us", "hi", "la", "ca", "de", "da", "et", "el", "fa", "ha", "ko", "ne", "sk",
                       "sl", "sv", "ta", "te", "th", "uk", "vi"})
# "fastText English score of at least 0.65", "language score >= 0.5", "confidence 0.8 or higher"
_SCORE = re.compile(r"\b(?:(?:fast-?text|cld2|cld3|lingua|langid|lang(?:uage)?[- ]?id(?:entification)?|lid)\s+)?(?:(?:english|language|lang)\s+)?"
                    r"(?:score|confidence|probability)\s*(?:is\s+|of\s+|must be\s+|should be\s+)?(?:(?:at least|>=|≥|above|over|of at least)\s*)?"
                    r"(\d?\.\d+|\d(?:\.\d+)?)(?:\s*(?:or (?:higher|more|above|greater)|\+))?")
# "all other languages", "every language but...": read beside a language requirement
_OTHER_LANGS = re.compile(r"\b(?:(?:all|any|every|other|remaining|the|rest of the)\s+)*languages?\b")
_OTHER_THAN = re.compile(r"(?:isn'?t|is not|aren'?t|are not|not in|other than|besides|anything but|apart from|aside from|except)\s+(?:in\s+)?$")


@register
class Language(RequirementKind):
    name = "language"
    description = "documents in (or not in) the named languages"
    rank, order = 10, 5
    query = "identify document language keep documents in listed languages"
    families, drives = frozenset({"lang"}), ("lang_id",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        keep: list[str] = []
        drop: list[str] = []
        spans = []
        for clause in goal.clauses:
            low = goal.free(self.name)[clause.start : clause.end]
            found: list[tuple[int, int, str, bool]] = []  # (start, end, code, written as non-X / other than X)
            for name, code in LANGUAGES.items():
                for m in re.finditer(rf"(non[- ]?)?\b{name}\b", low):
                    other = _OTHER_THAN.search(low[: m.start()])
                    found.append((m.start() if not other else other.start(), m.end(), code, bool(m.group(1)) or bool(other)))
            raw = goal.text[clause.start : clause.end]
            for m in re.finditer(r"\b(?:lang(?:uage)?s?|lang(?:uage)?\s*code)\s*(?:[:=]|is|in|of)?\s*((?:[a-z]{2}(?:[-_][a-z]{2})?\b\s*(?:,|/|\bor\b|\band\b)?\s*)+)", low):
                for c in re.finditer(r"\b([a-z]{2})\b", m.group(1)):
                    written = raw[m.start(1) + c.start() : m.start(1) + c.end()]
                    if c.group(1) in CODES and (c.group(1) not in _WORDLIKE or written.isupper()):
                        found.append((m.start(), m.end(), c.group(1), False))
            for m in re.finditer(r"\b(?:only|keep|just)\s+([a-z]{2})\b(?:\s*(?:,|and|or|/)\s*([a-z]{2})\b)?", low):
                for g in (1, 2):
                    c = m.group(g)
                    if c and c in CODES and (c not in _WORDLIKE or raw[m.start(g) : m.end(g)].isupper()):
                        found.append((m.start(), m.end(), c, False))
            for start, end, code, non in found:
                neg = excluded(low, start, end)
                if non:  # "remove non-English" keeps English; "keep non-English" drops it
                    (drop if not neg else keep).append(code)
                else:
                    (drop if neg else keep).append(code)
                spans.append((clause.start + start, clause.start + end))
        keep = list(dict.fromkeys(c for c in keep if c not in drop))
        drop = list(dict.fromkeys(drop))
        if not keep and not drop:
            return []
        low = goal.free(self.name)
        spans += [m.span() for m in _OTHER_LANGS.finditer(low)]
        params: dict = {"keep": keep} if keep else {"drop": drop}
        assumption = None
        m = _SCORE.search(low)
        if m and keep:
            v = float(m.group(1))
            if 0 < v <= 1:
                params["min_score"] = v
                spans.append(m.span())
                if re.search(r"fast-?text|cld3|lingua", m.group(0)):
                    assumption = (f"the {m.group(0).split()[0]} score is read as lang_id's score (cld2 here: the share of the text "
                                  "in that language, not the same model's probability)")
        text = f"language ∈ {{{', '.join(keep)}}}" if keep else f"language ∉ {{{', '.join(drop)}}}"
        if "min_score" in params:
            text += f" with score ≥ {params['min_score']}"
        return [self.requirement(params, text, "language", assumption, read=spans)]

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        self.choose(req, ctx.index)
        exempt = [k for r in ctx.goal.requirements if r.kind == "content" for k in r.params.get("exempt", [])]
        if "keep" in req.params:
            score = req.params.get("min_score", 0.5)
            if exempt:  # "drop the records that are not in English, but keep the source code"
                rule = (f"(lang_id.language in {req.params['keep']!r} and lang_id.score >= {score}) or "
                        f"content_kind.kind in {exempt!r}")
                return [self.step("lang_id", {"min_score": 0.0}, {"wrong_language": rule},
                                  f"keep documents identified as {req.params['keep']} (cld2, score >= {score}); {exempt} exempt")]
            return [self.step("lang_id", {"languages": req.params["keep"], "min_score": score},
                              why=f"keep documents identified as {req.params['keep']} (cld2, score >= {score})")]
        drop = req.params["drop"]
        if exempt:
            return [self.step("lang_id", {"min_score": 0.0}, {"unwanted_language": f"not (lang_id.language in {drop!r}) or "
                                                                                    f"content_kind.kind in {exempt!r}"},
                              f"drop documents identified as {drop}; {exempt} exempt")]
        return [self.step("lang_id", {"min_score": 0.0}, {"unwanted_language": f"not (lang_id.language in {drop!r})"},
                          f"drop documents identified as {drop}")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        from gristmill.agent.profile import detect_languages
        from gristmill.agent.scanners import STOPWORD_LANGUAGES, stopword_languages

        texts = dry.kept_texts
        n = len(texts)
        p = req.params
        langs = stopword_languages(texts)
        counts = Counter(langs)
        if "keep" in p:
            targets = [c for c in p["keep"] if c in STOPWORD_LANGUAGES]
            if not targets:  # no bundled stop-word list: fall back to the planner's detector
                langs = detect_languages(texts) or []
                counts, targets = Counter(langs), p["keep"]
            decided = [x for x in langs if x != "unknown"]
            ok = sum(1 for x in decided if x in targets)
            share = ok / len(decided) if decided else (1.0 if not n else 0.0)
            return self.result(req, share >= 0.9, f"{share:.1%} of {len(decided)} kept documents with prose are {targets} by stop-word "
                               f"profile (an independent detector); {n - len(decided)} undecided (code, tables); top: "
                               f"{dict(counts.most_common(4))}", {"share": share})
        bad = sum(counts[c] for c in p["drop"])
        share = bad / n if n else 0.0
        return self.result(req, share <= 0.05, f"{bad} of {n} kept documents are {p['drop']} by stop-word profile", {"share": share})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        for s in ctx.plan.steps:
            if s.op == "lang_id":
                ms = round(min(0.9, s.params.get("min_score", 0.5) + 0.2), 2)
                if ms != s.params.get("min_score"):
                    s.params["min_score"] = ms
                    ctx.actions.append(f"language score threshold raised to {ms}")


def single_language(goal_reqs: list[Requirement]) -> str | None:
    """The one language a goal keeps, if it keeps exactly one (quality and toxicity steps use its lists)."""
    r = next((r for r in goal_reqs if r.kind == "language"), None)
    if r and len(r.params.get("keep", [])) == 1:
        return r.params["keep"][0]
    return None
