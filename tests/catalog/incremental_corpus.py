"""A small corpus for the incremental tests: real documents from the bundled sample, plus constructed exact
duplicates, near-duplicates and a chain of near-duplicates (A ~ B ~ C with A and C apart)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tests.conftest import SAMPLE, write_jsonl


def _sample() -> list[dict]:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _prose(words: list[str], per_line: int = 12) -> str:
    """Words as lines of ``per_line`` words, each a sentence (so that line-based quality rules pass)."""
    lines = [" ".join(words[i:i + per_line]) + "." for i in range(0, len(words), per_line)]
    return "\n".join(lines)


def chain() -> dict[str, dict]:
    """Three documents of 1,000 words: B is A with its last 80 words replaced, C is A with its last 180 words
    replaced (B's 80 new words, then 100 more). At MinHash's default threshold of 0.8, A-B and B-C are
    joined but A-C is not: without B, A and C are two clusters; with B, one. (The tests check this.)"""
    rows = {r["id"]: r for r in _sample()}
    base = [w for w in rows["books-000101"]["text"].split() if w.isalpha()][:1000]
    other = [w for w in rows["books-000130"]["text"].split() if w.isalpha()][:200]
    a = base
    b = base[:920] + other[:80]
    c = base[:820] + other[:180]
    return {name: {"id": f"chain-{name}", "text": _prose(words), "domain": "books"}
            for name, words in (("a", a), ("b", b), ("c", c))}


def pair() -> dict[str, dict]:
    """X (1,000 words) and Y (X and 40 words more): near-duplicates (about 0.96); MinHash keeps X, the first."""
    rows = {r["id"]: r for r in _sample()}
    words = [w for d in ("books-000089", "books-000047") for w in rows[d]["text"].split() if w.isalpha()]
    return {"x": {"id": "pair-x", "text": _prose(words[:1000]), "domain": "books"},
            "y": {"id": "pair-y", "text": _prose(words[:1040]), "domain": "books"}}


def build(folder: Path) -> dict[str, list[dict]]:
    """``2024-01.jsonl`` (the parent's input) and ``2024-02.jsonl`` (10-20% more: fresh documents, exact duplicates of
    old rows under new ids, near-duplicates of old rows, and the chain's middle document)."""
    docs = [r for r in _sample() if r["domain"] in ("books", "docs", "legal", "reference")][::12]
    ch = chain()
    pr = pair()
    old = docs[:80] + [pr["x"]] + docs[80:160] + [pr["y"], ch["a"], ch["c"]]
    fresh = docs[160:190]
    dups = [{**r, "id": r["id"] + "-copy"} for r in docs[:40:8]]
    near = []
    for r in docs[1:60:6]:
        words = r["text"].split(" ")
        words[len(words) // 2] = "changed"
        near.append({**r, "id": r["id"] + "-edit", "text": " ".join(words)})
    new = fresh[:15] + dups + near + [ch["b"]] + fresh[15:]
    write_jsonl(folder / "2024-01.jsonl", old)
    write_jsonl(folder / "2024-02.jsonl", new)
    return {"old": old, "new": new}
