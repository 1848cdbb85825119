"""Cleaning operators rewrite text and report what they removed."""

import pytest

from gristmill.ops.clean import (
    C4LineFilter,
    DedupLines,
    DedupLinesParams,
    FixUnicode,
    HtmlToText,
    NormalizePunctuation,
    NormalizeText,
    StripUrlsEmails,
    StripUrlsEmailsParams,
)

from .helpers import batch


def run(op, *texts):
    b = batch(*texts)
    sig = op.apply(b)
    return b.texts(), sig


def test_normalize_text_still_works() -> None:
    assert run(NormalizeText(), "a  b\r\n\n\n\nc\u200b")[0] == ["a b\n\nc"]


def test_fix_unicode_repairs_mojibake_and_entities() -> None:
    assert run(FixUnicode(), "cafÃ© &amp; ﬁsh")[0] == ["café & fish"]


def test_normalize_punctuation() -> None:
    out, _ = run(NormalizePunctuation(), "“Hi” — it’s fine… Wow!!!!!!", "数据。「引用」")
    assert out == ['"Hi" - it\'s fine... Wow!!!', "数据。「引用」"]


def test_html_to_text_blocks_and_dropped_parts() -> None:
    pytest.importorskip("selectolax")
    html = ("<html><head><title>T</title><script>var x=1;</script></head><body><nav>Home | About</nav>"
            "<h1>Title</h1><p>Hello <b>world</b>.</p><ul><li>one</li><li>two</li></ul>"
            "<table><tr><td>1</td><td>2</td></tr></table></body></html>")
    out, _ = run(HtmlToText(), html)
    assert out == ["Title\n\nHello world.\n\none\n\ntwo\n\n1 2"]


def test_c4_line_filter_removes_lines_and_counts_them() -> None:
    text = "\n".join([
        "A proper sentence stays here.",
        "Menu",
        "Two words.",
        "Please enable JavaScript in your browser.",
        "This website uses cookies to improve things.",
        "Lorem ipsum dolor sit amet.",
        "Another good sentence is kept.[2]",
    ])
    out, sig = run(C4LineFilter(), text)
    assert out == ["A proper sentence stays here.\nAnother good sentence is kept."]
    assert sig["lines_removed"][0] == 5
    assert sig["removed_no_terminal_punct"][0] == 1 and sig["removed_too_few_words"][0] == 1
    assert sig["removed_javascript"][0] == 1 and sig["removed_policy"][0] == 1
    assert sig["removed_lorem_ipsum"][0] == 1


def test_dedup_lines_keeps_first_and_blank_lines() -> None:
    out, sig = run(DedupLines(), "Share\nBody one\n\nShare\nBody two\n\nshare")
    assert out == ["Share\nBody one\n\nBody two\n\nshare"] and sig["lines_removed"][0] == 1
    out, sig = run(DedupLines(DedupLinesParams(ignore_case=True, min_line_chars=6)), "Share\nshare\nBody one\nbody one")
    assert out == ["Share\nshare\nBody one"]


def test_strip_urls_and_emails() -> None:
    text = "Mail me at jane.doe@example.org or see https://example.org/page?x=1. Also www.test.com, ok."
    out, sig = run(StripUrlsEmails(StripUrlsEmailsParams(replacement="<X>")), text)
    assert out == ["Mail me at <X> or see <X>. Also <X>, ok."]
    assert sig["urls"][0] == 2 and sig["emails"][0] == 1


def test_strip_urls_in_chinese_text() -> None:
    """A URL glued to Han characters (no word boundary before it) ends at the full-width comma; from the
    Debian Administrator's Handbook in Chinese (data/sample.jsonl.gz, multilingual-000585)."""
    import gzip
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "data" / "sample.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        text = next(json.loads(line)["text"] for line in fh if '"multilingual-000585"' in line)
    assert "访问http://localhost/server-info，来访问" in text
    out, sig = run(StripUrlsEmails(StripUrlsEmailsParams(emails=False)), text)
    assert "http" not in out[0] and sig["urls"][0] >= 1
    assert "访问，来访问所有的" in out[0]  # the Chinese text after the URL stays
