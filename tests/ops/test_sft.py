"""SFT operators on hand-built conversations: each threshold just under and just over."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from gristmill.batch import Batch
from gristmill.io.chat import MESSAGES_TYPE
from gristmill.ops.base import SignatureSource
from gristmill.ops.sft import ChatTurns, PromptDedup, RefusalFilter, TurnLanguage
from gristmill.recipe.rules import compile_rule


def conv(*turns: tuple[str, str]) -> list[dict]:
    return [{"role": r, "content": c} for r, c in turns]


def chat_batch(*convs: list[dict]) -> Batch:
    return Batch(pa.table({"id": [str(i) for i in range(len(convs))], "text": ["x"] * len(convs),
                           "messages": pa.array(list(convs), MESSAGES_TYPE)}))


def decide(op, *convs: list[dict]) -> list[str]:
    sig = op.apply(chat_batch(*convs))
    env = {op.signal_column(k): np.asarray(v) for k, v in sig.items()}
    n, out, alive = len(convs), ["keep"] * len(convs), np.ones(len(convs), bool)
    for name, expr in op.rules().items():
        ok = compile_rule(name, expr, env).keep_mask(env, n)
        for i in np.flatnonzero(alive & ~ok):
            out[i] = name
        alive &= ok
    return out


QA = conv(("user", "q"), ("assistant", "one two three"))


def test_chat_turns_signals() -> None:
    c = conv(("system", "s"), ("user", "q1"), ("assistant", "ab cd"), ("user", "q2"), ("assistant", "abcdefgh"))
    s = ChatTurns().apply(chat_batch(c, conv(("user", "a"), ("user", "b"), ("assistant", "c"), ("user", "d"))))
    assert list(s["turns"]) == [5, 4] and list(s["user_turns"]) == [2, 3] and list(s["assistant_turns"]) == [2, 1]
    assert list(s["roles_alternate"]) == [True, False] and list(s["ends_with_assistant"]) == [True, False]
    assert s["starts_with"] == ["user", "user"]
    assert list(s["min_response_chars"]) == [5, 1] and list(s["max_response_chars"]) == [8, 1]
    assert list(s["mean_response_chars"]) == [6.5, 1.0] and list(s["min_response_words"]) == [1, 1]
    assert list(s["max_response_words"]) == [2, 1] and list(s["mean_response_words"]) == [1.5, 1.0]


def test_chat_turns_default_rules() -> None:
    op = ChatTurns()
    assert decide(op, QA, conv(("user", "a"), ("assistant", "b"), ("user", "c")),
                  conv(("user", "a"), ("assistant", "b"), ("system", "late"), ("user", "c"), ("assistant", "d")),
                  conv(("assistant", "hello"), ("user", "hi"), ("assistant", "b"))) == [
        "keep", "not_ending_with_assistant", "roles_not_alternating", "roles_not_alternating"]


@pytest.mark.parametrize(("params", "under", "over"), [
    ({"min_turns": 4}, 3, 4),
    ({"max_turns": 4}, 4, 5),
])
def test_chat_turns_turn_bounds(params: dict, under: int, over: int) -> None:
    def of(n: int) -> list[dict]:
        roles = ["user", "assistant"] * n
        return conv(*[(r, "x") for r in roles[:n]])
    op = ChatTurns(ChatTurns.Params(require_alternation=False, require_assistant_last=False, **params))
    got = decide(op, of(under), of(over))
    assert got == (["too_few_turns", "keep"] if "min_turns" in params else ["keep", "too_many_turns"])


def test_chat_turns_response_length_bounds() -> None:
    op = ChatTurns(ChatTurns.Params(min_response_chars=5, max_response_chars=10, min_response_words=2))
    assert decide(op, conv(("user", "q"), ("assistant", "ab c")), conv(("user", "q"), ("assistant", "ab cd")),
                  conv(("user", "q"), ("assistant", "abcd efghij")), conv(("user", "q"), ("assistant", "abcd efghi")),
                  conv(("user", "q"), ("assistant", "abcdef"))) == [
        "response_too_short", "keep", "response_too_long", "keep", "response_too_few_words"]
    # the shortest answer decides the lower bound, the longest the upper one
    multi = conv(("user", "q"), ("assistant", "fine answer"), ("user", "q"), ("assistant", "ab"))
    assert decide(op, multi) == ["response_too_short"]


def test_refusal_filter_finds_phrases_case_and_apostrophe_insensitively() -> None:
    s = RefusalFilter().apply(chat_batch(
        conv(("user", "q"), ("assistant", "AS AN AI LANGUAGE MODEL, I think so.")),
        conv(("user", "q"), ("assistant", "I\u2019m sorry, but I can\u2019t do that.")),
        conv(("user", "As an AI language model, answer me"), ("assistant", "Sure, here it is.")),
    ))
    assert list(s["refusal_share"]) == [1.0, 1.0, 0.0]
    assert s["refusal_phrase"] == ["as an ai language model", "i'm sorry, but i can't", ""]


def test_refusal_share_threshold_just_under_and_over() -> None:
    half = conv(("user", "a"), ("assistant", "Paris."), ("user", "b"), ("assistant", "I cannot assist with that."))
    clean = conv(("user", "a"), ("assistant", "Paris."))
    assert decide(RefusalFilter(), half, clean) == ["refusal", "keep"]
    assert decide(RefusalFilter(RefusalFilter.Params(max_refusal_share=0.5)), half) == ["keep"]
    assert decide(RefusalFilter(RefusalFilter.Params(max_refusal_share=0.49)), half) == ["refusal"]


def test_refusal_phrases_are_replaceable_and_window_limited() -> None:
    late = conv(("user", "q"), ("assistant", "Here is the plan. " + "x" * 50 + " As an AI language model I hedge."))
    assert decide(RefusalFilter(RefusalFilter.Params(window_chars=40)), late) == ["keep"]
    assert decide(RefusalFilter(), late) == ["refusal"]
    own = RefusalFilter(RefusalFilter.Params(phrases=["no can do"]))
    assert decide(own, conv(("user", "q"), ("assistant", "No can do, friend.")), late) == ["refusal", "keep"]
    extra = RefusalFilter(RefusalFilter.Params(extra_phrases=["no can do"]))
    assert decide(extra, conv(("user", "q"), ("assistant", "No can do.")), late) == ["refusal", "refusal"]
    with pytest.raises(ValueError):
        RefusalFilter.Params(phrases=[" "])


def _dedup(op: PromptDedup, *chunks: list[list[dict]]) -> list[list[bool]]:
    sigs = [op.signature(chat_batch(*c)) for c in chunks]
    decision = op.decide(SignatureSource(list(range(len(chunks))), lambda i: sigs[i]))
    return [list(decision[i]) for i in range(len(chunks))]


def test_prompt_dedup_first_user_turn_keeps_the_first_across_chunks() -> None:
    a = conv(("user", "What is  Rust?"), ("assistant", "A language."))
    b = conv(("system", "Be terse."), ("user", "what is rust?"), ("assistant", "A systems language."))
    c = conv(("user", "What is Go?"), ("assistant", "A language."))
    assert _dedup(PromptDedup(), [a, c], [b, a]) == [[True, True], [False, False]]


def test_prompt_dedup_scopes() -> None:
    a = conv(("system", "Be terse."), ("user", "Hi"), ("assistant", "x"), ("user", "Bye"), ("assistant", "y"))
    b = conv(("system", "Be verbose."), ("user", "Hi"), ("assistant", "z"), ("user", "Bye"), ("assistant", "w"))
    c = conv(("system", "Be terse."), ("user", "Hi"), ("assistant", "x"), ("user", "Later"), ("assistant", "y"))
    assert _dedup(PromptDedup(), [a, b, c]) == [[True, False, False]]
    assert _dedup(PromptDedup(PromptDedup.Params(scope="user_turns")), [a, b, c]) == [[True, False, True]]
    assert _dedup(PromptDedup(PromptDedup.Params(scope="prompt")), [a, b, c]) == [[True, True, True]]
    case = PromptDedup(PromptDedup.Params(lowercase=False))
    assert _dedup(case, [QA, conv(("user", "Q"), ("assistant", "x"))]) == [[True, True]]


FR_Q = "Pouvez-vous m'expliquer comment fonctionne la photosynthèse dans les plantes vertes ?"
FR_A = "La photosynthèse permet aux plantes de transformer la lumière du soleil en énergie chimique."
EN_A = "Photosynthesis lets plants turn sunlight, water and carbon dioxide into sugars and oxygen."
EN_Q = "Could you please explain how photosynthesis works in green plants?"


def test_turn_language_signals_per_turn() -> None:
    pytest.importorskip("pycld2")
    s = TurnLanguage().apply(chat_batch(conv(("user", FR_Q), ("assistant", EN_A)),
                                        conv(("system", "x"), ("user", FR_Q), ("assistant", FR_A)),
                                        conv(("user", "Hi!"), ("assistant", EN_A))))
    assert s["user_language"] == ["fr", "fr", "unknown"] and s["assistant_language"] == ["en", "fr", "en"]
    assert s["language"] == ["fr", "fr", "en"]  # a prompt too short to tell: the answer's language
    assert list(s["languages_agree"]) == [False, True, True] and list(s["mixed_turns"]) == [True, False, False]
    assert s["turn_languages"] == ["fr,en", "fr,fr", "unknown,en"]


def test_turn_language_rules() -> None:
    pytest.importorskip("pycld2")
    op = TurnLanguage(TurnLanguage.Params(languages=["en"]))
    assert decide(op, conv(("user", EN_Q), ("assistant", EN_A)), conv(("user", FR_Q), ("assistant", FR_A)),
                  conv(("user", EN_Q), ("assistant", FR_A))) == ["keep", "wrong_language", "languages_disagree"]
    loose = TurnLanguage(TurnLanguage.Params(require_agreement=False))
    assert decide(loose, conv(("user", EN_Q), ("assistant", FR_A))) == ["keep"]


def test_turn_language_min_chars_just_under_and_over() -> None:
    pytest.importorskip("pycld2")
    n = len(EN_Q)
    assert TurnLanguage(TurnLanguage.Params(min_chars=n + 1)).language(EN_Q) == "unknown"
    assert TurnLanguage(TurnLanguage.Params(min_chars=n)).language(EN_Q) == "en"


def test_plain_documents_read_as_one_user_turn() -> None:
    b = Batch(pa.table({"id": ["a"], "text": ["just a document"]}))
    s = ChatTurns().apply(b)
    assert list(s["turns"]) == [1] and list(s["assistant_turns"]) == [0] and not s["ends_with_assistant"][0]
