"""A small deterministic multi-domain corpus for tests and benchmarks, and a "noisy" domain derivation.

Each domain has its own vocabulary and structure, so a tiny model learns them at different speeds; a
``noisy`` domain (random characters) has a high irreducible loss, and a scarce domain has few documents.
Nothing here is downloaded: the text is generated from word lists and templates with a seeded RNG.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterable
from pathlib import Path

_NOUNS = ["river", "house", "garden", "letter", "window", "mountain", "city", "road", "forest", "ship", "king", "child", "teacher", "market", "song"]
_VERBS = ["walked", "found", "opened", "carried", "watched", "remembered", "crossed", "painted", "followed", "wrote"]
_ADJ = ["old", "quiet", "bright", "narrow", "golden", "distant", "cold", "small", "heavy", "gentle"]
_FUNCS = ["parse", "load", "merge", "split", "count", "render", "fetch", "build", "check", "update"]
_VARS = ["data", "items", "value", "result", "name", "path", "index", "total", "config", "rows"]
_TERMS = ["Licensee", "Licensor", "Agreement", "Party", "Software", "Term", "Territory", "Notice", "Affiliate", "Warranty"]
_PLACES = ["Norway", "Peru", "Kenya", "Japan", "Chile", "Canada", "Egypt", "Spain", "Nepal", "Ghana"]
_KINDS = ["river", "city", "mountain", "lake", "university", "museum", "bridge", "island", "railway", "festival"]


def _books(r: random.Random) -> str:
    out = []
    for _ in range(r.randint(4, 9)):
        out.append(
            f"The {r.choice(_ADJ)} {r.choice(_NOUNS)} {r.choice(_VERBS)} the {r.choice(_ADJ)} "
            f"{r.choice(_NOUNS)} near the {r.choice(_NOUNS)}."
        )
    return " ".join(out)


def _code(r: random.Random) -> str:
    lines = []
    for _ in range(r.randint(2, 4)):
        f, a, b = r.choice(_FUNCS), r.choice(_VARS), r.choice(_VARS)
        lines += [
            f"def {f}_{a}({a}, {b}=None):",
            f"    if {b} is None:",
            f"        {b} = {r.randint(0, 9)}",
            f"    return {a} + {b}",
            "",
        ]
    return "\n".join(lines)


def _legal(r: random.Random) -> str:
    out = []
    for i in range(r.randint(3, 6)):
        a, b = r.sample(_TERMS, 2)
        out.append(f"{i + 1}. The {a} shall not assign this {b} without prior written consent of the {a}.")
    return "\n".join(out)


def _reference(r: random.Random) -> str:
    out = []
    for _ in range(r.randint(3, 6)):
        out.append(
            f"{r.choice(_ADJ).title()} {r.choice(_KINDS)} is a {r.choice(_KINDS)} in {r.choice(_PLACES)}. "
            f"It was founded in {r.randint(1200, 2000)}."
        )
    return " ".join(out)


def _chat(r: random.Random) -> str:
    out = []
    for _ in range(r.randint(2, 4)):
        n = r.choice(_NOUNS)
        out.append(f"User: where is the {n}?\nAssistant: The {n} is by the {r.choice(_NOUNS)}.")
    return "\n".join(out)


def noisy_text(r: random.Random, n_chars: int = 300) -> str:
    """Random characters and spaces: a domain no model can compress much (high irreducible loss)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789      "
    return "".join(r.choice(alphabet) for _ in range(n_chars))


GENERATORS = {"books": _books, "code": _code, "legal": _legal, "reference": _reference, "chat": _chat}


def make_corpus(docs: dict[str, int] | None = None, seed: int = 0) -> list[dict]:
    """Records ``{id, text, domain}``; ``docs`` maps domain (a generator name or ``noisy``) to a count."""
    docs = docs or {"books": 120, "code": 120, "legal": 120, "reference": 120, "chat": 15, "noisy": 60}
    r = random.Random(seed)
    out = []
    for dom, n in docs.items():
        gen = noisy_text if dom == "noisy" else GENERATORS[dom]
        for i in range(n):
            out.append({"id": f"{dom}-{i}", "text": gen(r), "domain": dom})
    return out


def write_jsonl_gz(records: Iterable[dict], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec) + "\n")
    return path
