"""A PNG of mixture weights and per-domain held-out loss over tokens, from ``metrics.jsonl`` (Agg backend)."""

from __future__ import annotations

import json
from pathlib import Path


def read_metrics(path: str | Path) -> list[dict]:
    return [json.loads(ln) for ln in Path(path).read_text().splitlines() if ln.strip()]


def plot_metrics(metrics: str | Path, out: str | Path, title: str | None = None) -> Path | None:
    """Two panels sharing the token axis: weights (top) and held-out loss per domain (bottom)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = read_metrics(metrics)
    if not rows:
        return None
    domains = list(rows[0]["heldout"])
    tokens = [r["tokens"] for r in rows]
    fig, (ax_w, ax_l) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    for d in domains:
        (line,) = ax_w.plot(tokens, [r["weights"][d] for r in rows], label=d)
        ax_l.plot(tokens, [r["heldout"][d] for r in rows], color=line.get_color(), label=d)
    ax_l.plot(tokens, [r["avg"] for r in rows], color="black", linestyle="--", label="average")
    ax_w.set_ylim(0, 1.1 * max(max(r["weights"].values()) for r in rows))
    ax_w.set_ylabel("mixture weight")
    ax_l.set_ylabel("held-out loss")
    ax_l.set_xlabel("tokens")
    ax_w.legend(fontsize=8, ncol=3)
    ax_l.legend(fontsize=8, ncol=3)
    ax_w.set_title(title or f"policy: {rows[-1].get('policy', '?')}")
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
