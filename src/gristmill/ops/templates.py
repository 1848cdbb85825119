"""Template operators the built-in planner instantiates when no library operator fits a requirement.

Keyword, regex and chat-format conditions are common asks ("drop documents that mention 'lorem'", "only
multi-turn conversations") that no quality heuristic covers. Each template measures a signal and declares a
default keep rule, like every operator, so a threshold can be changed without recomputing and the recipe
stays data. They register in the operator registry on import; `gristmill run` finds them through
:func:`gristmill.ops.plugins.load_operator_plugins`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import Field, field_validator

from gristmill.batch import Batch
from gristmill.io.chat import render as render_chat
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register

# -- chat parsing ----------------------------------------------------------------------------------------
_ROLE_ALIASES = {
    "user": "user", "human": "user", "question": "user", "instruction": "user", "prompt": "user", "q": "user",
    "assistant": "assistant", "gpt": "assistant", "bot": "assistant", "ai": "assistant", "answer": "assistant",
    "response": "assistant", "a": "assistant", "model": "assistant",
    "system": "system",
}
# "User: ...", "### Human: ...", "<|user|>", "[INST]"-free common renderings; role word at line start
_TURN = re.compile(
    r"^(?:#{1,4}\s*|<\|)?(user|human|question|instruction|prompt|assistant|gpt|bot|ai|answer|response|system|model|q|a)"
    r"(?:\|>|\s*:|\s*\n)",
    re.IGNORECASE | re.MULTILINE,
)


def parse_chat(text: str) -> list[dict[str, str]] | None:
    """Split a rendered conversation into ``[{role, content}]``; None when the text is not a conversation.

    A conversation has at least one user turn and one assistant turn, the first turn at the start of the
    text (after an optional system turn). Roles are normalised to user / assistant / system.
    """
    if not text:
        return None
    marks = list(_TURN.finditer(text))
    if len(marks) < 2 or text[: marks[0].start()].strip():
        return None
    turns = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        role = _ROLE_ALIASES[m.group(1).lower()]
        turns.append({"role": role, "content": text[m.end() : end].strip()})
    roles = {t["role"] for t in turns}
    if "user" not in roles or "assistant" not in roles:
        return None
    return turns


def chat_stats(turns: list[dict[str, str]] | None) -> tuple[int, bool, int]:
    """(number of user+assistant turns, roles alternate starting with user, empty turns)."""
    if not turns:
        return 0, False, 0
    body = [t for t in turns if t["role"] != "system"]
    alternate = bool(body) and body[0]["role"] == "user" and all(
        body[i]["role"] != body[i - 1]["role"] for i in range(1, len(body))
    )
    empty = sum(1 for t in body if not t["content"])
    return len(body), alternate, empty


def _messages_of(value: Any) -> list[dict[str, str]] | None:
    if isinstance(value, list) and value and all(isinstance(m, dict) for m in value):
        out = []
        for m in value:
            role = _ROLE_ALIASES.get(str(m.get("role", m.get("from", ""))).lower())
            content = m.get("content", m.get("value"))
            if role is None or not isinstance(content, str):
                return None
            out.append({"role": role, "content": content.strip()})
        return out
    return None


class ChatFormatParams(OpParams):
    min_turns: int = Field(2, ge=1, le=1000, description="keep conversations with at least this many user+assistant turns")
    require_alternating: bool = Field(True, description="roles must alternate, starting with the user")
    drop_empty_turns: bool = Field(True, description="drop conversations with an empty turn")
    drop_non_chat: bool = Field(True, description="drop documents that are not conversations")
    normalize: bool = Field(True, description="rewrite text as 'User: ...\\n\\nAssistant: ...' (the chat input rendering) and write a `messages` column")


@register
class ChatFormat(Operator):
    name = "chat_format"
    family = "sft"
    description = """Recognise chat / SFT conversations (a `messages` list field, or text rendered as
    'User: / Assistant:', '### Human: / ### Assistant:', '<|user|>' turns), normalise them to one format
    (a `messages` column of role/content pairs and a canonical 'User: ... Assistant: ...' text) and measure
    turns, role alternation and empty turns. Use it to prepare instruction-tuning data, to keep only
    multi-turn or well-formed conversations, or to drop non-chat documents from a chat set."""
    Params = ChatFormatParams
    reads = ("text",)
    writes = ("text", "messages")
    signals = (
        Signal("is_chat", "int", "1 when the document is a conversation"),
        Signal("turns", "int", "number of user and assistant turns"),
        Signal("alternating", "int", "1 when roles alternate starting with the user"),
        Signal("empty_turns", "int", "number of turns without content"),
    )

    def rules(self) -> dict[str, str]:
        p: ChatFormatParams = self.params  # type: ignore[assignment]
        rules: dict[str, str] = {}
        if p.drop_non_chat:
            rules["not_chat"] = f"{self.signal_column('is_chat')} == 1"
        rules["too_few_turns"] = f"{self.signal_column('turns')} >= {p.min_turns}"
        if p.require_alternating:
            rules["roles_not_alternating"] = f"{self.signal_column('alternating')} == 1"
        if p.drop_empty_turns:
            rules["empty_turn"] = f"{self.signal_column('empty_turns')} == 0"
        return rules

    def apply(self, batch: Batch) -> dict[str, np.ndarray]:
        p: ChatFormatParams = self.params  # type: ignore[assignment]
        texts = batch.texts()
        given = batch.column("messages").to_pylist() if "messages" in batch.column_names else [None] * len(texts)
        n = len(texts)
        is_chat, turns, alt, empty = (np.zeros(n, np.int64) for _ in range(4))
        new_texts, messages = list(texts), []
        for i, text in enumerate(texts):
            conv = _messages_of(given[i]) or parse_chat(text or "")
            t, a, e = chat_stats(conv)
            is_chat[i], turns[i], alt[i], empty[i] = int(conv is not None), t, int(a), e
            messages.append(conv or [])
            if conv and p.normalize:
                new_texts[i] = render_chat(conv)  # the same rendering as chat input (input.chat: true)
        if p.normalize:
            batch.set_texts(new_texts)
            typ = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
            batch.set_column("messages", pa.array(messages, typ))
        return {"is_chat": is_chat, "turns": turns, "alternating": alt, "empty_turns": empty}


class KeywordParams(OpParams):
    keywords: list[str] = Field(..., min_length=1, description="words or phrases to look for")
    mode: Literal["include", "exclude"] = Field(
        "exclude", description="include: keep documents that contain one; exclude: drop documents that contain one"
    )
    case_sensitive: bool = False
    whole_word: bool = Field(True, description="match whole words only (phrase boundaries are word boundaries)")

    @field_validator("keywords")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        if any(not k.strip() for k in v):
            raise ValueError("keywords must not be empty strings")
        return v


@register
class KeywordFilter(Operator):
    name = "keyword_filter"
    family = "select"
    description = """Count occurrences of given keywords or phrases in each document (case-insensitive, whole
    words by default) and keep documents that contain one (include) or that contain none (exclude). Use it
    to select documents about a topic or mentioning a term, or to drop documents that mention unwanted
    words, brands, names or markers."""
    Params = KeywordParams
    signals = (Signal("matches", "int", "number of keyword occurrences"),)

    def _pattern(self) -> re.Pattern[str]:
        p: KeywordParams = self.params  # type: ignore[assignment]
        alts = "|".join(re.escape(k.strip()) for k in sorted(p.keywords, key=len, reverse=True))
        body = rf"(?<!\w)(?:{alts})(?!\w)" if p.whole_word else f"(?:{alts})"
        return re.compile(body, 0 if p.case_sensitive else re.IGNORECASE)

    def rules(self) -> dict[str, str]:
        col = self.signal_column("matches")
        if self.params.mode == "include":  # type: ignore[attr-defined]
            return {"keyword_missing": f"{col} > 0"}
        return {"keyword_found": f"{col} == 0"}

    def apply(self, batch: Batch) -> dict[str, np.ndarray]:
        pat = self._pattern()
        texts = batch.texts()
        return {"matches": np.fromiter((len(pat.findall(t or "")) for t in texts), np.int64, len(texts))}


class RegexParams(OpParams):
    pattern: str = Field(..., min_length=1, description="a Python regular expression")
    mode: Literal["include", "exclude"] = Field("exclude", description="include: keep matching documents; exclude: drop them")
    ignore_case: bool = False
    field: str | None = Field(None, description="match this input field instead of the text")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
        return v


@register
class RegexFilter(Operator):
    name = "regex_filter"
    family = "select"
    description = """Count matches of a regular expression in each document's text (or in a given field) and
    keep documents that match (include) or that do not match (exclude). Use it for patterns that keywords
    cannot express: URLs, e-mail-like strings, markup, IDs, code constructs, lines with a given prefix."""
    Params = RegexParams
    signals = (Signal("matches", "int", "number of matches"),)

    def rules(self) -> dict[str, str]:
        col = self.signal_column("matches")
        if self.params.mode == "include":  # type: ignore[attr-defined]
            return {"pattern_missing": f"{col} > 0"}
        return {"pattern_found": f"{col} == 0"}

    def apply(self, batch: Batch) -> dict[str, np.ndarray]:
        p: RegexParams = self.params  # type: ignore[assignment]
        pat = re.compile(p.pattern, re.IGNORECASE if p.ignore_case else 0)
        values = batch.column(p.field).to_pylist() if p.field else batch.texts()
        return {"matches": np.fromiter((len(pat.findall(str(v or ""))) for v in values), np.int64, len(values))}




class FieldParams(OpParams):
    field: str = Field(..., min_length=1, description="input field to test (e.g. domain, source, license)")
    values: list[str] = Field(..., min_length=1, description="values to match (exact, case-insensitive)")
    mode: Literal["include", "exclude"] = Field("include", description="include: keep matching rows; exclude: drop them")


@register
class FieldFilter(Operator):
    name = "field_filter"
    family = "select"
    description = """Keep or drop documents by the value of an input field: select domains, sources,
    licences or any categorical metadata (include), or exclude them. Matching is exact and
    case-insensitive; rows without the field count as not matching."""
    Params = FieldParams
    reads = ()
    signals = (Signal("match", "int", "1 when the field's value is one of the listed values"),)

    def rules(self) -> dict[str, str]:
        col = self.signal_column("match")
        if self.params.mode == "include":  # type: ignore[attr-defined]
            return {"field_not_selected": f"{col} == 1"}
        return {"field_excluded": f"{col} == 0"}

    def apply(self, batch: Batch) -> dict[str, np.ndarray]:
        p: FieldParams = self.params  # type: ignore[assignment]
        wanted = {v.lower() for v in p.values}
        vals = batch.column(p.field).to_pylist() if p.field in batch.column_names else [None] * batch.num_rows
        return {"match": np.fromiter((int(v is not None and str(v).lower() in wanted) for v in vals), np.int64, len(vals))}


TEMPLATE_OPS = ("chat_format", "keyword_filter", "regex_filter", "field_filter")
