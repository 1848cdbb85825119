"""Language ID: top language and score, per-language scores, mixed documents, keep rules, three backends."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gristmill.ops.lang import LangID, LangIDParams

from ._dedup_helpers import batch_of, eval_rules

pytest.importorskip("pycld2", reason="needs the lang extra")

EN = (
    "The committee met on Tuesday to discuss the budget for the coming year. After a long debate, the members "
    "agreed to increase funding for public libraries and to reduce spending on administrative travel. The "
    "chair thanked everyone for their patience and promised to publish the minutes before the end of the week."
)
DE = (
    "Der Ausschuss traf sich am Dienstag, um den Haushalt für das kommende Jahr zu besprechen. Nach einer "
    "langen Debatte einigten sich die Mitglieder darauf, die Mittel für öffentliche Bibliotheken zu erhöhen "
    "und die Ausgaben für Dienstreisen zu kürzen. Der Vorsitzende dankte allen für ihre Geduld."
)
FR = (
    "Le comité s'est réuni mardi pour discuter du budget de l'année prochaine. Après un long débat, les "
    "membres ont accepté d'augmenter le financement des bibliothèques publiques et de réduire les dépenses "
    "de déplacement. Le président a remercié tout le monde pour sa patience."
)


def columns(op: LangID, sig: dict) -> dict:
    return {op.signal_column(k): v for k, v in sig.items()}


def test_top_language_and_score_cld2() -> None:
    op = LangID(step="lang")
    sig = op.apply(batch_of([EN, DE, FR]))
    assert sig["language"] == ["en", "de", "fr"]
    assert all(s >= 0.9 for s in sig["score"])
    assert not sig["mixed"].any()


def test_mixed_document_reports_second_language() -> None:
    op = LangID(LangIDParams(scores_for=["de", "en"]))
    sig = op.apply(batch_of([EN + "\n\n" + DE, EN + "\n\n" + EN + " " + EN + "\n\nDanke schön."]))
    assert set([sig["language"][0], sig["second_language"][0]]) == {"en", "de"}
    assert sig["mixed"][0] and 0.3 <= sig["second_share"][0] <= 0.7
    assert sig["score_de"][0] > 0.3 and sig["score_en"][0] > 0.3
    assert not sig["mixed"][1]  # two German words in an English page are not a mixed document


def test_empty_and_unrecognisable_documents() -> None:
    op = LangID()
    sig = op.apply(batch_of(["", "   ", "1234 5678 !!!", "ok\x00\x7f\x85 fine" * 3]))
    assert sig["language"][:3] == ["unknown"] * 3
    assert list(sig["score"][:3]) == [0.0, 0.0, 0.0]  # 0, not NaN: fails a min_score rule on purpose


def test_keep_rules_language_list_and_min_score() -> None:
    op = LangID(LangIDParams(languages=["en", "fr"], min_score=0.65), step="lang")
    assert op.rules() == {
        "wrong_language": "lang.language in ['en', 'fr']",
        "low_language_score": "lang.score >= 0.65",
    }
    sig = op.apply(batch_of([EN, DE, FR, "hello there"]))
    keep = eval_rules(op.rules(), columns(op, sig))
    assert list(keep) == [True, False, True, False]
    assert {s.name for s in op.signals} >= {"language", "score", "mixed", "score_en", "score_fr"}


def test_min_score_boundary() -> None:
    sig = {"lang.language": ["en", "en"], "lang.score": [0.64, 0.65]}
    op = LangID(LangIDParams(languages=["en"], min_score=0.65), step="lang")
    assert list(eval_rules(op.rules(), sig)) == [False, True]


def test_bad_language_code_is_rejected() -> None:
    with pytest.raises(ValidationError):
        LangIDParams(languages=["English"])


def test_lingua_backend_short_text() -> None:
    pytest.importorskip("lingua", reason="needs lingua-language-detector (lang extra)")
    op = LangID(LangIDParams(backend="lingua", candidates=["en", "de", "fr"], scores_for=["de"]))
    sig = op.apply(batch_of(["Das ist wirklich gut", EN, EN + " " + DE]))
    assert sig["language"][:2] == ["de", "en"]
    assert sig["score"][0] > 0.5 and sig["score_de"][0] == sig["score"][0]
    assert sig["mixed"][2]


def test_langid_backend() -> None:
    pytest.importorskip("langid", reason="needs langid (lang extra)")
    op = LangID(LangIDParams(backend="langid"))
    sig = op.apply(batch_of([EN, FR, EN + "\n\n" + DE]))
    assert sig["language"][:2] == ["en", "fr"]
    assert sig["score"][0] > 0.9
    assert sig["mixed"][2] and sig["second_language"][2] in {"en", "de"}
