"""Classic DoReMi as a function: reference run → proxy run → main run on the proxy's averaged weights.

Xie et al. 2023 train (1) a reference model on the baseline mixture, (2) a small proxy with group DRO that
up-weights domains by excess loss over the reference, and (3) the main model on the proxy's weights
averaged over its training. Here all three are ordinary ``train`` runs of the same config: the reference
uses ``uniform``, the proxy ``doremi`` (online) with the reference, the main run ``static`` with the
averaged weights. ``proxy_tokens`` shortens the first two; the paper also uses a smaller proxy model,
which ``--set model.config...`` on a copy of the config gives.
"""

from __future__ import annotations

import json
from pathlib import Path

from gristmill.train.config import Config


def run_doremi(cfg: Config, proxy_tokens: int | None = None) -> dict[str, float]:
    """Run the three stages into ``cfg.output``/{reference,proxy,main}; returns the DoReMi weights."""
    from gristmill.train.loop import train

    root = Path(cfg.output)
    budget = proxy_tokens or cfg.train.max_tokens
    ref = cfg.model_copy(deep=True)
    ref.output = str(root / "reference")
    ref.policy = type(cfg.policy)(name="uniform")
    ref.train.max_tokens = budget
    train(ref)
    proxy = cfg.model_copy(deep=True)
    proxy.output = str(root / "proxy")
    extra = {k: v for k, v in cfg.policy.params().items() if k in ("eta", "smoothing")}
    cadence = {k: v for k, v in (("update_every", cfg.policy.update_every), ("warmup_steps", cfg.policy.warmup_steps)) if v}
    proxy.policy = type(cfg.policy)(name="doremi", reference=ref.output, **cadence, **extra)
    proxy.train.max_tokens = budget
    train(proxy)
    weights = json.loads((root / "proxy" / "average_weights.json").read_text())
    main = cfg.model_copy(deep=True)
    main.output = str(root / "main")
    main.policy = type(cfg.policy)(name="static", weights=weights)
    train(main)
    (root / "doremi_weights.json").write_text(json.dumps(weights, indent=2) + "\n")
    return weights
