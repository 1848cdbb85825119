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


# words in other alphabets or with accents take a fast path (one token, or one mark peeled off); the rule-based
# splitter is the reference for every such shape, including letters next to marks that it does split on
_FAST_PATH_CHUNKS = [
    "café", "Москва", "Ελλάδα", "naïve,", "(über", "Straße;", "señor)", "ʼokina", "ªb", "ʰx.", "café.", "Zürich.",
    "العربية", "עברית,", "日本語", "東京,", "(カタカナ", "ñ-ñ", "é'é", "über_all", "ß!", "«élan»", "Ω.", "ÉCOLE.",
]


@pytest.mark.parametrize("chunk", _FAST_PATH_CHUNKS)
def test_fast_paths_cut_as_the_rules_do(chunk: str) -> None:
    from gristmill.ops import wordsplit

    reference = wordsplit._split_chunk(chunk)
    if wordsplit._CJK.search(chunk):
        reference = tuple(t for part in reference for t in wordsplit._split_cjk(part))
    assert wordsplit._chunk_tokens(chunk) == reference
