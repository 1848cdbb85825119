"""Gopher repetition (Rae et al. 2021, table A1): each fraction just under and just over its threshold."""

from gristmill.ops.quality import GopherRepetition, GopherRepetitionParams

from .helpers import decide, signals, unique_words

OP = GopherRepetition()
# a repeated paragraph also repeats its n-grams; this one looks at line/paragraph rules alone
NO_NGRAMS = GopherRepetition(GopherRepetitionParams(top_n_grams={}, dup_n_grams={}))


def words(n: int, start: int) -> str:
    return " ".join(unique_words(n, start))


def test_duplicate_paragraph_fraction() -> None:
    uniq = [words(30, 1000 * i) for i in range(7)]
    three = "\n\n".join(uniq + ["ab"] * 3)  # 10 paragraphs, 2 repeats of 'ab'... plus first
    four = "\n\n".join(uniq[:6] + ["ab"] * 4)
    s = signals(OP, three, four)
    assert list(s["dup_para_frac"]) == [0.2, 0.3]
    five = "\n\n".join(uniq[:5] + ["ab"] * 5)  # 4 of 10 repeat
    assert decide(OP, four, five) == ["keep", "dup_para_frac"]


def test_duplicate_paragraph_characters() -> None:
    body = words(30, 0)  # 30 * 5 + 29 = 179 chars
    rep = words(12, 5000)  # 71 chars, repeated once
    under = "\n\n".join([body, rep, rep, words(20, 9000)])
    over = "\n\n".join([body, rep, rep, "ab"])
    s = signals(OP, under, over)
    assert list(s["dup_para_frac"]) == [0.25, 0.25]
    assert 0.15 < s["dup_para_char_frac"][0] <= 0.2 < s["dup_para_char_frac"][1] < 0.25
    assert decide(NO_NGRAMS, under, over) == ["keep", "dup_para_char_frac"]


def test_duplicate_line_fraction_and_characters() -> None:
    uniq = [words(20, 1000 * i) for i in range(7)]
    keep = "\n".join(uniq + ["ab"] * 4)  # 11 lines, 3 repeats: 0.27
    drop = "\n".join(uniq[:6] + ["ab"] * 5)  # 11 lines, 4 repeats: 0.36
    assert decide(OP, keep, drop) == ["keep", "dup_line_frac"]
    body = words(30, 0)
    rep = words(12, 5000)
    under = "\n".join([body, rep, rep, words(20, 9000)])
    over = "\n".join([body, rep, rep, "ab"])
    s = signals(OP, under, over)
    assert 0.15 < s["dup_line_char_frac"][0] <= 0.2 < s["dup_line_char_frac"][1] < 0.25
    assert decide(NO_NGRAMS, under, over) == ["keep", "dup_line_char_frac"]


def test_top_2_gram_character_fraction() -> None:
    def doc(k: int) -> str:
        parts = []
        for i in range(k):
            parts += ["ab", "cd"] + unique_words(4, 100 * i)
        return " ".join(parts)

    # each block: 'ab cd' (5 chars counted per occurrence) + 4 five-letter words; top 2-gram = k*5/len
    s = signals(OP, doc(10))
    assert 0.16 < s["top_2_gram_frac"][0] < 0.2
    tight = " ".join(["ab cd ab cd"] * 10)
    assert decide(OP, doc(10), tight) == ["keep", "top_2_gram"]


def test_top_n_gram_ties_take_the_first_n_gram_seen() -> None:
    # 'aaaa bbbb' and 'c d' both twice: the first seen (9 chars) sets the fraction
    text = "aaaa bbbb x c d y aaaa bbbb z c d"
    s = signals(OP, text)
    assert s["top_2_gram_frac"][0] == 2 * 9 / len(text)


def test_duplicated_5_gram_fraction_greedy_scan() -> None:
    phrase = "abcde fghij klmno pqrst uvwxy"  # 25 chars without spaces

    def doc(unique: int, copies: int) -> str:
        parts = [phrase]
        for i in range(copies - 1):
            parts += unique_words(unique, 100 * i) + [phrase]
        return " ".join(parts)

    s = signals(OP, doc(21, 3), doc(19, 3))
    assert 0.14 < s["dup_5_gram_frac"][0] <= 0.15 < s["dup_5_gram_frac"][1] < 0.16
    assert s["dup_6_gram_frac"][1] == 0  # the repeated phrase is only five words long
    # the repeated phrase also makes the top 4-gram large; look at the 5-gram rule alone
    only_dup = GopherRepetition(GopherRepetitionParams(top_n_grams={}))
    assert decide(only_dup, doc(21, 3), doc(19, 3)) == ["keep", "duplicated_5_n_grams"]


def test_greedy_scan_skips_past_a_repeat() -> None:
    # 'a b c d e a b c d e a b c d e': 2nd copy is a repeat (skip 5 words), and so is the 3rd
    text = " ".join(["a b c d e"] * 3)
    assert signals(OP, text)["dup_5_gram_frac"][0] == 10 / len(text)


def test_empty_document() -> None:
    assert decide(OP, "") == ["empty"]


def test_rejects_unsupported_n() -> None:
    import pytest

    with pytest.raises(ValueError, match="not supported"):
        GopherRepetition(GopherRepetitionParams(top_n_grams={5: 0.1}))
