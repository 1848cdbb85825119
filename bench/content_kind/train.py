"""Fit the ``content_kind`` weights: two softmax regressions (kind; language of code) in numpy.

Reads ``data/excerpts.jsonl.gz`` (see ``build_data.py``), holds out a quarter of the *source files* (the
split is a hash of the source, never of the excerpt), fits on the rest and writes the weights to
``src/gristmill/assets/content_kind/model.json``. ``run.py`` evaluates them on the held-out files.

    python bench/content_kind/train.py
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import numpy as np

from gristmill.ops.content_kind_features import KINDS, LANGUAGES, feature_names, features

HERE = Path(__file__).parent
DATA = HERE / "data" / "excerpts.jsonl.gz"
ASSET = HERE.parents[1] / "src/gristmill/assets/content_kind/model.json"


def group(source: str) -> str:
    """The unit of the split: a source file (generated records: their generator and style)."""
    return re.sub(r" #\d+$", "", source)


def is_test(source: str) -> bool:
    return int(hashlib.sha256(group(source).encode()).hexdigest()[:8], 16) % 4 == 0


def load() -> list[dict]:
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def fit_softmax(x: np.ndarray, y: np.ndarray, k: int, l2: float = 1e-3, steps: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by full-batch gradient descent with Adam; classes weighted equally."""
    n, d = x.shape
    w, b = np.zeros((d, k)), np.zeros(k)
    onehot = np.eye(k)[y]
    cw = (n / (k * np.maximum(np.bincount(y, minlength=k), 1)))[y][:, None]
    mw, vw, mb, vb = (np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b))
    lr, b1, b2 = 0.05, 0.9, 0.999
    for t in range(1, steps + 1):
        z = x @ w + b
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        g = (p - onehot) * cw / n
        gw, gb = x.T @ g + l2 * w, g.sum(0)
        mw, vw = b1 * mw + (1 - b1) * gw, b2 * vw + (1 - b2) * gw**2
        mb, vb = b1 * mb + (1 - b1) * gb, b2 * vb + (1 - b2) * gb**2
        w -= lr * (mw / (1 - b1**t)) / (np.sqrt(vw / (1 - b2**t)) + 1e-8)
        b -= lr * (mb / (1 - b1**t)) / (np.sqrt(vb / (1 - b2**t)) + 1e-8)
    return w, b


def main() -> None:
    rows = [r for r in load() if not is_test(r["source"])]
    x = np.stack([features(r["text"]) for r in rows])
    mean, std = x.mean(0), x.std(0) + 1e-6
    xs = (x - mean) / std
    y = np.array([KINDS.index(r["kind"]) for r in rows])
    wk, bk = fit_softmax(xs, y, len(KINDS))
    code = np.array([r["kind"] == "code" for r in rows])
    yl = np.array([LANGUAGES.index(r["language"]) for r in rows if r["kind"] == "code"])
    wl, bl = fit_softmax(xs[code], yl, len(LANGUAGES))
    ASSET.parent.mkdir(parents=True, exist_ok=True)
    model = {
        "about": "content_kind weights, fitted by bench/content_kind/train.py on bench/content_kind/data",
        "features": feature_names(), "kinds": list(KINDS), "languages": list(LANGUAGES),
        "mean": mean.round(6).tolist(), "std": std.round(6).tolist(),
        "kind_w": wk.round(5).tolist(), "kind_b": bk.round(5).tolist(),
        "lang_w": wl.round(5).tolist(), "lang_b": bl.round(5).tolist(),
    }
    ASSET.write_text(json.dumps(model, separators=(",", ":")) + "\n")
    print(f"fitted on {len(rows)} excerpts ({code.sum()} code) -> {ASSET}")


if __name__ == "__main__":
    main()
