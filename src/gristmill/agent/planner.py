"""The built-in planner: requirements + profile -> ordered steps with thresholds, and repairs.

Operators are chosen by retrieval over the registry's descriptions (:mod:`retrieve`); a *builder* sets the
parameters of an operator it knows how to drive. Quality thresholds start at each operator's published
defaults (its default keep rules) and are moved to a profiled quantile where one rule alone would drop an
outsized share of *this* corpus — the level (lenient/standard/strict) says how outsized. Rules are read and
rewritten generically (``column OP number``), so a new quality operator is tuned the same way.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gristmill.agent.goal import Goal, Requirement
from gristmill.agent.profile import Profile
from gristmill.agent.retrieve import OperatorIndex, candidates
from gristmill.ops.registry import all_ops

# PII is redacted before boilerplate removal: redaction makes lines such as "api_key = <SECRET>" identical
# across documents, and the boilerplate step should see them as the repeated lines they then are.
ORDER = {"normalize": 0, "chat": 1, "domain": 2, "length": 3, "keyword": 4, "regex": 4, "language": 5,
         "pii": 5.5, "boilerplate": 6, "quality": 7, "toxicity": 8, "dedup_exact": 10, "dedup_near": 11,
         "dedup_semantic": 11, "decontam": 12, "token_budget": 14}
LEVELS = ("lenient", "standard", "strict")
# per level: quality operators, and the largest share of the sample one rule may drop before it is relaxed
LEVEL_OPS = {
    "lenient": (("gopher_repetition",), 0.05),
    "standard": (("gopher_quality", "gopher_repetition"), 0.15),
    "strict": (("gopher_quality", "gopher_repetition", "c4_quality", "fineweb_quality"), None),
}
_SIMPLE = re.compile(r"^\s*(?P<neg>not\s*\(\s*)?(?P<col>[A-Za-z_][\w]*\.[\w]+)\s*(?P<op>>=|<=|>|<|==)\s*(?P<num>-?[\d.eE+-]+)\s*\)?\s*$")


class Unsupported(Exception):
    """A requirement that no operator (or template) in the registry can serve."""


@dataclass
class PlanStep:
    op: str
    params: dict[str, Any] = field(default_factory=dict)
    keep: dict[str, str] | None = None
    why: str = ""
    requirement: str = ""  # kind it serves
    name: str | None = None

    def spec(self) -> dict[str, Any]:
        d: dict[str, Any] = {"op": self.op}
        if self.name:
            d["name"] = self.name
        if self.params:
            d["params"] = self.params
        if self.keep is not None:
            d["keep"] = self.keep
        if self.why:
            d["why"] = self.why
        return d


@dataclass
class Plan:
    steps: list[PlanStep]
    output_format: str = "parquet"
    notes: list[str] = field(default_factory=list)
    quality_level: dict[str, str] = field(default_factory=dict)  # requested -> current (after repairs)
    generated: list[str] = field(default_factory=list)  # operators written by the LLM, accepted by the sandbox

    def recipe(self, name: str, description: str, input_path: str | None, output: str | None) -> dict[str, Any]:
        return {
            "name": name,
            "description": description,
            "input": {"path": input_path} if input_path else {},
            "steps": [s.spec() for s in sorted(self.steps, key=lambda s: ORDER.get(s.requirement, 5))],
            "output": {"format": self.output_format, **({"path": output} if output else {}), "dropped_samples": 5},
        }

    def find(self, requirement: str) -> list[PlanStep]:
        return [s for s in self.steps if s.requirement == requirement]


# -- rule tuning -------------------------------------------------------------------------------------------

def parse_simple_rule(src: str) -> tuple[str, str, float, bool] | None:
    """(column, operator, number, negated) of a rule like ``a.b >= 3`` or ``not (a.b < 3)``; else None."""
    m = _SIMPLE.match(src)
    if not m:
        return None
    try:
        return m["col"], m["op"], float(m["num"]), bool(m["neg"])
    except ValueError:
        return None


def keeps_lower(op: str, neg: bool) -> bool:
    """True when the rule keeps values above a bound (``>=``, ``>``, or ``not (<)``)."""
    return (op in (">=", ">")) != neg


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.4g}"


def tune_rules(op_name: str, rules: dict[str, str], profile: Profile, max_drop: float | None) -> tuple[dict[str, str], list[str]]:
    """Relax every simple rule that alone drops more than ``max_drop`` of the sample to the quantile that
    drops exactly ``max_drop``. Returns the rules and a note per relaxed rule."""
    out, notes = dict(rules), []
    if max_drop is None:
        return out, notes
    for rname, src in rules.items():
        parsed = parse_simple_rule(src)
        if not parsed or parsed[0] not in profile.signals:
            continue
        col, op, num, neg = parsed
        values = np.asarray(profile.signals[col], dtype=float)
        values = values[~np.isnan(values)]
        if not len(values):
            continue
        kept = profile.share_where(src)
        if 1 - kept <= max_drop:
            continue
        if keeps_lower(op, neg):
            new = float(np.quantile(values, max_drop))
            new = min(new, num)
        else:
            new = float(np.quantile(values, 1 - max_drop))
            new = max(new, num)
        new = round(new, 4)
        if op in ("==",):
            continue
        out[rname] = f"{col} {'>=' if keeps_lower(op, neg) else '<='} {_fmt(new)}"
        notes.append(f"{rname}: default {src!r} would drop {1 - kept:.0%} of the sample; set to {_fmt(new)} "
                     f"(the sample's {'p' + str(round(max_drop * 100)) if keeps_lower(op, neg) else 'p' + str(round((1 - max_drop) * 100))})")
    return out, notes


# -- builders: one per operator the planner knows how to drive ---------------------------------------------

Builder = Callable[[Requirement, Profile, Goal], list[PlanStep]]


def _lang_code(goal: Goal) -> str | None:
    r = goal.first("language")
    if r and len(r.params.get("keep", [])) == 1:
        return r.params["keep"][0]
    return None


def _quality_steps(level: str, profile: Profile, goal: Goal) -> list[PlanStep]:
    names, max_drop = LEVEL_OPS[level]
    registry = all_ops()
    steps = []
    lang = _lang_code(goal)
    en_share = profile.language_share(["en"]) if profile.languages else 1.0
    for name in names:
        cls = registry.get(name)
        if cls is None:
            continue
        params: dict[str, Any] = {}
        why_extra = ""
        fields = cls.Params.model_fields
        if "language" in fields and lang:
            params["language"] = lang
        if name == "gopher_quality" and not lang and en_share < 0.9:
            params["min_stop_words"] = None
            why_extra = f"; English stop-word rule off: only {en_share:.0%} of the sample is English and no language was asked"
        try:
            op = cls(cls.Params(**params))
        except Exception:  # noqa: BLE001 - e.g. a language without a bundled list
            params.pop("language", None)
            op = cls(cls.Params(**params))
        rules, notes = tune_rules(name, op.rules(), profile, max_drop)
        why = f"quality ({level}): {name} with its published defaults" + why_extra
        if notes:
            why += "; tuned on the sample: " + "; ".join(notes)
        steps.append(PlanStep(name, params, rules if rules != op.rules() else None, why, "quality"))
    return steps


def b_quality(req: Requirement, profile: Profile, goal: Goal) -> list[PlanStep]:
    return _quality_steps(req.params.get("level", "standard"), profile, goal)


def b_lang(req: Requirement, profile: Profile, goal: Goal) -> list[PlanStep]:
    if "keep" in req.params:
        return [PlanStep("lang_id", {"languages": req.params["keep"], "min_score": 0.5},
                         why=f"keep documents identified as {req.params['keep']} (cld2, score >= 0.5)", requirement="language")]
    drop = req.params["drop"]
    return [PlanStep("lang_id", {"min_score": 0.0}, {"unwanted_language": f"not (lang_id.language in {drop!r})"},
                     f"drop documents identified as {drop}", "language")]


def b_length(req: Requirement, profile: Profile, goal: Goal) -> list[PlanStep]:
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
    return [PlanStep("length_filter", params, keep, why, "length", name=None)]


def _domain_values(words: list[str], profile: Profile) -> list[str]:
    out = []
    for w in words:
        for v in profile.domains:
            if v.lower() == w or v.lower().startswith(w) or w.startswith(v.lower()):
                out.append(v)
    return list(dict.fromkeys(out))


def b_domain(req: Requirement, profile: Profile, goal: Goal) -> list[PlanStep]:
    if not profile.domain_field:
        raise Unsupported("selecting by domain needs a domain field (domain, category, subset...); the input has "
                          f"fields {sorted(profile.fields)}")
    f = profile.domain_field
    if "keep" in req.params:
        vals = _domain_values(req.params["keep"], profile)
        if not vals:
            raise Unsupported(f"no document of domain {req.params['keep']} in the sample; {f} values: {sorted(profile.domains)}")
        return [PlanStep("field_filter", {"field": f, "values": vals, "mode": "include"}, None,
                         f"keep {f} in {vals} ({req.text})", "domain", name="select_domain")]
    vals = _domain_values(req.params["drop"], profile) or req.params["drop"]
    return [PlanStep("field_filter", {"field": f, "values": vals, "mode": "exclude"}, None,
                     f"drop {f} in {vals} ({req.text})", "domain", name="exclude_domain")]


def b_keyword(req: Requirement, profile: Profile, goal: Goal) -> list[PlanStep]:
    return [PlanStep("keyword_filter", {"keywords": req.params["keywords"], "mode": req.params["mode"]},
                     why=f"template operator: {req.text}", requirement="keyword")]


def b_regex(req: Requirement, profile: Profile, goal: Goal) -> list[PlanStep]:
    return [PlanStep("regex_filter", {"pattern": req.params["pattern"], "mode": req.params["mode"]},
                     why=f"template operator: {req.text}", requirement="regex")]


def b_pii(req: Requirement, profile: Profile, goal: Goal) -> list[PlanStep]:
    kinds = req.params["kinds"]
    found = {k: profile.pii_docs.get(k, 0) for k in kinds}
    if req.params["mode"] == "drop":
        return [PlanStep("pii", {"mode": "detect", "kinds": kinds, "drop_if_found": True, "drop_kinds": kinds},
                         why=f"drop documents containing {kinds} (sample: {found} documents)", requirement="pii")]
    return [PlanStep("pii", {"mode": "redact", "kinds": kinds},
                     why=f"redact {kinds} with typed placeholders (sample: {found} documents)", requirement="pii")]


def b_toxicity(req: Requirement, profile: Profile, goal: Goal) -> list[PlanStep]:
    lang = _lang_code(goal) or "en"
    cls = all_ops()["flagged_words"]
    params = {"max_flagged_ratio": req.params["max_ratio"]}
    try:
        cls.Params(language=lang)
        params["language"] = lang  # type: ignore[assignment]
    except Exception:  # noqa: BLE001
        pass
    return [PlanStep("flagged_words", params, why=f"drop documents whose share of flagged words exceeds {req.params['max_ratio']}",
                     requirement="toxicity")]


def b_chat(req: Requirement, profile: Profile, goal: Goal) -> list[PlanStep]:
    return [PlanStep("chat_format", {"min_turns": req.params.get("min_turns", 2), "normalize": req.params.get("normalize", True)},
                     why=f"template operator: {req.text} (sample: {profile.chat_share:.0%} conversations)", requirement="chat")]


def b_decontam(req: Requirement, profile: Profile, goal: Goal) -> list[PlanStep]:
    if not req.params.get("references") and not req.params.get("builtin"):
        raise Unsupported("decontamination needs the evaluation set: name its file in the goal, e.g. "
                          "'decontaminate against evals/test.jsonl'")
    params = {k: v for k, v in req.params.items() if k in ("references", "builtin") and v}
    return [PlanStep("decontaminate", params, why=f"drop documents sharing a 13-word sequence with {params}", requirement="decontam")]


def b_boilerplate(req: Requirement, profile: Profile, goal: Goal) -> list[PlanStep]:
    return [PlanStep("lines_dedup", {}, why="remove lines repeated across at least 3 documents (menus, banners, footers)",
                     requirement="boilerplate")]


def b_exact(req: Requirement, profile: Profile, goal: Goal) -> list[PlanStep]:
    return [PlanStep("exact_dedup", {}, why=f"exact duplicates (sample rate {profile.exact_dup_rate:.1%})", requirement="dedup_exact")]


def b_near(req: Requirement, profile: Profile, goal: Goal) -> list[PlanStep]:
    t = req.params.get("threshold", 0.8)
    return [PlanStep("minhash_dedup", {"threshold": t},
                     why=f"near duplicates at word-5-gram Jaccard >= {t} (sample: {profile.near_dup_rate:.1%} of documents in a pair >= 0.8)",
                     requirement=req.kind)]


BUILDERS: dict[str, Builder] = {
    "gopher_quality": b_quality, "lang_id": b_lang, "length_filter": b_length, "field_filter": b_domain,
    "keyword_filter": b_keyword, "regex_filter": b_regex, "pii": b_pii, "flagged_words": b_toxicity,
    "chat_format": b_chat, "decontaminate": b_decontam, "lines_dedup": b_boilerplate, "exact_dedup": b_exact,
    "minhash_dedup": b_near,
}
# a requirement kind may only be served by operators of these families (retrieval can rank others high)
KIND_FAMILIES = {
    "language": {"lang"}, "quality": {"quality"}, "dedup_exact": {"dedup"}, "dedup_near": {"dedup"},
    "dedup_semantic": {"dedup"}, "pii": {"pii"}, "toxicity": {"safety"}, "length": {"quality"},
    "domain": {"select"}, "keyword": {"select"}, "regex": {"select"}, "chat": {"sft"}, "decontam": {"dedup"},
    "boilerplate": {"dedup"},
}
_KIND_OP = {"dedup_exact": "exact_dedup", "dedup_near": "minhash_dedup", "boilerplate": "lines_dedup",
            "decontam": "decontaminate", "length": "length_filter"}


def choose_operator(req: Requirement, index: OperatorIndex) -> str:
    """The best-ranked retrieved operator of an allowed family that the planner can drive."""
    if req.kind == "dedup_semantic":
        hits = [h for h in candidates(req.kind, 8, index) if "semantic" in h.name or "embed" in h.name]
        if hits and hits[0].name in BUILDERS:
            return hits[0].name
        raise Unsupported("semantic dedup: no embedding-based dedup operator is registered yet")
    hits = candidates(req.kind, 8, index)
    fams = KIND_FAMILIES.get(req.kind, set())
    for h in hits:
        if h.family in fams and h.name in BUILDERS and (req.kind not in _KIND_OP or h.name == _KIND_OP[req.kind]):
            return h.name
    if req.kind == "quality" and "gopher_quality" in index.ops:
        return "gopher_quality"
    raise Unsupported(f"no registered operator serves {req.kind!r} ({req.text})")


def build_plan(goal: Goal, profile: Profile, index: OperatorIndex | None = None) -> Plan:
    """Map every requirement to steps; unsupported ones become notes (and fail their check)."""
    index = index or OperatorIndex()
    plan = Plan(steps=[PlanStep("normalize_text", {}, why="normalise Unicode and whitespace first: dedup and filters see stable text",
                                requirement="normalize")])
    if index.method != "bm25":
        plan.notes.append(f"operators retrieved by {index.method}")
    for req in goal.requirements:
        if req.kind == "output_format":
            plan.output_format = req.params["format"]
            continue
        if req.kind in ("retention", "token_budget"):
            continue  # targets, checked on the dry run and met by repair
        if req.kind == "dedup_semantic":
            t = 0.6
            plan.notes.append("semantic dedup is not supported yet (no embedding operator registered); approximated by "
                              f"MinHash near-dup dedup at Jaccard {t}")
            plan.steps.append(PlanStep("minhash_dedup", {"threshold": t}, why=f"approximates semantic dedup: near-dups at Jaccard >= {t}",
                                       requirement="dedup_semantic"))
            continue
        op = choose_operator(req, index)
        if req.kind == "quality":
            plan.quality_level[req.params.get("level", "standard")] = req.params.get("level", "standard")
        plan.steps.extend(BUILDERS[op](req, profile, goal))
    # two near-dup steps (semantic approximation and near) collapse to the lower threshold
    near = [s for s in plan.steps if s.op == "minhash_dedup"]
    if len(near) > 1:
        keepst = min(near, key=lambda s: s.params["threshold"])
        plan.steps = [s for s in plan.steps if s.op != "minhash_dedup" or s is keepst]
    return plan


def set_quality_level(plan: Plan, level: str | None, profile: Profile, goal: Goal) -> Plan:
    """A copy of the plan with its quality steps rebuilt at ``level`` (None removes them)."""
    new = copy.deepcopy(plan)
    new.steps = [s for s in new.steps if s.requirement != "quality"]
    if level:
        new.steps.extend(_quality_steps(level, profile, goal))
    for k in new.quality_level:
        new.quality_level[k] = level or "none"
    return new
