"""Run every registered operator through the engine on the bundled sample; prints a JSON report.

Runs under tests/ops/offline/sitecustomize.py, so any operator that touches the network fails the run.
Operators are used with default parameters (``filter`` gets a trivial rule, being nothing without one)
and with ``keep: "1 == 1"`` so that every document reaches every step. An operator whose optional extra
is missing is left out of the recipe and reported with the error it raised.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pyarrow as pa

from gristmill.batch import Batch
from gristmill.engine.local import LocalExecutor, RunOptions
from gristmill.errors import UsageError
from gristmill.ops.registry import all_ops
from gristmill.recipe.compile import compile_recipe

# operators that are nothing without parameters get the smallest meaningful ones
REQUIRED = {
    "filter": {"keep": "1 == 1"},
    "field_filter": {"params": {"field": "domain", "values": ["books"], "mode": "exclude"}, "keep": "1 == 1"},
    "keyword_filter": {"params": {"keywords": ["lorem ipsum"]}, "keep": "1 == 1"},
    "regex_filter": {"params": {"pattern": "lorem ipsum"}, "keep": "1 == 1"},
    "signal_percentile": {"params": {"of": "length_filter.words", "by": "domain"}},  # global: after the steps
    "topic_filter": {"params": {"terms": ["lorem ipsum"]}, "keep": "1 == 1"},
}


def _local_models(folder: str) -> None:
    """Model-based operators apply models trained here, from the sample itself: nothing to download."""
    import gzip
    import os

    from gristmill.ops.model_signals import HashedClassifier, NgramLM

    with gzip.open(sys.argv[1], "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for _, line in zip(range(400), f)]
    texts = [r["text"] for r in rows]
    HashedClassifier.fit(texts[:200], texts[200:], epochs=1).save(os.path.join(folder, "clf.npz"))
    NgramLM.fit(texts).save(os.path.join(folder, "lm.npz"))
    REQUIRED["quality_classifier"] = {"params": {"model": os.path.join(folder, "clf.npz")}, "keep": "1 == 1"}
    REQUIRED["ngram_perplexity"] = {"params": {"model": os.path.join(folder, "lm.npz")}, "keep": "1 == 1"}


def main() -> None:
    sample, out = sys.argv[1], sys.argv[2]
    models = out.rstrip("/") + "-models"
    Path(models).mkdir(parents=True, exist_ok=True)
    _local_models(models)
    report: dict = {"blocked": False, "missing_extra": {}, "ran": []}
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    except Exception as exc:  # noqa: BLE001
        report["blocked"] = type(exc).__name__ == "NetworkBlocked"
    probe = Batch(pa.table({"id": ["a"], "text": ["<p>Hello world. This is a test.</p>"]}))
    steps, globals_ = [], []
    for name, cls in sorted(all_ops().items()):
        try:
            op = cls(cls.Params.model_validate(REQUIRED.get(name, {}).get("params", {})))
            op.setup()
            if not cls.is_global and name != "filter":
                op.apply(probe)
        except UsageError as exc:
            report["missing_extra"][name] = str(exc)
            continue
        step = {"op": name, **REQUIRED.get(name, {} if cls.is_global else {"keep": "1 == 1"})}
        (globals_ if cls.is_global else steps).append(step)
    recipe = {"name": "offline_all_ops", "input": {"path": sample, "text_field": "text", "id_field": "id"},
              "steps": steps + globals_, "output": {"path": out, "format": "parquet"}}
    compiled = compile_recipe(recipe, source="offline.yaml")
    result = LocalExecutor(compiled, RunOptions(workers=2, overwrite=True, progress=False)).run()
    report["ran"] = [s["op"] for s in steps + globals_]
    report["summary"] = {k: result.summary.get(k) for k in ("input", "kept", "dropped", "rejected")}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
