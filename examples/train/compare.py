"""Train the tiny example with several policies and print a short comparison table and plot.

    python examples/train/compare.py                                # uniform vs ado on data/sample.jsonl.gz
    python examples/train/compare.py --policies uniform,odm --set train.max_tokens=2e5

Writes each run to ``<out>/<policy>`` and ``<out>/compare.png`` (average and worst-domain held-out loss).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gristmill.train.config import load_config
from gristmill.train.loop import train

HERE = Path(__file__).parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default=str(HERE / "tiny.yaml"))
    ap.add_argument("--policies", default="uniform,ado")
    ap.add_argument("--out", default="out/compare")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    compare(args.config, args.policies.split(","), Path(args.out), args.overrides)


def compare(config: str, policies: list[str], out: Path, overrides: list[str]) -> dict[str, list[dict]]:
    """Train ``config`` once per policy (tokenizing once), print a table, save ``out/compare.png``."""
    curves = {}
    for pol in policies:
        cfg = load_config(config, [*overrides, f"policy.name={pol}"], output=str(out / pol))
        if pol != policies[0]:  # reuse the first run's shards: tokenize once
            first = out / policies[0] / "shards"
            cfg.data.text, cfg.data.train, cfg.data.heldout = None, str(first / "train"), str(first / "heldout")
        train(cfg)
        curves[pol] = [json.loads(x) for x in (out / pol / "metrics.jsonl").read_text().splitlines()]
    domains = list(next(iter(curves.values()))[-1]["heldout"])
    print("\n| policy | avg | worst (domain) | " + " | ".join(domains) + " |")
    print("|---|---|---|" + "---|" * len(domains))
    for pol, rows in curves.items():
        r = rows[-1]
        print(f"| {pol} | {r['avg']:.3f} | {r['worst']:.3f} ({r['worst_domain']}) | "
              + " | ".join(f"{r['heldout'][d]:.3f}" for d in domains) + " |")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for pol, rows in curves.items():
        (line,) = ax.plot([r["tokens"] for r in rows], [r["avg"] for r in rows], label=f"{pol} average")
        ax.plot([r["tokens"] for r in rows], [r["worst"] for r in rows], "--", color=line.get_color(),
                label=f"{pol} worst domain")
    ax.set_xlabel("tokens")
    ax.set_ylabel("held-out loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "compare.png", dpi=100)
    print(f"\nplot: {out / 'compare.png'}")
    return curves


if __name__ == "__main__":
    main()
