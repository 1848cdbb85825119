"""Word-list signals: stop-word presence and flagged-word ratio, from small lists bundled in this module.

Sources and licence: every list below was written for gristmill (Apache-2.0, like the package). Stop-word
lists hold the most frequent function words of each language (articles, pronouns, prepositions,
conjunctions, auxiliaries), from general knowledge of the language, not copied from any list. The flagged
lists hold common explicit sexual terms and profanity; they are deliberately short, neutral (no slurs
against groups) and meant as a *signal* to threshold, not a safety classifier. Extend them with
``extra_words``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from gristmill.batch import Batch
from gristmill.errors import UsageError
from gristmill.ops import views as _views  # noqa: F401 - registers the shared views
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register

_STOPWORDS: dict[str, str] = {
    "en": "the be to of and a in that have i it for not on with he as you do at this but his by from they we "
          "say her she or an will my one all would there their what so up out if about who get which go me is "
          "are was were been has had",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden "
          "aus er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur "
          "oder aber vor zur bis mehr durch man",
    "fr": "le la les de des du un une et à en est que qui dans pour pas sur au aux ce il elle ne se plus par "
          "avec son sa ses sont ou mais nous vous ils on être avoir cette été",
    "es": "de la que el en y a los se del las un por con no una su para es al lo como más pero sus le ya o "
          "este fue ha sí porque esta son entre cuando muy sin sobre también me hasta",
    "it": "di e il la che a per un in non è una sono del della le si con i da al lo gli come ma più anche "
          "nel alla dei questo ha ci o se mi su",
    "pt": "de a o que e do da em um para é com não uma os no se na por mais as dos como mas foi ao ele das "
          "tem à seu sua ou ser quando muito há nos já está também",
    "nl": "de het een en van in is dat op te zijn met voor niet die aan er ook als maar om bij dan door "
          "naar heeft of uit worden wordt nog hij ze",
    "ru": "и в не на я что он с как а то все она так его но да ты к у же вы за бы по только ее мне было вот "
          "от меня еще нет о из ему это",
    "pl": "i w nie na się z że do to jest jak o a po co tak ale jego od przez za czy być są dla tym już",
    "sv": "och i att det som en på är av för med till den har de inte om ett han men var jag sig från vi så",
    # zh/ja: matched as substrings (no spaces); particles and function characters
    "zh": "的 了 是 在 和 有 我 不 这 也 就 人 都 一个 上 他 们 中 来 到 说 要 会 对 与 为",
    "ja": "の に は を た が で て と し れ さ ある いる も する から な こと として い や など なっ ない この",
}

_FLAGGED: dict[str, str] = {
    "en": "fuck fucking fucked fucker motherfucker shit shitty bullshit cunt cock cocks dick dicks pussy porn "
          "porno pornography xxx nude nudes naked blowjob handjob cumshot cum jizz dildo orgasm horny slut "
          "sluts whore hooker escort anal boobs tits milf hentai bitch bastard asshole wank wanker bollocks "
          "camgirl sexcam stripper erotic",
    "de": "fick ficken scheiße scheisse fotze schwanz arschloch hure nutte porno nackt titten wichser",
    "fr": "putain merde connard salope pute bite chatte enculé baiser porno nue seins branlette",
    "es": "puta puto mierda coño polla follar joder cabrón pendejo porno desnuda tetas verga",
}

SUBSTRING_LANGUAGES = ("zh", "ja")


@lru_cache(None)
def stopwords(language: str) -> frozenset[str]:
    """The bundled stop words of ``language`` (ISO 639-1)."""
    try:
        return frozenset(_STOPWORDS[language].split())
    except KeyError:
        raise UsageError(f"no bundled stop words for language {language!r}; bundled: {sorted(_STOPWORDS)}; "
                         "pass `stop_words` explicitly") from None


@lru_cache(None)
def flagged_words(language: str) -> frozenset[str]:
    """The bundled flagged words of ``language`` (ISO 639-1)."""
    try:
        return frozenset(_FLAGGED[language].split())
    except KeyError:
        raise UsageError(f"no bundled flagged words for language {language!r}; bundled: {sorted(_FLAGGED)}; "
                         "pass `extra_words` and set `language` to one of those, or supply your own list") from None


def _count_words(batch: Batch, words: frozenset[str], language: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct listed words present, listed word occurrences, word tokens) per document."""
    n = batch.num_rows
    distinct = np.zeros(n, np.int64)
    hits = np.zeros(n, np.int64)
    total = np.zeros(n, np.int64)
    if language in SUBSTRING_LANGUAGES:
        for i, text in enumerate(batch.texts()):
            counts = [text.count(w) for w in words]
            distinct[i] = sum(1 for c in counts if c)
            hits[i] = sum(counts)
            total[i] = len(batch.view("word_tokens")[i])
        return distinct, hits, total
    for i, toks in enumerate(batch.view("word_tokens")):
        low = [t.lower() for t in toks]
        found = [t for t in low if t in words]
        distinct[i] = len(set(found))
        hits[i] = len(found)
        total[i] = len(toks)
    return distinct, hits, total


class StopWordsParams(OpParams):
    decision_params: ClassVar[frozenset[str]] = frozenset({"min_stop_words"})
    language: str = Field("en", description="ISO 639-1 code of a bundled list: en de fr es it pt nl ru pl sv zh ja")
    min_stop_words: int = Field(2, ge=0, description="keep docs with at least this many distinct stop words (0: off)")
    stop_words: list[str] | None = Field(None, description="your own list instead of the bundled one")


@register
class StopWords(Operator):
    """Stop-word presence, the language-general form of Gopher's stop-word rule (Rae et al. 2021).

    Real prose in a language uses its function words; menus, keyword lists, code and text in another
    language do not. Words are the shared ``word_tokens`` view, lower-cased. Languages without spaces
    (zh, ja): stop words are counted as substrings of the text. Code: few stop words, usually dropped.
    """

    name = "stopwords"
    family = "quality"
    description = """Count the distinct stop words (the, of, and... in the chosen language) in each document and
    their share of words; by default keep documents with at least 2. A cheap check that a document is
    running prose in the expected language rather than lists, code, tables or another language. Bundled
    lists: en de fr es it pt nl ru pl sv zh ja."""
    Params = StopWordsParams
    signals = (
        Signal("stop_words", "int", "distinct stop words present"),
        Signal("stop_word_ratio", "float", "stop-word occurrences per word token"),
    )
    references = ("https://arxiv.org/abs/2112.11446",)

    def rules(self) -> dict[str, str]:
        m = self.params.min_stop_words
        return {"too_few_stop_words": f"{self.signal_column('stop_words')} >= {m}"} if m else {}

    def apply(self, batch: Batch) -> dict[str, Any]:
        p = self.params
        words = frozenset(w.lower() for w in p.stop_words) if p.stop_words else stopwords(p.language)
        distinct, hits, total = _count_words(batch, words, p.language)
        return {"stop_words": distinct, "stop_word_ratio": hits / np.maximum(total, 1)}


class FlaggedWordsParams(OpParams):
    decision_params: ClassVar[frozenset[str]] = frozenset({"max_flagged_ratio"})
    language: str = Field("en", description="ISO 639-1 code of a bundled list: en de fr es")
    max_flagged_ratio: float | None = Field(
        0.045, ge=0, le=1, description="drop docs where flagged words are a larger share of words (None: measure only)")
    extra_words: list[str] = Field(default_factory=list, description="more words to flag (lower case)")


@register
class FlaggedWords(Operator):
    """Share of words that are on a flagged (explicit / profane) list, as Data-Juicer and BLOOM's ROOTS use.

    The default threshold 0.045 is Data-Juicer's ``flagged_words_filter`` default. Words are lower-cased
    ``word_tokens``; zh/ja lists (if you pass ``extra_words`` with those languages) match substrings. Code
    rarely matches. The bundled lists are short and hand-written (see the module docstring).
    """

    name = "flagged_words"
    family = "safety"
    description = """Measure the share of words that are explicit or profane (bundled short lists for en de fr es,
    extendable) and drop documents above a ratio (default 0.045). Use to cut porn/spam pages from web
    crawls; it is a word-list signal, not a toxicity classifier."""
    Params = FlaggedWordsParams
    signals = (
        Signal("flagged_words", "int", "flagged word occurrences"),
        Signal("flagged_ratio", "float", "flagged word occurrences per word token"),
    )
    references = ("https://arxiv.org/abs/2309.02033",)

    def rules(self) -> dict[str, str]:
        m = self.params.max_flagged_ratio
        return {"too_many_flagged_words": f"{self.signal_column('flagged_ratio')} <= {m}"} if m is not None else {}

    def apply(self, batch: Batch) -> dict[str, Any]:
        p = self.params
        base = flagged_words(p.language) if p.language in _FLAGGED or not p.extra_words else frozenset()
        words = base | frozenset(w.lower() for w in p.extra_words)
        _, hits, total = _count_words(batch, words, p.language)
        return {"flagged_words": hits, "flagged_ratio": hits / np.maximum(total, 1)}
