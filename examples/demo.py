"""The whole flow on the bundled sample, in one command (``make demo``), in a few minutes on 2 cores:

1. ``gristmill prepare``: a plain-language goal becomes a verified recipe, which then runs on the sample;
   the output is registered as the next version of ``demo`` in the catalog ``out/catalog``, and the
   lineage of one dropped document is printed (``gristmill catalog trace``);
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
    ap.add_argument("--catalog", default="out/catalog", help="catalog root the prepared data is registered in")
    args = ap.parse_args()

    from compare import compare

    from gristmill.agent import prepare

    out = Path(args.out)
    prepared = out / "prepared"
    print(f"\n== 1. prepare: {GOAL!r}\n", flush=True)
    shutil.rmtree(prepared, ignore_errors=True)
    result = prepare(str(ROOT / "data" / "sample.jsonl.gz"), GOAL, str(prepared), log=print)
    register_and_trace(prepared, result.recipe_path, args.catalog)
    print("\n== 2-4. tokenize per domain, train uniform and", args.policy, "\n", flush=True)
    compare(
        str(ROOT / "examples" / "train" / "tiny.yaml"),
        ["uniform", args.policy],
        out / "train",
        [f"data.text={prepared}/part-*.parquet", f"train.max_tokens={args.max_tokens}", "log.plot=false"],
    )


def register_and_trace(prepared: Path, recipe_path: Path, root: str) -> None:
    """Register the prepared data as a catalog version and show where one dropped document came from."""
    from gristmill.catalog.core import Catalog
    from gristmill.catalog.trace import render, trace
    from gristmill.recipe.compile import load_recipe

    cat = Catalog(root)
    version = cat.commit_run("demo", prepared, recipe_path.read_text(encoding="utf-8"), load_recipe(recipe_path))
    print(f"\n== catalog: registered {version.ref} in {root} ({version.manifest['rows']:,} rows); "
          f"lineage of one dropped document (gristmill catalog trace {version.ref} ID --catalog {root}):\n")
    dropped = version.dropped()
    doc = str(dropped.column("id")[0]) if dropped is not None else str(version.to_arrow().column("id")[0])
    print("\n".join(render(trace(cat, version.ref, doc))), flush=True)


if __name__ == "__main__":
    main()
