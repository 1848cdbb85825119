"""Fit the ``content_kind`` weights: two softmax regressions (kind; language of code) in numpy.

Reads ``data/excerpts.jsonl.gz`` (see ``build_data.py``), holds out a quarter of the *source files* (the
split is a hash of the source, never of the excerpt), fits on the rest and writes the weights to
``src/gristmill/assets/content_kind/model.json``. ``run.py`` evaluates them on the held-out files.

    python bench/content_kind/train.py          # fit and write the weights
    python bench/content_kind/train.py --cv     # grouped 4-fold cross-validation inside the training split

Choices (features, ``L2``) are made with ``--cv``, which never reads the held-out files.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
from pathlib import Path

import numpy as np

from gristmill.ops.content_kind_features import KINDS, LANGUAGES, batch_features, feature_names

HERE = Path(__file__).parent
DATA = HERE / "data" / "excerpts.jsonl.gz"
ASSET = HERE.parents[1] / "src/gristmill/assets/content_kind/model.json"
L2 = 1e-2  # best of 1e-4, 1e-3 (the first fit's value), 1e-2 by --cv


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


def cross_validate(rows: list[dict], x: np.ndarray, y: np.ndarray) -> None:
    """Grouped 4-fold CV on the training rows (folds by another hash of the source): accuracy and mixed P/R."""
    fold = np.array([int(hashlib.sha256(("cv" + group(r["source"])).encode()).hexdigest()[:8], 16) % 4 for r in rows])
    pred = np.zeros(len(y), int)
    for f in range(4):
        tr, te = fold != f, fold == f
        mean, std = x[tr].mean(0), x[tr].std(0) + 1e-6
        w, b = fit_softmax((x[tr] - mean) / std, y[tr], len(KINDS), L2)
        pred[te] = (((x[te] - mean) / std) @ w + b).argmax(1)
    code, prose, mixed = (KINDS.index(k) for k in ("code", "prose", "mixed"))
    pairs = np.isin(y, [code, prose])
    tp = np.sum(pairs & (pred == code) & (y == code))
    f1 = 2 * tp / (np.sum(pairs & (pred == code)) + np.sum(y == code))
    hit = np.sum((pred == mixed) & (y == mixed))
    print(f"4-fold CV on {len(y)} training excerpts (L2={L2:g}): 7-kind accuracy {np.mean(pred == y):.3f}, "
          f"code vs prose F1 {f1:.3f}, mixed precision {hit / max(1, np.sum(pred == mixed)):.3f} "
          f"recall {hit / np.sum(y == mixed):.3f} (n={np.sum(y == mixed)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cv", action="store_true", help="cross-validate inside the training split; write nothing")
    args = ap.parse_args()
    rows = [r for r in load() if not is_test(r["source"])]
    x = batch_features([r["text"] for r in rows])
    y = np.array([KINDS.index(r["kind"]) for r in rows])
    if args.cv:
        cross_validate(rows, x, y)
        return
    mean, std = x.mean(0), x.std(0) + 1e-6
    xs = (x - mean) / std
    wk, bk = fit_softmax(xs, y, len(KINDS), L2)
    code = np.array([r["kind"] == "code" for r in rows])
    yl = np.array([LANGUAGES.index(r["language"]) for r in rows if r["kind"] == "code"])
    wl, bl = fit_softmax(xs[code], yl, len(LANGUAGES), L2)
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
