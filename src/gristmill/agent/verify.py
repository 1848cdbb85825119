"""Check every requirement on the dry-run output, independently of the operators that enforced it.

Each check reads the kept documents (and the sample they came from) and measures the property itself: a
regex scan for e-mails, an exact 5-gram Jaccard over candidate pairs, a second language detector, word
counts. A bug in an operator or a wrong plan then shows up as a failed check with evidence, not as a
silently wrong dataset.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from gristmill.agent.goal import Goal, Requirement
from gristmill.agent.profile import detect_languages, est_tokens, near_dup_pairs, norm_key
from gristmill.ops.templates import chat_stats, parse_chat

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1?\d?\d)"
# words that, just before a dotted quad, make it a version or a section number ("version 5.2.1.4",
# "Standards-Version 4.6.1.1", "Policy 4.6.0.1"); fixed width each, so they can sit in a look-behind
_VERSION_CUES = ("version", "versions", "release", "released", "policy", "standards", "build", "bump", "bumped",
                 "upgrade", "upgraded", "update", "updated", "rev", "revision", "patch", "firmware", "kernel",
                 "ver", "section", "clause", "amendment", "chapter", "heif", "iso", "rfc")
# a dotted quad that is part of a longer dotted or hyphenated version ("2.9.5.0.46", "21.08.8.2-1",
# "1.8.8.1~beta", "v5.2.1.4", "pkg (4.8.6.3)") is not an address; neither is one after a version cue
IPV4 = re.compile(
    r"(?<![\w.])(?<![vV])(?<![a-z0-9] \()(?<![<>=]= )(?<![<>=] )"
    + "".join(f"(?<!\\b(?i:{c}) )(?<!\\b(?i:{c})-)" for c in _VERSION_CUES)
    + rf"(?:{_OCTET}\.){{3}}{_OCTET}(?![\w]|\.\d|[-~+]\w)"
)
# context words that confirm an address on the same line (they win over a version cue further back)
_IP_CUES = re.compile(r"(?i)\b(?:ip|ipv4|address|addr|host|hostname|server|resolver|dns|gateway|ping|subnet|netmask|inet|"
                      r"route|router|proxy|listen\w*|bind|connect\w*|localhost|firewall|nameserver)\b|://")
_LINE_VERSION_CUES = re.compile(r"(?i)\b(?:version|release[sd]?|changelog|standards-version|upgrade[sd]?|bump(?:ed)?)\b")
_RELEASE_DATE_AFTER = re.compile(r"\]?\)?\s*(?:[-–—(:]\s*)*\(?\d{4}-\d{2}-\d{2}")  # "## 5.2.1.4 (2023-01-02)"
# international ("+44 20 7946 0539", "(+1) 555-0124 ext. 57") or North American ("(415) 555-0100", "415-555-0100");
# a match counts when it holds 7-15 digits before any extension (E.164 allows 15) and does not read as a date
PHONE = re.compile(
    r"(?<![\w+])(?:\(\+?\d{1,3}\)|\+\d{1,3})[ .-]?(?:\(?\d{1,5}\)?[ .-]?){1,5}\d{1,5}(?:\s*(?:ext\.?|x|extension)\s*\d{1,5})?"
    r"|(?<![\w.-])(?:\(\d{3}\)\s?\d{3}[ .-]|\d{3}-\d{3}-|\d{3}\.\d{3}\.)\d{4}\b"
)
_PHONE_EXT = re.compile(r"\s*(?:ext\.?|x|extension)\s*\d")
_DATE = re.compile(r"\+?\d{4}[-./ ]\d{1,2}[-./ ]\d{1,2}")
IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
SECRET = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{36}\b|\bsk-[A-Za-z0-9]{20,}|\bhf_[A-Za-z0-9]{30,}"
    r"|\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}"  # JWT
    # a 40-character base64 run mixing upper case, lower case and digits: the shape of an AWS secret access key
    r"|(?<![\w/+.-])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}\d)[A-Za-z0-9/+]{40}(?![\w/+=.-])"
)
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b")


_STOP_LANGS = ("en", "de", "fr", "es", "it", "pt", "nl", "ru", "pl", "sv")


def stopword_languages(texts: list[str], min_hits: int = 5) -> list[str]:
    """Language of each text by which bundled stop-word list covers most of its words ("unknown" when
    fewer than ``min_hits`` stop words match: code, tables, languages without a list). Independent of the
    lang_id operator's detectors, so it can check them."""
    from gristmill.ops.lexicon import stopwords

    lists = {c: stopwords(c) for c in _STOP_LANGS}
    out = []
    for t in texts:
        words = re.findall(r"\w+", t.lower())[:2000]
        best, hits = "unknown", 0
        for c, sw in lists.items():
            h = sum(1 for w in words if w in sw)
            if h > hits:
                best, hits = c, h
        out.append(best if hits >= min_hits and hits >= 0.1 * len(words) else "unknown")
    return out


def luhn(digits: str) -> bool:
    d = [int(c) for c in digits if c.isdigit()]
    if not 13 <= len(d) <= 19:
        return False
    s = 0
    for i, x in enumerate(reversed(d)):
        if i % 2:
            x *= 2
            if x > 9:
                x -= 9
        s += x
    return s % 10 == 0


def phone_candidates(text: str) -> list[str]:
    out = []
    for m in PHONE.finditer(text):
        core = _PHONE_EXT.split(m.group(0))[0].strip()
        if 7 <= sum(c.isdigit() for c in core) <= 15 and not _DATE.fullmatch(core):
            out.append(m.group(0))
    return out


def ipv6_candidates(text: str) -> list[str]:
    """IPv6 addresses with at least three groups, one of 3-4 hex digits (MAC-style 12:34:56 is not taken)."""
    import ipaddress

    out = []
    for m in IPV6.finditer(text):
        groups = [g for g in m.group(0).split(":") if g]
        if len(groups) < 3 or max(map(len, groups)) < 3:
            continue
        try:
            ipaddress.IPv6Address(m.group(0))
        except ValueError:
            continue
        out.append(m.group(0))
    return out


def ipv4_candidates(text: str) -> list[str]:
    """Dotted quads that read as addresses, not as version or section numbers.

    Release notes and changelogs are full of four-part versions ("debianutils (4.8.6.3)", "Standards version
    4.2.1.0", "libslurm-dev (<= 21.08.8.2-1)"); counting them as IP addresses made the repair step drop
    documents with no PII. The pattern refuses a quad inside a longer version or right after a version cue;
    on top of that a quad on a line about versions counts only when the line also has an address cue
    ("DNS resolver at 8.8.8.8", "smb://192.168.1.1/"), and so does a quad followed by a release date
    ("## 5.2.1.4 (2023-01-02)"). First octets 0-3 stay excluded (mostly versions).
    """
    out = []
    for m in IPV4.finditer(text):
        quad = m.group(0)
        if quad.startswith(("0.", "1.", "2.", "3.")):
            continue
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        line = text[start : end if end >= 0 else len(text)]
        if _IP_CUES.search(line):
            out.append(quad)
            continue
        if _LINE_VERSION_CUES.search(line) or _RELEASE_DATE_AFTER.match(text, m.end()):
            continue
        out.append(quad)
    return out


def scan_pii(text: str, kinds: list[str]) -> dict[str, list[str]]:
    """Independent PII scan (not the pii operator's patterns): what an auditor would grep for."""
    found: dict[str, list[str]] = {}
    if "email" in kinds:
        found["email"] = EMAIL.findall(text)
    if "credit_card" in kinds:
        found["credit_card"] = [m for m in CARD.findall(text) if luhn(m)]
    if "us_ssn" in kinds:
        found["us_ssn"] = SSN.findall(text)
    if "ip" in kinds:
        found["ip"] = ipv4_candidates(text) + ipv6_candidates(text)
    if "phone" in kinds:
        found["phone"] = phone_candidates(text)
    if "secret" in kinds:
        found["secret"] = SECRET.findall(text)
    if "iban" in kinds:
        found["iban"] = IBAN.findall(text)
    return {k: v for k, v in found.items() if v}


@dataclass
class Check:
    requirement: str
    kind: str
    passed: bool
    evidence: str
    measured: dict[str, Any] = field(default_factory=dict)
    hard: bool = True  # a failed hard check blocks the recipe; soft checks are reported

    def line(self) -> str:
        return f"[{'PASS' if self.passed else 'FAIL'}] {self.requirement}: {self.evidence}"


@dataclass
class DryRun:
    """What the verifier sees: the sample that went in and what came out."""

    input_rows: list[dict[str, Any]]
    kept: pa.Table
    summary: dict[str, Any]
    out_dir: Path
    text_field: str = "text"

    @property
    def kept_texts(self) -> list[str]:
        return [t or "" for t in self.kept.column(self.text_field).to_pylist()] if self.kept.num_rows else []

    def retention(self) -> tuple[float, float]:
        n_in = self.summary.get("input", len(self.input_rows))
        docs = self.summary.get("kept", 0) / n_in if n_in else 0.0
        tok_in = sum(est_tokens(r.get(self.text_field) or "") for r in self.input_rows)
        kept_ids = set(self.kept.column("id").to_pylist()) if self.kept.num_rows and "id" in self.kept.column_names else set()
        tok_out = sum(est_tokens(r.get(self.text_field) or "") for r in self.input_rows if r.get("id") in kept_ids) if kept_ids else 0
        if not kept_ids and self.kept.num_rows:
            tok_out = sum(est_tokens(t) for t in self.kept_texts)
        return docs, (tok_out / tok_in if tok_in else 0.0)


def read_kept(out_dir: Path) -> pa.Table:
    files = sorted(out_dir.glob("part-*.parquet"))
    if not files:
        import orjson

        rows = []
        for f in sorted(out_dir.glob("part-*.jsonl*")):
            import gzip

            op = gzip.open if f.name.endswith(".gz") else open
            with op(f, "rb") as fh:
                rows.extend(orjson.loads(line) for line in fh if line.strip())
        return pa.Table.from_pylist(rows) if rows else pa.table({"id": pa.array([], pa.string()), "text": pa.array([], pa.string())})
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")


def _check(req: Requirement, dry: DryRun, total_input_tokens: int | None) -> Check:
    texts = dry.kept_texts
    n = len(texts)
    k = req.kind
    p = req.params
    if k == "language":
        langs = stopword_languages(texts)
        counts = Counter(langs)
        known = set(_STOP_LANGS)
        if "keep" in p:
            targets = [c for c in p["keep"] if c in known]
            if not targets:  # no bundled stop-word list: fall back to the planner's detector
                langs = detect_languages(texts) or []
                counts, targets = Counter(langs), p["keep"]
            decided = [x for x in langs if x != "unknown"]
            ok = sum(1 for x in decided if x in targets)
            share = ok / len(decided) if decided else (1.0 if not n else 0.0)
            return Check(str(req), k, share >= 0.9, f"{share:.1%} of {len(decided)} kept documents with prose are {targets} by stop-word profile "
                         f"(an independent detector); {n - len(decided)} undecided (code, tables); top: {dict(counts.most_common(4))}", {"share": share})
        bad = sum(counts[c] for c in p["drop"])
        share = bad / n if n else 0.0
        return Check(str(req), k, share <= 0.05, f"{bad} of {n} kept documents are {p['drop']} by stop-word profile", {"share": share})
    if k == "length":
        unit = p["unit"]
        if unit == "words":
            vals = np.array([len(t.split()) for t in texts])
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
        return Check(str(req), k, bad == 0, f"{bad} of {n} kept documents out of bounds ({unit}: {rng})", {"violations": bad})
    if k == "dedup_exact":
        keys = Counter(norm_key(t) for t in texts)
        dups = sum(c - 1 for c in keys.values() if c > 1)
        return Check(str(req), k, dups == 0, f"{dups} exact duplicates among {n} kept documents (whitespace-normalised hash)", {"duplicates": dups})
    if k in ("dedup_near", "dedup_semantic"):
        t = p.get("threshold", 0.8) if k == "dedup_near" else 0.6
        pairs = near_dup_pairs(texts, t)
        ex = ""
        if pairs:
            ids = dry.kept.column("id").to_pylist()
            a, b, j = pairs[0]
            ex = f"; e.g. {ids[a]} ~ {ids[b]} (Jaccard {j})"
        note = " (approximation of semantic dedup)" if k == "dedup_semantic" else ""
        # MinHash is probabilistic: a pair or two in hundreds of documents is within its false-negative rate
        allowed = max(0, int(0.002 * n))
        return Check(str(req), k, len(pairs) <= allowed, f"{len(pairs)} kept pairs with exact word-5-gram Jaccard >= {t}{note}{ex}",
                     {"pairs": len(pairs)})
    if k == "pii":
        hits: Counter[str] = Counter()
        example = ""
        for tx in texts:
            for kind, vals in scan_pii(tx, p["kinds"]).items():
                hits[kind] += len(vals)
                example = example or f"{kind} {vals[0]!r}"
        total = sum(hits.values())
        return Check(str(req), k, total == 0, f"independent regex scan found {total} PII matches in {n} kept documents" + (f" ({dict(hits)}; e.g. {example})" if total else ""),
                     {"matches": dict(hits)})
    if k == "toxicity":
        from gristmill.agent.profile import _measuring_ops  # noqa: F401 - registry loaded
        from gristmill.batch import Batch
        from gristmill.ops.registry import all_ops

        cls = all_ops()["flagged_words"]
        sig = cls(cls.Params(max_flagged_ratio=None)).apply(Batch(pa.table({"text": texts}))) if n else {"flagged_ratio": np.zeros(0)}
        r = np.asarray(sig["flagged_ratio"], dtype=float)
        bad = int((r > p["max_ratio"] + 1e-12).sum())
        return Check(str(req), k, bad == 0, f"{bad} of {n} kept documents above flagged-word share {p['max_ratio']} (max {r.max() if len(r) else 0:.4f})", {"violations": bad})
    if k == "domain":
        f = next((c for c in ("domain", "category", "subset", "source_type", "genre") if c in dry.kept.column_names), None)
        if f is None:
            return Check(str(req), k, False, "kept documents carry no domain field")
        vals = Counter(map(str, dry.kept.column(f).to_pylist()))
        if "keep" in p:
            bad = sum(c for v, c in vals.items() if not any(v.lower().startswith(w) or w.startswith(v.lower()) for w in p["keep"]))
        else:
            bad = sum(c for v, c in vals.items() if any(v.lower().startswith(w) or w.startswith(v.lower()) for w in p["drop"]))
        return Check(str(req), k, bad == 0, f"kept {f} values {dict(vals)}; {bad} outside the selection", {"violations": bad})
    if k == "keyword":
        pat = re.compile("|".join(re.escape(w) for w in p["keywords"]), re.IGNORECASE)
        has = sum(1 for t in texts if pat.search(t))
        bad = has if p["mode"] == "exclude" else n - has
        return Check(str(req), k, bad == 0, f"{has} of {n} kept documents mention {p['keywords']}", {"violations": bad})
    if k == "regex":
        pat = re.compile(p["pattern"])
        has = sum(1 for t in texts if pat.search(t))
        bad = has if p["mode"] == "exclude" else n - has
        return Check(str(req), k, bad == 0, f"{has} of {n} kept documents match /{p['pattern']}/", {"violations": bad})
    if k == "chat":
        bad = 0
        for tx in texts:
            turns, alt, empty = chat_stats(parse_chat(tx))
            if turns < p.get("min_turns", 2) or not alt or empty:
                bad += 1
        has_msgs = "messages" in dry.kept.column_names or not p.get("normalize", True)
        return Check(str(req), k, bad == 0 and has_msgs, f"{bad} of {n} kept documents are not well-formed conversations with >= {p.get('min_turns', 2)} turns; messages column {'present' if has_msgs else 'missing'}",
                     {"violations": bad})
    if k == "decontam":
        from gristmill.agent.profile import shingles

        refs: set[int] = set()
        for path in p.get("references", []):
            for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
                refs |= shingles(line, 13)
        bad = sum(1 for t in texts if shingles(t, 13) & refs) if refs else 0
        return Check(str(req), k, bad == 0, f"{bad} of {n} kept documents share a 13-word sequence with the references", {"violations": bad})
    if k == "boilerplate":
        lines = Counter()
        for t in texts:
            for ln in {x.strip().lower() for x in t.split("\n") if len(x.strip()) >= 5}:
                lines[ln] += 1
        # a line that is only redaction placeholders (e.g. "<secret>") is PII handling, not boilerplate
        rep = [ln for ln, c in lines.items() if c >= 3 and re.search(r"[a-z]{3}", re.sub(r"<[a-z_]+>", "", ln))]
        return Check(str(req), k, len(rep) == 0, f"{len(rep)} lines appear in >= 3 kept documents" + (f", e.g. {rep[0][:60]!r}" if rep else ""),
                     {"repeated_lines": len(rep)})
    if k == "output_format":
        files = [f.name for f in dry.out_dir.glob("part-*")]
        ext = {"parquet": ".parquet", "jsonl": ".jsonl", "jsonl.gz": ".jsonl.gz"}[p["format"]]
        ok = bool(files) and all(f.endswith(ext) for f in files) or not files and dry.summary.get("kept", 0) == 0
        return Check(str(req), k, ok, f"output files {files[:3]}")
    if k == "retention":
        docs, toks = dry.retention()
        v = toks if p["unit"] == "tokens" else docs
        return Check(str(req), k, v >= p["min"] - 1e-9, f"dry run kept {docs:.1%} of documents and {toks:.1%} of tokens (target {p['unit']} ≥ {p['min']:.0%})",
                     {"docs": docs, "tokens": toks})
    if k == "token_budget":
        docs, toks = dry.retention()
        if total_input_tokens is None:
            return Check(str(req), k, True, "no input size known; not checked", hard=False)
        pred = int(toks * total_input_tokens)
        ok = pred >= p.get("min", 0) and pred <= p.get("max", float("inf"))
        return Check(str(req), k, ok, f"predicted {pred:,} kept tokens of {total_input_tokens:,} in the full input ({toks:.1%} of tokens kept on the sample)",
                     {"predicted_tokens": pred})
    if k == "quality":
        return Check(str(req), k, n > 0, f"{n} documents pass the quality rules; re-measured thresholds below", {"kept": n})
    return Check(str(req), k, False, f"no check for requirement kind {k!r}")


def verify(goal: Goal, dry: DryRun, total_input_tokens: int | None = None) -> list[Check]:
    checks = [_check(r, dry, total_input_tokens) for r in goal.requirements]
    n_in = dry.summary.get("input", 0)
    kept = dry.summary.get("kept", 0)
    checks.append(Check("output is not empty", "nonempty", kept > 0, f"{kept} of {n_in} sample documents kept"))
    bal = dry.summary.get("balance", {})
    checks.append(Check("input = kept + dropped + rejected", "balance", bool(bal.get("holds")), str(bal.get("detail", ""))))
    return checks
