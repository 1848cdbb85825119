"""Chat and instruction records (SFT data) into one canonical conversation, or a precise reason why not.

Three input shapes are recognised, tried in this order (the first field present and not null wins):

* **OpenAI messages**: ``messages``: a list of ``{"role": ..., "content": ...}``; roles ``system``,
  ``user``, ``assistant`` (``developer`` is read as ``system``). ``content`` may also be a list of
  ``{"type": "text", "text": ...}`` parts, joined with a newline; any other part type is rejected.
* **ShareGPT**: ``conversations``: a list of ``{"from": ..., "value": ...}``; ``from`` is ``human``/``user``,
  ``gpt``/``assistant``/``chatgpt``/``bard``/``bing``/``model``, or ``system``.
* **Alpaca**: ``instruction`` and ``output`` strings, optional ``input`` (appended to the instruction after a
  blank line when not empty) and optional ``system``.

The canonical form is a list of ``{"role", "content"}`` with roles ``system``/``user``/``assistant``, stored
as the Arrow column ``messages`` (:data:`MESSAGES_TYPE`). A record is valid when every turn has a known role
and non-empty string content, and it holds at least one user turn and one assistant turn. Order (alternation,
who speaks last) is not a validity matter: the ``chat_turns`` operator measures it and its rules decide.

The rendering (:func:`render`) is plain text, turns separated by a blank line, each prefixed with its role::

    System: You are terse.

    User: What is 2+2?

    Assistant: 4.

It goes into the recipe's text field so that every text operator (length, PII, dedup, quality) still works.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

MESSAGES_TYPE = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
ROLES = ("system", "user", "assistant")
PREFIX = {"system": "System", "user": "User", "assistant": "Assistant"}

_OPENAI_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
_SHAREGPT_ROLES = {
    "system": "system",
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
}


class ChatError(ValueError):
    """Why a record is not a usable conversation; the message starts with ``chat record``."""


def _err(msg: str) -> ChatError:
    return ChatError(f"chat record: {msg}")


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _content(value: Any, where: str) -> str:
    if isinstance(value, list):  # OpenAI content parts
        texts = []
        for j, part in enumerate(value, 1):
            if not isinstance(part, Mapping) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                kind = part.get("type") if isinstance(part, Mapping) else _kind(part)
                raise _err(f"{where} content part {j} is {kind!r}; only text parts are supported")
            texts.append(part["text"])
        value = "\n".join(texts)
    if not isinstance(value, str):
        raise _err(f"{where} content is {_kind(value)} (expected a string)")
    if not value.strip():
        raise _err(f"{where} has empty content")
    return value


def _turns(obj: Mapping, field: str, keys: tuple[str, str], roles: dict[str, str], fmt: str) -> list[dict]:
    turns = obj[field]
    if not isinstance(turns, list):
        raise _err(f"{field!r} is {_kind(turns)} (expected a list of turns)")
    if not turns:
        raise _err(f"{field!r} is an empty list")
    rk, ck = keys
    allowed = ", ".join(roles)
    out = []
    for i, turn in enumerate(turns, 1):
        if not isinstance(turn, Mapping):
            raise _err(f"turn {i} is {_kind(turn)} (expected an object with {rk!r} and {ck!r})")
        if rk not in turn:
            raise _err(f"turn {i} has no {rk!r} field (its fields: {', '.join(map(str, turn)) or 'none'})")
        raw_role = turn[rk]
        role = roles.get(raw_role.strip().lower()) if isinstance(raw_role, str) else None
        if role is None:
            raise _err(f"turn {i} has unknown role {raw_role!r} for {fmt} (allowed: {allowed})")
        if ck not in turn:
            raise _err(f"turn {i} ({role}) has no {ck!r} field")
        out.append({"role": role, "content": _content(turn[ck], f"turn {i} ({role})")})
    return out


def _alpaca(obj: Mapping) -> list[dict]:
    for key in ("instruction", "output"):
        if obj.get(key) is None:
            raise _err(f"Alpaca record has no {key!r}")
    extra = obj.get("input")
    if extra is not None and not isinstance(extra, str):
        raise _err(f"Alpaca 'input' is {_kind(extra)} (expected a string)")
    out = []
    if obj.get("system") is not None:
        out.append({"role": "system", "content": _content(obj["system"], "turn 1 (system, from 'system')")})
    prompt = _content(obj["instruction"], f"turn {len(out) + 1} (user, from 'instruction')")
    if extra and extra.strip():
        prompt = f"{prompt}\n\n{extra}"
    out.append({"role": "user", "content": prompt})
    out.append({"role": "assistant", "content": _content(obj["output"], f"turn {len(out) + 1} (assistant, from 'output')")})
    return out


def normalise(obj: Mapping) -> tuple[list[dict], str]:
    """The canonical messages of one record and its format (``openai``, ``sharegpt``, ``alpaca``).

    Raises :class:`ChatError` with a precise reason when the record is not a usable conversation.
    """
    if obj.get("messages") is not None:
        msgs, fmt = _turns(obj, "messages", ("role", "content"), _OPENAI_ROLES, "OpenAI messages"), "openai"
    elif obj.get("conversations") is not None:
        msgs, fmt = _turns(obj, "conversations", ("from", "value"), _SHAREGPT_ROLES, "ShareGPT"), "sharegpt"
    elif obj.get("instruction") is not None or obj.get("output") is not None:
        msgs, fmt = _alpaca(obj), "alpaca"
    else:
        fields = ", ".join(map(str, obj)) or "none"
        raise _err(f"no 'messages', 'conversations' or 'instruction'+'output' field (its fields: {fields})")
    roles = [m["role"] for m in msgs]
    if "assistant" not in roles:
        raise _err(f"no assistant turn (roles: {', '.join(roles)})")
    if "user" not in roles:
        raise _err(f"no user turn (roles: {', '.join(roles)})")
    return msgs, fmt


def render(messages: list[dict]) -> str:
    """Plain rendering: ``Role: content`` per turn, turns separated by a blank line."""
    return "\n\n".join(f"{PREFIX[m['role']]}: {m['content']}" for m in messages)


def chat_fields(obj: dict, text_field: str) -> None:
    """Add the canonical ``messages``, ``chat_format`` and the rendered text to ``obj`` in place.

    An input field already named like the text field is kept as ``<text_field>_original``.
    Raises :class:`ChatError`.
    """
    msgs, fmt = normalise(obj)
    if text_field in obj:
        obj[f"{text_field}_original"] = obj[text_field]
    obj["messages"] = msgs
    obj["chat_format"] = fmt
    obj[text_field] = render(msgs)
