"""SFT and chat operators: turn structure, refusals, prompt dedup and per-turn language.

They read the canonical ``messages`` column that ``input.chat: true`` produces (see
:mod:`gristmill.io.chat`): a list of ``{role, content}`` with roles system/user/assistant. On data without
that column (plain documents), each document is read as a single user turn holding its whole text, so the
operators still run (and a conversation rule such as "needs an assistant turn" then drops it, by name).

Words are whitespace-separated tokens; on languages written without spaces (Chinese, Japanese) use the
character bounds instead.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import xxhash
from pydantic import Field, field_validator

from gristmill.batch import Batch, register_view
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.dedup import ExactDedup, dedup_key
from gristmill.ops.registry import register

Turns = list[tuple[str, str]]


@register_view("chat_turns")
def chat_turns_view(batch: Batch) -> list[Turns]:
    """Each document's turns as (role, content) pairs, from ``messages`` (or the text as one user turn)."""
    if "messages" not in batch.column_names:
        return [[("user", t or "")] for t in batch.texts()]
    out: list[Turns] = []
    for msgs in batch.column("messages").to_pylist():
        out.append([(m.get("role") or "", m.get("content") or "") for m in msgs or [] if m is not None])
    return out


# -- chat_turns ---------------------------------------------------------------------------------------------


class ChatTurnsParams(OpParams):
    min_turns: int = Field(2, ge=1, le=10_000, description="fewest turns (every role counted); 2 = one exchange")
    max_turns: int | None = Field(None, ge=1, le=10_000, description="most turns; null for no bound")
    require_alternation: bool = Field(
        True, description="system prompt(s) only at the start, then user and assistant strictly alternate from user"
    )
    require_assistant_last: bool = Field(True, description="the last turn must be the assistant's (a response to learn)")
    min_response_chars: int = Field(0, ge=0, description="shortest allowed assistant turn in characters (0: no bound)")
    max_response_chars: int | None = Field(
        None, ge=1, description="longest allowed assistant turn in characters; null for no bound"
    )
    min_response_words: int = Field(0, ge=0, description="shortest allowed assistant turn in words (0: no bound)")


def _alternates(roles: list[str]) -> bool:
    i = 0
    while i < len(roles) and roles[i] == "system":
        i += 1
    expected = "user"
    for r in roles[i:]:
        if r != expected:
            return False
        expected = "assistant" if r == "user" else "user"
    return True


@register
class ChatTurns(Operator):
    name = "chat_turns"
    family = "sft"
    description = """Measure the structure of each conversation (SFT data read with input.chat: true) and keep
    well-formed ones: number of turns (total, user, assistant), whether roles alternate user/assistant after an
    optional system prompt, who speaks first and last, and the shortest/mean/longest assistant response in
    characters and words. Default rules keep conversations with at least one exchange that alternate and end
    with an assistant turn; set min/max turns and response lengths to drop trivial or runaway answers (LIMA
    and Alpaca-cleaning style). Cheap."""
    Params = ChatTurnsParams
    reads = ("messages",)
    cost = "cheap"
    references = ("Zhou et al., LIMA: Less Is More for Alignment, 2023 (few, well-formed, substantial responses)",)
    signals = (
        Signal("turns", "int", "number of turns, every role counted"),
        Signal("user_turns", "int", "number of user turns"),
        Signal("assistant_turns", "int", "number of assistant turns"),
        Signal("roles_alternate", "bool", "system turns only at the start, then user/assistant alternate from user"),
        Signal("starts_with", "str", "role of the first turn after the leading system prompt(s) ('' if none)"),
        Signal("ends_with_assistant", "bool", "the last turn is the assistant's"),
        Signal("min_response_chars", "int", "characters of the shortest assistant turn (0 if none)"),
        Signal("mean_response_chars", "float", "mean characters per assistant turn (0 if none)"),
        Signal("max_response_chars", "int", "characters of the longest assistant turn (0 if none)"),
        Signal("min_response_words", "int", "words of the shortest assistant turn (0 if none)"),
        Signal("mean_response_words", "float", "mean words per assistant turn (0 if none)"),
        Signal("max_response_words", "int", "words of the longest assistant turn (0 if none)"),
    )

    def rules(self) -> dict[str, str]:
        p: ChatTurnsParams = self.params  # type: ignore[assignment]
        c = self.signal_column
        rules = {"too_few_turns": f"{c('turns')} >= {p.min_turns}"}
        if p.max_turns is not None:
            rules["too_many_turns"] = f"{c('turns')} <= {p.max_turns}"
        if p.require_alternation:
            rules["roles_not_alternating"] = f"{c('roles_alternate')} == True"
        if p.require_assistant_last:
            rules["not_ending_with_assistant"] = f"{c('ends_with_assistant')} == True"
        if p.min_response_chars > 0:
            rules["response_too_short"] = f"{c('min_response_chars')} >= {p.min_response_chars}"
        if p.max_response_chars is not None:
            rules["response_too_long"] = f"{c('max_response_chars')} <= {p.max_response_chars}"
        if p.min_response_words > 0:
            rules["response_too_few_words"] = f"{c('min_response_words')} >= {p.min_response_words}"
        return rules

    def apply(self, batch: Batch) -> dict[str, Any]:
        convs = batch.view("chat_turns")
        n = len(convs)
        ints = {k: np.zeros(n, dtype=np.int64) for k in ("turns", "user_turns", "assistant_turns", "min_response_chars",
                                                         "max_response_chars", "min_response_words", "max_response_words")}
        means = {k: np.zeros(n) for k in ("mean_response_chars", "mean_response_words")}
        alternate = np.zeros(n, dtype=bool)
        ends = np.zeros(n, dtype=bool)
        starts = [""] * n
        for i, turns in enumerate(convs):
            roles = [r for r, _ in turns]
            ints["turns"][i] = len(roles)
            ints["user_turns"][i] = roles.count("user")
            ints["assistant_turns"][i] = roles.count("assistant")
            alternate[i] = _alternates(roles)
            ends[i] = bool(roles) and roles[-1] == "assistant"
            starts[i] = next((r for r in roles if r != "system"), "")
            replies = [c for r, c in turns if r == "assistant"]
            if replies:
                chars = [len(c) for c in replies]
                words = [len(c.split()) for c in replies]
                ints["min_response_chars"][i], ints["max_response_chars"][i] = min(chars), max(chars)
                ints["min_response_words"][i], ints["max_response_words"][i] = min(words), max(words)
                means["mean_response_chars"][i] = sum(chars) / len(chars)
                means["mean_response_words"][i] = sum(words) / len(words)
        return {**ints, **means, "roles_alternate": alternate, "starts_with": starts, "ends_with_assistant": ends}


# -- refusal_filter -----------------------------------------------------------------------------------------

REFUSAL_PHRASES: tuple[str, ...] = (
    # identity disclaimers
    "as an ai language model",
    "as a language model",
    "as an ai model",
    "as an ai assistant",
    "as an artificial intelligence",
    "i am an ai language model",
    "i'm an ai language model",
    "as a responsible ai",
    "i don't have personal opinions",
    "i do not have personal opinions",
    # declining
    "i cannot assist with",
    "i can't assist with",
    "i cannot help with that",
    "i can't help with that",
    "i'm sorry, but i cannot",
    "i'm sorry, but i can't",
    "i am sorry, but i cannot",
    "i apologize, but i cannot",
    "i apologize, but i can't",
    "i'm unable to provide",
    "i am unable to provide",
    "i'm not able to provide",
    "i cannot fulfill",
    "i can't fulfill",
    "i cannot comply",
    "i can't comply",
    "i must decline",
    "i'm not programmed to",
    "it is not appropriate for me to",
    "it's not appropriate for me to",
    "goes against my programming",
    "against my guidelines",
    "violates openai's content policy",
    "openai's use case policy",
)
"""gristmill's own list (CC0) of phrases that mark a refusal or an AI-identity disclaimer, lower case, with
straight apostrophes. Matching is case-insensitive and treats curly apostrophes as straight ones."""

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_SPACES = re.compile(r"\s+")


def _fold(text: str) -> str:
    return _SPACES.sub(" ", text.translate(_APOSTROPHES).casefold())


class RefusalParams(OpParams):
    max_refusal_share: float = Field(
        0.0, ge=0.0, le=1.0, description="keep when at most this share of assistant turns are refusals (0: none)"
    )
    phrases: list[str] | None = Field(None, description="phrases replacing the bundled list (null: bundled)")
    extra_phrases: list[str] = Field(default_factory=list, description="phrases added to the list in use")
    window_chars: int = Field(
        0, ge=0, description="look only at the first N characters of each response (0: the whole response)"
    )

    @field_validator("phrases", "extra_phrases")
    @classmethod
    def _non_empty(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and any(not p.strip() for p in v):
            raise ValueError("phrases must not be empty")
        return v


@register
class RefusalFilter(Operator):
    name = "refusal_filter"
    family = "sft"
    description = """Find refusals and AI-identity disclaimers in assistant turns ("As an AI language model",
    "I cannot assist with", "I'm sorry, but I can't" ...) from a bundled phrase list (replaceable, extensible;
    case-insensitive, curly apostrophes folded). Signals: the share and count of assistant turns that refuse and
    the first phrase found. Default rule drops any conversation with a refusal, as uncensored and cleaned
    SFT sets do (Alpaca-cleaned, WizardLM unfiltered); raise max_refusal_share to tolerate some. Cheap."""
    Params = RefusalParams
    reads = ("messages",)
    languages = ("en",)
    cost = "cheap"
    references = (
        "Alpaca-cleaned (gururise/AlpacaDataCleaned) and WizardLM_evol_instruct_V2_196k_unfiltered: removal of "
        "'As an AI language model' style answers",
    )
    signals = (
        Signal("refusal_share", "float", "share of assistant turns holding a refusal phrase (0 if no assistant turn)"),
        Signal("refusal_turns", "int", "number of assistant turns holding a refusal phrase"),
        Signal("refusal_phrase", "str", "first refusal phrase found ('' if none)"),
    )

    def __init__(self, params: OpParams | None = None, step: str | None = None) -> None:
        super().__init__(params, step)
        p: RefusalParams = self.params  # type: ignore[assignment]
        phrases = [_fold(x).strip() for x in (REFUSAL_PHRASES if p.phrases is None else p.phrases)]
        phrases += [_fold(x).strip() for x in p.extra_phrases]
        phrases = sorted(set(phrases), key=lambda s: (-len(s), s))  # longest first: the reported phrase is specific
        self._pattern = re.compile("|".join(map(re.escape, phrases))) if phrases else None

    def rules(self) -> dict[str, str]:
        p: RefusalParams = self.params  # type: ignore[assignment]
        return {"refusal": f"{self.signal_column('refusal_share')} <= {p.max_refusal_share}"}

    def apply(self, batch: Batch) -> dict[str, Any]:
        p: RefusalParams = self.params  # type: ignore[assignment]
        convs = batch.view("chat_turns")
        n = len(convs)
        share, count, first = np.zeros(n), np.zeros(n, dtype=np.int64), [""] * n
        for i, turns in enumerate(convs):
            replies = [c for r, c in turns if r == "assistant"]
            if not replies or self._pattern is None:
                continue
            for c in replies:
                m = self._pattern.search(_fold(c[: p.window_chars] if p.window_chars else c))
                if m:
                    count[i] += 1
                    first[i] = first[i] or m.group(0)
            share[i] = count[i] / len(replies)
        return {"refusal_share": share, "refusal_turns": count, "refusal_phrase": first}


# -- prompt_dedup -------------------------------------------------------------------------------------------


class PromptDedupParams(OpParams):
    scope: Literal["first_user", "user_turns", "prompt"] = Field(
        "first_user",
        description="what must be identical: the first user turn; every user turn; or the whole prompt side "
        "(system and user turns)",
    )
    lowercase: bool = Field(True, description="compare case-folded prompts")
    collapse_whitespace: bool = Field(True, description="compare with runs of whitespace collapsed")
    strip_punctuation: bool = Field(False, description="compare without punctuation")


@register
class PromptDedup(ExactDedup):
    name = "prompt_dedup"
    family = "sft"
    description = """Remove conversations whose prompt was already seen, keeping the first in input order: SFT
    sets repeat the same instruction with different answers, which over-weights it. The key is the first user
    turn (default), every user turn, or the whole prompt side (system + user turns), after Unicode NFC, case
    folding and whitespace collapsing. Exact match on a 128-bit hash; for paraphrased prompts use
    minhash_dedup on the text. Global: sees the whole dataset."""
    Params = PromptDedupParams
    reads = ("messages",)
    drop_rule = "duplicate_prompt"
    references = ("Zhou et al., LIMA, 2023 and Taori et al., Alpaca, 2023: prompt-level deduplication of SFT data",)

    def prompt(self, turns: Turns) -> str:
        scope = self.params.scope  # type: ignore[attr-defined]
        if scope == "first_user":
            return next((c for r, c in turns if r == "user"), "")
        roles = ("user",) if scope == "user_turns" else ("system", "user")
        return "\x1e".join(f"{r}\x1f{c}" for r, c in turns if r in roles)

    def signature(self, batch: Batch) -> pa.Array:
        p: PromptDedupParams = self.params  # type: ignore[assignment]
        digests = b"".join(
            xxhash.xxh3_128_digest(
                dedup_key(self.prompt(t), p.lowercase, p.collapse_whitespace, p.strip_punctuation).encode()
            )
            for t in batch.view("chat_turns")
        )
        return pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), batch.num_rows, [None, pa.py_buffer(digests)])


# -- turn_language ------------------------------------------------------------------------------------------


class TurnLanguageParams(OpParams):
    languages: list[str] = Field(
        default_factory=list,
        description="keep only conversations in these ISO 639-1 codes (the first user turn's language, else the "
        "assistant's)",
    )
    require_agreement: bool = Field(True, description="drop conversations whose assistant answers in another language")
    min_chars: int = Field(
        20, ge=0, le=10_000, description="turns shorter than this are 'unknown' (too short to identify reliably)"
    )

    @field_validator("languages")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not re.fullmatch(r"[a-z]{2,3}", c)]
        if bad:
            raise ValueError(f"language codes must be ISO 639-1 lower case such as 'en', got {bad}")
        return v


UNKNOWN = "unknown"


@register
class TurnLanguage(Operator):
    name = "turn_language"
    family = "sft"
    description = """Identify the language of every user and assistant turn (CLD2, fast, ~80 languages; turns
    under min_chars are 'unknown'). Signals: the language of the first user turn, the language of the assistant
    turns taken together, whether they agree (an unknown side counts as agreeing), and the per-turn codes.
    Rules: keep conversations whose language (the prompt's, else the answer's when the prompt is too short to
    tell) is in `languages` and whose assistant answers in the prompt's
    language (catches translation pairs and answers in the wrong language). Needs the `lang` extra."""
    Params = TurnLanguageParams
    reads = ("messages",)
    cost = "moderate"
    references = ("CLD2: github.com/CLD2Owners/cld2",)
    signals = (
        Signal("user_language", "str", "ISO 639-1 code of the first user turn ('unknown' if not identified)"),
        Signal("assistant_language", "str", "code of all assistant turns taken together ('unknown' if none)"),
        Signal("language", "str", "the conversation's language: the first user turn's, else the assistant's"),
        Signal("languages_agree", "bool", "user and assistant languages are equal, or either is unknown"),
        Signal("turn_languages", "str", "comma-separated code of each non-system turn, in order"),
        Signal("mixed_turns", "bool", "the identified non-system turns are not all in one language"),
    )

    def __init__(self, params: OpParams | None = None, step: str | None = None) -> None:
        super().__init__(params, step)
        self._detect: Any = None

    def setup(self) -> None:
        if self._detect is not None:
            return
        from gristmill.ops.lang import _BACKENDS, _LOCK, _Cld2

        with _LOCK:
            backend = _BACKENDS.get(("cld2", (), False))
            if backend is None:
                backend = _BACKENDS[("cld2", (), False)] = _Cld2()  # raises a UsageError naming the extra
        self._detect = backend

    def language(self, text: str) -> str:
        self.setup()
        text = unicodedata.normalize("NFC", text)[:20_000]
        if len(text.strip()) < self.params.min_chars:  # type: ignore[attr-defined]
            return UNKNOWN
        ranked = self._detect(text)
        return ranked[0][0] if ranked else UNKNOWN

    def rules(self) -> dict[str, str]:
        p: TurnLanguageParams = self.params  # type: ignore[assignment]
        rules = {}
        if p.languages:
            rules["wrong_language"] = f"{self.signal_column('language')} in {p.languages!r}"
        if p.require_agreement:
            rules["languages_disagree"] = f"{self.signal_column('languages_agree')} == True"
        return rules

    def apply(self, batch: Batch) -> dict[str, Any]:
        convs = batch.view("chat_turns")
        n = len(convs)
        user, asst, lang, per = [UNKNOWN] * n, [UNKNOWN] * n, [UNKNOWN] * n, [""] * n
        agree, mixed = np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
        for i, turns in enumerate(convs):
            codes = [(r, self.language(c)) for r, c in turns if r != "system"]
            per[i] = ",".join(code for _, code in codes)
            user[i] = next((code for r, code in codes if r == "user"), UNKNOWN)
            replies = "\n\n".join(c for r, c in turns if r == "assistant")
            asst[i] = self.language(replies) if replies else UNKNOWN
            lang[i] = user[i] if user[i] != UNKNOWN else asst[i]
            agree[i] = UNKNOWN in (user[i], asst[i]) or user[i] == asst[i]
            mixed[i] = len({code for _, code in codes if code != UNKNOWN}) > 1
        return {"user_language": user, "assistant_language": asst, "language": lang, "languages_agree": agree,
                "turn_languages": per, "mixed_turns": mixed}
