"""Turn a goal written in plain language into explicit, checkable requirements.

Deterministic and rule-based: each intent has a handful of phrasings (synonyms, negation, numbers with
units), matched clause by clause, so "no docs under 50 words", "at least 50 words" and "drop anything
shorter than fifty words" give the same requirement. What the goal leaves open gets a sensible default and
an *assumption* that is printed, never a silent guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from gristmill.errors import UsageError

LANGUAGES = {
    "english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it", "portuguese": "pt",
    "dutch": "nl", "russian": "ru", "polish": "pl", "swedish": "sv", "chinese": "zh", "mandarin": "zh",
    "japanese": "ja", "korean": "ko", "arabic": "ar", "norwegian": "no", "danish": "da", "finnish": "fi",
    "czech": "cs", "catalan": "ca", "turkish": "tr", "greek": "el", "hungarian": "hu", "romanian": "ro",
    "indonesian": "id", "vietnamese": "vi", "ukrainian": "uk", "persian": "fa", "farsi": "fa", "hebrew": "he",
    "hindi": "hi", "latin": "la", "croatian": "hr", "serbian": "sr", "bulgarian": "bg", "thai": "th",
    "francais": "fr", "français": "fr", "deutsch": "de", "español": "es", "espanol": "es",
}
CODES = set(LANGUAGES.values()) | {"nb", "nn"}
DOMAINS = {
    "code": ["code", "source code", "programming", "software", "source files", "go code", "go source"],
    "docs": ["documentation", "manuals", "manual pages", "technical docs", "tutorials"],
    "books": ["books", "literature", "fiction", "novels", "plays", "shakespeare", "prose"],
    "legal": ["legal", "licenses", "licences", "license texts", "licence texts", "law", "copyright notices"],
    "reference": ["reference", "dictionary", "dictionaries", "encyclopedia", "definitions", "glossary"],
    "chat": ["chat", "chats", "conversations", "dialogues", "dialogs"],
    "multilingual": ["multilingual", "translations", "translated"],
}
NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "hundred": 100, "a hundred": 100, "a thousand": 1000, "thousand": 1000,
    "half": 50,
}
_NEG = r"(?:no|not|non|without|drop|remove|removing|exclude|excluding|except|skip|discard|filter out|get rid of|strip|throw away|toss|delete|ban|avoid|minus|but not|don't want|do not want|nothing)"
_NUM = r"(\d[\d,_]*(?:\.\d+)?\s*(?:k|m|b|thousand|million|billion)?|" + "|".join(
    sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"


@dataclass
class Requirement:
    """One checkable requirement. ``kind`` selects the planner rule and the verification check."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    source: str = ""  # the words of the goal it came from
    assumption: str | None = None

    def __str__(self) -> str:
        s = self.text or f"{self.kind} {self.params}"
        return f"{s}  [assumed: {self.assumption}]" if self.assumption else s

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "params": self.params, "text": self.text, "source": self.source,
                "assumption": self.assumption}


@dataclass
class Goal:
    text: str
    requirements: list[Requirement]
    assumptions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # contradictions found in the goal itself

    def of(self, kind: str) -> list[Requirement]:
        return [r for r in self.requirements if r.kind == kind]

    def first(self, kind: str) -> Requirement | None:
        found = self.of(kind)
        return found[0] if found else None


def parse_number(s: str) -> float:
    s = s.strip().lower().replace(",", "").replace("_", "")
    if s in NUMBER_WORDS:
        return float(NUMBER_WORDS[s])
    mult = 1.0
    for suffix, m in (("thousand", 1e3), ("million", 1e6), ("billion", 1e9), ("k", 1e3), ("m", 1e6), ("b", 1e9)):
        if s.endswith(suffix):
            s, mult = s[: -len(suffix)].strip(), m
            break
    return float(s) * mult


def _clauses(text: str) -> list[str]:
    """Split on sentence punctuation, semicolons and ', and' / ' but ' (kept simple: intents rarely span)."""
    parts = re.split(r"[.;\n]+|,\s*(?:and|but|then|also)\s+|\s+but\s+|\s+then\s+|,\s+(?=(?:keep|drop|remove|only|no|exclude|make|dedup|redact|filter|strip|mask|select|output|write|save|normalize|normalise)\b)", text)
    return [p.strip() for p in parts if p and p.strip()]


def _negated_before(clause: str, start: int, window: int = 48) -> bool:
    before = clause[max(0, start - window) : start]
    return bool(re.search(rf"\b{_NEG}\b[^,]*$", before)) or before.rstrip().endswith("non-") or before.endswith("non")


# -- the intents -------------------------------------------------------------------------------------------

def _languages(goal: str, reqs: list[Requirement], notes: list[str]) -> None:
    keep: list[str] = []
    drop: list[str] = []
    for clause in _clauses(goal):
        low = clause.lower()
        found: list[tuple[int, str, bool]] = []  # (pos, code, written as non-X)
        for name, code in LANGUAGES.items():
            for m in re.finditer(rf"(non[- ]?)?\b{name}\b", low):
                # "that isn't English" / "other than English" read like "non-English"
                other = re.search(r"(?:isn'?t|is not|aren'?t|are not|not in|other than|besides|anything but)\s+(?:in\s+)?$", low[: m.start()])
                found.append((m.start(), code, bool(m.group(1)) or bool(other)))
        for m in re.finditer(r"\b(?:lang(?:uage)?s?|lang(?:uage)?\s*code)\s*(?:[:=]|is|in|of)?\s*((?:[a-z]{2}(?:[-_][a-z]{2})?\s*(?:,|/|\bor\b|\band\b)?\s*)+)", low):
            for c in re.findall(r"\b([a-z]{2})\b", m.group(1)):
                if c in CODES:
                    found.append((m.start(), c, False))
        for m in re.finditer(r"\b(?:only|keep|just)\s+([a-z]{2})\b(?:\s*(?:,|and|or|/)\s*([a-z]{2})\b)?", low):
            for c in (m.group(1), m.group(2)):
                if c and c in CODES and c not in ("no", "it", "id"):
                    found.append((m.start(), c, False))
        for pos, code, non in found:
            neg = _negated_before(low, pos)
            if non:  # "remove non-English" keeps English; "keep non-English" drops it
                (drop if not neg else keep).append(code)
            else:
                (drop if neg else keep).append(code)
    keep = list(dict.fromkeys(c for c in keep if c not in drop))
    drop = list(dict.fromkeys(drop))
    if keep:
        reqs.append(Requirement("language", {"keep": keep}, f"language ∈ {{{', '.join(keep)}}}", "language"))
    elif drop:
        reqs.append(Requirement("language", {"drop": drop}, f"language ∉ {{{', '.join(drop)}}}", "language"))


def _quality(goal: str, reqs: list[Requirement], notes: list[str]) -> None:
    low = goal.lower()
    if re.search(r"\b(?:no|without|skip)\s+quality\b|don'?t\s+(?:apply\s+)?(?:any\s+)?quality|\bno\s+(?:quality\s+)?filtering\b", low):
        return
    strict = r"\b(?:strict(?:ly|est)?|aggressive(?:ly)?|rigorous(?:ly)?|high[- ]quality|highest[- ]quality|top[- ]quality|premium|very clean|squeaky|pristine|only the best|best quality|heavy|harsh|demanding|stringent)\b"
    lenient = r"\b(?:lenient(?:ly)?|light(?:ly)?|gentle|gently|loose(?:ly)?|minimal(?:ly)?|relaxed|permissive|mild(?:ly)?|conservative(?:ly)?|basic|light-touch|soft)\b"
    standard = r"\b(?:quality|clean(?:ed|ing)?|clean up|cleanup|junk|garbage|low[- ]quality|spam|gibberish|noise|noisy|pretrain(?:ing)?|good data|decent|standard|reasonable|usual|filter(?:ed)? (?:out )?bad|trash|boilerplate-heavy)\b"
    level = None
    if re.search(strict, low):
        level = "strict"
    elif re.search(lenient + r".{0,40}\b(?:quality|filter|clean)|\b(?:quality|filter|clean)\w*.{0,25}" + lenient, low):
        level = "lenient"
    elif re.search(standard, low):
        level = "standard"
    if level:
        reqs.append(Requirement("quality", {"level": level}, f"quality level: {level}", level))


def _dedup(goal: str, reqs: list[Requirement], notes: list[str]) -> None:
    low = goal.lower()
    if re.search(r"\b(?:keep|allow|don'?t remove|do not remove|leave)\s+(?:the\s+)?(?:duplicates|dupes|copies)|\b(?:no|without|skip|don'?t)\s+(?:any\s+)?dedup", low):
        return
    thr = None
    m = re.search(r"(?:jaccard|similarity|similar)\D{0,20}(0?\.\d+|\d{1,3}\s*%)", low) or re.search(r"(\d{1,3})\s*%\s*(?:similar|overlap|identical)", low)
    if m:
        v = m.group(1).strip()
        thr = float(v.rstrip("%").strip()) / 100 if v.endswith("%") or float(v.rstrip("%")) > 1 else float(v)
    exact = re.search(r"\b(?:exact(?:ly)?[- ](?:dup\w*|cop\w+|same|identical|match\w*)|identical (?:docs|documents|texts?|copies|rows|entries)|verbatim (?:dup\w*|copies|repeats)|byte[- ]identical|exact dedup\w*)\b", low)
    near = re.search(r"\b(?:near[- ]?(?:dup\w*|identical|copies)|fuzzy|almost (?:identical|the same|duplicate)|minhash|similar (?:docs|documents|texts?|pages|articles)|nearly (?:identical|the same)|mostly the same|lightly edited|small edits|near[- ]?dedup\w*)\b", low)
    semantic = re.search(r"\bsemantic(?:ally)?\b.{0,30}\b(?:dup\w*|similar|same|redundan\w*)|\bparaphras\w*|\bsame meaning\b", low)
    generic = re.search(r"\b(?:dedup\w*|de-dup\w*|duplicat\w*|dupes?|repeated (?:docs|documents)|unique (?:docs|documents|texts)|redundan\w*|copies)\b", low)
    if exact:
        reqs.append(Requirement("dedup_exact", {}, "no two kept documents have identical text", exact.group(0)))
    if near:
        t = thr or 0.8
        reqs.append(Requirement("dedup_near", {"threshold": t}, f"no near-duplicate pairs with word-5-gram Jaccard ≥ {t}", near.group(0)))
    if semantic:
        reqs.append(Requirement("dedup_semantic", {"threshold": thr or 0.6}, "no semantically duplicate documents", semantic.group(0)))
    rest = low
    for m in (exact, near, semantic):
        if m:
            rest = rest.replace(m.group(0), " ")
    generic = re.search(r"\b(?:dedup\w*|de-dup\w*|duplicat\w*|dupes?|repeated (?:docs|documents)|unique (?:docs|documents|texts)|redundan\w*|copies)\b", rest)
    if generic and near and not exact and re.search(r"\b(?:duplicates|dupes|copies)\b", rest):
        reqs.append(Requirement("dedup_exact", {}, "no two kept documents have identical text", generic.group(0)))
    if generic and not (exact or near or semantic):
        t = thr or 0.8
        reqs.append(Requirement("dedup_exact", {}, "no two kept documents have identical text", generic.group(0),
                                assumption="'duplicates' read as exact and near duplicates"))
        reqs.append(Requirement("dedup_near", {"threshold": t}, f"no near-duplicate pairs with word-5-gram Jaccard ≥ {t}",
                                generic.group(0), assumption=None if thr else f"near-duplicate threshold Jaccard {t} (FineWeb/datatrove default)"))


_PII_KINDS = {
    "email": r"e-?mails?(?: addresses)?|email addresses",
    "phone": r"phone(?: numbers?)?|telephone(?: numbers?)?|mobile numbers?",
    "ip": r"ip(?:v[46])? addresses|\bips\b|ip address",
    "credit_card": r"credit[- ]?cards?(?: numbers?)?|card numbers?|payment cards?",
    "iban": r"ibans?|bank accounts?(?: numbers?)?",
    "us_ssn": r"ssns?|social security(?: numbers?)?",
    "secret": r"secrets?|api[- ]?keys?|tokens? and keys|passwords?|credentials|private keys?|access keys?",
}


def _pii(goal: str, reqs: list[Requirement], notes: list[str]) -> None:
    low = goal.lower()
    general = re.search(r"\b(?:pii|personal(?:ly)? (?:identifiable )?(?:data|info\w*|details)|private (?:data|info\w*)|anonymi[sz]\w*|de-?identif\w*|gdpr|sensitive (?:data|info\w*))\b", low)
    kinds = [k for k, pat in _PII_KINDS.items() if re.search(rf"\b(?:{pat})\b", low)]
    if "secret" in kinds and re.search(r"\btokens?\b", low) and not re.search(r"api|keys|secret|password|credential", low):
        kinds.remove("secret")
    if not general and not kinds:
        return
    # only a PII intent if an action on them is asked (mentions like "100 tokens" are not)
    if not general and not re.search(r"\b(?:redact|mask|scrub|remove|strip|drop|delete|hide|replace|no|without|anonymi|exclude|filter|clean|get rid|censor|obfuscate|blank)\w*", low):
        return
    drop = re.search(r"\b(?:drop|discard|exclude|filter out|throw away|skip|remove|delete|reject)\b[^.;]{0,30}\b(?:docs?|documents?|rows?|records?|texts?|samples?|files?|pages?|anything|any(?:thing)? (?:that|which))\b[^.;]{0,40}\b(?:with|contain\w*|hav\w+|includ\w*|that)\b", low) or \
        re.search(r"\b(?:docs?|documents?|rows?|records?)\s+(?:with|containing|that contain|that have)\b[^.;]{0,40}\b(?:pii|personal|e-?mail|phone|secret|credit|ssn|ip\b)", low) and re.search(r"\b(?:drop|discard|exclude|filter|remove|delete|reject|skip)\b", low)
    redact = re.search(r"\b(?:redact\w*|mask\w*|scrub\w*|anonymi[sz]\w*|replace\w*|placeholder|hide|censor\w*|obfuscat\w*|blank out|de-?identif\w*)\b", low)
    mode = "drop" if drop and not redact else "redact"
    assumption = None
    if not drop and not redact:
        assumption = "PII is redacted (replaced by typed placeholders), keeping the documents"
    k = kinds or ["email", "phone", "ip", "credit_card", "iban", "us_ssn", "secret"]
    what = ", ".join(k) if kinds else "PII of any kind (e-mail, phone, IP, card, IBAN, SSN, secrets)"
    text = f"no {what} remains in kept text" + (" (documents containing it are dropped)" if mode == "drop" else " (redacted)")
    reqs.append(Requirement("pii", {"mode": mode, "kinds": k}, text, (general or re.search("pii", low) or "pii") and "pii", assumption))


def _toxicity(goal: str, reqs: list[Requirement], notes: list[str]) -> None:
    low = goal.lower()
    m = re.search(r"\b(?:toxic\w*|profan\w*|obscen\w*|offensive|nsfw|explicit|swear\w*|curse words|cursing|hate speech|hateful|adult content|vulgar\w*|slurs?|porn\w*|sexual content|bad words|foul language|insults?)\b", low)
    if not m:
        return
    strict = bool(re.search(r"\b(?:any|zero|all|strict\w*|no trace|completely)\b", low[max(0, m.start() - 30) : m.end() + 10]))
    thr = 0.0 if strict else 0.01
    reqs.append(Requirement("toxicity", {"max_ratio": thr}, f"flagged-word share ≤ {thr} in every kept document", m.group(0)))


_UNITS = r"(words?|tokens?|characters?|chars?|letters?|lines?)"


def _unit(u: str) -> str:
    u = u.lower()
    return "tokens" if u.startswith("tok") else "chars" if u.startswith(("char", "let")) else "lines" if u.startswith("line") else "words"


def _length(goal: str, reqs: list[Requirement], notes: list[str]) -> None:
    low = goal.lower().replace("≥", " at least ").replace("≤", " at most ").replace(">=", " at least ").replace("<=", " at most ")
    low = re.sub(r"(?<![\w%])>\s*(?=\d)", " more than ", low)
    low = re.sub(r"(?<![\w%])<\s*(?=\d)", " less than ", low)
    bounds: dict[str, dict[str, float]] = {}

    def put(unit: str, key: str, value: float) -> None:
        bounds.setdefault(unit, {})[key] = value

    for m in re.finditer(rf"\bbetween\s+{_NUM}\s*(?:{_UNITS})?\s+and\s+{_NUM}\s+{_UNITS}", low):
        u = _unit(m.group(4))
        put(u, "min", parse_number(m.group(1)))
        put(u, "max", parse_number(m.group(3)))
    for m in re.finditer(rf"\b{_NUM}\s*(?:-|–|to)\s*{_NUM}\s+{_UNITS}\b(?!\s+(?:budget|total|in total|overall))", low):
        u = _unit(m.group(3))
        put(u, "min", parse_number(m.group(1)))
        put(u, "max", parse_number(m.group(2)))
    lower_words = r"(?:at least|minimum(?: of)?|min(?:imum)?\.?|no fewer than|not fewer than|no less than|not less than|more than|over|above|longer than|exceeding|greater than|upwards of|>=?)"
    upper_words = r"(?:at most|maximum(?: of)?|max(?:imum)?\.?|no more than|not more than|fewer than|less than|under|below|shorter than|up to|within|<=?)"
    # "limit each document to 500 tokens", "cap every doc at 2k words": a per-document maximum
    for m in re.finditer(rf"\b(?:limit|cap)\w*\s+(?:each|every|any|all|the|a|single)?\s*(?:docs?|documents?|texts?|samples?|pages?|records?)\s+(?:to|at)\s+{_NUM}\s*{_UNITS}", low):
        put(_unit(m.group(2)), "max", parse_number(m.group(1)))
    for m in re.finditer(rf"({lower_words}|{upper_words})\s+{_NUM}\s*{_UNITS}", low):
        phrase, num, unit = m.group(1), parse_number(m.group(2)), _unit(m.group(3))
        ctx = low[max(0, m.start() - 40) : m.start()]
        if unit == "tokens" and re.search(r"(?:total|budget|overall|in all|dataset of|corpus of|collect|gather|need|want|produce|output of|get)\s*(?:\w+\s*){0,3}$", ctx):
            continue  # a token budget, handled below
        after = low[m.end() : m.end() + 15]
        if re.search(r"\b(?:tokens?|words?)\s+(?:total|in total|overall|budget)", after) or \
                re.match(r"\s*(?:total|in total|overall|in all|budget)\b", after):
            continue
        is_lower = re.fullmatch(lower_words, phrase) is not None
        strict_cmp = phrase in ("more than", "over", "above", "longer than", "exceeding", "greater than", ">")
        strict_cmp_up = phrase in ("fewer than", "less than", "under", "below", "shorter than", "<")
        # "drop docs with fewer than 50 words" == keep >= 50 ; "drop docs over 10k words" == keep <= 10k
        # the nearer verb decides: "keep only legal texts and drop anything under 100 words" is a drop
        clause = re.split(r"[,;]", ctx)[-1]
        negs = [x.end() for x in re.finditer(rf"\b{_NEG}\b", clause)]
        keeps = [x.end() for x in re.finditer(r"\b(?:keep|only|retain|select)\b", clause)]
        neg = bool(negs) and (not keeps or negs[-1] > keeps[-1])
        if neg:
            is_lower = not is_lower
            if is_lower:  # drop fewer than N -> keep >= N
                put(unit, "min", num if strict_cmp_up or phrase.startswith("under") else num + 1)
            else:  # drop more than N -> keep <= N
                put(unit, "max", num if strict_cmp else num - 1)
        elif is_lower:
            put(unit, "min", num + 1 if strict_cmp and unit != "chars" else num)
        else:
            put(unit, "max", num - 1 if strict_cmp_up and unit != "chars" else num)
    if not bounds and re.search(r"\b(?:short|tiny|empty|fragment\w*|stub\w*|too short|very short)\b\s*(?:docs?|documents?|texts?|pages?|entries|rows|snippets|ones|fragments)?", low) and \
            re.search(rf"\b{_NEG}\b[^.;]*\b(?:short|tiny|empty|fragment|stub)", low):
        bounds["words"] = {"min": 20}
        notes.append("'short documents' taken as fewer than 20 words")
        reqs.append(Requirement("length", {"unit": "words", "min": 20}, "every kept document has ≥ 20 words", "short",
                                assumption="'short' means fewer than 20 words"))
        return
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
        reqs.append(Requirement("length", params, text, unit, assumption))


def _domain_select(goal: str, reqs: list[Requirement], notes: list[str]) -> None:
    keep: list[str] = []
    drop: list[str] = []
    for clause in _clauses(goal):
        low = clause.lower()
        for dom, words in DOMAINS.items():
            for w in words:
                for m in re.finditer(rf"\b{re.escape(w)}\b", low):
                    if dom == "chat" and re.search(r"\b(?:sft|format|normali[sz]|turns?|multi-turn|assistant repl)", low):
                        continue  # handled as chat/SFT intent
                    if dom == "code" and re.search(r"language code|code[s]? (?:like|such as)|lang(?:uage)? code", low):
                        continue
                    if dom == "multilingual" and not re.search(r"\b(?:only|keep|drop|remove|exclude|no|without|just)\b", low):
                        continue
                    (drop if _negated_before(low, m.start()) else keep).append(dom)
    keep = [d for d in dict.fromkeys(keep) if d not in drop]
    drop = list(dict.fromkeys(drop))
    # a domain named without a selecting verb ("clean my code corpus") is context, not a selection
    if keep and not re.search(r"\b(?:only|just|keep|select|retain|restrict|limit|nothing but|exclusively|solely)\b", goal.lower()):
        keep = []
    if keep:
        reqs.append(Requirement("domain", {"keep": keep}, f"domain ∈ {{{', '.join(keep)}}}", "domain"))
    if drop:
        reqs.append(Requirement("domain", {"drop": drop}, f"domain ∉ {{{', '.join(drop)}}}", "domain"))


def _keywords(goal: str, reqs: list[Requirement], notes: list[str]) -> None:
    for clause in _clauses(goal):
        low = clause.lower()
        rx = re.search(r"\b(?:regex|regexp|regular expression|pattern)\s*[:=]?\s*(?:/(.+?)/|`(.+?)`|\"(.+?)\"|'(.+?)')", clause, re.IGNORECASE) or \
            re.search(r"\bmatch(?:es|ing)?\s+/(.+?)/", clause, re.IGNORECASE)
        if rx:
            pat = next(g for g in rx.groups() if g)
            mode = "exclude" if _negated_before(low, rx.start(), 60) else "include"
            reqs.append(Requirement("regex", {"pattern": pat, "mode": mode},
                                    f"every kept document {'does not match' if mode == 'exclude' else 'matches'} /{pat}/", pat))
            continue
        quoted = re.findall(r"[\"“']([^\"”']{1,60})[\"”']|`([^`]{1,60})`", clause)
        words = [a or b for a, b in quoted]
        trig = re.search(r"\b(?:contain\w*|mention\w*|includ\w*|with the (?:word|term|phrase)s?|about|the (?:word|term|phrase)s?|keywords?|talk(?:s|ing)? about|refer\w* to|say\w*|use[sd]? the word)\b", low)
        if not words and trig:
            m = re.search(r"\b(?:word|term|phrase|keyword)s?\s+([a-z0-9][\w+#-]*(?:\s*(?:,|or|and)\s*[a-z0-9][\w+#-]*)*)", low)
            if m:
                words = [w for w in re.split(r"\s*(?:,|\bor\b|\band\b)\s*", m.group(1)) if w]
        if not words or not trig and not re.search(r"\b(?:keyword|term|word|phrase)", low):
            continue
        pos = trig.start() if trig else 0
        mode = "exclude" if _negated_before(low, pos + 1, 60) or re.search(r"\bno\s+(?:mention|reference)", low) else "include"
        reqs.append(Requirement("keyword", {"keywords": words, "mode": mode},
                                f"every kept document {'mentions none of' if mode == 'exclude' else 'mentions one of'} {words}", ", ".join(words)))


def _chat(goal: str, reqs: list[Requirement], notes: list[str]) -> None:
    low = goal.lower()
    if not re.search(r"\b(?:sft|instruction[- ]tun\w*|fine[- ]?tun\w*|chat[- ]?(?:format|data|template|style|ml)|conversations?|dialog(?:ue)?s?|multi[- ]turn|turns?|assistant (?:repl\w*|answers?|turns?|messages?|responses?)|messages format|openai format|chatml|sharegpt)\b", low):
        return
    if re.search(r"\b(?:no|drop|remove|exclude|without)\b[^.;]{0,15}\b(?:chat|conversations?|dialog\w*)\b", low) and not re.search(r"sft|fine", low):
        return
    params: dict[str, Any] = {"min_turns": 2, "normalize": True}
    m = re.search(rf"(?:at least|min(?:imum)?(?: of)?|more than|no fewer than)\s+{_NUM}\s+(?:user\s+|assistant\s+)?(?:turns?|messages?|exchanges?|rounds?)", low)
    if m:
        params["min_turns"] = int(parse_number(m.group(1))) + (1 if m.group(0).startswith("more than") else 0)
    elif re.search(r"multi[- ]turn", low):
        params["min_turns"] = 4
    if re.search(r"\bempty\b", low):
        params["drop_empty"] = True
    text = f"every kept document is a well-formed conversation with ≥ {params['min_turns']} turns, normalised to messages"
    reqs.append(Requirement("chat", params, text, "chat"))


def _decontam(goal: str, reqs: list[Requirement], notes: list[str]) -> None:
    low = goal.lower()
    if not re.search(r"\b(?:decontam\w*|contaminat\w*|benchmark leak\w*|test[- ]set leak\w*|overlap\w* with|eval(?:uation)? (?:set|data)|test set|benchmark)\b", low):
        return
    paths = re.findall(r"(?:^|\s|['\"`])((?:[\w.~-]*/)*[\w.-]+\.(?:jsonl(?:\.gz|\.zst)?|json|txt|parquet))\b", goal)
    builtin = ["humaneval"] if re.search(r"human[- ]?eval", low) else []
    if not paths and not builtin:
        reqs.append(Requirement("decontam", {"references": [], "builtin": []}, "no kept document shares a 13-gram with the evaluation set",
                                "decontaminate", assumption="no reference file was named: give its path in the goal"))
        return
    reqs.append(Requirement("decontam", {"references": paths, "builtin": builtin},
                            f"no kept document shares a 13-word sequence with {', '.join(paths + builtin)}", "decontaminate"))


def _retention(goal: str, reqs: list[Requirement], notes: list[str]) -> None:
    low = goal.lower().replace("≥", " at least ")
    for m in re.finditer(rf"\b(?:keep|retain|preserve|hold on to|save|leave)\s+(?:at least\s+|no less than\s+|>=?\s*|around\s+|about\s+|roughly\s+)?{_NUM}\s*(?:%|percent|per cent)(?:\s+of)?(?:\s+(?:the|all|my|our))?\s*(documents?|docs?|rows?|records?|tokens?|data|corpus|text|words?)?", low):
        unit = "tokens" if m.group(2) and m.group(2).startswith(("tok", "word")) else "docs"
        v = parse_number(m.group(1)) / 100
        reqs.append(Requirement("retention", {"unit": unit, "min": v}, f"keep ≥ {v:.0%} of {unit}", m.group(0)))
    for m in re.finditer(rf"\b(?:(?:drop|lose|remove|discard|throw away|filter out)\s+(?:at most|no more than|less than|under)|(?:don'?t|do not|never)\s+(?:drop|lose|remove|discard)\s+more than)\s+{_NUM}\s*(?:%|percent)(?:\s+of)?(?:\s+the)?\s*(documents?|docs?|rows?|tokens?|data)?", low):
        unit = "tokens" if m.group(2) and m.group(2).startswith("tok") else "docs"
        v = 1 - parse_number(m.group(1)) / 100
        reqs.append(Requirement("retention", {"unit": unit, "min": round(v, 4)}, f"keep ≥ {v:.0%} of {unit}", m.group(0)))
    m = re.search(rf"(?:budget of|target of|about|around|roughly|at least|at most|up to|no more than|cap(?:ped)? at|~)?\s*{_NUM}\s*(?:tokens?)\s*(?:total|in total|overall|budget|of data|of text)?", low)
    for m in re.finditer(rf"\b{_NUM}\s*(?:-\s*)?tokens?\s+(budget|target|cap|limit|in total|total|overall)\b|\b(?:budget|target|cap|limit) of\s+{_NUM}\s*tokens?", low):
        num = m.group(1) or m.group(3)
        v = parse_number(num)
        before = low[max(0, m.start() - 20) : m.start()]
        if re.search(r"at most|up to|no more than|not more than|maximum|max\.?|under|below|cap(?:ped)? at|limit(?:ed)? to|<=?\s*$", before):
            kind = "max"
        elif re.search(r"at least|minimum|min\.?|need|no less than|not less than|more than|over", before):
            kind = "min"
        else:
            kind = "max" if re.search(r"budget|cap|limit", m.group(0)) else "min"
        if v >= 10_000:
            reqs.append(Requirement("token_budget", {kind: int(v)}, f"kept tokens {'≤' if kind == 'max' else '≥'} {int(v):,} (full input, predicted)",
                                    m.group(0), assumption="tokens estimated as characters / 4"))
    if not any(r.kind == "token_budget" for r in reqs):
        # "cap the output at 300k tokens", "trim it to 1M tokens"
        m = re.search(rf"\b(?:cap|limit|trim|truncat|cut|shrink|downsampl|subsampl)\w*\b[^.;,\d]{{0,30}}?\b(?:at|to)\s+{_NUM}\s*tokens?\b", low)
        if m and parse_number(m.group(1)) >= 10_000:
            v = int(parse_number(m.group(1)))
            reqs.append(Requirement("token_budget", {"max": v}, f"kept tokens ≤ {v:,} (full input, predicted)", m.group(0),
                                    assumption="tokens estimated as characters / 4"))
    if any(r.kind == "token_budget" for r in reqs):
        return
    for m in re.finditer(rf"(budget of|target of|about|around|roughly|at least|minimum of|at most|up to|no more than|cap(?:ped)? at|need|want|~|get)\s+{_NUM}\s+tokens?\b", low):
        ctx_after = low[m.end() : m.end() + 30]
        if re.search(r"\b(?:per|each|a|every)\s+(?:doc|document|text|row|sample)", ctx_after):
            continue
        before = low[max(0, m.start() - 40) : m.start()]
        if re.search(r"\b(?:docs?|documents?|texts?|with|having|than)\s*$", before):
            continue
        v = parse_number(m.group(2))
        kind = "max" if m.group(1) in ("at most", "up to", "no more than", "capped at", "cap at", "budget of") else "min"
        if v < 10_000:  # small numbers are per-document lengths, not budgets
            continue
        reqs.append(Requirement("token_budget", {kind: int(v)}, f"kept tokens {'≤' if kind == 'max' else '≥'} {int(v):,} (full input, predicted)",
                                m.group(0), assumption="tokens estimated as characters / 4"))


def _output_format(goal: str, reqs: list[Requirement], notes: list[str]) -> None:
    low = goal.lower()
    fmt = None
    if re.search(r"\b(?:jsonl\.gz|gzip(?:ped)? jsonl|gzip(?:ped)? json ?lines|compressed jsonl|compressed json ?lines|jsonl gz)\b", low):
        fmt = "jsonl.gz"
    elif re.search(r"\b(?:jsonl|json ?lines|ndjson|json)\b", low) and re.search(r"\b(?:as|to|in|into|output|write|save|format|export|emit)\b", low):
        fmt = "jsonl"
    elif re.search(r"\bparquet\b", low):
        fmt = "parquet"
    if fmt:
        reqs.append(Requirement("output_format", {"format": fmt}, f"output written as {fmt}", fmt))


def _boilerplate(goal: str, reqs: list[Requirement], notes: list[str]) -> None:
    low = goal.lower()
    m = re.search(r"\b(?:boilerplate|cookie (?:banners?|notices?)|nav(?:igation)? (?:menus?|bars?)|footers?|headers and footers|repeated lines|menus|share buttons|templated lines)\b", low)
    if m and not re.search(rf"\b(?:keep|leave)\b[^.;]{{0,20}}{re.escape(m.group(0))}", low):
        reqs.append(Requirement("boilerplate", {}, "no line repeated across many documents remains (boilerplate removed)", m.group(0)))


_PARSERS = (_languages, _quality, _dedup, _pii, _toxicity, _length, _domain_select, _keywords, _chat, _decontam,
            _retention, _output_format, _boilerplate)


def parse_goal(text: str) -> Goal:
    """Parse a goal; raise UsageError for an empty goal. Contradictions are listed in ``problems``."""
    if not text or not text.strip():
        raise UsageError("--goal is empty: say what the data should become, e.g. 'English only, no duplicates'")
    reqs: list[Requirement] = []
    notes: list[str] = []
    for parse in _PARSERS:
        parse(text, reqs, notes)
    # don't read the word "quality" in "quality level" of PII etc. twice; and chat normalisation implies chat domain
    assumptions = [r.assumption for r in reqs if r.assumption]
    kinds = {r.kind for r in reqs}
    meaningful = kinds - {"output_format", "retention", "token_budget"}
    generic_clean = re.search(r"\b(?:clean\w*|pretrain\w*|training[- ]ready|ready for training|prepare|tidy|good data|usable)\b", text.lower())
    no_dedup = re.search(r"\b(?:keep|allow|leave)\s+(?:the\s+)?(?:duplicates|dupes|copies)|\b(?:no|without|skip|don'?t)\s+(?:any\s+)?dedup", text.lower())
    if meaningful == {"quality"} and generic_clean and not no_dedup:
        reqs.append(Requirement("dedup_exact", {}, "no two kept documents have identical text", "",
                                assumption="a general clean-up includes exact dedup"))
        reqs.append(Requirement("dedup_near", {"threshold": 0.8}, "no near-duplicate pairs with word-5-gram Jaccard ≥ 0.8", "",
                                assumption="a general clean-up includes near-dup dedup at Jaccard 0.8"))
        assumptions.append("general clean-up read as standard quality filtering plus exact and near-duplicate removal")
    if not meaningful:
        defaults = [
            Requirement("quality", {"level": "standard"}, "quality level: standard", "",
                        assumption="no specific filter asked: standard quality filtering"),
            Requirement("dedup_exact", {}, "no two kept documents have identical text", "",
                        assumption="no specific filter asked: exact dedup"),
            Requirement("dedup_near", {"threshold": 0.8}, "no near-duplicate pairs with word-5-gram Jaccard ≥ 0.8", "",
                        assumption="no specific filter asked: near-dup dedup at Jaccard 0.8"),
        ]
        reqs = defaults + reqs
        assumptions.append("the goal names no specific filter; applying the usual pretraining defaults "
                           "(standard quality, exact and near-duplicate removal)")
    problems: list[str] = []
    for r in reqs:
        if r.kind == "length" and "min" in r.params and "max" in r.params and r.params["min"] > r.params["max"]:
            problems.append(f"length bounds contradict each other: at least {r.params['min']} and at most {r.params['max']} {r.params['unit']}")
        if r.kind == "retention" and not 0 <= r.params["min"] <= 1:
            problems.append(f"retention target {r.params['min']:.0%} is not a share between 0% and 100%")
    lang = [r for r in reqs if r.kind == "language"]
    if len(lang) > 1:
        problems.append("the goal both selects and excludes languages; say which to keep")
    tb = [r for r in reqs if r.kind == "token_budget"]
    mins = [r.params["min"] for r in tb if "min" in r.params]
    maxs = [r.params["max"] for r in tb if "max" in r.params]
    if mins and maxs and max(mins) > min(maxs):
        problems.append(f"token budget asks for at least {max(mins):,} and at most {min(maxs):,} tokens")
    doms = [r for r in reqs if r.kind == "domain" and "keep" in r.params]
    if doms:
        drops = {d for r in reqs if r.kind == "domain" for d in r.params.get("drop", [])}
        both = drops & set(doms[0].params["keep"])
        if both:
            problems.append(f"domain {sorted(both)} is both selected and excluded")
    return Goal(text=text, requirements=reqs, assumptions=assumptions + notes, problems=problems)
