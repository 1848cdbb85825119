"""Small text helpers shared by the quality operators: punctuation sets, duplicate counting, sentences."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex


@lru_cache(1)
def terminal_punctuation() -> frozenset[str]:
    """Unicode ``Sentence_Terminal`` characters (``.``, ``!``, ``?``, ``。``, ``।``...) plus three Khmer signs.

    This is the set FineWeb's line-punctuation rule and the sentence counter use; datatrove ships a list of
    the same characters.
    """
    # one search over a string of every code point: 3x faster than matching them one by one, and each
    # worker process pays it on its first document
    chars = set(regex.findall(r"\p{Sentence_Terminal}", "".join(map(chr, range(0x20000)))))
    return frozenset(chars | {"\u17d6", "\u17d9", "\u17da"})


@lru_cache(1)
def punctuation_set() -> frozenset[str]:
    """Characters that make a token a "symbol word" for Gopher: ASCII and CJK punctuation, control chars.

    A token made only of these is not counted as a word by the Gopher word-count and mean-length rules.
    """
    base = set("!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»")
    base |= {chr(c) for c in (*range(0, 9), *range(11, 32), *range(127, 160))}
    return frozenset(base | terminal_punctuation())


def duplicate_stats(items: list[str]) -> tuple[int, int]:
    """(number of repeated elements, characters in repeated elements), counting every occurrence but the first."""
    distinct = set(items)
    return len(items) - len(distinct), sum(map(len, items)) - sum(map(len, distinct))


def is_punct_token(tok: str) -> bool:
    """True when every character is Unicode punctuation (category P*)."""
    return all(unicodedata.category(c)[0] == "P" for c in tok)


def count_sentences(tokens: list[str]) -> int:
    """Sentences in a run of word tokens, splitting after terminal punctuation (spaCy Sentencizer rule).

    A new sentence starts at the first non-punctuation token that follows a terminal punctuation token.
    """
    if not tokens:
        return 0
    term = terminal_punctuation()
    n = 1
    seen = False
    for tok in tokens:
        in_term = tok in term
        if seen and not in_term and not is_punct_token(tok):
            n += 1
            seen = False
        elif in_term:
            seen = True
    return n
