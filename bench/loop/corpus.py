"""The loop benchmark's corpus: the bundled sample with labelled noise injected *inside* its domains.

    python bench/loop/corpus.py --out bench/_work/loop/corpus --seed 0

Domains are the sample's English ones (books, code, docs, reference, legal, chat); the ``multilingual``
domain is not trained on: its non-English documents are the wrong-language noise. Each domain's clean
documents are split (seeded) into a clean **held-out** set (never trained on, the same for every arm), a
clean **trusted** subset (RHO-LOSS's holdout: a reference model is trained on it, not on the corpus) and the
clean part of the training corpus. Noise is then added to every domain, ``noise_share`` of its training
documents, in five kinds (equal counts, the remainder to the first kinds):

- ``random_chars``: random letters, digits, punctuation and spaces, as long as the domain's median document;
- ``shuffled``: a clean training document of the domain with its words in random order (the original stays);
- ``spam``: one advertising template, its slots filled at random, repeated a few times per document;
- ``repeated``: one document of the domain copied many times (every copy labelled; the original is removed);
- ``wrong_language``: a document of the multilingual handbook (any locale but en-US).

Ids are opaque (a hash), so no rule can read the label from them. Writes ``corpus.jsonl.gz`` (id, text,
domain), ``labels.jsonl`` (id, domain, kind: ``clean`` or a noise kind), ``heldout.jsonl.gz``,
``trusted.jsonl.gz`` and ``manifest.json`` (counts and characters per domain and kind). Everything follows
from ``seed`` and the sample: the same seed gives the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import statistics
from pathlib import Path

DOMAINS = ["books", "code", "docs", "reference", "legal", "chat"]
NOISE_KINDS = ["random_chars", "shuffled", "spam", "repeated", "wrong_language"]
FOREIGN = "multilingual"

SPAM = ("{hello}! {product} now {pct}% OFF, only today. Click {url} and claim your {gift} before midnight. "
        "{urgent} Limited stock, {n} people are looking at this offer right now. Reply {word} to unsubscribe.")
SLOTS = {
    "hello": ["Hello friend", "Dear customer", "Congratulations", "Hi there", "Attention"],
    "product": ["Premium watches", "Designer bags", "Weight loss pills", "Crypto signals", "Luxury sunglasses"],
    "gift": ["free gift", "bonus voucher", "mystery box", "cash reward", "VIP pass"],
    "urgent": ["ACT NOW!!!", "Do not miss out!", "Hurry up!", "Last chance!!", "100% guaranteed!"],
    "word": ["STOP", "NO", "QUIT", "END"],
}


def _read_jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _write_jsonl_gz(records: list[dict], path: Path) -> None:
    # mtime=0: the same records give the same bytes
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for rec in records:
            gz.write((json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8"))


def _doc_id(seed: int, domain: str, kind: str, i: int) -> str:
    digest = hashlib.sha1(f"{seed}/{domain}/{kind}/{i}".encode()).hexdigest()[:14]
    return f"{domain}-{digest}"


def random_chars(r: random.Random, n: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?-()     \n"
    return "".join(r.choice(alphabet) for _ in range(n))


def shuffle_words(r: random.Random, text: str) -> str:
    words = text.split()
    r.shuffle(words)
    return " ".join(words)


def spam_text(r: random.Random, n_chars: int) -> str:
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < max(n_chars, 200):
        parts.append(SPAM.format(
            pct=r.choice([50, 60, 70, 80, 90]), url=f"http://deals{r.randint(1, 99)}.example.com/{r.randint(100, 999)}",
            n=r.randint(3, 95), **{k: r.choice(v) for k, v in SLOTS.items()},
        ))
    return "\n".join(parts)


def build_corpus(sample: str | Path, out: str | Path, *, seed: int = 0, noise_share: float = 0.15,
                 heldout_share: float = 0.08, max_heldout: int = 40, trusted_share: float = 0.15,
                 max_doc_chars: int = 3000) -> dict:
    """Write the corpus, its labels, the clean held-out and trusted sets under ``out``; returns the manifest."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    r = random.Random(seed)
    by_dom: dict[str, list[dict]] = {}
    for rec in _read_jsonl_gz(Path(sample)):
        by_dom.setdefault(rec["domain"], []).append(rec)
    foreign = [x for x in by_dom.get(FOREIGN, []) if "/en-US/" not in x.get("source", "")]
    r.shuffle(foreign)
    corpus: list[dict] = []
    labels: list[dict] = []
    heldout: list[dict] = []
    trusted: list[dict] = []
    counts: dict[str, dict[str, dict[str, int]]] = {}

    def add(dom: str, kind: str, text: str, i: int) -> None:
        doc_id = _doc_id(seed, dom, kind, i)
        corpus.append({"id": doc_id, "text": text, "domain": dom})
        labels.append({"id": doc_id, "domain": dom, "kind": kind})
        c = counts.setdefault(dom, {}).setdefault(kind, {"docs": 0, "chars": 0})
        c["docs"] += 1
        c["chars"] += len(text)

    for dom in DOMAINS:
        docs = [x["text"][:max_doc_chars] for x in by_dom[dom]]
        r.shuffle(docs)
        n_held = min(max_heldout, max(3, round(heldout_share * len(docs))))
        n_trust = max(3, round(trusted_share * len(docs)))
        held, trust, clean = docs[:n_held], docs[n_held:n_held + n_trust], docs[n_held + n_trust:]
        heldout += [{"id": _doc_id(seed, dom, "heldout", i), "text": t, "domain": dom} for i, t in enumerate(held)]
        trusted += [{"id": _doc_id(seed, dom, "trusted", i), "text": t, "domain": dom} for i, t in enumerate(trust)]
        n_noise = max(len(NOISE_KINDS), round(noise_share / (1 - noise_share) * len(clean)))
        per_kind = {k: n_noise // len(NOISE_KINDS) + (j < n_noise % len(NOISE_KINDS)) for j, k in enumerate(NOISE_KINDS)}
        median = int(statistics.median(len(t) for t in clean))
        repeated = clean.pop(r.randrange(len(clean)))  # copied below; the original is not kept as clean
        for i, text in enumerate(clean):
            add(dom, "clean", text, i)
        for i in range(per_kind["random_chars"]):
            add(dom, "random_chars", random_chars(r, median), i)
        for i in range(per_kind["shuffled"]):
            add(dom, "shuffled", shuffle_words(r, r.choice(clean)), i)
        for i in range(per_kind["spam"]):
            add(dom, "spam", spam_text(r, median), i)
        for i in range(per_kind["repeated"]):
            add(dom, "repeated", repeated, i)
        for i in range(per_kind["wrong_language"]):
            add(dom, "wrong_language", foreign.pop()["text"][:max_doc_chars], i)
    order = list(range(len(corpus)))
    r.shuffle(order)
    corpus = [corpus[i] for i in order]
    labels = [labels[i] for i in order]
    _write_jsonl_gz(corpus, out / "corpus.jsonl.gz")
    _write_jsonl_gz(heldout, out / "heldout.jsonl.gz")
    _write_jsonl_gz(trusted, out / "trusted.jsonl.gz")
    (out / "labels.jsonl").write_text("".join(json.dumps(x) + "\n" for x in labels))
    noisy = sum(x["kind"] != "clean" for x in labels)
    manifest = {
        "sample": str(sample), "seed": seed, "noise_share": noise_share, "heldout_share": heldout_share,
        "trusted_share": trusted_share, "max_doc_chars": max_doc_chars, "docs": len(corpus), "noisy_docs": noisy,
        "noisy_share": noisy / len(corpus), "chars": sum(len(x["text"]) for x in corpus),
        "heldout_docs": len(heldout), "trusted_docs": len(trusted), "per_domain": counts,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", default="data/sample.jsonl.gz")
    ap.add_argument("--out", default="bench/_work/loop/corpus")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--noise-share", type=float, default=0.15)
    args = ap.parse_args()
    m = build_corpus(args.sample, args.out, seed=args.seed, noise_share=args.noise_share)
    print(json.dumps({k: v for k, v in m.items() if k != "per_domain"}, indent=1))


if __name__ == "__main__":
    main()
