"""Independent detectors the verifier measures with: auditor regexes for PII, a stop-word language profile.

They share nothing with the operators they check (the ``pii`` operator's patterns, ``lang_id``'s
detectors), so a bug in an operator shows up as a failed check with evidence, not as a silently wrong
dataset. The repair step reuses the PII patterns to drop documents where something survived.
"""

from __future__ import annotations

import re

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


STOPWORD_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "ru", "pl", "sv")


def stopword_languages(texts: list[str], min_hits: int = 5) -> list[str]:
    """Language of each text by which bundled stop-word list covers most of its words ("unknown" when
    fewer than ``min_hits`` stop words match: code, tables, languages without a list). Independent of the
    lang_id operator's detectors, so it can check them."""
    from gristmill.ops.lexicon import stopwords

    lists = {c: stopwords(c) for c in STOPWORD_LANGUAGES}
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


# a local number without its area code ("Call 555-0107", "tel. 555 0199", "(555) 0112-3456"), counted only
# after a phone cue: bare NNN-NNNN is also a range, a part number or a page span
_LOCAL_PHONE = re.compile(r"\b(?i:call|phone|tel\.?|telephone|fax|mobile|cell|dial|hotline|whatsapp|sms)\b"
                          r"[^\n\d]{0,20}?(\(?\d{3}\)?[ .-]\d{3,4}(?:[ .-]\d{4})?)(?![\d-])")


PHONE_ANY = f"(?:{PHONE.pattern})|(?:{_LOCAL_PHONE.pattern})"  # what the PII repair drops on


def phone_candidates(text: str) -> list[str]:
    out = []
    for m in PHONE.finditer(text):
        core = _PHONE_EXT.split(m.group(0))[0].strip()
        if 7 <= sum(c.isdigit() for c in core) <= 15 and not _DATE.fullmatch(core):
            out.append(m.group(0))
    for m in _LOCAL_PHONE.finditer(text):
        num = m.group(1)
        if 7 <= sum(c.isdigit() for c in num) <= 15 and not any(num in o or o in num for o in out):
            out.append(num)
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


_CODE_LINE = re.compile(r"[;{}]\s*$|^\s*(?:def |class |import |from \S+ import|func |package |#include|public |private |return\b|"
                        r"if \(|for \(|while \(|var |let |const |fn |}\s*else|#!/)|^\s{4,}\S.*[(=:]")
_LOG_LINE = re.compile(r"^\s*\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|^\s*\d{2}:\d{2}:\d{2}|\b(?:INFO|WARN|WARNING|ERROR|DEBUG|TRACE|FATAL)\b")
_MARKUP = re.compile(r"</?[a-zA-Z][\w-]*(?:\s[^<>]*)?>")
_MATH = re.compile(r"\\(?:frac|sum|int|begin\{(?:equation|align)|mathbb|alpha|beta|sqrt|cdot|leq|geq)|\$[^$\n]+\$")


def content_shape(text: str) -> str:
    """A rough kind of content by line shapes: code, log, markup, table, math or prose ("mixed" when code
    and prose lines both hold a third). Independent of the content_kind operator, so it can check it."""
    lines = [ln for ln in text.splitlines() if ln.strip()][:400]
    if not lines:
        return "prose"
    n = len(lines)
    code = sum(1 for ln in lines if _CODE_LINE.search(ln)) / n
    log = sum(1 for ln in lines if _LOG_LINE.search(ln)) / n
    table = sum(1 for ln in lines if ln.count(",") >= 3 or ln.count("\t") >= 2 or ln.count("|") >= 3) / n
    markup = len(_MARKUP.findall(text)) / max(1, len(text.split()))
    math = len(_MATH.findall(text)) / n
    prose = sum(1 for ln in lines if len(ln.split()) >= 8 and re.search(r"[a-z]{3,}[.,]?\s", ln) and not _CODE_LINE.search(ln)) / n
    if log >= 0.5:
        return "log"
    if markup >= 0.3:
        return "markup"
    if table >= 0.6 and code < 0.3:
        return "table"
    if math >= 0.3:
        return "math"
    if code >= 0.35 and prose >= 0.35:
        return "mixed"
    if code >= 0.3:
        return "code"
    return "prose"
