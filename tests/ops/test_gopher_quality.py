"""Gopher quality (Rae et al. 2021): each rule just inside and just outside its paper threshold."""

from gristmill.ops.quality import GopherQuality, GopherQualityParams

from .helpers import decide, signals

OP = GopherQuality()
FILLER = ["cat", "dog", "sun", "sky", "red", "big", "owl", "fox"]


def prose(n: int) -> str:
    """n three-letter words including the stop words 'the' and 'and' (mean length exactly 3)."""
    words = ["the", "and"] + [FILLER[i % len(FILLER)] for i in range(n - 2)]
    return " ".join(words)


def test_word_count_bounds() -> None:
    assert decide(OP, prose(49), prose(50)) == ["short_doc", "keep"]
    op = GopherQuality(GopherQualityParams(max_doc_words=60))
    assert decide(op, prose(60), prose(61)) == ["keep", "long_doc"]


def test_default_long_doc_threshold_is_100k() -> None:
    assert decide(OP, prose(100_000), prose(100_001)) == ["keep", "long_doc"]


def test_punctuation_tokens_are_not_words() -> None:
    s = signals(OP, prose(49) + " . , ;")
    assert s["n_non_symbol_words"][0] == 49 and s["n_words"][0] == 52


def test_mean_word_length_bounds() -> None:
    at_min = prose(60)
    below = prose(59) + " of"  # one two-letter word: mean < 3
    assert decide(OP, at_min, below) == ["keep", "below_avg_threshold"]
    # 8 stop words (3 chars) + 56 eleven-letter words: mean exactly 10
    stops = ["the", "and"] * 4
    at_max = " ".join(stops + ["abcdefghijk"] * 56)
    above = " ".join(stops + ["abcdefghijk"] * 55 + ["abcdefghijkl"])
    assert signals(OP, at_max)["mean_word_length"][0] == 10
    assert decide(OP, at_max, above) == ["keep", "above_avg_threshold"]


def test_hash_and_ellipsis_ratios() -> None:
    base = prose(100)
    assert decide(OP, base + " #" * 11, base + " #" * 12) == ["keep", "too_many_hashes"]  # 11/111 vs 12/112
    assert decide(OP, "... " * 11 + base, "... " * 12 + base) == ["keep", "too_many_ellipsis"]


def test_bullet_lines() -> None:
    line = "the cat and the dog ran"
    nine = "\n".join(["- " + line] * 9 + [line])
    ten = "\n".join(["- " + line] * 10)
    assert decide(OP, nine, ten) == ["keep", "too_many_bullets"]
    assert signals(OP, "• a\n• b")["bullet_lines_ratio"][0] == 1.0


def test_lines_ending_with_ellipsis() -> None:
    line = "the cat and the dog ran"
    three = "\n".join([line + " …"] * 3 + [line] * 7)
    four = "\n".join([line + " …"] * 4 + [line] * 6)
    assert decide(OP, three, four) == ["keep", "too_many_end_ellipsis"]


def test_alphabetic_words_ratio() -> None:
    words = prose(80)
    assert decide(OP, words + " 123" * 20, words + " 123" * 21) == ["keep", "below_alpha_threshold"]


def test_stop_words_need_two_distinct_lower_case() -> None:
    two = " ".join(["the", "and"] + ["cat"] * 60)
    one = " ".join(["the", "the", "The", "AND"] + ["cat"] * 60)
    assert decide(OP, two, one) == ["keep", "enough_stop_words"]


def test_other_language_uses_bundled_stop_words_and_cjk_skips_word_length() -> None:
    de = GopherQuality(GopherQualityParams(language="de"))
    text = " ".join(["der", "und"] + ["Hund"] * 60)
    assert decide(de, text) == ["keep"]
    zh = GopherQuality(GopherQualityParams(language="zh", min_doc_words=10))
    assert "below_avg_threshold" not in zh.rules()
    assert decide(zh, "我们的数据是在这里的质量很好，这是一个测试。") == ["keep"]


def test_empty_document_is_short_not_an_error() -> None:
    assert decide(OP, "") == ["short_doc"]


def test_a_first_batch_without_any_word_is_measured_not_crashed() -> None:
    # a fresh process whose first batch holds only empty texts (e.g. after c4_line_filter removed every line)
    import subprocess
    import sys

    code = ("import pyarrow as pa\nfrom gristmill.batch import Batch\nfrom gristmill.ops.quality import GopherQuality, "
            "GopherRepetition\nb = Batch(pa.table({'id': [1], 'text': ['']}))\n"
            "print(GopherQuality().apply(b)['n_words'][0], GopherRepetition().apply(b)['chars'][0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "0"]
