"""Cleaning operators: rewrite the text, measure nothing."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from gristmill.batch import Batch
from gristmill.ops.base import Operator, OpParams
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
