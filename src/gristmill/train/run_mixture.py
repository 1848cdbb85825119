"""The mixture a training run learnt, read back so that the next run starts from it or keeps it fixed.

``policy.init_weights_from: RUN_DIR`` (any policy: its first mixture is the run's) and ``policy.name: static``
with ``weights_from: RUN_DIR`` (the run's mixture, fixed) read it from the run's output folder, in this order:

1. ``mixture.json`` (written at the end of training): its ``average`` when present (DoReMi's output is the
   average of its weights over training, not the last ones), else its ``final``;
2. ``average_weights.json`` (what runs of policies with an average wrote before ``mixture.json``);
3. the ``weights`` of the last row of ``metrics.jsonl`` (any run, finished or not, since its first eval).

The run's domains must be this run's domains, exactly: a mixture over other domains says nothing about a
domain it never saw, and silently renormalising over the overlap would train a different mixture than the
one asked for. A mismatch, a folder without any of the three files, or weights that are not a mixture
(negative, not finite, all zero) is a usage error naming the folder, the file and the domains.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gristmill.errors import UsageError


@dataclass(frozen=True)
class RunMixture:
    """A learnt mixture (domain -> weight, summing to 1) and where it was read from."""

    run: str
    weights: dict[str, float]
    source: str  # e.g. "mixture.json (average)" or "metrics.jsonl (step 120)"
    policy: str | None = None


def read_run_mixture(run_dir: str | Path, key: str = "policy.init_weights_from") -> RunMixture:
    """The mixture the run in ``run_dir`` learnt (see the module's docstring for which file wins)."""
    run = Path(run_dir).expanduser()
    if not run.is_dir():
        raise UsageError(f"{key}: {run_dir} is not a folder (give the output folder of a training run)")
    mixture = run / "mixture.json"
    if mixture.is_file():
        data = _read_json(mixture, key)
        if not isinstance(data, dict):
            raise UsageError(f"{key}: {mixture} is not a JSON object")
        for part in ("average", "final"):
            weights = data.get(part)
            if weights:
                return RunMixture(str(run), _mixture(weights, mixture, key), f"mixture.json ({part})", data.get("policy"))
        raise UsageError(f"{key}: {mixture} holds neither 'average' nor 'final' weights")
    average = run / "average_weights.json"
    if average.is_file():
        return RunMixture(str(run), _mixture(_read_json(average, key), average, key), "average_weights.json")
    metrics = run / "metrics.jsonl"
    if metrics.is_file():
        last = None
        for line in metrics.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a killed run
            if isinstance(row, dict) and isinstance(row.get("weights"), dict) and row["weights"]:
                last = row
        if last is not None:
            return RunMixture(str(run), _mixture(last["weights"], metrics, key), f"metrics.jsonl (step {last.get('step')})",
                              last.get("policy"))
    raise UsageError(f"{key}: {run_dir} holds no learnt mixture (no mixture.json, average_weights.json or metrics.jsonl "
                     "row with weights); give the output folder of a training run")


def weights_for(mixture: RunMixture, domains: list[str], key: str = "policy.init_weights_from") -> np.ndarray:
    """The run's mixture as a vector in ``domains`` order; the two sets of domains must be equal."""
    learnt = set(mixture.weights)
    missing = [d for d in domains if d not in learnt]
    extra = sorted(learnt - set(domains))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"this run's domains {missing} are not in it")
        if extra:
            parts.append(f"its domains {extra} are not in this run's data")
        raise UsageError(f"{key}: the mixture of {mixture.run} ({mixture.source}) does not match this run's domains: "
                         f"{'; '.join(parts)} (run: {sorted(learnt)}; data: {list(domains)})")
    return np.array([mixture.weights[d] for d in domains], dtype=np.float64)


def run_weights(run_dir: str | Path, domains: list[str], key: str) -> np.ndarray:
    """:func:`read_run_mixture` then :func:`weights_for`."""
    return weights_for(read_run_mixture(run_dir, key), domains, key)


def _read_json(path: Path, key: str) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"{key}: cannot read {path}: {e}") from None


def _mixture(weights: object, path: Path, key: str) -> dict[str, float]:
    """Domain -> weight, checked (numbers >= 0, finite, not all zero) and scaled to sum to 1."""
    if not isinstance(weights, dict) or not weights:
        raise UsageError(f"{key}: {path}: expected weights as {{domain: weight}}, got {weights!r:.200}")
    out: dict[str, float] = {}
    for dom, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise UsageError(f"{key}: {path}: weight of domain {dom!r} is {w!r}; a weight is a finite number >= 0")
        out[str(dom)] = float(w)
    total = sum(out.values())
    if total <= 0:
        raise UsageError(f"{key}: {path}: every weight is 0")
    return {d: w / total for d, w in out.items()}
