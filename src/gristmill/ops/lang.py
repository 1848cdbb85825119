"""Language identification: top language, its score, per-language scores and mixed-language documents.

Three backends behind one operator, all offline (their models ship inside their wheels):

* ``cld2`` (pycld2, Google's Compact Language Detector 2): the fast default, ~80 languages, C++; it
  reports the share of the text's bytes in each of up to three languages, which gives mixed-language
  detection for free. It has no probability: ``score`` is the top language's share, halved when CLD2 flags
  its result as unreliable (short or ambiguous text); the other languages report their plain share.
* ``lingua`` (lingua-language-detector): the accurate option, 75 languages, best on short texts; ``score``
  is its confidence value, shares come from classifying each paragraph.
* ``langid`` (langid.py, Lui & Baldwin 2012): 97 languages, normalised probabilities; shares come from
  classifying each paragraph.

All three live in the optional extra ``lang`` (``pip install 'gristmill[lang]'``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from gristmill.batch import Batch
from gristmill.errors import UsageError
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register

UNKNOWN = "unknown"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_PARAGRAPH = re.compile(r"\n\s*\n")

Shares = list[tuple[str, float]]
"""(language code, share or score) pairs, best first."""


def _missing(package: str) -> UsageError:
    return UsageError(
        f"language ID backend needs {package!r}: install the extra with pip install 'gristmill[lang]'"
    )


class _Cld2:
    def __init__(self) -> None:
        try:
            import pycld2
        except ImportError:
            raise _missing("pycld2") from None
        self._detect = pycld2.detect
        self._error = pycld2.error

    def __call__(self, text: str) -> Shares:
        try:
            reliable, _, details = self._detect(text)
        except (self._error, UnicodeError):  # invalid UTF-8 for CLD2 (control characters, lone surrogates)
            try:
                reliable, _, details = self._detect(_CONTROL.sub(" ", text))
            except (self._error, UnicodeError):
                return []
        shares: dict[str, float] = {}  # zh and zh-Hant both count as zh
        for _name, code, percent, _score in details:
            if code != "un" and percent > 0:
                base = code.split("-")[0].lower()
                shares[base] = shares.get(base, 0.0) + percent / 100
        out: Shares = sorted(shares.items(), key=lambda kv: -kv[1])
        if out and not reliable:  # the top language's score carries CLD2's doubt; shares stay shares
            out[0] = (out[0][0], out[0][1] / 2)
        return out


def _with_paragraph_shares(top: tuple[str, float], text: str, classify: Any) -> Shares:
    """``top`` followed by the other languages' shares of the text, from classifying each paragraph."""
    paragraphs = [p for p in _PARAGRAPH.split(text) if p.strip()]
    if len(paragraphs) < 2:
        return [top]
    shares: dict[str, float] = {}
    total = sum(len(p) for p in paragraphs)
    for p in paragraphs:
        code = classify(p)
        if code:
            shares[code] = shares.get(code, 0.0) + len(p) / total
    others = sorted(((c, s) for c, s in shares.items() if c != top[0]), key=lambda kv: -kv[1])
    return [top] + others


class _Lingua:
    def __init__(self, candidates: Sequence[str], low_accuracy: bool) -> None:
        try:
            from lingua import IsoCode639_1, LanguageDetectorBuilder
        except ImportError:
            raise _missing("lingua-language-detector") from None
        if candidates:
            codes = []
            for c in candidates:
                try:
                    codes.append(getattr(IsoCode639_1, c.upper()))
                except AttributeError:
                    raise UsageError(f"lingua does not know language {c!r} (ISO 639-1 codes)") from None
            builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        else:
            builder = LanguageDetectorBuilder.from_all_languages()
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        self._det = builder.build()

    @staticmethod
    def _code(lang: Any) -> str:
        return lang.iso_code_639_1.name.lower()

    def _classify(self, text: str) -> str | None:
        lang = self._det.detect_language_of(text)
        return None if lang is None else self._code(lang)

    def __call__(self, text: str) -> Shares:
        # lingua's own multi-language segmentation costs ~13x a detection; paragraphs are ~2x
        values = self._det.compute_language_confidence_values(text)
        if not values or values[0].value <= 0:
            return []
        top = (self._code(values[0].language), float(values[0].value))
        return _with_paragraph_shares(top, text, self._classify)


class _Langid:
    def __init__(self, candidates: Sequence[str]) -> None:
        try:
            from langid.langid import LanguageIdentifier, model
        except ImportError:
            raise _missing("langid") from None
        self._ident = LanguageIdentifier.from_modelstring(model, norm_probs=True)
        if candidates:
            self._ident.set_languages(list(candidates))

    def __call__(self, text: str) -> Shares:
        lang, prob = self._ident.classify(text)
        return _with_paragraph_shares((lang, float(prob)), text, lambda p: self._ident.classify(p)[0])


_BACKENDS: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()


class LangIDParams(OpParams):
    decision_params: ClassVar[frozenset[str]] = frozenset({"min_score"})
    backend: Literal["cld2", "lingua", "langid"] = Field(
        "cld2", description="cld2: fast default; lingua: most accurate, slower; langid: 97 languages"
    )
    languages: list[str] = Field(
        default_factory=list, description="keep only these ISO 639-1 codes (empty: keep every language)"
    )
    min_score: float = Field(
        0.65,
        ge=0.0,
        le=1.0,
        description="keep only documents whose top-language score reaches this (FineWeb: 0.65)",
    )
    scores_for: list[str] = Field(
        default_factory=list, description="extra languages to report a per-language score signal for"
    )
    mixed_share: float = Field(
        0.2,
        gt=0.0,
        le=0.5,
        description="a document is 'mixed' when its second language holds this share or more",
    )
    candidates: list[str] = Field(
        default_factory=list,
        description="lingua/langid: restrict detection to these languages (faster, fewer errors)",
    )
    low_accuracy: bool = Field(
        False, description="lingua: low accuracy mode (much faster, worse on short texts)"
    )
    max_chars: int = Field(20_000, ge=100, description="only the first max_chars characters are examined")

    @field_validator("languages", "scores_for", "candidates")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not re.fullmatch(r"[a-z]{2,3}", c)]
        if bad:
            raise ValueError(f"language codes must be ISO 639-1 lower case such as 'en', got {bad}")
        return v


@register
class LangID(Operator):
    name = "lang_id"
    family = "lang"
    description = """Language identification: which language each document is in (language ID). Signals: the top language code, its score (0-1), the
    second language and its share, a `mixed` flag for documents that hold two languages, and a score per
    language you list. Keeps documents in the listed languages whose score reaches `min_score` (FineWeb
    keeps English at fastText score 0.65). Backends: cld2 (fast default), lingua (most accurate,
    especially on short texts), langid. Needs the `lang` extra."""
    Params = LangIDParams
    languages = ("*",)
    cost = "moderate"
    references = (
        "Penedo et al., The FineWeb Datasets, 2024 (language score threshold 0.65)",
        "CLD2: github.com/CLD2Owners/cld2; lingua-py; Lui & Baldwin, langid.py, 2012",
    )
    base_signals = (
        Signal("language", "str", "ISO 639-1 code of the top language ('unknown' if none)"),
        Signal(
            "score", "float", "top language score: CLD2 share of text, lingua confidence, langid probability"
        ),
        Signal("second_language", "str", "code of the second language ('' if none)"),
        Signal("second_share", "float", "score or share of the second language (0 if none)"),
        Signal("mixed", "bool", "true when the second language holds at least mixed_share of the text"),
    )
    signals = base_signals

    def __init__(self, params: OpParams | None = None, step: str | None = None) -> None:
        super().__init__(params, step)
        p: LangIDParams = self.params  # type: ignore[assignment]
        self.score_languages = list(dict.fromkeys([*p.languages, *p.scores_for]))
        self.signals = self.base_signals + tuple(
            Signal(f"score_{c}", "float", f"score of language {c!r} (0 if not detected)")
            for c in self.score_languages
        )
        self._backend: Any = None

    def required_modules(self) -> tuple[tuple[str, str], ...]:
        module = {"cld2": "pycld2", "lingua": "lingua", "langid": "langid"}[self.params.backend]
        return ((module, "lang"),)

    def setup(self) -> None:
        if self._backend is not None:
            return
        p: LangIDParams = self.params  # type: ignore[assignment]
        key = (p.backend, tuple(p.candidates), p.low_accuracy)
        with _LOCK:  # models are large: one instance per process, shared by every step using it
            backend = _BACKENDS.get(key)
            if backend is None:
                if p.backend == "cld2":
                    backend = _Cld2()
                elif p.backend == "lingua":
                    backend = _Lingua(p.candidates, p.low_accuracy)
                else:
                    backend = _Langid(p.candidates)
                _BACKENDS[key] = backend
        self._backend = backend

    def rules(self) -> dict[str, str]:
        p: LangIDParams = self.params  # type: ignore[assignment]
        rules = {}
        if p.languages:
            rules["wrong_language"] = f"{self.signal_column('language')} in {p.languages!r}"
        if p.min_score > 0:
            rules["low_language_score"] = f"{self.signal_column('score')} >= {p.min_score}"
        return rules

    def detect(self, text: str) -> Shares:
        """Ranked (language, score) pairs of one text ([] when nothing is recognised)."""
        self.setup()
        text = (text or "")[: self.params.max_chars]  # type: ignore[attr-defined]
        if not text.strip():
            return []
        return self._backend(text)

    def apply(self, batch: Batch) -> dict[str, Any]:
        p: LangIDParams = self.params  # type: ignore[assignment]
        n = batch.num_rows
        top, second = [UNKNOWN] * n, [""] * n
        score, share = np.zeros(n), np.zeros(n)
        per = {c: np.zeros(n) for c in self.score_languages}
        for i, text in enumerate(batch.texts()):
            ranked = self.detect(text)
            if not ranked:
                continue
            top[i], score[i] = ranked[0]
            if len(ranked) > 1:
                second[i], share[i] = ranked[1]
            for code, s in ranked:
                if code in per and per[code][i] == 0:
                    per[code][i] = s
        out: dict[str, Any] = {
            "language": top,
            "score": score,
            "second_language": second,
            "second_share": share,
            "mixed": share >= p.mixed_share,
        }
        out.update({f"score_{c}": v for c, v in per.items()})
        return out
