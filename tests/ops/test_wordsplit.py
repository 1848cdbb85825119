"""The word splitter reproduces datatrove's (spaCy English) word boundaries on the cases that move ratios."""

import pytest

from gristmill.ops.wordsplit import is_cjk_text, split_words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("don't.", ["do", "n't", "."]),
        ("I'm sure", ["I", "'m", "sure"]),
        ("cannot", ["can", "not"]),
        ("that's", ["that", "'s"]),
        ("well-known", ["well", "-", "known"]),
        ("64-bit", ["64", "-", "bit"]),
        ("U.S. Mr. e.g.", ["U.S.", "Mr.", "e.g."]),
        ("(hello)", ["(", "hello", ")"]),
        ('"quoted"', ['"', "quoted", '"']),
        ("3.14 1-2 10km", ["3.14", "1", "-", "2", "10", "km"]),
        ("end.Next", ["end", ".", "Next"]),
        ("x=y foo/bar a,b", ["x", "=", "y", "foo", "/", "bar", "a", ",", "b"]),
        ("www.python.org os.path.join()", ["www.python.org", "os.path.join", "(", ")"]),
        ("ABC. file.txt.", ["ABC", ".", "file.txt", "."]),
        ("#include", ["#", "include"]),
        ("arg):", ["arg", "):"]),
        ("t.Fatal(err)", ["t.", "Fatal(err", ")"]),
        ("well its were", ["well", "its", "were"]),
    ],
)
def test_matches_spacy_english(text: str, expected: list[str]) -> None:
    assert split_words(text) == expected


def test_whitespace_of_any_kind_separates_and_is_dropped() -> None:
    assert split_words(" a\tb\n\nc\u00a0d ") == ["a", "b", "c", "d"]


def test_han_is_one_token_per_character_kana_one_per_run() -> None:
    assert split_words("数据质量") == ["数", "据", "质", "量"]
    assert split_words("コマンドは") == ["コマンド", "は"]
    assert is_cjk_text("这是一个测试文档。") and not is_cjk_text("This is English.")
