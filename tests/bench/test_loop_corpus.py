"""The loop benchmark's corpus: every label names the noise that was injected, and a seed fixes the bytes."""

from __future__ import annotations

import gzip
import importlib.util
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample.jsonl.gz"


def _corpus_module():
    spec = importlib.util.spec_from_file_location("loop_corpus", ROOT / "bench" / "loop" / "corpus.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _read(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(x) for x in f]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not SAMPLE.exists():
        pytest.skip("data/sample.jsonl.gz is not in this checkout")
    mod = _corpus_module()
    out = tmp_path_factory.mktemp("loop-corpus")
    manifest = mod.build_corpus(SAMPLE, out / "a", seed=3, noise_share=0.2)
    return mod, out, manifest


def test_labels_name_the_injected_noise(built):
    mod, out, manifest = built
    corpus = _read(out / "a" / "corpus.jsonl.gz")
    labels = [json.loads(x) for x in (out / "a" / "labels.jsonl").read_text().splitlines()]
    assert [x["id"] for x in corpus] == [x["id"] for x in labels]
    assert len({x["id"] for x in corpus}) == len(corpus)
    sample = _read(SAMPLE)
    own = defaultdict(set)  # domain -> the sample's texts (cut as the builder cuts them)
    for rec in sample:
        own[rec["domain"]].add(rec["text"][:3000])
    foreign = {rec["text"][:3000] for rec in sample if rec["domain"] == "multilingual" and "/en-US/" not in rec["source"]}
    clean_words = defaultdict(set)
    by_kind = defaultdict(list)
    for rec, lab in zip(corpus, labels, strict=True):
        assert lab["domain"] == rec["domain"] and not any(k in rec["id"] for k in mod.NOISE_KINDS)  # ids tell nothing
        by_kind[lab["kind"]].append(rec)
        if lab["kind"] == "clean":
            clean_words[rec["domain"]].add(tuple(sorted(rec["text"].split())))
    assert set(by_kind) == {"clean", *mod.NOISE_KINDS}
    for rec in by_kind["clean"]:
        assert rec["text"] in own[rec["domain"]]
    for rec in by_kind["random_chars"]:
        assert rec["text"] not in own[rec["domain"]] and len(set(rec["text"])) > 30
    for rec in by_kind["shuffled"]:  # the same words as a clean document of its domain, not in its order
        assert tuple(sorted(rec["text"].split())) in clean_words[rec["domain"]]
        assert rec["text"] not in own[rec["domain"]]
    for rec in by_kind["spam"]:
        assert "Limited stock" in rec["text"] and "to unsubscribe" in rec["text"]
    repeated = defaultdict(set)
    for rec in by_kind["repeated"]:
        repeated[rec["domain"]].add(rec["text"])
    clean_texts = {rec["text"] for rec in by_kind["clean"]}
    for dom, texts in repeated.items():  # one document per domain, many copies, none of them labelled clean
        assert len(texts) == 1 and next(iter(texts)) in own[dom] and not texts & clean_texts
    assert min(Counter(r["domain"] for r in by_kind["repeated"]).values()) >= 2
    for rec in by_kind["wrong_language"]:
        assert rec["text"] in foreign
    # noise sits inside every domain, at the share asked for
    for dom in mod.DOMAINS:
        labs = [lab["kind"] for lab in labels if lab["domain"] == dom]
        share = sum(k != "clean" for k in labs) / len(labs)
        assert 0.15 <= share <= 0.3, (dom, share)
    # held-out and trusted documents are clean and never in the corpus
    corpus_texts = {rec["text"] for rec in corpus}
    for part in ("heldout", "trusted"):
        docs = _read(out / "a" / f"{part}.jsonl.gz")
        assert docs and {d["domain"] for d in docs} == set(mod.DOMAINS)
        for d in docs:
            assert d["text"] in own[d["domain"]] and d["text"] not in corpus_texts
    assert manifest["noisy_docs"] == sum(len(v) for k, v in by_kind.items() if k != "clean")


def test_a_seed_fixes_the_bytes(built):
    mod, out, _ = built
    mod.build_corpus(SAMPLE, out / "b", seed=3, noise_share=0.2)
    mod.build_corpus(SAMPLE, out / "c", seed=4, noise_share=0.2)
    for name in ("corpus.jsonl.gz", "labels.jsonl", "heldout.jsonl.gz", "trusted.jsonl.gz"):
        assert (out / "a" / name).read_bytes() == (out / "b" / name).read_bytes(), name
    assert (out / "a" / "labels.jsonl").read_bytes() != (out / "c" / "labels.jsonl").read_bytes()
