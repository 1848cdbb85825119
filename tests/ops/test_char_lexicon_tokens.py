"""Character ratios, stop words, flagged words and token counts."""

import numpy as np
import pytest

from gristmill.errors import UsageError
from gristmill.ops.lexicon import FlaggedWords, FlaggedWordsParams, StopWords, StopWordsParams
from gristmill.ops.quality import CharRatios, CharRatiosParams
from gristmill.ops.token_count import TokenCount, TokenCountParams

from .helpers import batch, decide, signals


def test_char_ratios_by_hand() -> None:
    s = signals(CharRatios(), "Ab1 !", "", "数据。")
    assert np.allclose([s["alpha_ratio"][0], s["digit_ratio"][0], s["symbol_ratio"][0], s["whitespace_ratio"][0]],
                       [0.4, 0.2, 0.2, 0.2])
    assert s["upper_ratio"][0] == 0.5
    assert s["alpha_ratio"][1] == 0 and s["upper_ratio"][1] == 0  # empty: zeros, not NaN
    assert np.isclose(s["alpha_ratio"][2], 2 / 3)


def test_char_ratio_thresholds_only_when_set() -> None:
    assert CharRatios().rules() == {}
    op = CharRatios(CharRatiosParams(max_digit_ratio=0.2))
    assert decide(op, "ab12" + "c" * 6, "ab123" + "c" * 5) == ["keep", "too_many_digits"]  # 0.2 vs 0.3


def test_stop_words_per_language() -> None:
    en = StopWords()
    assert decide(en, "the cat sat and slept", "a cat sat") == ["keep", "too_few_stop_words"]
    de = StopWords(StopWordsParams(language="de"))
    assert signals(de, "Der Hund und die Katze")["stop_words"][0] == 3
    zh = StopWords(StopWordsParams(language="zh"))
    assert signals(zh, "我的数据是好的")["stop_words"][0] == 3  # 的 我 是, matched as substrings
    with pytest.raises(UsageError, match="bundled"):
        StopWords(StopWordsParams(language="xx")).apply(batch("a"))


def test_flagged_word_ratio_threshold() -> None:
    op = FlaggedWords()
    under = " ".join(["porn"] + ["word"] * 22)  # 1/23 = 0.0435
    over = " ".join(["porn"] + ["word"] * 21)  # 1/22 = 0.0455
    assert decide(op, under, over) == ["keep", "too_many_flagged_words"]
    extra = FlaggedWords(FlaggedWordsParams(extra_words=["spamword"], max_flagged_ratio=None))
    assert signals(extra, "SpamWord here")["flagged_words"][0] == 1 and extra.rules() == {}


def test_token_count_whitespace_and_bounds() -> None:
    op = TokenCount(TokenCountParams(min_tokens=3))
    assert list(signals(op, "a b c", "a b")["tokens"]) == [3, 2]
    assert decide(op, "a b c", "a b") == ["keep", "too_few_tokens"]


def test_token_count_missing_tokenizer_file_is_a_clear_error(tmp_path) -> None:
    pytest.importorskip("tokenizers")
    op = TokenCount(TokenCountParams(tokenizer=str(tmp_path / "missing.json")))
    with pytest.raises(UsageError, match="cannot load tokenizer"):
        op.setup()
