"""MinHash-LSH near-duplicate dedup: estimates track exact Jaccard, LSH merges what it should."""

from __future__ import annotations

import itertools
import string

import numpy as np
import pytest
from pydantic import ValidationError

from gristmill.ops.minhash import (
    MinHashDedup,
    MinHashParams,
    candidate_probability,
    connected_components,
    optimal_bands_rows,
    trapezoid,
)
from gristmill.ops.registry import get_op
from gristmill.ops.shingles import Normalization, shingle_hashes

from ._dedup_helpers import batch_of, run_global

VOCAB = ["".join(t) for t in itertools.islice(itertools.product(string.ascii_lowercase, repeat=4), 30000)]


def words(rng: np.random.Generator, k: int) -> list[str]:
    return [VOCAB[i] for i in rng.choice(len(VOCAB), k, replace=False)]


def shingle_set(text: str, n: int) -> set[tuple[str, ...]]:
    w = text.split()
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


def jaccard(a: str, b: str, n: int) -> float:
    sa, sb = shingle_set(a, n), shingle_set(b, n)
    return len(sa & sb) / len(sa | sb)


def with_jaccard(rng: np.random.Generator, k: int, target: float) -> tuple[str, str, float]:
    """Two unigram documents whose word sets have Jaccard exactly ``shared / (2k - shared)``."""
    shared = round(2 * k * target / (1 + target))
    pool = words(rng, 2 * k - shared)
    a = pool[:k]
    b = pool[:shared] + pool[k:]
    rng.shuffle(b)
    j = shared / (2 * k - shared)
    return " ".join(a), " ".join(b), j


def test_registered_and_described() -> None:
    cls = get_op("minhash_dedup")
    assert cls is MinHashDedup and cls.is_global
    d = cls.describe()
    assert d["family"] == "dedup" and "threshold" in d["params"]


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9])
def test_bands_rows_minimise_weighted_error(threshold: float) -> None:
    b, r = optimal_bands_rows(threshold, 128)
    assert b * r <= 128
    # the S-curve's steepest point (1/b)^(1/r) sits near the threshold
    assert abs((1 / b) ** (1 / r) - threshold) < 0.08

    def err(bb: int, rr: int) -> float:
        lo, hi = np.linspace(0, threshold, 512), np.linspace(threshold, 1, 512)
        return 0.5 * trapezoid(candidate_probability(lo, bb, rr), lo) + 0.5 * trapezoid(
            1 - candidate_probability(hi, bb, rr), hi
        )

    for bb, rr in [(b + 1, r), (b - 1, r), (b, r + 1), (b, r - 1)]:
        if bb >= 1 and rr >= 1 and bb * rr <= 128:
            assert err(b, r) <= err(bb, rr)


@pytest.mark.parametrize(("threshold", "num_perm", "fp", "fn"),
                         [(0.8, 128, 0.5, 0.5), (0.5, 64, 0.1, 0.9), (0.9, 256, 0.9, 0.1), (0.7, 16, 0.5, 0.5)])
def test_bands_rows_search_picks_what_a_pair_by_pair_search_picks(threshold: float, num_perm: int, fp: float,
                                                                  fn: float) -> None:
    lo, hi = np.linspace(0, threshold, 512), np.linspace(threshold, 1, 512)
    best, best_err = (1, 1), np.inf
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            e = fp * trapezoid(candidate_probability(lo, b, r), lo) + fn * trapezoid(1 - candidate_probability(hi, b, r), hi)
            if e < best_err - 1e-12:
                best, best_err = (b, r), e
    optimal_bands_rows.cache_clear()
    assert optimal_bands_rows(threshold, num_perm, fp, fn) == best


def test_false_negative_weight_lowers_the_curve() -> None:
    b0, r0 = optimal_bands_rows(0.8, 128)
    b1, r1 = optimal_bands_rows(0.8, 128, fp_weight=0.1, fn_weight=0.9)
    assert candidate_probability(0.8, b1, r1) > candidate_probability(0.8, b0, r0)


@pytest.mark.parametrize("target", [0.2, 0.5, 0.8, 0.95])
def test_minhash_estimate_matches_exact_jaccard(target: float) -> None:
    rng = np.random.default_rng(7)
    op = MinHashDedup(MinHashParams(n=1, num_perm=256))
    errors = []
    for _ in range(5):
        a, b, exact = with_jaccard(rng, 400, target)
        sig, _ = op.minhash(batch_of([a, b]))
        errors.append((sig[0] == sig[1]).mean() - exact)
    # std of one estimate is sqrt(J(1-J)/256) <= 0.031; the mean of five is within 0.04
    assert abs(np.mean(errors)) < 0.04
    assert max(abs(e) for e in errors) < 0.1


def test_shingle_hashes_count_distinct_ngrams() -> None:
    hashes, offsets = shingle_hashes(["a b c d e f", "a b", "", "x y z x y z"], "word", 3, Normalization())
    assert list(np.diff(offsets)) == [4, 1, 0, 4]  # short doc: one shingle of its words; empty: none
    last = hashes[offsets[3] : offsets[4]]
    assert len(set(last.tolist())) == 3  # "x y z" twice, "y z x", "z x y"


def near_duplicate_corpus(seed: int = 3) -> tuple[list[str], list[tuple[int, int, float]]]:
    """Originals plus edited copies spanning Jaccard (5-gram) from ~0.3 to ~0.98."""
    rng = np.random.default_rng(seed)
    texts: list[str] = []
    pairs: list[tuple[int, int, float]] = []
    for edits in [1, 2, 3, 30, 40, 60]:
        for _ in range(4):
            base = words(rng, 400)
            copy = list(base)
            for pos in np.linspace(5, 395, edits).astype(int):
                copy[pos] = VOCAB[rng.integers(len(VOCAB))]
            a, b = " ".join(base), " ".join(copy)
            texts += [a, b]
            pairs.append((len(texts) - 2, len(texts) - 1, jaccard(a, b, 5)))
    return texts, pairs


def test_pairs_above_threshold_merge_and_far_below_stay() -> None:
    texts, pairs = near_duplicate_corpus()
    op = MinHashDedup(MinHashParams(threshold=0.8))
    (keep,), _ = run_global(op, [batch_of(texts)])
    high = [(i, j) for i, j, s in pairs if s >= 0.93]
    low = [(i, j) for i, j, s in pairs if s <= 0.5]
    assert len(high) >= 8 and len(low) >= 8
    for i, j in high:
        assert keep[i] and not keep[j], "near-duplicate copy must go, first occurrence stays"
    for i, j in low:
        assert keep[i] and keep[j], "dissimilar pair must both stay"


def test_verify_rejects_band_collisions_below_threshold() -> None:
    rng = np.random.default_rng(11)
    a, b, exact = with_jaccard(rng, 300, 0.6)
    # 128 bands of one row: any real overlap collides somewhere, so only verification can tell them apart
    loose = MinHashParams(n=1, bands=128, rows=1, num_perm=128, threshold=0.8, verify=False)
    (k_loose,), _ = run_global(MinHashDedup(loose), [batch_of([a, b])])
    (k_verified,), _ = run_global(MinHashDedup(loose.model_copy(update={"verify": True})), [batch_of([a, b])])
    assert exact == pytest.approx(0.6, abs=0.01)
    assert list(k_loose) == [True, False]
    assert list(k_verified) == [True, True]


def test_normalisation_makes_case_punctuation_and_digits_equal() -> None:
    rng = np.random.default_rng(5)
    w = words(rng, 60)
    a = " ".join(w) + " in 2023."
    b = " ".join(x.upper() if i % 3 == 0 else x for i, x in enumerate(w)) + ", in 1999!"
    (keep,), dec = run_global(MinHashDedup(), [batch_of([a, b])])
    assert list(keep) == [True, False]
    assert list(dec.cluster_size[0]) == [2, 2]


def test_keep_policies_across_chunks() -> None:
    rng = np.random.default_rng(9)
    base = words(rng, 200)
    short = " ".join(base)
    longer = short + " " + base[0]  # one extra shingle: Jaccard 196/197
    other = " ".join(words(rng, 200))
    chunks = [batch_of([short, other], q=[0.9, 0.1]), batch_of([longer], q=[0.2])]

    keeps, dec = run_global(MinHashDedup(MinHashParams(keep="first")), chunks)
    assert [list(k) for k in keeps] == [[True, True], [False]]

    keeps, _ = run_global(MinHashDedup(MinHashParams(keep="longest")), chunks)
    assert [list(k) for k in keeps] == [[False, True], [True]]

    keeps, _ = run_global(MinHashDedup(MinHashParams(keep="score", score_column="q")), chunks)
    assert [list(k) for k in keeps] == [[True, True], [False]]
    chunks[0] = batch_of([short, other], q=[0.1, 0.1])
    keeps, _ = run_global(MinHashDedup(MinHashParams(keep="score", score_column="q")), chunks)
    assert [list(k) for k in keeps] == [[False, True], [True]]


def test_apply_decision_writes_cluster_size_signal() -> None:
    rng = np.random.default_rng(2)
    t = " ".join(words(rng, 100))
    b = batch_of([t, t, t + " zzzz", " ".join(words(rng, 100))])
    op = MinHashDedup(step="near")
    (keep,), _ = run_global(op, [b])
    assert list(keep) == [True, False, False, True]
    assert b.table.column("near.cluster_size").to_pylist() == [3, 3, 3, 1]


def test_empty_documents_are_never_near_duplicates() -> None:
    (keep,), _ = run_global(MinHashDedup(), [batch_of(["", "  ", "", "!!!"])])
    assert keep.all()


def test_char_shingles_find_near_duplicates_without_spaces() -> None:
    a = (
        "数据清洗是训练大型语言模型之前最重要的步骤之一，因为重复的网页会让模型记住而不是学习。"
        "我们先去掉完全相同的文档，再用最小哈希找出几乎相同的文档，最后按语言和质量打分筛选。"
        "每一步都会记录被删除的原因，这样以后调整阈值时不需要重新计算所有的信号。"
    )
    b = a.replace("最重要", "很重要", 1)
    c = "今天天气很好，我们去公园散步吧，顺便买一些水果和面包回家，晚上再一起做饭看电影。" * 2
    word_op = MinHashDedup(MinHashParams(shingle="word"))
    char_op = MinHashDedup(MinHashParams(shingle="char", n=5))
    (kw,), _ = run_global(word_op, [batch_of([a, b, c])])
    (kc,), _ = run_global(char_op, [batch_of([a, b, c])])
    assert list(kw) == [True, True, True]  # one "word" each: whole-document shingles differ
    assert list(kc) == [True, False, True]


def test_signature_is_compact_hashes_not_text() -> None:
    rng = np.random.default_rng(1)
    texts = [" ".join(words(rng, 2000)) for _ in range(3)]
    op = MinHashDedup(MinHashParams(verify=False))
    sig = op.signature(batch_of(texts))
    assert sig.type.field("bands").type.byte_width == 8 * op.bands
    assert sig.nbytes <= 3 * (8 * op.bands + 8) + 16
    op = MinHashDedup()  # verification adds one byte per MinHash value (b-bit MinHash)
    sig = op.signature(batch_of(texts))
    assert sig.nbytes <= 3 * (8 * op.bands + 8 + op.params.num_perm) + 16


def test_union_find_joins_chains() -> None:
    labels = connected_components(7, np.array([6, 5, 4, 1]), np.array([5, 4, 3, 0]))
    assert list(labels) == [0, 0, 2, 3, 3, 3, 3]


@pytest.mark.parametrize(
    "kwargs",
    [{"bands": 4}, {"bands": 30, "rows": 10}, {"keep": "score"}, {"threshold": 1.0}, {"n": 0}],
)
def test_bad_parameters_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValidationError):
        MinHashParams(**kwargs)
