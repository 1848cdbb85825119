"""Heuristic quality signals and filters from the pretraining-data papers (Gopher, C4, FineWeb).

Each operator *measures* signals and states default keep *rules* with the paper's thresholds; the engine
decides. Words are the shared ``word_tokens`` view (datatrove-compatible: punctuation marks are tokens,
``don't`` is ``do`` + ``n't``), lines the ``splitlines`` view; both are computed once per batch.

Parity with datatrove's filters (same rule order, same reasons) is measured in ``bench/parity_datatrove``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from gristmill.batch import Batch
from gristmill.ops import views as _views  # noqa: F401 - registers the shared views
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register
from gristmill.ops.textstats import count_sentences, duplicate_stats, terminal_punctuation
from gristmill.ops.wordsplit import split_word_ids, split_words, token_props, word_id

GOPHER_STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")
CJK_LANGUAGES = ("zh", "ja")


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


# ==========================================================================================================
# Gopher quality
# ==========================================================================================================
class GopherQualityParams(OpParams):
    decision_params: ClassVar[frozenset[str]] = frozenset({
        "min_doc_words", "max_doc_words", "min_avg_word_length", "max_avg_word_length", "max_symbol_word_ratio",
        "max_bullet_lines_ratio", "max_ellipsis_lines_ratio", "min_alpha_words_ratio", "min_stop_words",
    })
    min_doc_words: int | None = Field(50, ge=0, description="keep docs with at least this many non-symbol words")
    max_doc_words: int | None = Field(100_000, ge=1, description="keep docs with at most this many non-symbol words")
    min_avg_word_length: float | None = Field(3, ge=0, description="minimum mean word length (characters)")
    max_avg_word_length: float | None = Field(10, ge=0, description="maximum mean word length (characters)")
    max_symbol_word_ratio: float | None = Field(
        0.1, ge=0, description="maximum ratio of '#' (and, separately, of '...'/'…') to words")
    max_bullet_lines_ratio: float | None = Field(0.9, ge=0, le=1, description="maximum share of lines starting with a bullet")
    max_ellipsis_lines_ratio: float | None = Field(
        0.3, ge=0, le=1, description="maximum share of lines ending with an ellipsis")
    min_alpha_words_ratio: float | None = Field(
        0.8, ge=0, le=1, description="minimum share of words containing an alphabetic character")
    min_stop_words: int | None = Field(2, ge=0, description="minimum number of distinct stop words present")
    stop_words: list[str] | None = Field(
        None, description="stop words to look for; default: the paper's English list (the, be, to, of, and, "
        "that, have, with), or the bundled list of `language` when it is not English")
    language: str = Field("en", description="ISO 639-1 code; zh/ja turn off the word-length rules")


@register
class GopherQuality(Operator):
    """Gopher quality rules (Rae et al. 2021, "Scaling Language Models", appendix A.1.1).

    Keeps a document with 50–100,000 words, mean word length 3–10, at most 0.1 '#' or ellipses per word, at
    most 90 % bullet lines and 30 % lines ending in an ellipsis, at least 80 % words with a letter and at least
    two of the stop words "the, be, to, of, and, that, have, with". Word counts and lengths skip tokens made
    only of punctuation (as datatrove does); the '#'/ellipsis and alphabetic ratios divide by all tokens.

    Languages without spaces: Han characters are one word each and kana runs one word, so mean word length is
    ~1–2; for ``language`` zh/ja the word-length rules are left out of the default rules (signals are still
    measured) and the bundled zh/ja stop words are used. Code: fails most rules (symbols, no stop words) by
    design; route code around this filter.
    """

    name = "gopher_quality"
    family = "quality"
    description = """Gopher (Rae et al. 2021) document quality rules for web prose: word count 50–100k, mean word
    length 3–10 characters, few '#' and ellipses, not mostly bullet lines, at least 80% words with a letter, at
    least 2 English stop words. Drops boilerplate, lists, tables, code, spam and non-prose. Signals let you
    re-threshold. English defaults; for zh/ja set `language` (word-length rules off). Not for source code."""
    Params = GopherQualityParams
    signals = (
        Signal("n_words", "int", "word tokens including punctuation tokens"),
        Signal("n_non_symbol_words", "int", "word tokens that are not only punctuation"),
        Signal("mean_word_length", "float", "mean length of non-symbol words (NaN when there are none)"),
        Signal("hash_ratio", "float", "count of '#' per word token"),
        Signal("ellipsis_ratio", "float", "count of '...' and '…' per word token"),
        Signal("bullet_lines_ratio", "float", "share of lines starting with '•' or '-'"),
        Signal("end_ellipsis_lines_ratio", "float", "share of lines ending with '...' or '…'"),
        Signal("alpha_words_ratio", "float", "share of word tokens containing an alphabetic character"),
        Signal("stop_words", "int", "distinct stop words present"),
    )
    references = ("https://arxiv.org/abs/2112.11446",)

    def _stop_words(self) -> frozenset[str]:
        p = self.params
        if p.stop_words is not None:
            return frozenset(p.stop_words)
        if p.language == "en":
            return frozenset(GOPHER_STOP_WORDS)
        from gristmill.ops.lexicon import stopwords

        return stopwords(p.language)

    def rules(self) -> dict[str, str]:
        p, c = self.params, self.signal_column
        r: dict[str, str] = {}
        if p.min_doc_words:
            r["short_doc"] = f"{c('n_non_symbol_words')} >= {p.min_doc_words}"
        if p.max_doc_words:
            r["long_doc"] = f"{c('n_non_symbol_words')} <= {p.max_doc_words}"
        if p.language not in CJK_LANGUAGES:
            if p.min_avg_word_length:
                r["below_avg_threshold"] = f"not ({c('mean_word_length')} < {p.min_avg_word_length})"
            if p.max_avg_word_length:
                r["above_avg_threshold"] = f"not ({c('mean_word_length')} > {p.max_avg_word_length})"
        if p.max_symbol_word_ratio:
            r["too_many_hashes"] = f"{c('hash_ratio')} <= {p.max_symbol_word_ratio}"
            r["too_many_ellipsis"] = f"{c('ellipsis_ratio')} <= {p.max_symbol_word_ratio}"
        if p.max_bullet_lines_ratio:
            r["too_many_bullets"] = f"{c('bullet_lines_ratio')} <= {p.max_bullet_lines_ratio}"
        if p.max_ellipsis_lines_ratio:
            r["too_many_end_ellipsis"] = f"{c('end_ellipsis_lines_ratio')} <= {p.max_ellipsis_lines_ratio}"
        if p.min_alpha_words_ratio:
            r["below_alpha_threshold"] = f"{c('alpha_words_ratio')} >= {p.min_alpha_words_ratio}"
        if p.min_stop_words:
            r["enough_stop_words"] = f"{c('stop_words')} >= {p.min_stop_words}"
        return r

    def apply(self, batch: Batch) -> dict[str, Any]:
        # Whole-batch numpy over the concatenated token ids: per-token facts come from the vocabulary table
        # (computed once per distinct token), per-document sums from bincount.
        texts = batch.texts()
        ids_all = batch.view("word_ids")
        n = len(texts)
        props = token_props()
        nw = np.fromiter(map(len, ids_all), np.int64, n)
        flat = np.concatenate(ids_all) if n else np.zeros(0, np.int64)
        doc = np.repeat(np.arange(n), nw)
        not_sym = ~props["symbol"][flat]
        n_ns = np.bincount(doc[not_sym], minlength=n)
        len_ns = np.bincount(doc[not_sym], weights=props["length"][flat[not_sym]], minlength=n)
        n_alpha = np.bincount(doc[props["alpha"][flat]], minlength=n)
        bullets, end_ell, nl = _bullet_and_ellipsis_lines(texts, batch)
        hashes = np.fromiter((t.count("#") for t in texts), np.float64, n)
        ellipses = np.fromiter((t.count("...") + t.count("…") for t in texts), np.float64, n)
        stop = self._stop_words()
        if self.params.language in CJK_LANGUAGES:
            stop_count = np.fromiter((sum(1 for w in stop if w in t) for t in texts), np.int64, n)
        else:
            stop_ids = np.array(sorted(i for i in map(word_id, stop) if i is not None), np.int64)
            hit = np.isin(flat, stop_ids)
            pairs = np.unique(doc[hit] * (len(stop_ids) + 1) + np.searchsorted(stop_ids, flat[hit]))
            stop_count = np.bincount(pairs // (len(stop_ids) + 1), minlength=n) if len(pairs) else np.zeros(n, np.int64)
        with np.errstate(divide="ignore", invalid="ignore"):
            nwf = np.where(nw > 0, nw, 1).astype(np.float64)
            nlf = np.where(nl > 0, nl, 1).astype(np.float64)
            return {
                "n_words": nw,
                "n_non_symbol_words": n_ns,
                "mean_word_length": np.where(n_ns > 0, len_ns / np.where(n_ns > 0, n_ns, 1), np.nan),
                "hash_ratio": np.where(nw > 0, hashes / nwf, 0.0),
                "ellipsis_ratio": np.where(nw > 0, ellipses / nwf, 0.0),
                "bullet_lines_ratio": np.where(nl > 0, bullets / nlf, 0.0),
                "end_ellipsis_lines_ratio": np.where(nl > 0, end_ell / nlf, 0.0),
                "alpha_words_ratio": np.where(nw > 0, n_alpha / nwf, 0.0),
                "stop_words": stop_count.astype(np.int64),
            }


# line breaks other than \n that str.splitlines() also honours
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_BULLET_LINE = re.compile(r"^[^\S\n]*[•-]", re.M)
_ELLIPSIS_LINE = re.compile(r"(?:\.\.\.|…)[^\S\n]*$", re.M)


def _bullet_and_ellipsis_lines(texts: list[str], batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per document: lines starting with a bullet, lines ending with an ellipsis, lines (``splitlines``).

    One regex pass over the whole text when ``\n`` is its only line break (the usual case); the per-line
    loop otherwise.
    """
    n = len(texts)
    bullets = np.zeros(n, np.int64)
    end_ell = np.zeros(n, np.int64)
    nl = np.zeros(n, np.int64)
    lines_all = None
    for i, t in enumerate(texts):
        if not t:
            continue
        if _OTHER_BREAKS.search(t) is None:
            nl[i] = t.count("\n") + (not t.endswith("\n"))
            bullets[i] = len(_BULLET_LINE.findall(t))
            end_ell[i] = len(_ELLIPSIS_LINE.findall(t))
        else:
            if lines_all is None:
                lines_all = batch.view("splitlines")
            lines = lines_all[i]
            nl[i] = len(lines)
            bullets[i] = sum(1 for s in lines if s.lstrip().startswith(("•", "-")))
            end_ell[i] = sum(1 for s in lines if s.rstrip().endswith(("...", "…")))
    return bullets, end_ell, nl


# ==========================================================================================================
# Gopher repetition
# ==========================================================================================================
TOP_NS = (2, 3, 4)
DUP_NS = (5, 6, 7, 8, 9, 10)
_MIX = np.uint64(0x9E3779B97F4A7C15)


class GopherRepetitionParams(OpParams):
    decision_params: ClassVar[frozenset[str]] = frozenset({
        "dup_line_frac", "dup_para_frac", "dup_line_char_frac", "dup_para_char_frac", "top_n_grams", "dup_n_grams",
    })
    dup_line_frac: float | None = Field(0.3, ge=0, le=1, description="max share of lines that repeat an earlier line")
    dup_para_frac: float | None = Field(0.3, ge=0, le=1, description="max share of paragraphs that repeat an earlier one")
    dup_line_char_frac: float | None = Field(0.2, ge=0, le=1, description="max share of characters in repeated lines")
    dup_para_char_frac: float | None = Field(0.2, ge=0, le=1, description="max share of characters in repeated paragraphs")
    top_n_grams: dict[int, float] = Field(
        {2: 0.2, 3: 0.18, 4: 0.16},
        description="n (2-4) -> max share of characters covered by the most frequent n-gram")
    dup_n_grams: dict[int, float] = Field(
        {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10},
        description="n (5-10) -> max share of characters in repeated n-grams")


@register
class GopherRepetition(Operator):
    """Gopher repetition rules (Rae et al. 2021, appendix A.1.1, table A1).

    Measures, against the document's characters: repeated lines and paragraphs (share of items and of
    characters, every occurrence after the first), the share covered by the most frequent 2-, 3- and 4-gram
    (count × its length with single spaces), and the share of characters in repeated 5- to 10-grams (a greedy
    left-to-right scan that skips past each repeat, as in datatrove). Thresholds are the paper's.

    Languages without spaces: n-grams run over Han characters / kana runs (see ``word_tokens``), so the
    n-gram rules see character n-grams there: stricter than on English, but still catching repeated text;
    line and paragraph rules are script-independent. Code: repeated lines (closing braces, imports) are
    common, so code often fails the line rules; route code around this filter.
    """

    name = "gopher_repetition"
    family = "quality"
    description = """Gopher (Rae et al. 2021) repetition rules: drop documents whose lines or paragraphs repeat
    (more than 30% duplicated, or 20% of characters), whose most frequent 2/3/4-gram covers more than
    20/18/16% of characters, or whose repeated 5–10-grams cover more than 15–10%. Catches spam, templated
    pages, crawl loops and degenerate text. Works for any language; strict on source code."""
    Params = GopherRepetitionParams
    signals = (
        Signal("chars", "int", "characters in the document"),
        Signal("dup_para_frac", "float", "share of paragraphs that repeat an earlier paragraph"),
        Signal("dup_para_char_frac", "float", "share of characters in repeated paragraphs"),
        Signal("dup_line_frac", "float", "share of lines that repeat an earlier line"),
        Signal("dup_line_char_frac", "float", "share of characters in repeated lines"),
        *(Signal(f"top_{n}_gram_frac", "float", f"share of characters covered by the most frequent {n}-gram")
          for n in TOP_NS),
        *(Signal(f"dup_{n}_gram_frac", "float", f"share of characters in repeated {n}-grams") for n in DUP_NS),
    )
    references = ("https://arxiv.org/abs/2112.11446",)

    def __init__(self, params: OpParams | None = None, step: str | None = None) -> None:
        super().__init__(params, step)
        bad = [n for n in self.params.top_n_grams if n not in TOP_NS]
        bad += [n for n in self.params.dup_n_grams if n not in DUP_NS]
        if bad:
            raise ValueError(f"gopher_repetition: n-gram sizes {bad} not supported; top_n_grams takes n in "
                             f"{TOP_NS}, dup_n_grams n in {DUP_NS}")

    def rules(self) -> dict[str, str]:
        p, c = self.params, self.signal_column
        r = {"empty": f"{c('chars')} > 0"}
        for name in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"):
            thr = getattr(p, name)
            if thr:
                r[name] = f"{c(name)} <= {thr}"
        for n, thr in sorted(p.top_n_grams.items()):
            r[f"top_{n}_gram"] = f"{c(f'top_{n}_gram_frac')} <= {thr}"
        for n, thr in sorted(p.dup_n_grams.items()):
            r[f"duplicated_{n}_n_grams"] = f"{c(f'dup_{n}_gram_frac')} <= {thr}"
        return r

    def apply(self, batch: Batch) -> dict[str, Any]:
        texts = batch.texts()
        n = len(texts)
        out: dict[str, np.ndarray] = {s.name: np.zeros(n, np.float64) for s in self.signals}
        out["chars"] = np.fromiter(map(len, texts), np.int64, n)
        paras_all = batch.view("paragraphs")
        lines_all = batch.view("newline_runs")
        nchar = out["chars"]
        for i in range(n):
            if not nchar[i]:
                continue
            paras = paras_all[i]
            d, dc = duplicate_stats(paras)
            out["dup_para_frac"][i] = d / len(paras)
            out["dup_para_char_frac"][i] = dc / nchar[i]
            lines = lines_all[i]
            d, dc = duplicate_stats(lines)
            out["dup_line_frac"][i] = d / len(lines)
            out["dup_line_char_frac"][i] = dc / nchar[i]
        safe = np.where(nchar > 0, nchar, 1).astype(np.float64)
        for n_, top, dup in _batch_ngram_stats(batch.view("word_ids")):
            if top is not None:
                out[f"top_{n_}_gram_frac"] = np.where(nchar > 0, top / safe, 0.0)
            if dup is not None:
                out[f"dup_{n_}_gram_frac"] = np.where(nchar > 0, dup / safe, 0.0)
        return out


def _batch_ngram_stats(ids_all: list[np.ndarray]) -> list[tuple[int, np.ndarray | None, np.ndarray | None]]:
    """Per n, per document: characters of the top n-gram × its count (n = 2-4), characters in repeated
    n-grams (n = 5-10), for a whole batch at once.

    The batch's token ids are concatenated; an n-gram key is a rolling 64-bit hash of its tokens mixed with
    the document number, so one ``np.unique`` per n counts n-grams of every document together. The top
    n-gram is the most frequent one, ties going to the one seen first (as ``Counter.most_common`` does).
    Repeated n-grams use datatrove's greedy left-to-right scan (a repeat skips the next n-1 positions, and a
    skipped n-gram is not remembered); the scan visits only positions whose n-gram occurs more than once,
    which gives the same result because only those can be repeats or be remembered for one.
    """
    ndoc = len(ids_all)
    res: list[tuple[int, np.ndarray | None, np.ndarray | None]] = []
    if not ndoc:
        return [(n, np.zeros(0) if n <= 4 else None, None if n <= 4 else np.zeros(0)) for n in range(2, 11)]
    props = token_props()
    nw = np.fromiter(map(len, ids_all), np.int64, ndoc)
    flat = np.concatenate(ids_all)
    total = len(flat)
    h = props["hash"][flat]
    cs = np.zeros(total + 1, np.int64)
    np.cumsum(props["length"][flat], out=cs[1:])
    starts = np.zeros(ndoc, np.int64)
    np.cumsum(nw[:-1], out=starts[1:])
    doc = np.repeat(np.arange(ndoc, dtype=np.int64), nw)
    pos_in_doc = np.arange(total, dtype=np.int64) - starts[doc]
    doc_key = (np.arange(1, ndoc + 1, dtype=np.uint64)) * np.uint64(0xD6E8FEB86659FD93)  # per document
    g = h
    any_repeat = np.ones(ndoc, bool)  # for n >= 5: a document without repeated k-grams has none for k > n
    for n in range(2, 11):
        m = total - n + 1
        top = np.zeros(ndoc, np.float64) if n <= 4 else None
        dup = np.zeros(ndoc, np.float64) if n > 4 else None
        if m <= 0:
            res.append((n, top, dup))
            continue
        with np.errstate(over="ignore"):
            g = g[:m] * _MIX + h[n - 1 :]
        valid = pos_in_doc[:m] <= (nw[doc[:m]] - n)  # the n-gram lies inside one document
        if n > 4:
            valid &= any_repeat[doc[:m]]
        pos = np.flatnonzero(valid)
        if not len(pos):
            if n > 4:
                any_repeat[:] = False
            res.append((n, top, dup))
            continue
        with np.errstate(over="ignore"):
            key = g[pos] ^ doc_key[doc[pos]]
        _, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
        cnt = counts[inv]
        pdoc = doc[pos]
        span = cs[pos + n] - cs[pos]  # characters of the n words joined without spaces
        if n <= 4:
            best = np.zeros(ndoc, np.int64)
            np.maximum.at(best, pdoc, cnt)
            at_best = np.flatnonzero(cnt == best[pdoc])
            first_doc, first_at = np.unique(pdoc[at_best], return_index=True)
            j = at_best[first_at]
            top[first_doc] = best[first_doc] * (span[j] + n - 1)
        else:
            rep_pos = np.flatnonzero(cnt > 1)
            has = np.zeros(ndoc, bool)
            has[pdoc[rep_pos]] = True
            any_repeat &= has
            if len(rep_pos):
                _greedy_repeats(pdoc[rep_pos], pos_in_doc[pos[rep_pos]], inv[rep_pos], span[rep_pos], n, dup)
        res.append((n, top, dup))
    return res


def _greedy_repeats(docs: np.ndarray, where: np.ndarray, value: np.ndarray, span: np.ndarray, n: int,
                    out: np.ndarray) -> None:
    """datatrove's repeated n-gram scan over the candidate positions (in order), adding characters to ``out``."""
    seen: set[int] = set()
    cur_doc = -1
    skip_until = 0
    rep = 0
    for d, p, v, s in zip(docs.tolist(), where.tolist(), value.tolist(), span.tolist()):
        if d != cur_doc:
            if cur_doc >= 0:
                out[cur_doc] = rep
            cur_doc, rep, skip_until = d, 0, 0
            seen = set()
        if p < skip_until:
            continue
        if v in seen:
            rep += s
            skip_until = p + n
        else:
            seen.add(v)
    if cur_doc >= 0:
        out[cur_doc] = rep


# ==========================================================================================================
# C4 quality
# ==========================================================================================================
C4_POLICY_SUBSTRINGS = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
                        "use cookies")
C4_END_PUNCTUATION = (".", "?", "!", '"', "'")


class C4QualityParams(OpParams):
    remove_citations: bool = Field(True, description="strip Wikipedia-style citations ([1], [edit]) before the line checks")
    filter_no_terminal_punct: bool = Field(True, description="a line counts only if it ends in . ? ! \" or ' (not ...)")
    min_num_sentences: int = Field(5, ge=-1, description="drop docs with fewer sentences in counted lines (-1: off)")
    min_words_per_line: int = Field(3, ge=-1, description="a line counts only with at least this many words (-1: off)")
    max_word_length: int = Field(1000, ge=-1, description="a line with a longer word is ignored (-1: off)")
    filter_lorem_ipsum: bool = Field(True, description="drop docs containing 'lorem ipsum'")
    filter_javascript: bool = Field(True, description="ignore lines mentioning 'javascript'")
    filter_curly_bracket: bool = Field(True, description="drop docs containing '{'")
    filter_policy: bool = Field(True, description="ignore lines about cookies / terms of use / privacy policy")


@register
class C4Quality(Operator):
    """C4 page rules (Raffel et al. 2020, section 2.2), the decision part.

    The C4 line rules decide which lines *count*: lines with a word over 1000 characters, without terminal
    punctuation (or ending in '...'), with fewer than 3 words, mentioning javascript, or with cookie / terms
    of use / privacy policy phrases are ignored. The page is dropped when a counted line contains 'lorem
    ipsum' or a curly bracket, or when the counted lines hold fewer than 5 sentences. This operator only
    measures and decides; to *remove* those lines from the text use the ``c4_line_filter`` cleaning operator
    (datatrove's C4QualityFilter does both at once). Word counts per line are whitespace words (as in C4).

    Languages without spaces: a Chinese/Japanese line is one "word" and ends in '。' (not in C4's list), so
    nearly every CJK page is dropped; C4 is English-only by definition (mC4 replaced these rules). Code:
    dropped (curly brackets, no terminal punctuation), as in C4.
    """

    name = "c4_quality"
    family = "quality"
    description = """C4 (Raffel et al. 2020) page rules for English web text: count only lines that end in
    terminal punctuation, have 3+ words and no javascript/cookie/policy boilerplate; drop pages with 'lorem
    ipsum', a curly bracket '{', or fewer than 5 sentences in counted lines. Removes menus, boilerplate
    pages, code and placeholder text. English only; pair with c4_line_filter to also delete the lines."""
    Params = C4QualityParams
    signals = (
        Signal("lines", "int", "lines in the document"),
        Signal("lines_counted", "int", "lines that pass the C4 line rules"),
        Signal("sentences", "int", "sentences in counted lines"),
        Signal("lorem_ipsum", "int", "1 if a counted line contains 'lorem ipsum'"),
        Signal("curly_bracket", "int", "1 if a counted line contains '{'"),
    )
    references = ("https://jmlr.org/papers/v21/20-074.html",)

    def rules(self) -> dict[str, str]:
        p, c = self.params, self.signal_column
        r: dict[str, str] = {}
        if p.filter_lorem_ipsum:
            r["lorem_ipsum"] = f"{c('lorem_ipsum')} == 0"
        if p.filter_curly_bracket:
            r["curly_bracket"] = f"{c('curly_bracket')} == 0"
        if p.min_num_sentences != -1:
            r["too_few_sentences"] = f"{c('sentences')} >= {p.min_num_sentences}"
        return r

    def apply(self, batch: Batch) -> dict[str, Any]:
        n = batch.num_rows
        out = {s.name: np.zeros(n, np.int64) for s in self.signals}
        kept_ids: list[np.ndarray] = []
        kept_doc: list[int] = []
        count = self.params.min_num_sentences != -1
        for i, lines in enumerate(batch.view("splitlines")):
            st = c4_line_scan(lines, self.params, count_sentences_=False)
            out["lines"][i] = len(lines)
            out["lines_counted"][i] = len(st.kept)
            out["lorem_ipsum"][i] = st.lorem_ipsum
            out["curly_bracket"][i] = st.curly_bracket
            if count:
                kept_ids.extend(map(split_word_ids, st.kept))
                kept_doc.extend([i] * len(st.kept))
        if kept_ids:
            out["sentences"] = np.bincount(np.asarray(kept_doc, np.int64), weights=sentences_per_line(kept_ids),
                                           minlength=n).astype(np.int64)
        return out


def sentences_per_line(lines_ids: list[np.ndarray]) -> np.ndarray:
    """Sentences in each line (given as token ids), for all lines at once: ``count_sentences`` vectorised.

    A line with tokens has one sentence plus one per "word" token (neither terminal punctuation nor only
    punctuation) that has a terminal punctuation token between it and the previous word token of the line.
    """
    props = token_props()
    nt = np.fromiter(map(len, lines_ids), np.int64, len(lines_ids))
    flat = np.concatenate(lines_ids)
    line = np.repeat(np.arange(len(lines_ids)), nt)
    term = props["term"][flat]
    word = ~term & ~props["punct"][flat]
    tc = np.concatenate([[0], np.cumsum(term)])  # tc[k] = terminal tokens before position k
    wpos = np.flatnonzero(word)
    wline = line[wpos]
    starts = np.concatenate([[0], np.cumsum(nt)[:-1]])
    prev = np.empty_like(wpos)
    if len(wpos):
        prev[0] = starts[wline[0]]
        prev[1:] = np.where(wline[1:] == wline[:-1], wpos[:-1] + 1, starts[wline[1:]])
    new_sentence = (tc[wpos] - tc[prev]) > 0
    return (nt > 0) + np.bincount(wline[new_sentence], minlength=len(lines_ids))


_CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")


class C4Scan:
    __slots__ = ("kept", "sentences", "lorem_ipsum", "curly_bracket", "removed")

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.sentences = 0
        self.lorem_ipsum = 0
        self.curly_bracket = 0
        self.removed: dict[str, int] = {"too_long_word": 0, "no_terminal_punct": 0, "too_few_words": 0,
                                        "javascript": 0, "policy": 0}


def c4_line_scan(lines: list[str], p: Any, count_sentences_: bool = True) -> C4Scan:
    """Walk the lines with the C4 line rules; shared by ``c4_quality`` and ``c4_line_filter``."""
    st = C4Scan()
    cite = _CITATION if p.remove_citations else None
    for line in lines:
        line = line.strip()
        words = line.split()
        if p.max_word_length != -1 and len(line) > p.max_word_length and any(len(w) > p.max_word_length for w in words):
            st.removed["too_long_word"] += 1
            continue
        if cite is not None and "[" in line:
            line = cite.sub("", line)
        if p.filter_no_terminal_punct and (not line.endswith(C4_END_PUNCTUATION) or line.endswith("...")):
            st.removed["no_terminal_punct"] += 1
            continue
        if len(words) < p.min_words_per_line:
            st.removed["too_few_words"] += 1
            continue
        low = line.lower()
        if p.filter_lorem_ipsum and "lorem ipsum" in low:
            st.lorem_ipsum = 1
        if p.filter_javascript and "javascript" in low:
            st.removed["javascript"] += 1
            continue
        if getattr(p, "filter_curly_bracket", False) and "{" in line:
            st.curly_bracket = 1
        if p.filter_policy and any(s in low for s in C4_POLICY_SUBSTRINGS):
            st.removed["policy"] += 1
            continue
        if count_sentences_ and getattr(p, "min_num_sentences", -1) != -1:
            st.sentences += count_sentences(split_words(line))
        st.kept.append(line)
    return st


# ==========================================================================================================
# FineWeb quality
# ==========================================================================================================
class FineWebQualityParams(OpParams):
    decision_params: ClassVar[frozenset[str]] = frozenset({
        "line_punct_thr", "line_punct_exclude_zero", "short_line_thr", "char_duplicates_ratio", "new_line_ratio",
    })
    line_punct_thr: float = Field(0.12, ge=0, le=1, description="min share of lines ending in terminal punctuation")
    line_punct_exclude_zero: bool = Field(False, description="do not apply the rule when no line ends in punctuation")
    stop_chars: list[str] | None = Field(None, description="line-ending characters; default: Unicode sentence terminals")
    short_line_thr: float = Field(0.67, ge=0, le=1, description="max share of short lines")
    short_line_length: int = Field(30, ge=0, description="a line of at most this many characters is short")
    char_duplicates_ratio: float = Field(0.01, ge=0, le=1, description="max share of characters in repeated lines")
    new_line_ratio: float = Field(0.3, ge=0, description="max newlines per word")


@register
class FineWebQuality(Operator):
    """FineWeb custom filters (Penedo et al. 2024, "The FineWeb Datasets", section 3.5).

    On non-blank lines: at least 12 % end in terminal punctuation, at most 67 % are 30 characters or
    shorter, repeated lines hold at most 1 % of the (newline-free) characters; and at most 0.3 newlines per
    word token. Lines are compared as they are (not stripped), as in the reference implementation.

    Languages without spaces: the line rules are script-independent ('。' is terminal punctuation); the
    newline-per-word rule counts Han characters as words, so it is lenient there. Code: fails the
    punctuation and short-line rules (by design for a web-prose filter).
    """

    name = "fineweb_quality"
    family = "quality"
    description = """FineWeb (Penedo et al. 2024) line-based rules: drop documents where under 12% of lines end
    in punctuation, over 67% of lines are short (<=30 chars), over 1% of characters are in duplicated lines,
    or there are over 0.3 newlines per word. Removes lists, menus, navigation and templated pages that
    Gopher and C4 miss. Any language with sentence punctuation; not for code."""
    Params = FineWebQualityParams
    signals = (
        Signal("lines", "int", "non-blank lines"),
        Signal("line_punct_ratio", "float", "share of non-blank lines ending in terminal punctuation"),
        Signal("short_line_ratio", "float", "share of non-blank lines at most short_line_length characters long"),
        Signal("char_dup_ratio", "float", "characters in repeated lines / characters without newlines"),
        Signal("list_ratio", "float", "newlines per word token"),
    )
    references = ("https://arxiv.org/abs/2406.17557",)

    def rules(self) -> dict[str, str]:
        p, c = self.params, self.signal_column
        punct = f"{c('line_punct_ratio')} >= {p.line_punct_thr}"
        if p.line_punct_exclude_zero:
            punct = f"({punct}) or {c('line_punct_ratio')} == 0"
        return {
            "empty": f"{c('lines')} > 0",
            "line_punct_ratio": punct,
            "short_line_ratio": f"{c('short_line_ratio')} <= {p.short_line_thr}",
            "char_dup_ratio": f"{c('char_dup_ratio')} <= {p.char_duplicates_ratio}",
            "list_ratio": f"{c('list_ratio')} <= {p.new_line_ratio}",
        }

    def apply(self, batch: Batch) -> dict[str, Any]:
        p = self.params
        stop = tuple(p.stop_chars) if p.stop_chars is not None else tuple(terminal_punctuation())
        texts = batch.texts()
        toks_all = batch.view("word_ids")
        n = len(texts)
        out: dict[str, np.ndarray] = {s.name: np.zeros(n, np.float64) for s in self.signals}
        out["lines"] = np.zeros(n, np.int64)
        short = p.short_line_length
        for i, (text, raw) in enumerate(zip(texts, batch.view("lines"))):
            lines = [ln for ln in raw if ln.strip()]
            nl = len(lines)
            if not nl:
                continue
            out["lines"][i] = nl
            out["line_punct_ratio"][i] = sum(1 for ln in lines if ln.endswith(stop)) / nl
            out["short_line_ratio"][i] = sum(1 for ln in lines if len(ln) <= short) / nl
            out["char_dup_ratio"][i] = _ratio(duplicate_stats(lines)[1], len(text) - text.count("\n"))
            out["list_ratio"][i] = _ratio(text.count("\n"), len(toks_all[i]))
        return out


# ==========================================================================================================
# Character ratios
# ==========================================================================================================
class CharRatiosParams(OpParams):
    decision_params: ClassVar[frozenset[str]] = frozenset({
        "min_alpha_ratio", "max_digit_ratio", "max_upper_ratio", "max_symbol_ratio", "max_whitespace_ratio",
    })
    min_alpha_ratio: float | None = Field(None, ge=0, le=1, description="drop docs with a smaller share of letters")
    max_digit_ratio: float | None = Field(None, ge=0, le=1, description="drop docs with a larger share of digits")
    max_upper_ratio: float | None = Field(None, ge=0, le=1, description="drop docs with a larger share of upper-case letters among letters")
    max_symbol_ratio: float | None = Field(None, ge=0, le=1, description="drop docs with a larger share of punctuation and symbols")
    max_whitespace_ratio: float | None = Field(None, ge=0, le=1, description="drop docs with a larger share of whitespace")


# character classes: 0 other, 1 letter (lower/uncased), 2 upper-case letter, 3 digit, 4 punctuation/symbol, 5 space
_CLASS_TABLE: np.ndarray | None = None


def _class_table() -> np.ndarray:
    global _CLASS_TABLE
    if _CLASS_TABLE is None:
        import unicodedata

        t = np.zeros(0x110000, np.uint8)
        for cp in range(0x30000):
            ch = chr(cp)
            cat = unicodedata.category(ch)
            if cat == "Lu" or cat == "Lt":
                t[cp] = 2
            elif cat[0] == "L":
                t[cp] = 1
            elif cat == "Nd":
                t[cp] = 3
            elif cat[0] in "PS":
                t[cp] = 4
            elif ch.isspace():
                t[cp] = 5
        _CLASS_TABLE = t
    return _CLASS_TABLE


@register
class CharRatios(Operator):
    """Shares of letters, digits, upper-case letters, punctuation/symbols and whitespace in a document.

    Ratios are over all characters, except ``upper_ratio`` which is over letters (so it means "shouting").
    Computed for the whole batch at once with a code-point class table (numpy), no per-character Python.
    Defaults keep everything: the rules exist only for thresholds you set.

    Languages without spaces: Han and kana are letters (uncased), so ``alpha_ratio`` is high and
    ``whitespace_ratio`` low there; do not reuse English whitespace thresholds. Code: high symbol and
    whitespace ratios are normal.
    """

    name = "char_ratios"
    family = "quality"
    description = """Measure the share of letters, digits, upper-case letters (among letters), punctuation/
    symbols and whitespace in each document; optional min/max thresholds (none by default). Use to find
    tables of numbers, shouting, symbol spam or whitespace-padded junk, and to profile a corpus before
    choosing thresholds. Works for any script."""
    Params = CharRatiosParams
    signals = (
        Signal("alpha_ratio", "float", "letters / characters"),
        Signal("digit_ratio", "float", "decimal digits / characters"),
        Signal("upper_ratio", "float", "upper-case letters / letters"),
        Signal("symbol_ratio", "float", "punctuation and symbol characters / characters"),
        Signal("whitespace_ratio", "float", "whitespace / characters"),
    )

    def rules(self) -> dict[str, str]:
        p, c = self.params, self.signal_column
        r: dict[str, str] = {}
        if p.min_alpha_ratio is not None:
            r["too_few_letters"] = f"{c('alpha_ratio')} >= {p.min_alpha_ratio}"
        if p.max_digit_ratio is not None:
            r["too_many_digits"] = f"{c('digit_ratio')} <= {p.max_digit_ratio}"
        if p.max_upper_ratio is not None:
            r["too_much_upper_case"] = f"{c('upper_ratio')} <= {p.max_upper_ratio}"
        if p.max_symbol_ratio is not None:
            r["too_many_symbols"] = f"{c('symbol_ratio')} <= {p.max_symbol_ratio}"
        if p.max_whitespace_ratio is not None:
            r["too_much_whitespace"] = f"{c('whitespace_ratio')} <= {p.max_whitespace_ratio}"
        return r

    def apply(self, batch: Batch) -> dict[str, Any]:
        counts = char_class_counts(batch.texts())  # (n, 6)
        total = counts.sum(axis=1).astype(np.float64)
        letters = (counts[:, 1] + counts[:, 2]).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            safe = np.where(total > 0, total, 1.0)
            return {
                "alpha_ratio": letters / safe,
                "digit_ratio": counts[:, 3] / safe,
                "upper_ratio": counts[:, 2] / np.where(letters > 0, letters, 1.0),
                "symbol_ratio": counts[:, 4] / safe,
                "whitespace_ratio": counts[:, 5] / safe,
            }


def char_class_counts(texts: list[str]) -> np.ndarray:
    """Counts per document of the six character classes, for a list of texts, vectorised."""
    table = _class_table()
    n = len(texts)
    out = np.zeros((n, 6), np.int64)
    if not n:
        return out
    lens = np.fromiter(map(len, texts), np.int64, n)
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), np.uint32)
    cls = table[cps].astype(np.int64)
    doc = np.repeat(np.arange(n), lens)
    return np.bincount(doc * 6 + cls, minlength=n * 6).reshape(n, 6)
