"""The operator registry: every operator by its unique name."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable

from gristmill.errors import UsageError
from gristmill.ops.base import Operator

_REGISTRY: dict[str, type[Operator]] = {}

# The module of gristmill.ops that defines each built-in operator: a recipe imports only the modules its
# steps name (importing all of them costs a command about 0.1 s). tests/ops/test_registry.py checks this
# against the modules themselves.
BUILTIN_MODULES: dict[str, str] = {
    "budget_sample": "budget",
    "c4_line_filter": "clean",
    "c4_quality": "quality",
    "char_ratios": "quality",
    "chat_format": "templates",
    "chat_turns": "sft",
    "content_kind": "content_kind",
    "decontaminate": "decontam",
    "dedup_lines": "clean",
    "exact_dedup": "dedup",
    "field_filter": "templates",
    "filter": "filters",
    "fineweb_quality": "quality",
    "fix_unicode": "clean",
    "flagged_words": "lexicon",
    "gopher_quality": "quality",
    "gopher_repetition": "quality",
    "html_to_text": "clean",
    "keyword_filter": "templates",
    "lang_id": "lang",
    "length_filter": "filters",
    "lines_dedup": "lines_dedup",
    "minhash_dedup": "minhash",
    "ngram_perplexity": "model_signals",
    "normalize_punctuation": "clean",
    "normalize_text": "clean",
    "pii": "pii",
    "prompt_dedup": "sft",
    "quality_classifier": "model_signals",
    "refusal_filter": "sft",
    "regex_filter": "templates",
    "semantic_dedup": "semantic",
    "sentence_case": "casing",
    "signal_percentile": "percentile",
    "stopwords": "lexicon",
    "strip_urls_emails": "clean",
    "token_count": "token_count",
    "topic_filter": "topic",
    "toxicity": "safety",
    "turn_language": "sft",
}


def register(cls: type[Operator]) -> type[Operator]:
    """Class decorator adding an operator to the registry under ``cls.name``."""
    for attr in ("name", "family", "description"):
        if not getattr(cls, attr, None):
            raise TypeError(f"operator {cls.__qualname__} must set {attr!r}")
    home = BUILTIN_MODULES.get(cls.name)
    if home is not None and cls.__module__ != f"gristmill.ops.{home}":  # whether or not that module is loaded yet
        raise ValueError(f"two operators named {cls.name!r}: the built-in one in gristmill.ops.{home} and "
                         f"{cls.__module__}.{cls.__qualname__}")
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls and existing.__qualname__ != cls.__qualname__:
        raise ValueError(f"two operators named {cls.name!r}: {existing.__qualname__} and {cls.__qualname__}")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtins() -> None:
    import gristmill.ops.builtin  # noqa: F401 - registers on import


def all_ops() -> dict[str, type[Operator]]:
    _load_builtins()
    return dict(sorted(_REGISTRY.items()))


def find_op(name: str) -> type[Operator] | None:
    """The operator registered as ``name`` (importing only its module when it is a built-in one), or None."""
    home = BUILTIN_MODULES.get(name)
    if home is not None:
        importlib.import_module(f"gristmill.ops.{home}")
    return _REGISTRY.get(name)


def suggest(name: str, choices: list[str] | None = None) -> str | None:
    """The closest operator name, for did-you-mean messages."""
    pool = choices if choices is not None else list(all_ops())
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.5)
    return close[0] if close else None


def get_op(name: str) -> type[Operator]:
    cls = find_op(name)
    if cls is not None:
        return cls
    ops = all_ops()
    hint = suggest(name, list(ops))
    more = f"; did you mean {hint!r}?" if hint else f"; see `gristmill ops list` ({len(ops)} operators)"
    raise UsageError(f"unknown operator {name!r}{more}") from None


OpFactory = Callable[..., Operator]
