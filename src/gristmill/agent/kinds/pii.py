"""PII: no e-mail, phone, IP, card, IBAN, SSN or secret remains (redacted, or documents dropped)."""

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
from gristmill.agent.phrases import vocabulary
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

_VOCAB = vocabulary("pii")
PII_KINDS: dict[str, str] = _VOCAB["kinds"]
ALL_KINDS = list(PII_KINDS)
_GENERAL = re.compile(_VOCAB["general"])
_CAP = re.compile(_VOCAB["cap"])
_SPARE = re.compile(_VOCAB["spare"])
_ACTION = re.compile(r"\b(?:redact|mask|scrub|remove|strip|drop|delete|hide|replace|no|without|anonymi|exclude|filter|clean|get rid|censor|obfuscate|blank)\w*")
_DROP = re.compile(r"\b(?:drop|discard|exclude|filter out|throw away|skip|remove|delete|reject)\b[^.;]{0,30}\b(?:docs?|documents?|rows?|records?|texts?|samples?|files?|pages?|anything|any(?:thing)? (?:that|which))\b[^.;]{0,40}\b(?:with|contain\w*|hav\w+|includ\w*|that)\b")
_DROP2 = re.compile(r"\b(?:docs?|documents?|rows?|records?)\s+(?:with|containing|that contain|that have)\b[^.;]{0,40}\b(?:pii|personal|e-?mail|phone|secret|credit|ssn|ip\b)")
_REDACT = re.compile(r"\b(?:redact\w*|mask\w*|scrub\w*|anonymi[sz]\w*|replace\w*|placeholder|hide|censor\w*|obfuscat\w*|blank out|de-?identif\w*)\b")


@register
class Pii(RequirementKind):
    name = "pii"
    description = "no personal data of the named kinds remains in kept text"
    rank, order = 40, 5.5  # before boilerplate removal: redaction makes "api_key = <SECRET>" lines identical
    query = "personal data email phone redact pii secrets"
    families, drives = frozenset({"pii"}), ("pii",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.free(self.name)
        general = _GENERAL.search(low)
        found = {k: re.search(rf"\b(?:{pat})\b", low) for k, pat in PII_KINDS.items()}
        kinds = [k for k, m in found.items() if m]
        if "secret" in kinds and re.search(r"\btokens?\b", low) and not re.search(r"api|keys|secret|password|credential", low):
            kinds.remove("secret")
        if not general and not kinds:
            return []
        # only a PII intent if an action on them is asked (mentions like "100 tokens" are not)
        if not general and not _ACTION.search(low):
            return []
        drop = _DROP.search(low) or (_DROP2.search(low) and re.search(r"\b(?:drop|discard|exclude|filter|remove|delete|reject)\b", low))
        redact = _REDACT.search(low)
        mode = "drop" if drop and not redact else "redact"
        assumption = None if drop or redact else "PII is redacted (replaced by typed placeholders), keeping the documents"
        k = kinds or ALL_KINDS
        what = ", ".join(k) if kinds else "PII of any kind (e-mail, phone, IP, card, IBAN, SSN, secrets)"
        text = f"no {what} remains in kept text" + (" (documents containing it are dropped)" if mode == "drop" else " (redacted)")
        cap = _CAP.search(low)
        params: dict = {"mode": mode, "kinds": k}
        if cap and re.search(r"\b(?:remove|drop|discard|delete|exclude|filter|skip|reject|throw)\w*\b", low[cap.end() : cap.end() + 60] + low[max(0, cap.start() - 60) : cap.start()]):
            from gristmill.agent.phrases import parse_number

            params["max_per_doc"] = int(parse_number(cap.group("n")))
            text += f"; documents that had more than {params['max_per_doc']} matches are dropped"
            drop_words = re.finditer(r"\b(?:if|when|whenever|where|documents?|docs?)\b|\b(?:remove|drop|discard|delete|exclude|filter out)\w*\s+"
                                     r"(?:the |that |this |such )?(?:documents?|docs?|it|them|whole (?:document|doc)|entirely)?", low)
            clause = next((c for c in goal.clauses if c.start <= cap.start() < c.end), None)
            extra = [cap.span()] + ([x.span() for x in drop_words if clause and clause.start <= x.start() < clause.end] if clause else [])
        read = [m.span() for m in (general,) if m]
        read += [x.span() for k in kinds for x in re.finditer(rf"\b(?:{PII_KINDS[k]})\b", low)]
        read += [m.span() for m in (drop if isinstance(drop, re.Match) else None, redact) if m]
        read += [m.span() for m in _SPARE.finditer(low)]
        if "max_per_doc" in params:
            read += extra
            if mode == "drop":
                params["mode"] = "redact"
        return [self.requirement(params, text, "pii", assumption, read=read)]

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        op = self.choose(req, ctx.index)
        kinds = req.params["kinds"]
        found = {k: ctx.profile.pii_docs.get(k, 0) for k in kinds}
        if req.params["mode"] == "drop":
            return [self.step(op, {"mode": "detect", "kinds": kinds, "drop_if_found": True, "drop_kinds": kinds},
                              why=f"drop documents containing {kinds} (sample: {found} documents)")]
        cap = req.params.get("max_per_doc")
        if cap is not None:
            total = " + ".join(f"pii.{k}" for k in kinds)
            return [self.step(op, {"mode": "redact", "kinds": kinds}, {"too_much_pii": f"{total} <= {cap}"},
                              why=f"redact {kinds} with typed placeholders; drop documents with more than {cap} matches")]
        return [self.step(op, {"mode": "redact", "kinds": kinds}, why=f"redact {kinds} with typed placeholders (sample: {found} documents)")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        from gristmill.agent.scanners import scan_pii

        texts = dry.kept_texts
        hits: Counter[str] = Counter()
        values: dict[str, set[str]] = {}
        docs: Counter[str] = Counter()
        example = ""
        for tx in texts:
            for kind, vals in scan_pii(tx, req.params["kinds"]).items():
                hits[kind] += len(vals)
                docs[kind] += 1
                values.setdefault(kind, set()).update(vals)
                example = example or f"{kind} {vals[0]!r}"
        total = sum(hits.values())
        evidence = f"independent regex scan found {total} PII matches in {len(texts)} kept documents" + (
            f" ({dict(hits)}; e.g. {example})" if total else "")
        over = 0
        cap = req.params.get("max_per_doc")
        if cap is not None:  # the kept documents' input text had at most `cap` matches
            kept = set(map(str, dry.kept.column("id").to_pylist())) if "id" in dry.kept.column_names else set()
            for r in dry.input_rows:
                if str(r.get("id")) in kept:
                    n = sum(len(v) for v in scan_pii(r.get(dry.text_field) or "", req.params["kinds"]).values())
                    over += n > cap
            evidence += f"; {over} kept documents had more than {cap} matches in their input text"
        measured = {"matches": dict(hits), "over_cap": over, "repair_pattern": self._repair_pattern(texts, values, docs)}
        return self.result(req, total == 0 and over == 0, evidence, measured)

    @staticmethod
    def _repair_pattern(texts: list[str], values: dict[str, set[str]], docs: Counter[str]) -> str:
        """What the repair drops on, per kind: the auditor's pattern where it matches few more kept documents than
        those with a real leftover (it then also catches leftovers of the full input the sample did not have),
        else the leftover values themselves (a bare pattern would drop documents that hold no PII)."""
        from gristmill.agent.scanners import CARD, EMAIL, IBAN, IPV4, IPV6, PHONE_ANY, SECRET, SSN

        pats = {"email": EMAIL.pattern, "phone": PHONE_ANY, "us_ssn": SSN.pattern, "credit_card": CARD.pattern,
                "ip": f"{IPV4.pattern}|{IPV6.pattern}", "secret": SECRET.pattern, "iban": IBAN.pattern}
        parts = []
        for kind, vals in values.items():
            rx = re.compile(pats[kind]) if kind in pats else None
            broad = sum(1 for t in texts if rx.search(t)) if rx else 0
            if rx is not None and broad <= 2 * docs[kind] + 1:
                parts.append(pats[kind])
            else:
                parts.append("|".join(re.escape(v) for v in sorted(vals, key=len, reverse=True)))
        return "|".join(f"(?:{p})" for p in parts)

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        """Drop documents where the auditor still finds PII after the pii step (no operator can redact what the pii
        operator does not recognise; dropping is the safe side)."""
        missed = list(check.measured.get("matches", {}))
        if any(s.op == "regex_filter" and s.requirement == self.name for s in ctx.plan.steps):
            return
        pattern = check.measured.get("repair_pattern", "")
        if pattern:
            ctx.plan.steps.append(self.step("regex_filter", {"pattern": pattern, "mode": "exclude"}, None,
                                            f"repair: drop documents where {missed} survived the pii step", name="pii_leftovers"))
            ctx.actions.append(f"added a regex step dropping documents with leftover {missed}")
