"""The whole flow on the bundled sample, in one command (``make demo``), in a few minutes on 2 cores:

1. ``gristmill prepare``: a plain-language goal becomes a verified recipe, which then runs on the sample;
2. the kept documents are tokenized per domain (a BPE trained in seconds) into packed token shards;
3. ``gristmill train``: a tiny GPT-2 trains on them twice, with the uniform mixture and with a dynamic
   policy (ADO-style, driven by per-domain loss curves);
4. a table of held-out losses per domain and a plot (``out/demo/train/compare.png``).

    python examples/demo.py [--policy ado] [--max-tokens 400000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "train"))

GOAL = (
    "pretraining data for a small model: lenient quality, remove exact and near duplicates, "
    "redact PII, keep documents with at least 20 words"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--policy", default="ado", help="the dynamic policy to compare with uniform")
    ap.add_argument("--max-tokens", default="400000", help="token budget of each training run")
    ap.add_argument("--out", default="out/demo")
    args = ap.parse_args()

    from compare import compare

    from gristmill.agent import prepare

    out = Path(args.out)
    prepared = out / "prepared"
    print(f"\n== 1. prepare: {GOAL!r}\n", flush=True)
    shutil.rmtree(prepared, ignore_errors=True)
    prepare(str(ROOT / "data" / "sample.jsonl.gz"), GOAL, str(prepared), log=print)
    print("\n== 2-4. tokenize per domain, train uniform and", args.policy, "\n", flush=True)
    compare(
        str(ROOT / "examples" / "train" / "tiny.yaml"),
        ["uniform", args.policy],
        out / "train",
        [f"data.text={prepared}/part-*.parquet", f"train.max_tokens={args.max_tokens}", "log.plot=false"],
    )


if __name__ == "__main__":
    main()
