"""Length: every kept document has at least / at most N words, characters, tokens or lines."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import (
    CheckContext,
    GoalText,
    PlanContext,
    RepairContext,
    RequirementKind,
    register,
)
from gristmill.agent.phrases import NEG, NUM, parse_number
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement, Span

UNITS = r"(words?|tokens?|characters?|chars?|letters?|lines?)"
_LOWER = r"(?:at least|minimum(?: of)?|min(?:imum)?\.?|no fewer than|not fewer than|no less than|not less than|more than|over|above|longer than|exceeding|greater than|upwards of|>=?)"
_UPPER = r"(?:at most|maximum(?: of)?|max(?:imum)?\.?|no more than|not more than|fewer than|less than|under|below|shorter than|up to|within|<=?)"


def unit_of(u: str) -> str:
    u = u.lower()
    return "tokens" if u.startswith("tok") else "chars" if u.startswith(("char", "let")) else "lines" if u.startswith("line") else "words"


def _normalise(low: str) -> str:
    low = low.replace("≥", " at least ").replace("≤", " at most ").replace(">=", " at least ").replace("<=", " at most ")
    low = re.sub(r"(?<![\w%])>\s*(?=\d)", " more than ", low)
    low = re.sub(r"(?<![\w%])<\s*(?=\d)", " less than ", low)
    # "fewer than 50 or more than 100,000 words": the unit belongs to both bounds
    low = re.sub(rf"({_LOWER}|{_UPPER})\s+{NUM}(\s+(?:or|and|,|nor)\s+(?:{_LOWER}|{_UPPER})\s+{NUM}\s*{UNITS})",
                 lambda m: f"{m.group(1)} {m.group(2)} {m.group(5)}{m.group(3)}", low)
    # "under fifty words or over five thousand": and the other way round
    return re.sub(rf"((?:{_LOWER}|{_UPPER})\s+{NUM}\s*{UNITS}\s+(?:or|and|,|nor)\s+(?:{_LOWER}|{_UPPER})\s+(?>{NUM}))(?!\s*(?:{UNITS}|%|percent))",
                  lambda m: f"{m.group(1)} {m.group(3)}", low)


@register
class Length(RequirementKind):
    name = "length"
    description = "every kept document within length bounds (words, characters, tokens as chars/4, lines)"
    rank, order = 60, 3
    query = "document length words characters bounds short long"
    families, drives = frozenset({"quality"}), ("length_filter",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        bounds: dict[str, dict[str, float]] = {}
        spans: dict[str, list[Span]] = {}

        def put(unit: str, key: str, value: float, clause_span: Span) -> None:
            bounds.setdefault(unit, {})[key] = value
            spans.setdefault(unit, []).append(clause_span)

        free = goal.free(self.name)
        for clause in goal.clauses:
            low = _normalise(free[clause.start : clause.end])
            lead = goal.lead(clause)
            # positions in the normalised clause may shift (≥ -> at least): a bound is credited to its clause
            cs = clause.span
            for m in re.finditer(rf"\bbetween\s+{NUM}\s*(?:{UNITS})?\s+and\s+{NUM}\s+{UNITS}", low):
                u = unit_of(m.group(4))
                put(u, "min", parse_number(m.group(1)), cs)
                put(u, "max", parse_number(m.group(3)), cs)
            for m in re.finditer(rf"\b{NUM}\s*(?:-|–|to)\s*{NUM}\s+{UNITS}\b(?!\s+(?:budget|total|in total|overall))", low):
                u = unit_of(m.group(3))
                put(u, "min", parse_number(m.group(1)), cs)
                put(u, "max", parse_number(m.group(2)), cs)
            # "limit each document to 500 tokens", "cap every doc at 2k words": a per-document maximum
            for m in re.finditer(rf"\b(?:limit|cap)\w*\s+(?:each|every|any|all|the|a|single)?\s*(?:docs?|documents?|texts?|samples?|pages?|records?)\s+(?:to|at)\s+{NUM}\s*{UNITS}", low):
                put(unit_of(m.group(2)), "max", parse_number(m.group(1)), cs)
            for m in re.finditer(rf"({_LOWER}|{_UPPER})\s+{NUM}\s*{UNITS}", low):
                phrase, num, unit = m.group(1), parse_number(m.group(2)), unit_of(m.group(3))
                ctx = low[max(0, m.start() - 40) : m.start()]
                if unit == "tokens" and re.search(r"(?:total|budget|overall|in all|dataset of|corpus of|collect|gather|need|want|produce|output of|get)\s*(?:\w+\s*){0,3}$", ctx):
                    continue  # a token budget (kind token_budget)
                after = low[m.end() : m.end() + 15]
                if re.search(r"\b(?:tokens?|words?)\s+(?:total|in total|overall|budget)", after) or \
                        re.match(r"\s*(?:total|in total|overall|in all|budget)\b", after):
                    continue
                is_lower = re.fullmatch(_LOWER, phrase) is not None
                strict_cmp = phrase in ("more than", "over", "above", "longer than", "exceeding", "greater than", ">")
                strict_cmp_up = phrase in ("fewer than", "less than", "under", "below", "shorter than", "<")
                # "drop docs with fewer than 50 words" == keep >= 50 ; the nearer verb decides
                # the polarity of its own comma piece ("remove duplicates, at least 50 words": a lower bound), a
                # thousands separator not being a comma piece ("fewer than 50 or more than 100,000 words")
                sub = (lead + " " if lead else "") + re.split(r";|,(?=\s)", low[: m.start()])[-1]
                negs = [x.end() for x in re.finditer(rf"\b{NEG}\b", sub)]
                keeps = [x.end() for x in re.finditer(r"\b(?:keep|only|retain|select)\b", sub)]
                neg = bool(negs) and (not keeps or negs[-1] > keeps[-1])
                if neg:
                    if not is_lower:  # drop fewer than N -> keep >= N
                        put(unit, "min", num if strict_cmp_up or phrase.startswith("under") else num + 1, cs)
                    else:  # drop more than N -> keep <= N
                        put(unit, "max", num if strict_cmp else num - 1, cs)
                elif is_lower:
                    put(unit, "min", num + 1 if strict_cmp and unit != "chars" else num, cs)
                else:
                    put(unit, "max", num - 1 if strict_cmp_up and unit != "chars" else num, cs)
        if not bounds:
            low = free
            m = re.search(r"\b(?:short|tiny|fragment\w*|stub\w*|too short|very short)\b\s*(?:docs?|documents?|texts?|pages?|entries|rows|snippets|ones|fragments)?", low)
            if m and re.search(rf"\b{NEG}\b[^.;]*\b(?:short|tiny|fragment|stub)", low):
                goal.notes.append("'short documents' taken as fewer than 20 words")
                return [self.requirement({"unit": "words", "min": 20}, "every kept document has ≥ 20 words", "short",
                                         "'short' means fewer than 20 words", span=m.span())]
            return []
        out = []
        for unit, b in bounds.items():
            lo, hi = b.get("min"), b.get("max")
            if lo is not None and hi is not None:
                text = f"{int(lo)} ≤ {unit} ≤ {int(hi)} for every kept document"
            elif lo is not None:
                text = f"every kept document has ≥ {int(lo)} {unit}"
            else:
                text = f"every kept document has ≤ {int(hi)} {unit}"
            params: dict[str, Any] = {"unit": unit}
            if lo is not None:
                params["min"] = int(lo)
            if hi is not None:
                params["max"] = int(hi)
            assumption = "tokens estimated as characters / 4 (no tokenizer named)" if unit == "tokens" else None
            out.append(self.requirement(params, text, unit, assumption, read=spans[unit]))
        return out

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        op = self.choose(req, ctx.index)
        unit, p = req.params["unit"], req.params
        params: dict[str, Any] = {"min_chars": 1}
        keep: dict[str, str] | None = None
        why = f"length bounds from the goal ({req.text})"
        if unit == "words":
            if "min" in p:
                params["min_words"] = p["min"]
            if "max" in p:
                params["max_words"] = p["max"]
        elif unit in ("chars", "tokens"):
            mult = 4 if unit == "tokens" else 1
            if "min" in p:
                params["min_chars"] = max(1, p["min"] * mult)
            if "max" in p:
                params["max_chars"] = p["max"] * mult
            if unit == "tokens":
                why += "; tokens as characters / 4"
        else:  # lines
            keep = {"too_short": "length_filter.chars >= 1"}
            if "min" in p:
                keep["too_few_lines"] = f"length_filter.lines >= {p['min']}"
            if "max" in p:
                keep["too_many_lines"] = f"length_filter.lines <= {p['max']}"
        return [self.step(op, params, keep, why)]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        from gristmill.agent.profile import est_tokens

        texts = dry.kept_texts
        p, unit = req.params, req.params["unit"]
        if unit == "words":
            from gristmill.ops.filters import count_text_words

            vals = count_text_words(list(texts))
        elif unit == "chars":
            vals = np.array([len(t) for t in texts])
        elif unit == "tokens":
            vals = np.array([est_tokens(t) for t in texts])
        else:
            vals = np.array([t.count("\n") + 1 for t in texts])
        bad = 0
        if len(vals):
            if "min" in p:
                bad += int((vals < p["min"]).sum())
            if "max" in p:
                bad += int((vals > p["max"]).sum())
        rng = f"min {vals.min()}, max {vals.max()}" if len(vals) else "no documents"
        return self.result(req, bad == 0, f"{bad} of {len(texts)} kept documents out of bounds ({unit}: {rng})", {"violations": bad})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        self.move_late(ctx, self.name)
