"""Content: keep or drop documents by the kind of text they are (code and its language, prose, math, tables,
logs, markup), read from the text by the ``content_kind`` operator, or from a field that labels it.

Needs no field: "only Python code" works on a corpus of ``id`` and ``text``. When a domain-like field holds
the kind's name (``domain: code``) the field decides, as a user who labelled the data would expect. Without
either, the requirement is reported as not understood rather than silently skipped.
"""

from __future__ import annotations

import re

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds._fields import field_values, labelling_field, outside_selection
from gristmill.agent.kinds.base import (
    CheckContext,
    GoalText,
    PlanContext,
    RepairContext,
    RequirementKind,
    register,
)
from gristmill.agent.phrases import NEG, SELECTING, negated_before, vocabulary
from gristmill.agent.plan import NotUnderstood, PlanStep
from gristmill.agent.requirement import Requirement, Span
from gristmill.ops.registry import all_ops

_VOCAB = vocabulary("content_kinds")
KINDS: dict[str, list[str]] = _VOCAB["kinds"]
CODE_LANGUAGES: dict[str, list[str]] = _VOCAB["code_languages"]
OPERATOR = "content_kind"
_NOT_CODE = re.compile(r"language code|codes? (?:like|such as)|lang(?:uage)? codes?|country codes?|zip codes?|postal codes?|"
                       r"status codes?|error codes?|code ?points?")
_LANG_WORDS = "|".join(f"(?P<{k}>{'|'.join(v)})" for k, v in CODE_LANGUAGES.items())
# "drop what isn't English, but keep the source code", "..., code excepted", "remove X except for code": the
# kind is exempt from the other exclusions of the goal (kept whatever they say), not selected
_EXCEPT_BEFORE = re.compile(r"\b(?:except(?: for)?|apart from|save for|besides|other than|but not)\s+(?:the\s+|any\s+)?(?:\w+\s+){0,2}$")
_EXCEPT_AFTER = re.compile(r"^\s*(?:\w+\s+){0,1}(?:excepted|exempted|aside|spared|is exempt|are exempt|being the exception|"
                           r"is an exception|are an exception|stays|stay|is fine|are fine)\b")
_ANY_LANG = "|".join(f"(?:{'|'.join(v)})" for v in CODE_LANGUAGES.values())
# "Python code", "Python and Go source files", "C, C++ or Rust programs": every language named before the noun
_CODE_LANG = re.compile(rf"\b(?:{_ANY_LANG})(?:\s*(?:,|and|or|&|/)\s*(?:{_ANY_LANG}))*\s+(?:source\s+)?"
                        rf"(?:code|source|scripts?|files|programs?|snippets?)\b", re.IGNORECASE)
_ONE_LANG = re.compile(rf"(?<![\w+#])(?:{_LANG_WORDS})(?![\w+#])", re.IGNORECASE)


@register
class Content(RequirementKind):
    name = "content"
    description = "documents of (or not of) the named kinds of content: code (and its language), prose, math, tables, logs, markup"
    rank, order = 72, 2
    query = "kind of content code prose math tables logs markup programming language detection"
    families, drives = frozenset({"select", "quality", "lang"}), (OPERATOR, "field_filter")

    def parse(self, goal: GoalText) -> list[Requirement]:
        keep: list[str] = []
        drop: list[str] = []
        exempt: list[str] = []
        langs: dict[str, list[str]] = {"keep": [], "drop": []}
        spans: dict[str, list[Span]] = {"keep": [], "drop": [], "exempt": []}
        for ci, clause in enumerate(goal.clauses):
            prev_excludes = ci > 0 and re.search(rf"\b{NEG}\b", goal.low[goal.clauses[ci - 1].start : goal.clauses[ci - 1].end])
            but_keep = prev_excludes and re.search(r"\b(?:but|except|yet|though)\s*[,]?\s*$", goal.low[: clause.start])
            low = goal.free(self.name)[clause.start : clause.end]
            taken: list[Span] = [m.span() for m in _NOT_CODE.finditer(low)]
            hits: list[tuple[int, int, str, str | None]] = []
            for m in _CODE_LANG.finditer(low):
                named = [next(k for k, v in x.groupdict().items() if v) for x in _ONE_LANG.finditer(m.group(0))]
                for lang in dict.fromkeys(named):
                    hits.append((m.start(), m.end(), "code", lang))
                taken.append(m.span())
            for kind, words in KINDS.items():
                for w in words:
                    for m in re.finditer(rf"\b{re.escape(w)}\b", low):
                        if any(s <= m.start() < e for s, e in taken):
                            continue
                        hits.append((m.start(), m.end(), kind, None))
                        taken.append(m.span())
            for start, end, kind, lang in hits:
                before = low[:start]
                if (but_keep and not re.search(rf"\b{NEG}\b", before)) or _EXCEPT_AFTER.match(low[end:]) or (
                        _EXCEPT_BEFORE.search(before) and re.search(rf"\b{NEG}\b", before[: _EXCEPT_BEFORE.search(before).start()])):
                    exempt.append(kind)
                    spans["exempt"].append((clause.start + start, clause.start + end))
                    for m in re.finditer(r"\b(?:excepted|exempted|aside|spared|exempt|exception)\b", low[end:end + 25]):
                        spans["exempt"].append((clause.start + end + m.start(), clause.start + end + m.end()))
                    continue
                side = "drop" if negated_before(low, start) else "keep"
                (drop if side == "drop" else keep).append(kind)
                if lang:
                    langs[side].append(lang)
                spans[side].append((clause.start + start, clause.start + end))
        keep = [k for k in dict.fromkeys(keep) if k not in drop or langs["keep"]]
        drop = list(dict.fromkeys(drop))
        if keep and not SELECTING.search(goal.low):  # "clean my code corpus": context, not a selection
            for s in spans["keep"]:
                goal.assume(s, f"{goal.text[s[0]:s[1]]!r} read as a description of the corpus, not a selection")
            keep = []
        out = []
        if exempt:
            ex = list(dict.fromkeys(exempt))
            out.append(self.requirement({"exempt": ex}, f"documents of kind {ex} are kept whatever the other filters say",
                                        "content", read=spans["exempt"]))
        if keep:
            p: dict = {"keep": keep}
            if langs["keep"]:
                p["code_languages"] = list(dict.fromkeys(langs["keep"]))
            out.append(self.requirement(p, self._text("∈", p), "content", read=spans["keep"]))
        if drop:
            p = {"drop": drop}
            if langs["drop"]:
                p["code_languages"] = list(dict.fromkeys(langs["drop"]))
            out.append(self.requirement(p, self._text("∉", p), "content", read=spans["drop"]))
        return out

    @staticmethod
    def _text(rel: str, p: dict) -> str:
        kinds = p.get("keep") or p.get("drop")
        lang = f" (code in {', '.join(p['code_languages'])})" if p.get("code_languages") else ""
        return f"kind of content {rel} {{{', '.join(kinds)}}}{lang}"

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        profile = ctx.profile
        if "exempt" in req.params:  # measured here; the excluding kinds keep these kinds (their rules read content_kind.kind)
            if OPERATOR not in all_ops():
                raise NotUnderstood(f"'{req.text}': the kind of a document is read by the {OPERATOR} operator, which is not registered")
            req.params["via"] = OPERATOR
            if any(s.op == OPERATOR and not s.name for s in ctx.plan.steps):
                return []
            return [self.step(OPERATOR, {}, {}, f"measure the kind of content: {req.text}")]
        words = req.params.get("keep") or req.params.get("drop") or []
        mode = "include" if "keep" in req.params else "exclude"
        langs = req.params.get("code_languages")
        if profile.domain_field and not langs:
            vals = field_values(words, profile)
            if vals and len(vals) >= len(words):  # the field labels every kind asked for
                f = profile.domain_field
                req.params["via"] = "field"
                key = "keep" if mode == "include" else "drop"
                step = next((s for s in ctx.plan.steps if s.op == "field_filter" and s.params.get("field") == f
                             and s.params.get("mode") == mode), None)
                if step is not None:  # "only books and code": one selection on the field, not two in a row
                    step.params["values"] = list(dict.fromkeys(step.params["values"] + vals))
                    step.why += f"; and {vals} ({req.text})"
                    for other in ctx.goal.requirements:
                        if other is not req and key in other.params and other.kind in ("domain", self.name):
                            other.params[key] = list(dict.fromkeys(other.params[key] + words))
                    req.params[key] = list(dict.fromkeys(req.params[key] + [w for s_ in ctx.goal.requirements
                                                                          if s_.kind == "domain" for w in s_.params.get(key, [])]))
                    return []
                return [self.step("field_filter", {"field": f, "values": vals, "mode": mode}, None,
                                  f"{'keep' if mode == 'include' else 'drop'} {f} in {vals}: the field labels the kind ({req.text})",
                                  name="select_content" if mode == "include" else "exclude_content")]
        if OPERATOR not in all_ops():
            raise NotUnderstood(f"'{req.text}': the kind of a document is read by the {OPERATOR} operator, which is not "
                                "registered in this installation, and no field labels it"
                                + (f" (fields: {sorted(profile.fields)})" if profile.fields else ""))
        req.params["via"] = OPERATOR
        if langs:
            inner = f"content_kind.kind == 'code' and content_kind.code_language in {langs!r}"
            rule = inner if mode == "include" else f"not ({inner})"
            return [self.step(OPERATOR, {}, {"content_kind": rule}, f"{req.text}: kind and code language read from the text")]
        key = "keep" if mode == "include" else "drop"
        return [self.step(OPERATOR, {key: words}, None, f"{req.text}: kind read from the text ({OPERATOR})")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        if "exempt" in req.params:
            from gristmill.agent.scanners import content_shape

            wanted = set(req.params["exempt"])
            kept_ids = set(map(str, dry.kept.column("id").to_pylist())) if "id" in dry.kept.column_names else set()
            ins = [str(r.get("id")) for r in dry.input_rows if content_shape(r.get(dry.text_field) or "") in wanted]
            lost = [i for i in ins if i not in kept_ids]
            ok = len(lost) <= 0.1 * max(1, len(ins))
            return self.result(req, ok, f"{len(ins) - len(lost)} of {len(ins)} sample documents that look like {sorted(wanted)} "
                               "(line-shape heuristic) were kept", {"lost": len(lost)}, hard=False)
        if req.params.get("via") == "field":
            f = labelling_field(dry)
            if f is None:
                return self.result(req, False, "kept documents carry no labelling field")
            bad, vals = outside_selection(dry, f, req.params.get("keep"), req.params.get("drop"))
            return self.result(req, bad == 0, f"kept {f} values {vals}; {bad} outside the selection", {"violations": bad})
        from gristmill.agent.scanners import content_shape

        texts = dry.kept_texts
        shapes = [content_shape(t) for t in texts]
        wanted = set(req.params.get("keep") or req.params.get("drop") or [])
        match = sum(1 for s in shapes if s in wanted)
        n = len(texts)
        if "keep" in req.params:
            share = match / n if n else 1.0
            ok = share >= 0.8
        else:
            share = 1 - match / n if n else 1.0
            ok = match <= 0.1 * n
        # a shape heuristic is weaker than the operator it checks: reported with evidence, not blocking
        return self.result(req, ok, f"{match} of {n} kept documents look like {sorted(wanted)} by a line-shape heuristic "
                           "(independent of the operator)", {"share": share}, hard=False)

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        self.move_late(ctx, self.name)
