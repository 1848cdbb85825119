"""The goal parser on goals worded by others (issue 12): published rule names with their thresholds, numbers
and units, negation and exceptions, Chinese and German goals, typos, chat boilerplate, purposes, and a
clear refusal for what no operator can do. Sentences are those of dataset cards and agent examples, and
the wording of people who never read the parser."""

from __future__ import annotations

import pytest

from gristmill.agent.gloss import read_goal, zh_number
from gristmill.agent.goal import parse_goal
from gristmill.agent.phrases import parse_number, split_clauses


def reqs(goal: str, kind: str) -> list[dict]:
    return [r.params for r in parse_goal(goal).of(kind)]


def bounds(goal: str) -> dict[str, tuple]:
    return {p["measure"]: (p["op"], p["value"]) for p in reqs(goal, "rules")}


def understood(goal: str) -> bool:
    g = parse_goal(goal)
    return not g.not_understood


# -- numbers and units ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    ("2k", 2000), ("100,000", 100000), ("1.5k", 1500), ("fifty", 50), ("five thousand", 5000),
    ("a hundred", 100), ("twenty-five", 25), (".7", 0.7), ("a third", 0.3333), ("two thousand five hundred", 2500),
])
def test_numbers_written_every_way(text: str, value: float) -> None:
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("goal,length", [
    ("Remove documents with fewer than 50 or more than 100,000 words.", {"unit": "words", "min": 50, "max": 100000}),
    ("nothing under fifty words or over five thousand", {"unit": "words", "min": 50, "max": 5000}),
    ("at least 100 words, no more than 2k words per doc", {"unit": "words", "min": 100, "max": 2000}),
    ("drop docs under 1k characters", {"unit": "chars", "min": 1000}),
])
def test_length_bounds_in_outsiders_wording(goal: str, length: dict) -> None:
    assert reqs(goal, "length") == [length]


def test_a_continuation_clause_inherits_the_exclusion() -> None:
    g = parse_goal("remove pages that mention bitcoin at all, plus anything shorter than 40 words")
    assert [r.params for r in g.of("length")] == [{"unit": "words", "min": 40}]


# -- the published filter families, by their rule names and thresholds ------------------------------------

def test_redpajama_v2_gopher_rules_are_read_as_the_bounds_listed() -> None:
    goal = ("Apply the Gopher rules: word count between 50 and 100,000, mean word length between 3 and 10, symbol-to-word "
            "ratio below 0.1, at most 90% of lines starting with a bullet point, at most 30% of lines ending with an ellipsis.")
    assert bounds(goal) == {"words": ("between", [50, 100000]), "mean_word_length": ("between", [3, 10]),
                            "symbol_word_ratio": ("<", 0.1), "bullet_line_share": ("<=", 0.9),
                            "ellipsis_line_share": ("<=", 0.3)}
    assert understood(goal)
    assert not reqs(goal, "quality")  # "the Gopher rules" names the rules listed, not the operators' defaults


def test_fineweb_custom_filters_drop_clause_is_negated_per_rule() -> None:
    goal = ("Remove documents where 12% or fewer of the lines end with punctuation, where 10% or more of the characters "
            "are in duplicated lines, or where 67% or more of the lines are shorter than 30 characters.")
    assert bounds(goal) == {"punct_end_line_share": (">", 0.12), "dup_line_char_share": ("<", 0.1),
                            "short_line_share": ("<", 0.67)}
    assert not reqs(goal, "length") and not reqs(goal, "dedup_exact")  # "30 characters", "duplicated" are the rules'


@pytest.mark.parametrize("goal,expected", [
    ("Throw out pages where more than a third of the lines are bullet points.", {"bullet_line_share": ("<=", 0.3333)}),
    ("drop pages where more than half of the lines are bullet points", {"bullet_line_share": ("<=", 0.5)}),
    ("No documents whose average word is shorter than 3 characters or longer than 10.",
     {"mean_word_length": ("<=", 10.0)}),
    ("Drop documents in which no line ends with a punctuation mark.", {"punct_end_line_share": ("!=", 0.0)}),
    ("remove pages where the most frequent 2-gram covers more than 20% of the text", {"top_ngram_share": ("<=", 0.2)}),
    ("remove documents with fewer than 3 sentences", {"sentences": (">=", 3.0)}),
    ("drop docs where the mean word length is outside 3-10", {"mean_word_length": ("between", [3.0, 10.0])}),
    ("For the code: the longest line may be at most 500 characters and at least 30% of the characters must be alphanumeric.",
     {"max_line_length": ("<=", 500.0), "alnum_fraction": (">=", 0.3)}),
    ("Filter out short, low-quality documents: fewer than 200 characters once punctuation, whitespace, newlines and tabs "
     "are removed.", {"chars_no_punct_ws": (">=", 200.0)}),
])
def test_rule_names_people_use(goal: str, expected: dict) -> None:
    got = bounds(goal)
    for k, v in expected.items():
        assert got[k] == v, got
    assert understood(goal)
    assert not reqs(goal, "quality") and not reqs(goal, "length")


def test_both_sides_of_a_range_stated_as_exclusions() -> None:
    got = [(p["op"], p["value"]) for p in reqs("No documents whose average word is shorter than 3 characters or longer "
                                              "than 10.", "rules")]
    assert sorted(got) == [("<=", 10.0), (">=", 3.0)]


def test_named_families_run_their_operators_with_published_thresholds() -> None:
    q = reqs("English only, then the Gopher quality and repetition filters, then MinHash deduplication", "quality")
    assert q == [{"level": "standard", "operators": ["gopher_quality", "gopher_repetition"], "published": True}]


# -- negation, exceptions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("goal,language", [
    ("keep everything but the Russian pages", {"drop": ["ru"]}),
    ("anything that isn't English goes", {"keep": ["en"]}),
    ("I don't want English documents at all.", {"drop": ["en"]}),
    ("All languages are welcome except English and German.", {"drop": ["en", "de"]}),
    ("Remove the Chinese and Japanese documents; keep all other languages.", {"drop": ["zh", "ja"]}),
])
def test_exclusions_stay_exclusions(goal: str, language: dict) -> None:
    got = reqs(goal, "language")
    assert got == [language]
    assert understood(goal)


def test_but_keep_after_an_exclusion_is_an_exception_not_a_selection() -> None:
    g = parse_goal("Drop the records that are not in English, but keep the source code.")
    assert [r.params for r in g.of("language")] == [{"keep": ["en"]}]
    assert [r.params for r in g.of("content")] == [{"exempt": ["code"]}]


def test_exact_only_leaves_near_duplicates() -> None:
    for goal in ("remove duplicates but not near-duplicates", "get rid of dupes (exact ones only, leave the near-duplicates alone)"):
        g = parse_goal(goal)
        assert g.of("dedup_exact") and not g.of("dedup_near"), goal
        assert not g.not_understood


def test_language_code_words_are_not_languages() -> None:
    assert reqs("Label each document with the language it is written in.", "language") == []
    assert reqs("keep only IT and FR", "language") == [{"keep": ["it", "fr"]}]


def test_language_score_threshold() -> None:
    g = parse_goal("Keep only English text: documents whose fastText English score is at least 0.65.")
    assert [r.params for r in g.of("language")] == [{"keep": ["en"], "min_score": 0.65}]
    assert any("fastText score" in a or "fasttext score" in a for a in g.assumptions)


# -- other languages, typos ---------------------------------------------------------------------------------

def test_chinese_numerals() -> None:
    assert [zh_number(s) for s in ("五十", "两千", "一百二十", "十五", "三")] == [50, 2000, 120, 15, 3]


@pytest.mark.parametrize("goal,kinds", [
    ("去除重复文本", {"dedup_exact", "dedup_near"}),
    ("做 RAG 清洗和文本去重", {"quality", "dedup_exact", "dedup_near", "boilerplate"}),
    ("只保留英文文档", {"language"}),
    ("删除中文和日文的文档", {"language"}),
    ("去掉少于五十个词的文档，并去重", {"length", "dedup_exact", "dedup_near"}),
])
def test_chinese_goals(goal: str, kinds: set) -> None:
    g = parse_goal(goal)
    assert {r.kind for r in g.requirements} == kinds
    assert not g.not_understood, [c.line() for c in g.clauses]
    assert all(0 <= c.start < c.end <= len(goal) for c in g.clauses)


def test_chinese_clauses_and_spans_point_into_the_goal() -> None:
    goal = "删除中文和日文的文档，去掉少于50个词的文档"
    g = parse_goal(goal)
    assert [c.text for c in g.clauses] == ["删除中文和日文的文档", "去掉少于50个词的文档"]
    assert g.first("language").params == {"drop": ["zh", "ja"]}
    assert g.first("length").params == {"unit": "words", "min": 50}
    s, e = g.first("length").span
    assert "50" in goal[s:e]


def test_quoted_text_is_never_glossed_or_corrected() -> None:
    r = read_goal('删除包含"赌场"的文档 and drop docs mentioning "remvoe"')
    assert '"赌场"' in r.text and '"remvoe"' in r.text


def test_german_goal_through_the_glossary() -> None:
    g = parse_goal("Bitte nur englische Texte behalten und Duplikate entfernen.")
    assert g.first("language").params == {"keep": ["en"]} and g.of("dedup_exact")
    assert not g.not_understood


def test_typos_are_read_and_said() -> None:
    g = parse_goal("remvoe the casino spam and dedupliate")
    assert {r.kind for r in g.requirements} >= {"topic", "dedup_exact"}
    assert any("'remvoe' as 'remove'" in a for a in g.assumptions)
    assert not g.not_understood


def test_real_words_are_not_corrected() -> None:
    assert read_goal("remove the betting and setting pages").text == "remove the betting and setting pages"


# -- chat, links, whitespace, subsets, labels, purposes ------------------------------------------------------

@pytest.mark.parametrize("goal,family", [
    ('Remove OpenAI refusals, disclaimers, and "As an AI" type examples.', "ai_identity"),
    ('Remove dialogues where the assistant replies with phrases like "I do not have emotions" or "I don\'t have opinions".',
     "no_feelings"),
    ("Strip out conversations where the bot says it's an AI or refuses to answer.", "refusal"),
])
def test_chat_boilerplate(goal: str, family: str) -> None:
    g = parse_goal(goal)
    r = g.first("refusal")
    assert r is not None and family in r.params["families"] and r.params["mode"] == "exclude"
    assert not g.of("keyword") and not g.not_understood


def test_quoted_examples_join_the_phrases() -> None:
    r = parse_goal('drop chats with canned disclaimers like \'I don\'t have feelings\' or \'as a language model\'').first("refusal")
    assert "i don't have feelings" in r.params["phrases"] and "as a language model" in r.params["phrases"]


def test_hyperlinks_are_removed_from_the_text_and_documents_kept() -> None:
    g = parse_goal("Remove hyperlinks from the text, but keep the documents.")
    assert g.first("links").params == {"mode": "strip"}
    assert g.first("retention").params == {"unit": "docs", "min": 1.0}
    assert parse_goal("drop documents with URLs in them").first("links").params == {"mode": "drop"}


def test_whitespace_normalisation_without_dropping() -> None:
    g = parse_goal("Normalize whitespace: collapse runs of spaces and tabs into one space and strip leading and trailing "
                   "whitespace, without dropping any record.")
    assert g.of("whitespace") and g.first("retention").params["min"] == 1.0
    assert not g.of("quality") and not g.not_understood


@pytest.mark.parametrize("goal,params", [
    ("Select a subset of 40 dialogues for faster supervised fine-tuning.", {"count": 40}),
    ("Give me 20 random conversations.", {"count": 20}),
    ("sample about half of the chats", {"share": 0.5}),
])
def test_subsets(goal: str, params: dict) -> None:
    g = parse_goal(goal)
    assert g.first("subset").params == params
    assert not g.of("quality")  # a subset is a whole request: no default clean-up added


def test_labels_are_measured_not_filtered() -> None:
    g = parse_goal("Label each document with the language it is written in.")
    assert g.first("label").params["column"] == "lang_id.language" and not g.of("language")
    g = parse_goal("Clean, deduplicate, and classify text data")
    assert g.first("label").params["column"] == "content_kind.kind" and g.first("label").assumption


def test_a_rag_corpus_also_loses_boilerplate() -> None:
    g = parse_goal("deduplicate and clean text for RAG")
    b = g.first("boilerplate")
    assert b is not None and b.params["implied_by"] == "rag" and "rag" in b.assumption.lower()


def test_descriptions_of_the_corpus_or_pipeline_are_assumptions() -> None:
    g = parse_goal("Give me 5 logically consistent operators, filter and deduplicate!")
    assert not g.not_understood and g.of("quality") and any("operators" in a for a in g.assumptions)
    g = parse_goal("Deduplicate the GitHub files at the file level: exact copies go.")
    assert not g.not_understood and any("GitHub" in a for a in g.assumptions)


def test_code_languages_in_a_list() -> None:
    r = parse_goal("Only keep Python and Go source files.").first("content")
    assert r.params == {"keep": ["code"], "code_languages": ["python", "go"]}


def test_html_is_turned_into_text_not_dropped() -> None:
    g = parse_goal("strip html and keep the text")
    assert g.of("html") and not g.of("content")
    assert parse_goal("drop the html pages").first("content").params == {"drop": ["markup"]}


@pytest.mark.parametrize("goal,word", [
    ("translate every document into English", "translation"),
    ("keep documents about quantum gravity written before 1990", "1990"),
    ("drop documents whose perplexity is above 1000", "reference language model"),
    ("label documents by topic", "topic"),
])
def test_what_no_operator_does_is_not_understood_and_says_why(goal: str, word: str) -> None:
    g = parse_goal(goal)
    assert g.not_understood
    assert word in " ".join(c.detail for c in g.not_understood)


def test_split_keeps_ranges_and_parentheses_whole() -> None:
    goal = "word count between 50 and 100 and drop spam (bitcoin, casino and pills)"
    assert [c.text for c in split_clauses(goal)] == ["word count between 50 and 100", "drop spam (bitcoin, casino and pills)"]


def test_a_bound_after_an_exclusion_in_another_comma_piece_is_not_negated() -> None:
    g = parse_goal("English only, remove duplicates and near-duplicates, at least 50 words, redact email addresses")
    assert g.first("length").params == {"unit": "words", "min": 50}
    assert "max_per_doc" not in g.first("pii").params  # "at least 50 words" is no cap on PII matches
    assert parse_goal("if a document has more than 5 of them, remove it; mask e-mails").first("pii").params["max_per_doc"] == 5
