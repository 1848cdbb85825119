"""Cleaning operators: rewrite the text (and report what they removed as signals)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal

import numpy as np
from pydantic import Field

from gristmill.batch import Batch
from gristmill.errors import UsageError
from gristmill.ops import views as _views  # noqa: F401 - registers the shared views
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register

_SPACES = re.compile(r"[^\S\n]+")  # whitespace other than newline
_MANY_NEWLINES = re.compile(r"\n{3,}")
_LINE_EDGES = re.compile(r" ?\n ?")  # after spaces are collapsed: one optional space around each newline
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def normalize(text: str, form: str | None, whitespace: bool, strip_invisible: bool) -> str:
    if form and not unicodedata.is_normalized(form, text):
        text = unicodedata.normalize(form, text)
    if strip_invisible:
        text = _INVISIBLE.sub("", text)
    if whitespace:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = _LINE_EDGES.sub("\n", _SPACES.sub(" ", text))
        text = _MANY_NEWLINES.sub("\n\n", text).strip()
    return text


class NormalizeParams(OpParams):
    unicode_form: Literal["NFC", "NFKC", "NFD", "NFKD", "none"] = "NFC"
    whitespace: bool = True
    strip_invisible: bool = True


@register
class NormalizeText(Operator):
    name = "normalize_text"
    family = "clean"
    description = """Normalise text: Unicode normal form (NFC by default, NFKC to fold compatibility
    characters), remove zero-width and soft-hyphen characters, turn CRLF into LF, collapse runs of spaces
    and tabs to one space, trim each line, and allow at most one blank line in a row. Use it first in almost
    every recipe; it changes no meaning and makes later dedup and filters more reliable."""
    Params = NormalizeParams
    writes = ("text",)

    def apply(self, batch: Batch) -> None:
        p = self.params
        form = None if p.unicode_form == "none" else p.unicode_form
        batch.set_texts([normalize(t, form, p.whitespace, p.strip_invisible) for t in batch.texts()])


# ==========================================================================================================
# Unicode repair
# ==========================================================================================================
class FixUnicodeParams(OpParams):
    fix_mojibake: bool = Field(True, description="undo UTF-8 decoded as Latin-1/Windows-1252 (Ã© -> é)")
    unescape_html: bool = Field(True, description="turn leftover HTML entities (&amp;) into characters")
    remove_control_chars: bool = Field(True, description="drop control characters other than newline and tab")
    fix_latin_ligatures: bool = Field(True, description="ﬁ -> fi")
    uncurl_quotes: bool = Field(False, description="turn curly quotes into straight ones")
    normalization: Literal["NFC", "NFKC", "none"] = Field("NFC", description="Unicode normal form to apply")


@register
class FixUnicode(Operator):
    """Repair broken Unicode with ftfy (Speer, "ftfy", 2019): mojibake, HTML entities, control characters.

    Text scraped from the web is often decoded with the wrong codec ("cafÃ©"); ftfy detects and undoes it.
    Script-independent; code is left alone except for control characters and (optionally) quotes.
    """

    name = "fix_unicode"
    family = "clean"
    description = """Repair broken Unicode with ftfy: undo mojibake (UTF-8 read as Latin-1, 'cafÃ©' -> 'café'),
    decode leftover HTML entities, remove control characters, expand ligatures, normalise to NFC. Use first
    on web crawls and scraped text; cheap and safe on clean text."""
    Params = FixUnicodeParams
    writes = ("text",)
    cost = "moderate"
    references = ("https://github.com/rspeer/python-ftfy",)

    def apply(self, batch: Batch) -> None:
        try:
            import ftfy
        except ImportError:  # pragma: no cover - ftfy is a core dependency
            raise UsageError("fix_unicode needs ftfy (pip install ftfy)") from None
        p = self.params
        cfg = ftfy.TextFixerConfig(
            unescape_html=p.unescape_html, fix_encoding=p.fix_mojibake, remove_control_chars=p.remove_control_chars,
            fix_latin_ligatures=p.fix_latin_ligatures, uncurl_quotes=p.uncurl_quotes,
            normalization=None if p.normalization == "none" else p.normalization, explain=False)
        batch.set_texts([ftfy.fix_text(t, config=cfg) if t else t for t in batch.texts()])


# ==========================================================================================================
# Punctuation normalisation
# ==========================================================================================================
_PUNCT_MAP = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u3000": " ",
})
_REPEATED_PUNCT = re.compile(r"([!?.,;:])\1{3,}")


class NormalizePunctuationParams(OpParams):
    ascii_quotes_dashes: bool = Field(True, description="curly quotes, guillemets, dashes, ellipsis char -> ASCII")
    collapse_repeats: bool = Field(True, description="runs of 4+ identical marks ('!!!!!') -> three")


@register
class NormalizePunctuation(Operator):
    """Fold typographic punctuation to ASCII and shorten runs of repeated marks.

    Mirrors the punctuation normalisation of CCNet/KenLM preprocessing so that dedup hashes and n-gram
    models see one form of each mark. Full-width CJK punctuation (。，「」) is left as it is, on purpose: it is
    the normal form there. Code: quotes inside string literals are rewritten too; skip code if that matters.
    """

    name = "normalize_punctuation"
    family = "clean"
    description = """Normalise punctuation: curly quotes and guillemets to straight quotes, en/em dashes and minus
    to '-', '…' to '...', non-breaking and thin spaces to spaces, and runs of 4+ repeated marks ('!!!!!!')
    to three. Use before dedup and n-gram models so variants of the same text match; leaves CJK
    punctuation alone."""
    Params = NormalizePunctuationParams
    writes = ("text",)
    references = ("https://arxiv.org/abs/1911.00359",)

    def apply(self, batch: Batch) -> None:
        p = self.params
        out = batch.texts()
        if p.ascii_quotes_dashes:
            out = [t.translate(_PUNCT_MAP) for t in out]
        if p.collapse_repeats:
            out = [_REPEATED_PUNCT.sub(r"\1\1\1", t) for t in out]
        batch.set_texts(out)


# ==========================================================================================================
# HTML to text
# ==========================================================================================================
_BLOCK_TAGS = ("p, div, h1, h2, h3, h4, h5, h6, li, br, tr, table, ul, ol, section, article, blockquote, pre, "
               "dt, dd, header, footer, main, aside, figure, figcaption, form, hr, title")
_DROP_TAGS = "script, style, noscript, template, svg, iframe, head, nav"
_BLANKS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")


class HtmlToTextParams(OpParams):
    drop_navigation: bool = Field(True, description="drop <nav>, <header> and <footer> blocks (menus, site chrome)")
    keep_title: bool = Field(False, description="keep the <title> as the first line")


def html_to_text(html: str, drop_navigation: bool = True, keep_title: bool = False) -> str:
    """Visible text of an HTML page with block elements on their own lines (selectolax / lexbor parser)."""
    try:
        from selectolax.lexbor import LexborHTMLParser
    except ImportError:
        raise UsageError("html_to_text needs selectolax: pip install 'gristmill[html]'") from None
    tree = LexborHTMLParser(html)
    title = ""
    if keep_title:
        node = tree.css_first("title")
        title = node.text(strip=True) if node is not None else ""
    drop = _DROP_TAGS + (", header, footer" if drop_navigation else "")
    for node in tree.css(drop):
        node.decompose()
    for node in tree.css(_BLOCK_TAGS):
        node.insert_before("\n")
        node.insert_after("\n")
    for node in tree.css("td, th"):
        node.insert_after("\t")
    root = tree.body if tree.body is not None else tree.root
    text = root.text(separator="") if root is not None else ""
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    text = _BLANKS.sub("\n\n", text).strip()
    return f"{title}\n\n{text}".strip() if title else text


@register
class HtmlToText(Operator):
    """Extract visible text from HTML with the lexbor parser (selectolax), one block element per line.

    Scripts, styles, templates and (by default) navigation, header and footer blocks are dropped; table
    cells are tab-separated. Language-independent. For main-content extraction with boilerplate scoring,
    run C4/FineWeb line rules afterwards.
    """

    name = "html_to_text"
    needs = (("selectolax", "html"),)
    family = "clean"
    description = """Turn HTML documents into plain text: drop scripts, styles, navigation, header and footer;
    put paragraphs, headings, list items and table rows on their own lines; collapse whitespace. Use on web
    crawls and scraped pages before any quality filter. Needs the 'html' extra (selectolax)."""
    Params = HtmlToTextParams
    writes = ("text",)
    cost = "moderate"
    references = ("https://github.com/rushter/selectolax",)

    def apply(self, batch: Batch) -> None:
        p = self.params
        batch.set_texts([html_to_text(t, p.drop_navigation, p.keep_title) if t else t for t in batch.texts()])


# ==========================================================================================================
# C4 line filter
# ==========================================================================================================
class C4LineFilterParams(OpParams):
    remove_citations: bool = Field(True, description="strip Wikipedia-style citations ([1], [edit])")
    filter_no_terminal_punct: bool = Field(True, description="remove lines not ending in . ? ! \" or ' (or ending in ...)")
    min_words_per_line: int = Field(3, ge=-1, description="remove lines with fewer words (-1: off)")
    max_word_length: int = Field(1000, ge=-1, description="remove lines with a longer word (-1: off)")
    filter_javascript: bool = Field(True, description="remove lines mentioning javascript")
    filter_policy: bool = Field(True, description="remove cookie / terms-of-use / privacy-policy lines")
    filter_lorem_ipsum: bool = Field(True, description="remove lines containing 'lorem ipsum'")


@register
class C4LineFilter(Operator):
    """C4's line-level cleaning (Raffel et al. 2020, section 2.2): delete the lines C4 would not keep.

    Removes lines with a word over 1000 characters, without terminal punctuation, with fewer than 3 words,
    mentioning javascript, with cookie / terms of use / privacy policy phrases, or (here, as a line rule)
    containing 'lorem ipsum'; strips citation marks. Signals count the lines removed per rule. The page-level
    decision is ``c4_quality``. Languages without spaces: a CJK line counts as one word, so set
    ``min_words_per_line`` to 1 (or -1) there; '。' does not count as terminal punctuation (C4's list). Code:
    most lines go; do not run on code.
    """

    name = "c4_line_filter"
    family = "clean"
    description = """Delete C4-style junk lines (Raffel et al. 2020): lines without terminal punctuation, with
    fewer than 3 words, mentioning javascript, cookie/privacy/terms-of-use notices, lorem ipsum, or absurdly
    long words; strip [1]-style citations. Reports how many lines each rule removed. Use on English web text
    after html_to_text; pair with c4_quality for the page-level decision."""
    Params = C4LineFilterParams
    writes = ("text",)
    signals = (
        Signal("lines_before", "int", "lines before cleaning"),
        Signal("lines_removed", "int", "lines removed in total"),
        Signal("removed_no_terminal_punct", "int", "lines removed for lacking terminal punctuation"),
        Signal("removed_too_few_words", "int", "lines removed for having too few words"),
        Signal("removed_javascript", "int", "lines removed for mentioning javascript"),
        Signal("removed_policy", "int", "lines removed as cookie/policy notices"),
        Signal("removed_too_long_word", "int", "lines removed for an over-long word"),
        Signal("removed_lorem_ipsum", "int", "lines removed for lorem ipsum"),
    )
    references = ("https://jmlr.org/papers/v21/20-074.html",)

    def apply(self, batch: Batch) -> dict[str, Any]:
        from gristmill.ops.quality import c4_line_scan

        p = self.params
        n = batch.num_rows
        out = {s.name: np.zeros(n, np.int64) for s in self.signals}
        texts = []
        for i, lines in enumerate(batch.view("splitlines")):
            st = c4_line_scan(lines, p, count_sentences_=False)
            kept = st.kept
            if p.filter_lorem_ipsum:
                kept = [ln for ln in kept if "lorem ipsum" not in ln.lower()]
                out["removed_lorem_ipsum"][i] = len(st.kept) - len(kept)
            for k, v in st.removed.items():
                out[f"removed_{k}"][i] = v
            out["lines_before"][i] = len(lines)
            out["lines_removed"][i] = len(lines) - len(kept)
            texts.append("\n".join(kept).strip())
        batch.set_texts(texts)
        return out


# ==========================================================================================================
# Repeated lines within a document
# ==========================================================================================================
class DedupLinesParams(OpParams):
    min_line_chars: int = Field(1, ge=0, description="only lines at least this long (after strip) are deduplicated")
    ignore_case: bool = Field(False, description="compare lines case-insensitively")


@register
class DedupLines(Operator):
    """Remove repeated lines inside a document, keeping the first occurrence (order preserved).

    Catches repeated navigation, share buttons and crawl artefacts that Gopher's repetition rules would
    otherwise drop the whole page for. Blank lines are kept (paragraph structure). Script-independent.
    Code: repeated lines such as ``}`` are meaningful; raise ``min_line_chars`` or skip code.
    """

    name = "dedup_lines"
    family = "clean"
    description = """Delete lines that repeat an earlier line of the same document (keeping the first), e.g.
    repeated menus, 'Share this' buttons, headers printed twice. Blank lines are kept. Reports lines removed.
    Use before Gopher repetition to rescue pages that are good apart from repeated chrome. Not for code."""
    Params = DedupLinesParams
    writes = ("text",)
    signals = (Signal("lines_removed", "int", "repeated lines removed"),)

    def apply(self, batch: Batch) -> dict[str, Any]:
        p = self.params
        removed = np.zeros(batch.num_rows, np.int64)
        texts = []
        for i, lines in enumerate(batch.view("lines")):
            seen: set[str] = set()
            kept = []
            for ln in lines:
                key = ln.strip()
                if len(key) < max(p.min_line_chars, 1):
                    kept.append(ln)
                    continue
                if p.ignore_case:
                    key = key.lower()
                if key in seen:
                    removed[i] += 1
                    continue
                seen.add(key)
                kept.append(ln)
            texts.append("\n".join(kept))
        batch.set_texts(texts)
        return {"lines_removed": removed}


# ==========================================================================================================
# URL and e-mail stripping
# ==========================================================================================================
# no \b before the scheme: after a Han or kana character ("访问http://...") there is no word boundary; a URL
# ends at whitespace, quotes, brackets and the full-width punctuation of CJK text ("...server-info，来访问")
_CJK_PUNCT = "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
_URL_RE = re.compile(rf"(?<![a-z0-9])(?:https?://|ftp://|www\.)[^\s<>\"'(){_CJK_PUNCT}]+[^\s<>\"'().,;:!?{_CJK_PUNCT}]",
                     re.IGNORECASE)
_EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")


class StripUrlsEmailsParams(OpParams):
    urls: bool = Field(True, description="remove http(s)/ftp/www URLs")
    emails: bool = Field(True, description="remove e-mail addresses")
    replacement: str = Field("", description="text put where a URL or address was (e.g. '<URL>'); default: nothing")


@register
class StripUrlsEmails(Operator):
    """Remove (or replace) URLs and e-mail addresses from the text; counts are signals.

    For typed PII redaction with placeholders use the PII operators; this is the light cleaning step.
    Script-independent. Code: also strips URLs in comments and strings.
    """

    name = "strip_urls_emails"
    version = "2"  # 2: URLs right after CJK text, ending at full-width punctuation
    family = "clean"
    description = """Remove URLs (http, https, ftp, www.) and e-mail addresses from text, or replace them with a
    fixed string; reports how many were found. Use to cut link spam and contact details from web text
    before training; for typed PII redaction use the PII operators."""
    Params = StripUrlsEmailsParams
    writes = ("text",)
    signals = (Signal("urls", "int", "URLs found"), Signal("emails", "int", "e-mail addresses found"))

    def apply(self, batch: Batch) -> dict[str, Any]:
        p = self.params
        n = batch.num_rows
        urls = np.zeros(n, np.int64)
        emails = np.zeros(n, np.int64)
        out = []
        for i, t in enumerate(batch.texts()):
            if p.emails and "@" in t:
                t, emails[i] = _EMAIL_RE.subn(p.replacement, t)
            if p.urls:
                t, urls[i] = _URL_RE.subn(p.replacement, t)
            out.append(t)
        batch.set_texts(out)
        return {"urls": urls, "emails": emails}
