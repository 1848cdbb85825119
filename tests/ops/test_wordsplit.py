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


def _by_the_rules(chunk: str) -> tuple[str, ...]:
    """The rule-based path alone, with the suffix pattern searched over the whole string."""
    from gristmill.ops import wordsplit

    def whole(t: str) -> int:
        m = wordsplit._SUFFIX.search(t)
        return len(t) - m.start() if m else 0

    saved, wordsplit._suffix_len = wordsplit._suffix_len, whole
    try:
        out = wordsplit._split_chunk(chunk)
    finally:
        wordsplit._suffix_len = saved
    if wordsplit._CJK.search(chunk):
        out = tuple(t for part in out for t in wordsplit._split_cjk(part))
    return out


def _differences(chunks: list[str]) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    from gristmill.ops import wordsplit

    return [(c, ref, got) for c in chunks if (ref := _by_the_rules(c)) != (got := wordsplit._chunk_tokens(c))]


def test_every_chunk_of_the_bundled_data_is_cut_as_the_rules_cut_it() -> None:
    """The fast paths (letters, a word with punctuation around it, the windowed suffix search) give exactly
    the rule-based tokens on every distinct whitespace chunk of real text: the bundled sample and dirty data."""
    import gzip
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "data"
    chunks: set[str] = set()
    for name in ("sample.jsonl.gz", "dirty.jsonl.gz"):
        with gzip.open(root / name, "rt", encoding="utf-8", errors="replace") as f:  # dirty: bad bytes too
            for line in f:
                try:
                    text = json.loads(line).get("text")
                except (json.JSONDecodeError, AttributeError):
                    continue
                if isinstance(text, str):
                    chunks.update(text.split())
    assert len(chunks) > 50_000
    assert _differences(sorted(chunks)) == []


def test_generated_chunks_are_cut_as_the_rules_cut_them() -> None:
    """Random chunks built from the characters the rules care about: letters of several scripts and cases,
    every kind of affix, periods, apostrophes, hyphens, digits and units, exceptions and CJK."""
    import random

    rng = random.Random(13)
    alphabet = (list("abcsSXYZéßÖΩждʼª") + list(".,;:!?()[]{}\"'’“”«»-–—…$%+_/|0123459²°。、")
                + ["'s", "’s", "..", "Mr.", "e.g.", "n't", "don't", "t.", "km", "US$", "😀", "東", "カナ", "ー", ":o)"])
    chunks = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7))) for _ in range(30_000)})
    assert _differences(chunks) == []


@pytest.mark.parametrize(("chunk", "tokens"), [
    ("(word),", ("(", "word", ")", ",")), ("household's.", ("household", "'s", ".")),
    ("{well-known}.", ("{", "well", "-", "known", "}", ".")), ("“Zürich”", ("“", "Zürich", "”")),
    ("DUMAINE.", ("DUMAINE", ".")), ("MacbetH.", ("MacbetH.",)), ("(Mr.)", ("(", "Mr.", ")")),
    ("x1t", ("x1", "t")), ("dismember'd,", ("dismember'd", ",")), ("word...", ("word", "...")),
])
def test_affixed_words(chunk: str, tokens: tuple[str, ...]) -> None:
    from gristmill.ops import wordsplit

    assert wordsplit._chunk_tokens(chunk) == tokens == _by_the_rules(chunk)
