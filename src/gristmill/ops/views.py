"""Shared per-document views, computed once per batch and reused by every operator that needs them.

Five quality filters in a row (Gopher quality, Gopher repetition, C4, FineWeb, stop words) all read the
same ``word_tokens`` and ``splitlines`` lists: the batch computes each once, where datatrove re-splits the
text in every filter.
"""

from __future__ import annotations

import re

import numpy as np

from gristmill.batch import Batch, register_view
from gristmill.ops.wordsplit import reset_vocab_if_large, split_word_ids, token_props, token_text

_PARAGRAPH = re.compile(r"\n{2,}")
_NEWLINES = re.compile(r"\n+")


@register_view("words")
def words(batch: Batch) -> list[list[str]]:
    """Whitespace-separated tokens. Languages without spaces are handled by operators that need more."""
    return [t.split() for t in batch.texts()]


@register_view("lines")
def lines(batch: Batch) -> list[list[str]]:
    """Lines split on ``\\n`` only (blank lines kept)."""
    return [t.split("\n") for t in batch.texts()]


@register_view("word_ids")
def word_ids(batch: Batch) -> list[np.ndarray]:
    """Per document, the ``word_tokens`` as int64 ids into the process vocabulary (see ``wordsplit``).

    Operators index per-token tables (``wordsplit.token_props()``: length, symbol-only, has-a-letter, hash)
    with the batch's concatenated ids instead of looping over tokens in Python.
    """
    reset_vocab_if_large()  # only here, before any id of this batch exists
    return [split_word_ids(t) for t in batch.texts()]


@register_view("word_tokens")
def word_tokens(batch: Batch) -> list[list[str]]:
    """Words as datatrove's English tokenizer cuts them, punctuation marks included (see ``wordsplit``).

    Han characters are one token each and kana runs one token per run (no segmenter is bundled).
    """
    return [token_text(a) for a in batch.view("word_ids")]


@register_view("splitlines")
def splitlines(batch: Batch) -> list[list[str]]:
    """``str.splitlines()``: also breaks on ``\\r``, form feed, U+2028... (what Gopher and C4 use)."""
    return [t.splitlines() for t in batch.texts()]


@register_view("paragraphs")
def paragraphs(batch: Batch) -> list[list[str]]:
    """Paragraphs: the stripped text split on runs of two or more newlines."""
    return [_PARAGRAPH.split(t.strip()) for t in batch.texts()]


@register_view("newline_runs")
def newline_runs(batch: Batch) -> list[list[str]]:
    """The text split on runs of newlines (Gopher repetition's line unit; not stripped)."""
    return [_NEWLINES.split(t) for t in batch.texts()]


@register_view("word_hashes")
def word_hashes(batch: Batch) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per document: a uint64 hash per word token and the prefix sums of word lengths (for n-gram stats).

    Equal words get equal hashes (a mixed function of the token id), and n-gram hashes are built from them.
    """
    ids_all = batch.view("word_ids")
    props = token_props()
    h_tab, len_tab = props["hash"], props["length"]
    out = []
    for ids in ids_all:
        cs = np.zeros(len(ids) + 1, np.int64)
        np.cumsum(len_tab[ids], out=cs[1:])
        out.append((h_tab[ids], cs))
    return out
