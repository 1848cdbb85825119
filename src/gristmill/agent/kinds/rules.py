"""Rules: every kept document satisfies a bound on a measure the published filter families name.

"Apply the Gopher rules: mean word length between 3 and 10, symbol-to-word ratio below 0.1, at most 90% of
lines starting with a bullet point", "remove documents where 12% or fewer of the lines end with
punctuation", "drop any file whose longest line is above 1000 characters", "fewer than 200 characters once
punctuation and whitespace are removed", "drop documents in which no line ends with a punctuation mark".

The measures, the words that name them, how the plan measures them and the published default bounds are
data (``assets/agent/measures.yaml``). The plan measures with counting steps (``regex_filter`` that only
counts) and operator signals (``gopher_quality``, ``fineweb_quality``... run to measure only) and keeps
documents with one ``filter`` step per bound, so the bound is exactly the user's. The check re-measures
every kept document with the verifier's own implementation of the published definition
(:mod:`gristmill.agent.measures`); where an operator's definition differs and keeps documents the
definition rejects, the repair tightens that bound on the operator's signal just enough to drop them.
"""

from __future__ import annotations

import functools
import math
import re
import sys
import unicodedata
from dataclasses import dataclass
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
from gristmill.agent.measures import measure
from gristmill.agent.phrases import FRACTION, FRACTIONS, NEG, NUM, SELECT, parse_number, vocabulary
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement, Span

_VOCAB = vocabulary("measures")
_QUALITY = vocabulary("quality")
_DESCRIPTIVE = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in sorted(_QUALITY["descriptive"], key=len, reverse=True))
                          + r"|[a-z]+-(?:heavy|laden|ridden|filled|only))(?![\w-])")
_FAMILY = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for f in _QUALITY["families"].values() for n in f["names"])
                     + r")(?:'s)?(?:\s+(?:quality|repetition|custom))*(?:\s+(?:filters?|rules?|heuristics?|criteria|thresholds?))?(?![\w-])")
COUNTERS: dict[str, str] = _VOCAB["counters"]
MEASURES: dict[str, dict[str, Any]] = _VOCAB["measures"]
_NAMES = {name: re.compile("|".join(f"(?:{p})" for p in m["names"])) for name, m in MEASURES.items()}

_PRE = [
    (r"at least|no less than|not less than|no fewer than|not fewer than|minimum(?: of)?|min\.?|>=|≥|upwards of|"
     r"(?:should|must|has to|have to) be at least", ">="),
    (r"more than|greater than|over|above|exceed(?:s|ing)?|longer than|higher than|bigger than|larger than|beyond|>", ">"),
    (r"at most|no more than|not more than|maximum(?: of)?|max\.?|up to|<=|≤|no longer than|no higher than|not above|"
     r"not over|not exceeding|within", "<="),
    (r"less than|fewer than|under|below|shorter than|lower than|smaller than|<", "<"),
    (r"equal to|exactly|=", "=="),
]
_POST = [
    (r"(?:or more|or higher|or above|or greater|or longer|or over|and above|and up|and over)(?!\s+than)|\+", ">="),
    (r"(?:or fewer|or less|or lower|or below|or shorter|or under|and below|and under)(?!\s+than)", "<="),
]
_NUM_NAMED = NUM.replace("(", "(?P<num>", 1)
_VALUE = rf"(?:{_NUM_NAMED}(?:\s*(?P<pct>%|percent|per cent))?|(?P<frac>{FRACTION}))"
_UNIT = r"(?:\s*(?:char(?:acter)?s?|letters|words?|lines?|of (?:the |all )?(?:lines|characters|words|chars)))?"
_CMP = re.compile(
    rf"(?:(?P<pre>{'|'.join(f'(?:{p})' for p, _ in _PRE)})\s*(?:is\s+|are\s+|of\s+)?)?{_VALUE}{_UNIT}(?:\s*(?P<post>{'|'.join(f'(?:{p})' for p, _ in _POST)}))?{_UNIT}")
_PLAIN = rf"(?:{NUM}|({FRACTION}))(?:\s*(%|percent|per cent))?"
_BETWEEN = re.compile(rf"\b(?:between|from)\s+{_PLAIN}\s*(?:char(?:acter)?s?|words?)?\s+(?:and|to)\s+{_PLAIN}")
_RANGE = re.compile(rf"(?<![\w.]){_PLAIN}\s*(?:-|–|to)\s*{_PLAIN}(?!\s*-?grams?)")
_OUTSIDE = re.compile(r"\b(?:outside(?: of)?(?: the range)?|not between|not within|out of(?: the range)?)\s*$")
_SEGMENT = re.compile(r",\s*|;\s*|:\s*|\s+or\s+(?!more|fewer|less|higher|lower|above|below|greater|longer|shorter|over|under)|"
                      r"\s+and\s+(?!above|up|over|below|under)|\s+(?:where|whose|when|if|in which|with)\s+")
_MOSTLY = re.compile(r"\b(?:mostly|mainly|largely|predominantly|(?:a |the )?majority of|most of)\b")
_QUANT_NONE = re.compile(r"(?:\bno|\bnone of the|\bnot a single|\bnot one|\bnot any)\s+$")
_QUANT_ALL = re.compile(r"(?:\bevery|\ball(?: the| of the)?|\beach)\s+$")
_NEGATE = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "!=", "!=": "=="}


@dataclass
class Bound:
    measure: str
    op: str  # >=, >, <=, <, ==, != on the measure, or between (value: [low, high])
    value: Any
    param: int | None
    span: Span  # in the goal reading


@functools.cache
def _punctuation_class() -> str:
    """Every Unicode punctuation character (category P*), as the inside of a regex character class."""
    chars = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)).startswith("P")]
    return "".join(re.escape(c) for c in chars)


def counter_pattern(name: str, lim: int | None = None) -> str:
    pat = COUNTERS[name].replace("{P}", _punctuation_class()) if "{P}" in COUNTERS[name] else COUNTERS[name]
    return pat.replace("{lim}", str(lim)) if lim is not None else pat


def _value(m: re.Match[str], unit: str) -> float:
    """The number of a comparison, as a share (0-1) for share/ratio measures when written as a percentage."""
    if m.group("frac"):
        return FRACTIONS[" ".join(m.group("frac").split())]
    v = parse_number(m.group("num"))
    if unit in ("share", "ratio") and (m.group("pct") or v > 1):
        v /= 100
    return v


def _range_values(m: re.Match[str], unit: str) -> list[float]:
    """[low, high] of "between A and B" / "A-B" (groups: number, fraction, percent sign; twice)."""
    g = m.groups()
    vals = []
    for num, frac, pct in (g[0:3], g[3:6]):
        v = FRACTIONS[" ".join(frac.split())] if frac else parse_number(num)
        if unit in ("share", "ratio") and not frac and (pct or "%" in m.group(0) or v > 1):
            v /= 100
        vals.append(v)
    return sorted(vals)


def _op_of(m: re.Match[str]) -> str | None:
    pre, post = m.group("pre"), m.group("post")
    for text, table in ((pre, _PRE), (post, _POST)):
        if text:
            for pat, op in table:
                if re.fullmatch(f"(?:{pat})", text.strip()):
                    return op
    return None


class _Segmenter:
    """Cut a clause into the pieces a bound lives in ("..., where X, or where Y"), never inside a measure's
    own words or a "between A and B"."""

    def __init__(self, low: str, protected: list[Span]) -> None:
        self.cuts = [0] + [m.end() for m in _SEGMENT.finditer(low)
                           if not any(s < m.start() < e for s, e in protected)] + [len(low)]

    def index(self, pos: int) -> int:
        return max(i for i, c in enumerate(self.cuts[:-1]) if c <= pos)

    def start(self, i: int) -> int:
        return self.cuts[i]


def _mentions(low: str, goal: GoalText, offset: int) -> list[tuple[int, int, str, int | None]]:
    found: list[tuple[int, int, str, int | None]] = []
    for name, rx in _NAMES.items():
        for m in rx.finditer(low):
            if goal.is_claimed(offset + m.start(), offset + m.end(), by=Rules.name):
                continue
            param = None
            gd = m.groupdict()
            if gd.get("n"):
                param = int(gd["n"])
            elif gd.get("n_le"):
                param = int(gd["n_le"]) + 1
            elif gd.get("n_word"):
                param = {"bi": 2, "tri": 3}[gd["n_word"]]
            found.append((m.start(), m.end(), name, param))
    found.sort(key=lambda x: (x[0], -(x[1] - x[0])))
    out: list[tuple[int, int, str, int | None]] = []
    for f in found:  # longest first at each place, no overlaps
        if not any(s < f[1] and f[0] < e for s, e, _, _ in out):
            out.append(f)
    return out


def _polarity(low: str, upto: int, blanked: list[Span]) -> str:
    """'drop' when the last polarity word before ``upto`` (outside measures and comparisons) excludes."""
    chars = list(low[:upto])
    for s, e in blanked:
        for k in range(max(0, s), min(e, upto)):
            chars[k] = " "
    before = "".join(chars)
    last_neg = max((m.start() for m in re.finditer(rf"\b{NEG}\b", before)), default=-1)
    last_sel = max((m.start() for m in re.finditer(rf"\b{SELECT}\b|\bapply\b|\bmust\b|\bshould\b", before)), default=-1)
    return "drop" if last_neg > last_sel else "keep"


def parse_bounds(goal: GoalText, clause_start: int, clause_end: int) -> list[tuple[Bound, str, list[Span]]]:
    """Bounds in one clause: (bound as the user stated it, polarity of its piece, spans it read)."""
    low = goal.low[clause_start:clause_end]
    mentions = _mentions(low, goal, clause_start)
    if not mentions:
        return []
    between = [m for m in _BETWEEN.finditer(low)]
    protected = [(s, e) for s, e, _, _ in mentions] + [m.span() for m in between] + \
                [m.span() for m in re.finditer(r"\([^()]*\)", low)]
    seg = _Segmenter(low, protected)
    cmps: list[tuple[int, int, str, re.Match[str]]] = []  # start, end, op ("between" for ranges), match
    taken = [(s, e) for s, e, _, _ in mentions]
    rest = list(low)  # the clause with the measures' own words blanked: a comparison never eats into them
    for s, e in taken:
        rest[s:e] = " " * (e - s)
    rest_s = "".join(rest)
    for rx, kind in ((_BETWEEN, "between"), (_RANGE, "between"), (_CMP, "")):
        for m in rx.finditer(rest_s):
            if not m.group(0).strip() or any(s <= m.start() < e or s < m.end() <= e for s, e in taken):
                continue
            if not re.search(r"\d|" + FRACTION, m.group(0)):
                continue
            cmps.append((m.start(), m.end(), kind or (_op_of(m) or ""), m))
            taken.append(m.span())
    # each comparison goes to the measure of its own piece, else to the one before it ("shorter than 3
    # characters or longer than 10"), else to the next one ("12% or fewer of the lines end with ...")
    by_seg: dict[int, list[int]] = {}
    for k, (s, _, name, _) in enumerate(mentions):
        if MEASURES[name]["unit"] != "flag":  # "empty" takes no number: "near-empty (less than 5 words)" is length's
            by_seg.setdefault(seg.index(s), []).append(k)
    out: list[tuple[Bound, str, list[Span]]] = []
    used: set[int] = set()
    blanked = [(s, e) for s, e, _, _ in mentions] + [(c[0], c[1]) for c in cmps]
    for start, end, op, m in sorted(cmps, key=lambda c: c[0]):
        si = seg.index(start)
        if si in by_seg:
            k = min(by_seg[si], key=lambda j: abs(mentions[j][0] - start))
        else:
            numeric = [j for j, (_, _, name, _) in enumerate(mentions) if MEASURES[name]["unit"] != "flag"]
            prev = [j for j in numeric if mentions[j][0] < start]
            nxt = [j for j in numeric if mentions[j][0] > start]
            if prev:
                k = prev[-1]
            elif nxt:
                k = nxt[0]
            else:
                continue
        ms, me, name, param = mentions[k]
        unit = MEASURES[name]["unit"]
        pol = _polarity(low, seg.start(si) if si else min(start, ms), blanked)
        read = [(clause_start + ms, clause_start + me), (clause_start + start, clause_start + end)]
        span = (clause_start + min(ms, start), clause_start + max(me, end))
        if op == "between":
            outside = _OUTSIDE.search(rest_s[:start])
            if outside:  # "mean word length is outside 3-10": the stated condition is the complement
                read.append((clause_start + outside.start(), clause_start + outside.end()))
                pol = "keep" if pol == "drop" else "drop"
            out.append((Bound(name, "between", _range_values(m, unit), param, span), pol, read))
        else:
            if not op:
                op = ">" if _MOSTLY.search(low[max(0, start - 20):start]) else MEASURES[name].get("default", [">="])[0]
                op = "<=" if op == "between" else op
            out.append((Bound(name, op, _value(m, unit), param, span), pol, read))
        used.add(k)
    bounded = {mentions[k][2] for k in used}
    for k, (ms, me, name, param) in enumerate(mentions):
        if k in used:
            continue
        if name in bounded:  # "mostly short lines (over 70% of the lines under 30 chars)": one bound
            out = [(b, pol, r + [(clause_start + ms, clause_start + me)]) if b.measure == name else (b, pol, r)
                   for b, pol, r in out]
            continue
        spec = MEASURES[name]
        read = [(clause_start + ms, clause_start + me)]
        pol = _polarity(low, ms, blanked)
        before = low[:ms]
        if spec["unit"] == "flag":
            flag_pol = "keep" if low[ms:me].startswith("non") else pol
            same = next((i for i, (b, _, _) in enumerate(out) if b.measure == name), None)
            if same is not None:  # "empty and near-empty": one requirement, both words read
                out[same] = (out[same][0], out[same][1], out[same][2] + read)
                continue
            out.append((Bound(name, "==", 1.0, param, read[0]), "flag:" + flag_pol, read))
        elif _QUANT_NONE.search(before):  # "no line ends with a punctuation mark"
            q = _QUANT_NONE.search(before)
            assert q is not None
            read.append((clause_start + q.start(), clause_start + q.end()))
            out.append((Bound(name, "==", 0.0, param, (clause_start + q.start(), clause_start + me)), pol, read))
        elif _QUANT_ALL.search(before):
            out.append((Bound(name, ">=", 1.0, param, read[0]), pol, read))
        elif _MOSTLY.search(low[max(0, ms - 25) : ms]):
            q = _MOSTLY.search(low[max(0, ms - 25) : ms])
            assert q is not None
            read.append((clause_start + max(0, ms - 25) + q.start(), clause_start + max(0, ms - 25) + q.end()))
            out.append((Bound(name, ">", 0.5, param, read[0]), pol, read))
        elif "default" in spec:
            d = spec["default"]
            value = [float(d[1]), float(d[2])] if d[0] == "between" else float(d[1])
            out.append((Bound(name, d[0], value, param, read[0]), "default", read))
    return out


def _keep_condition(b: Bound, polarity: str) -> tuple[str, Any]:
    """The bound as a condition on kept documents: a condition stated in a drop clause is negated."""
    if polarity == "drop":
        return ("outside" if b.op == "between" else _NEGATE[b.op]), b.value
    return b.op, b.value


@register
class Rules(RequirementKind):
    name = "rules"
    description = "every kept document within a bound on a named measure (Gopher, C4, FineWeb, RedPajama, SlimPajama rules)"
    rank, order = 16, 7.5
    query = "quality heuristics rules thresholds lines words characters ratio"
    families = frozenset({"quality", "select"})
    drives = ("regex_filter", "filter", "gopher_quality", "gopher_repetition", "fineweb_quality", "length_filter",
              "char_ratios")

    def parse(self, goal: GoalText) -> list[Requirement]:
        out: list[Requirement] = []
        for clause in goal.clauses:
            bounds = parse_bounds(goal, clause.start, clause.end)
            if bounds:
                self._describing(goal, clause.start, clause.end)
            for b, pol, read in bounds:
                spec = MEASURES[b.measure]
                if pol.startswith("flag:"):
                    if pol == "flag:keep" and not goal.low[read[0][0]:read[0][1]].startswith("non"):
                        continue  # "keep empty documents": nothing to filter
                    op, value = "==", 0.0  # keep the documents that are not empty
                else:
                    op, value = _keep_condition(b, pol)
                param = b.param if b.param is not None else spec.get("param_default")
                text = spec["text"].replace("{n}", str(param)) if param is not None else spec["text"]
                shown = f"[{value[0]:g}, {value[1]:g}]" if isinstance(value, list) else f"{value:g}"
                assumption = (f"{text}: the published bound ({spec.get('source', '')})" if pol == "default" else None)
                params: dict[str, Any] = {"measure": b.measure, "op": op, "value": value}
                if param is not None:
                    params["param"] = param
                rtext = ("every kept document is not empty" if spec["unit"] == "flag"
                         else f"every kept document: {text} {'in' if op == 'between' else op} {shown}")
                out.append(self.requirement(params, rtext, goal.text[b.span[0]:b.span[1]], assumption, span=b.span, read=read))
                for s in read:
                    goal.claim(s, self.name)
        return out

    def _describing(self, goal: GoalText, start: int, end: int) -> None:
        """In a clause that states its own bounds, "short, low-quality documents" and "the Gopher rules" name
        what the bounds define: read as such (an assumption), not as requests of their own."""
        low = goal.low[start:end]
        for rx, why in ((_DESCRIPTIVE, "describing the documents the stated rule removes"),
                        (_FAMILY, "naming the rules stated in the same clause (only those are applied)")):
            for m in rx.finditer(low):
                span = (start + m.start(), start + m.end())
                if not goal.is_claimed(*span, by=self.name):
                    goal.claim(span, self.name)
                    goal.assume(span, f"{goal.text[span[0]:span[1]]!r} read as {why}")

    # -- plan ------------------------------------------------------------------------------------------
    @staticmethod
    def _lim(req: Requirement) -> int | None:
        p, unit = req.params, MEASURES[req.params["measure"]]["unit"]
        if unit == "longest":
            v = p["value"]
            return int(math.floor(v)) + 1 if p["op"] in ("<=", ">") else int(math.ceil(v))
        if p["measure"] == "short_line_share":
            return max(0, int(p.get("param", 30)) - 3)
        return None

    def expression(self, req: Requirement) -> tuple[str, list[PlanStep]]:
        """The measure as a rule expression over step signals, and the measuring steps it needs."""
        spec = MEASURES[req.params["measure"]]
        steps: list[PlanStep] = []
        lim = self._lim(req)

        def counter(m: re.Match[str]) -> str:
            name = m.group(1)
            step = f"count_{name}" + (f"_{lim}" if lim is not None and "{lim}" in COUNTERS[name] else "")
            steps.append(PlanStep("regex_filter", {"pattern": counter_pattern(name, lim)}, {}, f"count {name.replace('_', ' ')} "
                                  "(measure only)", self.name, step, self.order - 0.1))
            return f"{step}.matches"

        def signal(m: re.Match[str]) -> str:
            op, sig = m.group(1), m.group(2)
            step = f"measure_{op}"
            params: dict[str, Any] = {"min_chars": 0} if op == "length_filter" else {}
            steps.append(PlanStep(op, params, {}, f"measure {op} signals (its own rules off)", self.name, step, self.order - 0.1))
            return f"{step}.{sig}"

        expr = spec["expr"].replace("{n}", str(req.params.get("param", spec.get("param_default", ""))))
        expr = re.sub(r"\{count:(\w+)\}", counter, expr)
        expr = re.sub(r"\{(\w+):(\w+)\}", signal, expr)
        return expr, steps

    def keep_rule(self, req: Requirement, expr: str) -> str:
        p, unit = req.params, MEASURES[req.params["measure"]]["unit"]
        if unit == "longest":  # a bound on every line: no line over it (or some line over it)
            return f"{expr} == 0" if p["op"] in ("<=", "<") else f"{expr} > 0"
        if unit == "flag":
            return f"{expr} == 0"
        if p["op"] == "outside":
            lo, hi = p["value"]
            return f"({expr}) < {lo:g} or ({expr}) > {hi:g}"
        if p["op"] == "between":
            lo, hi = p["value"]
            return f"({expr}) >= {lo:g} and ({expr}) <= {hi:g}"
        return f"({expr}) {p['op']} {p['value']:g}"

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        expr, steps = self.expression(req)
        have = {s.name for s in ctx.plan.steps if s.name}
        new = [s for s in dict((s.name, s) for s in steps).values() if s.name not in have]
        rule = self.keep_rule(req, expr)
        idx = sum(1 for s in ctx.plan.steps if s.requirement == self.name and s.op == "filter")
        name = f"rule_{req.params['measure']}" + (f"_{idx}" if any(s.name == f"rule_{req.params['measure']}" for s in ctx.plan.steps) else "")
        req.params["step"] = name
        req.params["lhs"] = expr
        return new + [PlanStep("filter", {}, {req.params["measure"]: rule}, f"{req.text}", self.name, name, self.order)]

    # -- check and repair --------------------------------------------------------------------------------
    @staticmethod
    def holds(req: Requirement, v: float) -> bool:
        p, unit = req.params, MEASURES[req.params["measure"]]["unit"]
        if unit == "flag":
            return v == 0
        op, x = p["op"], p["value"]
        eps = 1e-9
        if op == "outside":
            return v < x[0] - eps or v > x[1] + eps
        if op == "between":
            return x[0] - eps <= v <= x[1] + eps
        return {">=": v >= x - eps, ">": v > x + eps, "<=": v <= x + eps, "<": v < x - eps, "==": abs(v - x) <= eps,
                "!=": abs(v - x) > eps}[op]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        p = req.params
        spec = MEASURES[p["measure"]]
        texts = dry.kept_texts
        vals = [measure(spec["check"], t, p.get("param")) for t in texts]
        bad = [i for i, v in enumerate(vals) if not self.holds(req, v)]
        measured: dict[str, Any] = {"violations": len(bad)}
        evidence = f"{len(bad)} of {len(texts)} kept documents break it by the verifier's own measure"
        if bad:
            ids = dry.kept.column("id").to_pylist() if "id" in dry.kept.column_names else list(range(len(texts)))
            evidence += f", e.g. {ids[bad[0]]} ({vals[bad[0]]:.4g})"
            tight = self._tighten(req, dry, bad, vals)
            if tight:
                measured["tighten"] = tight
        return self.result(req, not bad, evidence, measured)

    def _tighten(self, req: Requirement, dry: DryRun, bad: list[int], vals: list[float]) -> str | None:
        """A rule on the plan's own measure that drops the kept documents the definition rejects."""
        from gristmill.recipe.rules import RuleError, compile_rule

        p = req.params
        lhs = p.get("lhs")
        if not lhs or MEASURES[p["measure"]]["unit"] in ("flag", "longest") or p["op"] in ("==", "!="):
            return None
        cols = [c for c in dry.kept.column_names if "." in c]
        try:
            rule = compile_rule("probe", lhs, cols)
        except RuleError:
            return None
        env = {c: np.asarray(dry.kept.column(c).to_numpy(zero_copy_only=False)) for c in rule.signals}
        own = np.asarray(rule.evaluate(env, dry.kept.num_rows), dtype=float)
        x = p["value"]
        if p["op"] == "outside":
            return None
        if p["op"] == "between":  # each violator breaks one side: tighten that side
            lows = [own[i] for i in bad if vals[i] < x[0] and not np.isnan(own[i])]
            highs = [own[i] for i in bad if vals[i] > x[1] and not np.isnan(own[i])]
            parts = ([f"({lhs}) > {float(max(lows))!r}"] if lows else []) + ([f"({lhs}) < {float(min(highs))!r}"] if highs else [])
            return " and ".join(parts) or None
        vs = own[bad]
        vs = vs[~np.isnan(vs)]
        if not len(vs):
            return None
        # the violators' exact values (repr round-trips): a rounded bound could let the closest one through
        if p["op"] in ("<=", "<"):  # documents are kept under the bound
            return f"({lhs}) < {float(vs.min())!r}"
        return f"({lhs}) > {float(vs.max())!r}"

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        tight = check.measured.get("tighten")
        step = next((s for s in ctx.plan.steps if s.name == req.params.get("step")), None)
        if not tight or step is None or step.keep is None or tight in step.keep.values():
            return
        k = sum(1 for n in step.keep if n.startswith(f"{req.params['measure']}_tightened"))
        step.keep[f"{req.params['measure']}_tightened{k or ''}"] = tight
        step.why += f"; repair: tightened to {tight} (the operator's measure kept documents the definition rejects)"
        ctx.actions.append(f"{req.params['measure']}: tightened to {tight} ({check.measured.get('violations')} kept documents "
                           "broke the rule by the verifier's own measure)")
