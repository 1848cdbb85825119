"""Locally trained model signals: the hashed classifier separates domains; the n-gram LM ranks by fit."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pyarrow as pa

from gristmill.batch import Batch
from gristmill.ops.model_signals import (
    ClassifierParams,
    HashedClassifier,
    NgramLM,
    NgramPerplexity,
    PerplexityParams,
    QualityClassifier,
)
from tests.conftest import SAMPLE, gristmill, summary


def by_domain() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out.setdefault(r["domain"], []).append(r["text"])
    return out


def test_classifier_learns_docs_versus_books_and_its_rule_boundary(tmp_path):
    d = by_domain()
    docs, books = d["docs"], d["books"]
    model = HashedClassifier.fit(docs[:300], books[:200])
    held_docs, held_books = model.score(docs[600:700]), model.score(books[250:350])
    accuracy = (np.sum(held_docs >= 0.5) + np.sum(held_books < 0.5)) / 200
    assert accuracy >= 0.9
    path = tmp_path / "clf.npz"
    model.save(path)
    op = QualityClassifier(ClassifierParams(model=str(path), threshold=0.5))
    b = Batch(pa.table({"id": ["a", "b"], "text": [docs[650], books[300]]}))
    scores = op.apply(b)["score"]
    assert np.allclose(scores, model.score([docs[650], books[300]]))
    assert op.rules() == {"low_score": "quality_classifier.score >= 0.5"}


def test_perplexity_is_lower_for_text_like_the_reference(tmp_path):
    d = by_domain()
    lm = NgramLM.fit(d["books"][:300])
    path = tmp_path / "lm.npz"
    lm.save(path)
    op = NgramPerplexity(PerplexityParams(model=str(path), max_perplexity=1000))
    b = Batch(pa.table({"id": ["book", "code", "salad"], "text": [
        d["books"][320],
        d["code"][5],
        " ".join(np.random.default_rng(0).choice(["quantum", "zebra", "ledger", "vortex", "pillow"], 200)),
    ]}))
    ppl = op.apply(b)["perplexity"]
    assert ppl[0] < ppl[1] and ppl[0] < ppl[2]
    assert np.isclose(NgramLM.load(path).perplexity(d["books"][320]), ppl[0])
    assert op.rules() == {"high_perplexity": "ngram_perplexity.perplexity <= 1000.0"}


def test_trigram_probabilities_are_normalised():
    lm = NgramLM.fit(["a b c a b d", "a b c", "c d"])
    vocab = ["a", "b", "c", "d", "</s>", "never-seen-word"]  # one unseen word stands for the unknown class
    for context in [("a", "b"), ("<s>", "<s>"), ("c", "d"), ("zz", "b"), ("zz", "yy")]:
        total = lm.probs([(*context, w) for w in vocab]).sum()
        assert abs(total - 1.0) < 1e-9, (context, total)


def test_cli_trains_both_models_and_a_recipe_uses_them(tmp_path):
    clf, lm = tmp_path / "clf.npz", tmp_path / "lm.npz"
    assert gristmill("model", "fit-classifier", "--positive", SAMPLE, "--positive-where", "domain=docs",
                     "--negative", SAMPLE, "--negative-where", "domain=books", "--output", clf).returncode == 0
    assert gristmill("model", "fit-lm", SAMPLE, "--where", "domain=legal", "--output", lm).returncode == 0
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"steps:\n  - op: quality_classifier\n    params: {{model: {clf}, threshold: 0.5}}\n"
        f"  - op: ngram_perplexity\n    params: {{model: {lm}}}\n"
    )
    out = tmp_path / "out"
    res = gristmill("run", recipe, "--input", SAMPLE, "--output", out)
    assert res.returncode == 0, res.stderr
    s = summary(out)
    assert s["balance"]["holds"] and 0 < s["kept"] < s["input"]
    missing = gristmill("model", "fit-lm", SAMPLE, "--where", "domain=nope", "--output", lm)
    assert missing.returncode == 2
