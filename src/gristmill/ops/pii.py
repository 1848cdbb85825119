"""PII and secrets: detect, count and redact with typed placeholders.

Every detector is a regular expression that finds *candidates* plus a validator that rejects look-alikes:
credit cards must pass the Luhn checksum and start with a known issuer prefix, IBANs must have their
country's length and pass ISO 7064 mod-97, IP addresses must parse and must not read as a version number,
phone numbers must hold 8-15 digits (E.164) and not read as a date. The approach follows the BigCode PII
pipeline (Ben Allal et al., *SantaCoder*, 2023; Li et al., *StarCoder*, 2023) and the secret rules of
detect-secrets / gitleaks, written anew.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from gristmill.batch import Batch
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register

Kind = Literal["email", "phone", "ip", "credit_card", "iban", "us_ssn", "secret"]
KINDS: tuple[Kind, ...] = ("secret", "email", "iban", "credit_card", "us_ssn", "ip", "phone")
"""Every kind, in the order that wins when two matches overlap (a key inside a URL is a secret first)."""

PLACEHOLDERS: dict[str, str] = {
    "email": "<EMAIL>",
    "phone": "<PHONE>",
    "ip": "<IP>",
    "credit_card": "<CREDIT_CARD>",
    "iban": "<IBAN>",
    "us_ssn": "<US_SSN>",
    "secret": "<SECRET>",
}


# -- validators -------------------------------------------------------------------------------------------
def luhn_valid(digits: str) -> bool:
    """ISO/IEC 7812 Luhn checksum of a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_issuer_known(d: str) -> bool:
    """Major issuer prefixes (IIN ranges) with their allowed lengths."""
    n = len(d)
    two, four = int(d[:2]), int(d[:4])
    return (
        (d[0] == "4" and n in (13, 16, 19))  # Visa
        or ((51 <= two <= 55 or 2221 <= four <= 2720) and n == 16)  # Mastercard
        or (two in (34, 37) and n == 15)  # American Express
        or ((d.startswith("6011") or d.startswith("65") or 644 <= int(d[:3]) <= 649) and n in (16, 19))
        or (3528 <= four <= 3589 and 16 <= n <= 19)  # JCB
        or ((300 <= int(d[:3]) <= 305 or two in (36, 38, 39)) and 14 <= n <= 19)  # Diners
        or (two == 62 and 16 <= n <= 19)  # UnionPay
    )


def credit_card_valid(candidate: str) -> bool:
    digits = re.sub(r"[ -]", "", candidate)
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    return _card_issuer_known(digits) and luhn_valid(digits)


IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def iban_valid(candidate: str) -> bool:
    """Country length from the SWIFT IBAN registry and ISO 7064 MOD 97-10 (remainder 1)."""
    s = candidate.replace(" ", "").upper()
    if IBAN_LENGTHS.get(s[:2]) != len(s):
        return False
    rearranged = s[4:] + s[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


# just before a dotted quad: it numbers a version, a release or a section ("version 10.0.0.1", "pkg==1.2.3.4",
# "section 4.4.3.2 of ISO 8601", "RFC 1918 5.2.1.4", "§ 3.1.2.4")
_VERSION_CONTEXT = re.compile(
    r"(?:\bv|\bver\.?|versions?|releas(?:e[sd]?|ing)|==|>=|<=|~=|\(|\bpython|\bnode|\bkernel|\bfirmware|\bbuild|"
    r"\brev(?:ision)?|\bpatch|\bupgraded?(?: to)?|\bupdated?(?: to)?|\bbump(?:ed)?(?: to)?|\bpolicy|standards?-?version:?|"
    r"\bsect?(?:ion)?s?\.?|\bclauses?|\bchapters?|\bappendix|\bparagraphs?|\bpara\.?|\bart(?:icle)?\.?|\bamendment|"
    r"\biso(?: \d+)?|\brfc(?: \d+)?|§+|"
    # the word for a section in the languages of the Debian handbook and other translated manuals
    r"\bsecci[oó]n?|\bse[cç][cç]?ão|\bsezione|\bsek(?:cja|sjon|tion)|\bsectie|\babschnitt|\bkap(?:itel|itola)|"
    r"\bcap[ií]tulo|\bchapitre|\bhoofdstuk|\boddíl|\bk[ıi]s[ıi]m|\bbölüm|\bраздел\w*|\bглав\w*|第|節|节)\s*$", re.I)
# a numbered heading ("9.2.1.1. Authentication", "// 6.2.0.2. video/mp4") or a cross-reference followed by the
# title it points to ("Sección 9.2.1.4, «Creating...»", "Section 1.3.2.1, “Reporting...")
_HEADING_BEFORE = re.compile(r"(?:^|\n)[ \t]*(?:[#*>/-]+[ \t]*)?$")
_HEADING_AFTER = re.compile(r"\.[ \t]+\S|,[ \t]*[«“„\"'‚‹「『]")
# on the same line, words that make a dotted quad an address whatever came before it
_ADDRESS_CUES = re.compile(r"\b(?:ip|ipv4|address(?:es)?|host(?:name)?s?|server|dns|gateway|ping|subnet|netmask|router|"
                           r"proxy|localhost|firewall|nameserver)\b|://", re.I)
# a line about versions ("## 5.2.1.4 (2023-01-02)", "* New upstream release 4.8.6.3")
_VERSION_LINE = re.compile(r"\b(?:versions?|releases?|released|changelog|upstream|upgrade[sd]?|bump(?:ed)?)\b|"
                           r"\d\s*[(\[]?\d{4}-\d{2}-\d{2}", re.I)


def reads_as_version(candidate: str, text: str, start: int) -> bool:
    """A dotted quad that numbers a version or a section rather than a host: after such a word (in the
    languages of translated manuals too), inside a longer dotted or hyphenated number ("2.9.5.0.46",
    "21.08.8.2-1"), opening a numbered heading ("9.2.1.1. Authentication"), before the quoted title of a
    cross-reference ("9.2.1.4, «Creating...»"), or on a line about versions with no word that makes it an
    address."""
    end = start + len(candidate)
    if _VERSION_CONTEXT.search(text[max(0, start - 24) : start]):
        return True
    if re.match(r"[-~+]\w", text[end : end + 2]):
        return True
    after = _HEADING_AFTER.match(text, end)
    if after and (after.group().startswith(",") or _HEADING_BEFORE.search(text[max(0, start - 16) : start])):
        return True
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    return bool(_VERSION_LINE.search(line)) and not _ADDRESS_CUES.search(line)


def ip_valid(candidate: str, text: str, start: int) -> bool:
    """Parses as an address, and does not read as a version or section number (:func:`reads_as_version`)."""
    try:
        addr = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    if addr.version == 4:
        if any(len(o) > 1 and o[0] == "0" for o in candidate.split(".")):
            return False  # leading zeros: 01.02.03.04 is a version or an index, not written IPs
        if reads_as_version(candidate, text, start):
            return False
    elif sum(1 for g in candidate.split(":") if g) < 3:
        return False  # "::1", "a::b", "ff::": loopback or C++/Rust paths rather than a real address
    return True


_DATE_LIKE = re.compile(r"^\+?\d{4}[-./ ]\d{1,2}[-./ ]\d{1,2}$|^\d{1,2}[-./ ]\d{1,2}[-./ ]\d{4}$")


def phone_valid(candidate: str) -> bool:
    """E.164 allows at most 15 digits; fewer than 8 is a fragment. Dates such as 2023-01-15 are not phones."""
    digits = sum(ch.isdigit() for ch in re.split(r"(?i),? ?(?:ext\.?|x) ?(?=\d)", candidate)[0])
    if not 8 <= digits <= 15:
        return False
    return not _DATE_LIKE.match(candidate.strip())


# a phone cue just before a number: without one, NNN-NNNN is as often a range, a part number or a page span
_PHONE_CUE = re.compile(r"(?i)\b(?:call|phone|tel\.?|telephone|fax|mobile|cell|dial|hotline|whatsapp|sms)\b[^\n\d]{0,20}$")


def local_phone_valid(candidate: str, text: str, start: int) -> bool:
    """A 7-15 digit number that a phone cue ("call", "tel.", "fax") precedes on its line."""
    digits = sum(ch.isdigit() for ch in candidate)
    return 7 <= digits <= 15 and bool(_PHONE_CUE.search(text[max(0, start - 40) : start]))


# -- detectors --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Detector:
    kind: Kind
    pattern: re.Pattern[str]
    validate: Callable[[str, str, int], bool] | None = None
    hints: tuple[str, ...] = ()  # substrings of which a match holds at least one: a cheap pre-check

    def may_match(self, text: str) -> bool:
        return not self.hints or any(h in text for h in self.hints)


def _secret(pattern: str, *hints: str) -> Detector:
    return Detector("secret", re.compile(pattern), hints=hints)


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d|0\d{1,2})"
_AWS_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "AROA", "APKA")

DETECTORS: tuple[Detector, ...] = (
    # secrets: one rule each, run only when their literal part occurs in the text
    _secret(
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
        "PRIVATE KEY",
    ),
    _secret(r"\b(?:" + "|".join(_AWS_PREFIXES) + r")[0-9A-Z]{16}\b", *_AWS_PREFIXES),  # AWS access key id
    _secret(  # AWS secret access key, recognised by its context
        r"(?i:aws.{0,20}?(?:secret|private)[\w ]{0,20}?['\"]?\s*[:=]\s*['\"]?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])",
        "aws",
        "AWS",
        "Aws",
    ),
    _secret(r"\bAIza[0-9A-Za-z_\-]{35}(?![\w-])", "AIza"),  # Google / GCP API key
    _secret(r"\bya29\.[0-9A-Za-z_\-]{20,}", "ya29."),  # Google OAuth access token
    _secret(
        r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"
    ),  # GitHub
    _secret(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b", "github_pat_"),
    _secret(r"\bglpat-[A-Za-z0-9_\-]{20,}", "glpat-"),  # GitLab
    _secret(r"\bxox[abposr]-[A-Za-z0-9-]{10,}", "xox"),  # Slack token
    _secret(r"https://hooks\.slack\.com/services/[A-Za-z0-9_/]{20,}", "hooks.slack.com"),  # Slack webhook
    _secret(
        r"\bsk-(?:proj-|svcacct-|admin-|ant-(?:api\d\d-)?)?[A-Za-z0-9_\-]{20,}(?![\w-])", "sk-"
    ),  # OpenAI / Anthropic
    _secret(r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}\b", "k_live_", "k_test_"),  # Stripe
    _secret(r"\bhf_[A-Za-z0-9]{30,}\b", "hf_"),  # Hugging Face
    _secret(
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", "eyJ"
    ),  # JWT header.payload.sig
    Detector(
        "email",
        re.compile(
            r"(?<![\w.+%-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
        ),
        hints=("@",),
    ),
    Detector(
        "iban",
        re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"),
        validate=lambda s, t, i: iban_valid(s),
    ),
    Detector(
        "credit_card",
        re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"),
        validate=lambda s, t, i: credit_card_valid(s),
    ),
    Detector(
        "us_ssn",
        # area 000 and 666, group 00 and serial 0000 are never issued; 9xx (ITINs) are just as sensitive
        re.compile(r"(?<![\d-])(?!000|666)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])"),
        hints=("-",),
    ),
    Detector(
        "ip",
        re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\w|\.\d)"),
        validate=ip_valid,
        hints=(".",),
    ),
    Detector(
        "ip",
        re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:]|\.\w)"),
        validate=ip_valid,
        hints=(
            "::",
            ":0",
            ":1",
            ":2",
            ":3",
            ":4",
            ":5",
            ":6",
            ":7",
            ":8",
            ":9",
            ":a",
            ":b",
            ":c",
            ":d",
            ":e",
            ":f",
            ":A",
            ":B",
            ":C",
            ":D",
            ":E",
            ":F",
        ),
    ),
    Detector(  # international: +CC or 00CC, optionally (+CC), area code in brackets, extension
        "phone",
        re.compile(
            r"(?<![\w+(])(?<!\d )(?<!\d-)(?<!\d\.)(?:\+|00|\(\+)[1-9]\d{0,2}\)?[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,5}(?:[ .-]?\d{1,5}){1,5}"
            r"(?:,? ?(?:ext\.?|x) ?\d{1,5})?(?![\w-])"
        ),
        validate=lambda s, t, i: phone_valid(s),
        hints=("+", "00"),
    ),
    Detector(  # North American: (555) 123-4567, 555-123-4567, 555.123.4567
        "phone",
        re.compile(
            r"(?<![\w(])\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}(?![\w-])"
            r"|(?<![\w.-])\d{3}[.-]\d{3}[.-]\d{4}(?![\w-]|\.\d)"
        ),
        validate=lambda s, t, i: phone_valid(s),
        hints=("-", "."),
    ),
    Detector(  # a local number without its area code, after a phone cue: "Call 555-0107", "Fax: (555) 0112-3456"
        "phone",
        re.compile(r"(?<![\w(.-])\(?\d{3}\)?[ .-]\d{3,4}(?:[ .-]\d{4})?(?![\w-])"),
        validate=lambda s, t, i: local_phone_valid(s, t, i),
    ),
)


@dataclass(frozen=True)
class Match:
    kind: Kind
    start: int
    end: int
    text: str


def find_pii(text: str, kinds: tuple[str, ...] = KINDS) -> list[Match]:
    """Validated, non-overlapping matches in text order. Overlaps go to the earlier kind in ``KINDS``."""
    taken: list[Match] = []
    for det in DETECTORS:
        if det.kind not in kinds or not det.may_match(text):
            continue
        for m in det.pattern.finditer(text):
            s, e = m.span()
            if det.validate is not None and not det.validate(m.group(), text, s):
                continue
            if any(s < t.end and t.start < e for t in taken):
                continue
            taken.append(Match(det.kind, s, e, m.group()))
    taken.sort(key=lambda m: m.start)
    return taken


def redact(text: str, matches: list[Match], placeholders: dict[str, str] = PLACEHOLDERS) -> str:
    out, pos = [], 0
    for m in matches:
        out.append(text[pos : m.start])
        out.append(placeholders[m.kind])
        pos = m.end
    out.append(text[pos:])
    return "".join(out)


def iter_kinds(kinds: list[str]) -> Iterator[str]:
    yield from (k for k in KINDS if k in kinds)


# -- operator ---------------------------------------------------------------------------------------------
class PIIParams(OpParams):
    mode: Literal["detect", "redact"] = Field(
        "redact", description="detect: only count; redact: also replace each match by its typed placeholder"
    )
    kinds: list[Kind] = Field(default_factory=lambda: list(KINDS), description="which kinds to look for")
    drop_if_found: bool = Field(False, description="rule: drop documents that contain any of `drop_kinds`")
    drop_kinds: list[Kind] = Field(
        default_factory=lambda: list(KINDS), description="kinds that make drop_if_found drop a document"
    )


@register
class PIIRedact(Operator):
    name = "pii"
    family = "pii"
    description = """Find personal data and secrets: e-mail addresses, phone numbers (international +CC and
    North-American formats, and local numbers after a cue such as "call" or "fax"), IPv4/IPv6 addresses (not version or section numbers), credit-card numbers (Luhn-checked,
    known issuer), IBANs (mod-97 verified), US social security numbers (AAA-GG-SSSS) and secrets (private
    key blocks, AWS/GCP/GitHub/GitLab/Slack/OpenAI/Anthropic/Stripe/Hugging Face keys, JWTs). Counts each
    kind as a signal and, in redact mode, replaces matches by typed placeholders such as <EMAIL> or
    <SECRET>. Optionally drops documents that contain PII. Use on web and code data before training."""
    Params = PIIParams
    writes = ("text",)
    signals = tuple(Signal(k, "int", f"number of {k.replace('_', ' ')} matches") for k in KINDS) + (
        Signal("total", "int", "number of matches of every kind"),
    )
    cost = "moderate"
    version = "3"  # 2: local numbers after a phone cue ("Call 555-0107"); 3: section and release numbers are not IPs
    references = (
        "Ben Allal et al., SantaCoder: don't reach for the stars!, 2023 (PII redaction pipeline)",
        "Li et al., StarCoder: may the source be with you!, 2023",
        "ISO 13616 (IBAN), ISO/IEC 7812 (Luhn)",
    )

    def rules(self) -> dict[str, str]:
        p: PIIParams = self.params  # type: ignore[assignment]
        if not p.drop_if_found:
            return {}
        kinds = [k for k in iter_kinds(p.drop_kinds) if k in p.kinds]
        if not kinds:
            return {}
        return {"has_pii": " + ".join(self.signal_column(k) for k in kinds) + " == 0"}

    def apply(self, batch: Batch) -> dict[str, np.ndarray]:
        p: PIIParams = self.params  # type: ignore[assignment]
        kinds = tuple(p.kinds)
        texts = batch.texts()
        counts = {k: np.zeros(len(texts), np.int64) for k in KINDS}
        new_texts, changed = list(texts), False
        for i, text in enumerate(texts):
            matches = find_pii(text or "", kinds)
            if not matches:
                continue
            for m in matches:
                counts[m.kind][i] += 1
            if p.mode == "redact":
                new_texts[i] = redact(text, matches)
                changed = True
        if changed:
            batch.set_texts(new_texts)
        counts["total"] = sum(counts[k] for k in KINDS)
        return counts
