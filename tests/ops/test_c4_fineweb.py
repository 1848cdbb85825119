"""C4 (Raffel et al. 2020) and FineWeb (Penedo et al. 2024) rules, just inside and just outside each threshold."""

from gristmill.ops.quality import C4Quality, FineWebQuality

from .helpers import decide, signals

C4 = C4Quality()
FW = FineWebQuality()
SENT = ["The river runs past the mill.", "Grain is ground into flour here.", "Farmers bring their wheat in autumn.",
        "The wheel turns all day long.", "Bread is baked in the village.", "Water powers the heavy stones."]


def test_c4_needs_five_sentences_in_counted_lines() -> None:
    assert decide(C4, "\n".join(SENT[:5]), "\n".join(SENT[:4])) == ["keep", "too_few_sentences"]
    two_in_one_line = "\n".join([SENT[0] + " " + SENT[1]] + SENT[2:5])
    assert signals(C4, two_in_one_line)["sentences"][0] == 5


def test_c4_line_rules_decide_which_lines_count() -> None:
    four = SENT[:4]
    cases = {
        "Two words.": "too_few_sentences",  # fewer than 3 words
        "Three short words.": "keep",
        "A line without an end": "too_few_sentences",
        "A line that trails off...": "too_few_sentences",
        'He said "yes."': "keep",
        "Please enable JavaScript to continue.": "too_few_sentences",
        "This site uses cookies to work.": "too_few_sentences",
        "See the privacy policy for details.": "too_few_sentences",
        "A cited sentence here.[1]": "keep",  # citation removed before the punctuation check
        "a " + "x" * 1000 + " word here.": "keep",
        "a " + "x" * 1001 + " word here.": "too_few_sentences",
    }
    docs = ["\n".join([*four, extra]) for extra in cases]
    assert decide(C4, *docs) == list(cases.values())


def test_c4_page_rules() -> None:
    five = SENT[:5]
    lorem = "\n".join([*five, "Lorem ipsum dolor sit amet."])
    brace = "\n".join([*five, "Use the {name} field here."])
    brace_in_ignored_line = "\n".join([*five, "if (x) { return"])
    assert decide(C4, lorem, brace, brace_in_ignored_line) == ["lorem_ipsum", "curly_bracket", "keep"]
    s = signals(C4, brace)
    assert s["lines"][0] == 6 and s["lines_counted"][0] == 6


def long_line(i: int, end: str = ".") -> str:
    return f"This is line number {i:03d} of a long enough document{end}"


def test_fineweb_line_punctuation_ratio() -> None:
    three = "\n".join([long_line(i) for i in range(3)] + [long_line(i, "") for i in range(3, 25)])  # 0.12
    two = "\n".join([long_line(i) for i in range(2)] + [long_line(i, "") for i in range(2, 25)])  # 0.08
    assert decide(FW, three, two) == ["keep", "line_punct_ratio"]
    assert signals(FW, "Fin du texte。\nok")["line_punct_ratio"][0] == 0.5  # CJK full stop is terminal


def test_fineweb_short_lines() -> None:
    def doc(short: int) -> str:
        return "\n".join([f"Short {i:03d}." for i in range(short)] + [long_line(i) for i in range(100 - short)])

    s = signals(FW, doc(67), doc(68))
    assert list(s["short_line_ratio"]) == [0.67, 0.68]
    assert decide(FW, doc(67), doc(68)) == ["keep", "short_line_ratio"]


def test_fineweb_duplicate_line_characters() -> None:
    rep = long_line(999)  # 50 characters
    def doc(n_unique: int) -> str:
        return "\n".join([rep, rep] + [long_line(i) for i in range(n_unique)])

    s = signals(FW, doc(99), doc(97))
    assert s["char_dup_ratio"][0] <= 0.01 < s["char_dup_ratio"][1]
    assert decide(FW, doc(99), doc(97)) == ["keep", "char_dup_ratio"]


def test_fineweb_newlines_per_word() -> None:
    line = "Aaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbb."  # 3 word tokens, over 30 characters
    ten = "\n".join([f"{line[:-1]}{i}." for i in range(10)])  # 9 newlines / 30 tokens = 0.3
    one_shorter = ten.replace("Aaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbb0.", "Aaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbb0.")
    s = signals(FW, ten, one_shorter)
    assert s["list_ratio"][0] == 0.3 and s["list_ratio"][1] > 0.3
    assert decide(FW, ten, one_shorter) == ["keep", "list_ratio"]


def test_fineweb_blank_document() -> None:
    assert decide(FW, "", "  \n \n") == ["empty", "empty"]


def test_terminal_punctuation_is_the_unicode_property_plus_khmer_signs() -> None:
    """The set is built by one search over all code points; it must equal the property tested one by one."""
    import regex

    from gristmill.ops.textstats import punctuation_set, terminal_punctuation

    one_by_one = {chr(c) for c in range(0x20000) if regex.match(r"\p{Sentence_Terminal}", chr(c))}
    assert terminal_punctuation() == frozenset(one_by_one | {"\u17d6", "\u17d9", "\u17da"})
    assert {".", "!", "?", "\u3002", "\u0964"} <= terminal_punctuation()  # 。 and the Devanagari danda
    assert "," not in terminal_punctuation() and "," in punctuation_set()
