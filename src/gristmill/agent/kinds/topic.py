"""Topic: keep or drop documents about a topic ("remove the online casino and gambling spam", "no crypto
scams", "only the documents about recipes"), or delete the lines that mention it ("remove the lines that
mention javascript").

A topic the goal names is looked up in ``assets/agent/topics.yaml`` (names -> related terms and a sentence
describing it); the user's own terms ("(bitcoin, crypto trading, guaranteed returns)", "mentioning
volcanoes") are used as given. The ``topic_filter`` operator matches the terms with their close forms
(plurals, inflections, hyphen/space spellings). A document is about a named topic from two occurrences of
its terms (one mention of "poker" in a novel is not gambling spam), and mentions a term the user named
from one; "at all" and "any mention" make one occurrence enough.

The check uses a detector independent of the filter: with the ``semantic`` extra, the MiniLM similarity of
each kept document to the topic's sentence (for a keyword filter), and a plain term scan written apart
from the operator (for a semantic filter, or without the extra, saying so). It reports how many kept
documents still are about the topic; a keyword filter that missed documents the embeddings flag is
repaired by also dropping what the semantic score flags.
"""

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
from gristmill.agent.kinds.dedup_semantic import semantic_extra_installed
from gristmill.agent.phrases import (
    FILLER,
    FRACTION,
    NEG,
    NUM,
    QUOTED,
    SELECT,
    excluded,
    negated_after,
    terms,
    vocabulary,
)
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement, Span

_VOCAB = vocabulary("topics")
TOPICS: dict[str, dict[str, Any]] = _VOCAB["topics"]
_FRAMING = re.compile(terms(_VOCAB["framing"]))
_NAME_OF: dict[str, str] = {n.lower(): t for t, spec in TOPICS.items() for n in spec["names"]}
# subjects other kinds own: kinds of content, languages, domains ("I only care about the code")
_OWNED = frozenset(w.lower() for w in [*[x for v in vocabulary("content_kinds")["kinds"].values() for x in v],
                                       *vocabulary("languages")["names"], *[x for v in vocabulary("domains")["domains"].values() for x in v]])
_NAMES = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n).replace(r"\ ", r"[\s-]+").replace(r"\-", r"[\s-]?")
                                                  for n in sorted(_NAME_OF, key=len, reverse=True)) + r")(?:-related)?(?![\w-])")
# words after which the goal names the subject itself ("documents about X", "pages that mention X")
_CUE = re.compile(r"\b(?:about|on the (?:topic|subject) of|related to|relating to|regarding|concerning|to do with|"
                  r"(?:that |which |who )?(?:mention(?:s|ing)?|talk(?:s|ing)? about|discuss(?:es|ing)?|"
                  r"advertis(?:e|es|ing)|promot(?:e|es|ing)|push(?:es|ing)?|sell(?:s|ing)?))\b")
_MENTION_CUE = re.compile(r"\bmention(?:s|ing)?\b")
_END = re.compile(r"[(,;:.!?]|\b(?:that|which|who|but|except|unless|if|where|while|plus|please|then|and then|"
                  r"written|published|posted|created|dated|before|after|since|from|in|by|with|at all|whatsoever|"
                  r"nothing|anything|everything|shorter|longer|fewer|more|less|under|over|at least|at most|"
                  r"keep|drop|remove|delete|dedup\w*|deduplicate|redact|mask)\b|\d")
_PARENS = re.compile(r"\(([^()]{2,200})\)")
_LINES = re.compile(r"\b(?:lines?|sentences?|paragraphs?)\s+(?:that\s+|which\s+)?(?:mention(?:s|ing)?|contain(?:s|ing)?|"
                    r"with|about|talk(?:s|ing)? about|refer(?:s|ring)? to)\s*$")
_ANY = re.compile(r"\b(?:at all|any mention|mentions? at all|whatsoever|any reference|even once|a single)\b")
_SPLIT_TERMS = re.compile(r"\s*(?:,|/|\bor\b|\band\b|&)\s*")
_DETERMINERS = re.compile(r"^(?:the|a|an|any|all|some|their|its|our|my|these|those|such|of|on|in|for)\s+")
SEMANTIC_THRESHOLD = 0.4  # MiniLM cosine to the topic's sentence from which a document reads as about it
CHECK_DOCS = 256  # kept documents the semantic check embeds (a deterministic sample beyond that)
CHECK_CHARS = 512


def _clean_term(t: str) -> str:
    t = t.strip(" '\"“”-")
    while True:
        new = _DETERMINERS.sub("", t)
        if new == t:
            break
        t = new
    words = [w for w in t.split() if not _FRAMING.fullmatch(w)]
    return " ".join(words).strip()


def _user_terms(low: str, start: int) -> tuple[list[str], Span | None]:
    """Terms after a cue ("related to diet supplements and slimming products"), up to where the subject ends."""
    rest = low[start:]
    if re.match(rf"\s*(?:{FRACTION}|{NUM}|as much|as many)", rest):  # "about half", "about 40": not a subject
        return [], None
    end = _END.search(rest)
    chunk = rest[: end.start()] if end else rest
    out = [_clean_term(t) for t in _SPLIT_TERMS.split(chunk)]
    out = [t for t in out if t and not all(w in FILLER for w in t.split())]
    return out, ((start, start + len(chunk.rstrip())) if out else None)


@register
class Topic(RequirementKind):
    name = "topic"
    description = "kept documents are (or are not) about a topic: its terms with their close forms, and a semantic check"
    rank, order = 12, 4
    query = "documents about a topic keywords terms gambling spam crypto semantic"
    families, drives = frozenset({"select"}), ("topic_filter",)

    # -- parse ---------------------------------------------------------------------------------------------
    def parse(self, goal: GoalText) -> list[Requirement]:
        out: list[Requirement] = []
        free = goal.free(self.name)
        for clause in goal.clauses:
            text = goal.text[clause.start : clause.end]
            low = free[clause.start : clause.end]
            if QUOTED.search(text) and re.search(r"\b(?:mention|contain|word|phrase|term)", low):
                continue  # quoted words: the keyword kind's
            req = self._clause(goal, clause.start, low)
            if req is not None:
                out.append(req)
        return out

    def _clause(self, goal: GoalText, offset: int, low: str) -> Requirement | None:
        named: list[str] = []
        user: list[str] = []
        read: list[Span] = []
        first: int | None = None
        for m in _NAMES.finditer(low):
            named.append(self._lookup(m.group(0).removesuffix("-related")))
            user.append(m.group(0).removesuffix("-related"))
            read.append(m.span())
            first = m.start() if first is None else first
        mention = False
        line_scope = False
        for c in _CUE.finditer(low):
            if any(s <= c.start() < e for s, e in read):
                continue
            subj, span = _user_terms(low, c.end())
            if not subj or span is None or all(t in _OWNED for t in subj):
                continue
            mention = mention or bool(_MENTION_CUE.search(c.group(0)))
            line_scope = line_scope or bool(_LINES.search(low[: c.end()]) and _MENTION_CUE.search(c.group(0)) or
                                            _LINES.search(low[: c.start()] + " mention"))
            for t in subj:
                topic = self._lookup(t)
                if topic:
                    named.append(topic)
                user.append(t)
            read += [c.span(), span]
            first = c.start() if first is None else min(first, c.start())
        named = [t for t in dict.fromkeys(named) if t]
        framed = {self._lookup(w) for w in user if _FRAMING.fullmatch(w)}
        if len(named) > 1 and framed - {None}:  # "the weight-loss pill adverts": pharma, framed as adverts
            kept = [t for t in named if t not in framed]
            if kept:
                user = [w for w in user if not _FRAMING.fullmatch(w)]
                named = kept
        if not named and not user:
            return None
        for m in _PARENS.finditer(low):
            if any(abs(m.start() - e) <= 2 or s <= m.start() <= e for s, e in read):
                user += [t for t in (_clean_term(x) for x in _SPLIT_TERMS.split(m.group(1))) if t]
                read.append(m.span())
        framing = [m for m in _FRAMING.finditer(low) if any(0 <= m.start() - e <= 20 or 0 <= s - m.end() <= 3 for s, e in read)]
        read += [m.span() for m in framing]
        assert first is not None
        last = max(e for _, e in read)
        spam = any(m.group(0).startswith(("spam", "scam", "ad", "promo", "fraud", "junk", "marketing")) for m in framing)
        drop = excluded(low, first, last) or negated_after(low, last)
        select = re.search(rf"\b{SELECT}\b", low[:first]) is not None and not drop
        if not drop and not select and not spam and not re.search(rf"\b{NEG}\b", low):
            for s, e in read:  # "clean my recipes corpus": a description, not a selection
                goal.assume((offset + s, offset + e), f"{goal.text[offset + s:offset + e]!r} read as a description of the corpus, "
                            "not a selection")
            return None
        mode = "include" if select else "exclude"
        any_mention = bool(_ANY.search(low)) or mention
        terms_: list[str] = []
        for t in named:
            terms_ += TOPICS[t]["terms"]
        terms_ = list(dict.fromkeys([u for u in user if u] + terms_))
        if mention:  # "pages that mention bitcoin": that word (and its close forms), not the whole topic
            terms_ = list(dict.fromkeys(u for u in user if u))
            named = []
        min_matches = 1 if any_mention or not named else int(max(TOPICS[t].get("min_matches", 2) for t in named))
        about = "; ".join(TOPICS[t]["about"] for t in named) if named else f"documents about {', '.join(user)}"
        label = ", ".join(named) if named else ", ".join(dict.fromkeys(user))
        params: dict[str, Any] = {"topics": named, "terms": terms_, "mode": mode, "min_matches": min_matches, "about": about,
                                  "scope": "line" if line_scope else "document", "label": label}
        if line_scope:
            text = f"no kept line mentions {label}"
        else:
            about = f"is about {label}" if named else f"mentions {label}"
            text = (f"every kept document {about}" if mode == "include" else f"no kept document {about}") + \
                   f" ({min_matches}+ occurrence{'s' if min_matches > 1 else ''} of its terms)"
        spans = [(offset + s, offset + e) for s, e in read]
        for s in spans:
            goal.claim(s, self.name)
        return self.requirement(params, text, label, read=spans)

    @staticmethod
    def _lookup(term: str) -> str:
        if term.lower() in _NAME_OF:
            return _NAME_OF[term.lower()]
        t = re.sub(r"[\s-]+", " ", term.lower()).strip()
        if t in _NAME_OF:
            return _NAME_OF[t]
        for n, topic in _NAME_OF.items():  # "diet supplements" in "cheap diet supplements"
            if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", t):
                return topic
        return ""

    # -- plan ----------------------------------------------------------------------------------------------
    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        op = self.choose(req, ctx.index)
        p = req.params
        params: dict[str, Any] = {"terms": p["terms"], "mode": p["mode"], "scope": p["scope"], "min_matches": p["min_matches"]}
        if p.get("method", "keywords") != "keywords" and semantic_extra_installed():
            params.update(semantic=True, method=p["method"], about=p["about"], min_similarity=SEMANTIC_THRESHOLD)
        how = "semantic score or terms" if params.get("semantic") else "terms and their close forms"
        if p["scope"] == "line":
            why = f"delete the lines that mention {p['label']} ({how})"
        else:
            why = f"{'keep only' if p['mode'] == 'include' else 'drop'} documents about {p['label']} ({how}, " \
                  f">= {p['min_matches']} occurrence{'s' if p['min_matches'] > 1 else ''})"
        if not semantic_extra_installed():
            ctx.plan.notes.append(f"topic {p['label']!r}: keyword terms only; the semantic topic score and check need the "
                                  "semantic extra (pip install 'gristmill[semantic]')")
        return [self.step(op, params, why=why, name=f"topic_{len([s for s in ctx.plan.steps if s.op == op])}"
                          if any(s.op == op for s in ctx.plan.steps) else None)]

    # -- check ---------------------------------------------------------------------------------------------
    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        p = req.params
        texts = dry.kept_texts
        if p["scope"] == "line":
            pat = _scan_pattern(p["terms"])
            left = sum(1 for t in texts for ln in t.split("\n") if pat.search(ln))
            return self.result(req, left == 0, f"{left} kept lines still mention {p['label']} (a term scan of its own)",
                               {"violations": left})
        semantic = p.get("method", "keywords") == "keywords" and semantic_extra_installed()
        if semantic:
            return self._semantic_check(req, texts)
        pat = _scan_pattern(p["terms"])
        hits = [len(pat.findall(t)) for t in texts]
        about = sum(h >= p["min_matches"] for h in hits)
        bad = about if p["mode"] == "exclude" else len(texts) - about
        note = "" if semantic_extra_installed() else "; the semantic check needs the semantic extra"
        return self.result(req, bad == 0, f"{about} of {len(texts)} kept documents are about {p['label']} by a term scan of "
                           f"its own{note}", {"violations": bad, "about": about})

    def _semantic_check(self, req: Requirement, texts: list[str]) -> Check:
        from gristmill.ops.semantic import load_minilm

        p = req.params
        idx = list(range(len(texts)))
        if len(idx) > CHECK_DOCS:  # a deterministic spread over the kept documents
            idx = [round(i * (len(texts) - 1) / (CHECK_DOCS - 1)) for i in range(CHECK_DOCS)]
        model = load_minilm()
        topic = np.asarray(model.encode([p["about"]], normalize_embeddings=True, show_progress_bar=False))[0]
        sims = (np.asarray(model.encode([texts[i][:CHECK_CHARS] for i in idx], normalize_embeddings=True, show_progress_bar=False))
                @ topic) if idx else np.zeros(0)
        about = int((sims >= SEMANTIC_THRESHOLD).sum())
        n = len(idx)
        if p["mode"] == "exclude":
            bad, allowed = about, max(1, int(0.02 * n))
            evidence = f"{about} of {n} kept documents checked read as about {p['label']} by MiniLM similarity ≥ {SEMANTIC_THRESHOLD}"
        else:
            off = int((sims < SEMANTIC_THRESHOLD - 0.1).sum())
            bad, allowed = off, max(1, int(0.05 * n))
            evidence = f"{off} of {n} kept documents checked read as not about {p['label']} (MiniLM similarity < {SEMANTIC_THRESHOLD - 0.1:.1f})"
        evidence += " (an embedding check, independent of the keyword filter)"
        return self.result(req, bad <= allowed, evidence, {"violations": bad, "checked": n,
                                                           "max_similarity": float(sims.max()) if n else 0.0})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        p = req.params
        if p["scope"] == "line" or p.get("method", "keywords") != "keywords" or not semantic_extra_installed():
            self.move_late(ctx, self.name)
            return
        for s in ctx.plan.steps:
            if s.requirement == self.name and s.params.get("terms") == p["terms"]:
                s.params.update(semantic=True, method="either", about=p["about"], min_similarity=SEMANTIC_THRESHOLD)
                s.why += f"; repair: also by the semantic score (MiniLM similarity ≥ {SEMANTIC_THRESHOLD}): the terms missed documents"
                ctx.actions.append(f"topic {p['label']!r}: documents also judged by their semantic score")
                p["method"] = "either"


def _scan_pattern(words: list[str]) -> re.Pattern[str]:
    """The verifier's own term scan (not the operator's): each term, its plural and its -s-less form."""
    forms: set[str] = set()
    for w in words:
        w = " ".join(w.lower().split())
        forms |= {w, w + "s", w.removesuffix("s"), w.replace("-", " "), w.replace(" ", "-")}
    alts = "|".join(re.escape(f).replace(r"\ ", r"\s+") for f in sorted((f for f in forms if len(f) > 1), key=len, reverse=True))
    return re.compile(rf"\b(?:{alts})\b", re.IGNORECASE)
