"""Build a Hugging Face causal LM from a config (trained from scratch) or a local folder, and compute the
per-sample loss once (reduction='none') so the policy and the optimizer share it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from gristmill.errors import UsageError
from gristmill.train.config import ModelConfig

_POSITION_KEYS = ("n_positions", "max_position_embeddings")


def build_model(cfg: ModelConfig, vocab_size: int, seq_len: int, eos_id: int) -> Any:
    """A causal LM; from ``cfg.path`` (local only) or ``cfg.config`` with ``vocab_size`` from the shards."""
    from transformers import AutoConfig, AutoModelForCausalLM

    if cfg.path:
        path = Path(cfg.path)
        if (path / "model").is_dir() and not (path / "config.json").exists():
            path = path / "model"  # a gristmill output folder
        if not (path / "config.json").exists():
            raise UsageError(f"model.path: {cfg.path} holds no Hugging Face model (config.json missing)")
        return AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True)
    conf = dict(cfg.config)
    model_type = conf.pop("model_type", None)
    if not model_type:
        raise UsageError("model.config.model_type: missing (e.g. gpt2, llama, qwen2)")
    conf.setdefault("vocab_size", vocab_size)
    if model_type == "gpt2":
        for k in ("resid_pdrop", "embd_pdrop", "attn_pdrop"):
            conf.setdefault(k, 0.0)  # tiny from-scratch runs: dropout only slows learning
        conf.setdefault("n_positions", seq_len)
    else:
        conf.setdefault("max_position_embeddings", seq_len)
    conf.setdefault("bos_token_id", eos_id)
    conf.setdefault("eos_token_id", eos_id)
    try:
        hf_conf = AutoConfig.for_model(model_type, **conf)
    except ValueError as e:
        raise UsageError(f"model.config: {e}") from e
    return AutoModelForCausalLM.from_config(hf_conf)


def check_model_fits(model: Any, vocab_size: int, seq_len: int, where: str = "model") -> None:
    """Refuse a model whose vocabulary cannot hold the shards' ids or whose context is shorter than seq_len."""
    mv = int(model.config.vocab_size)
    padded = -(-vocab_size // 128) * 128
    if not vocab_size <= mv <= padded:
        raise UsageError(
            f"{where}: vocabulary size {mv} does not match the token shards' vocabulary {vocab_size} "
            f"(allowed: {vocab_size}..{padded}, i.e. padded to a multiple of 128); the shards were made "
            f"by another tokenizer, or set model.config.vocab_size={vocab_size}"
        )
    for key in _POSITION_KEYS:
        n = getattr(model.config, key, None)
        if n is not None and n < seq_len:
            raise UsageError(f"{where}: context {key}={n} is shorter than train.seq_len={seq_len}")


def per_sample_loss(model: Any, batch: torch.Tensor) -> torch.Tensor:
    """Mean next-token loss of each row of ``batch`` [B, T+1]: shape [B], float32, differentiable."""
    inputs, targets = batch[:, :-1], batch[:, 1:]
    return sequence_loss(model(input_ids=inputs, use_cache=False).logits, targets)


def per_token_loss(model: Any, batch: torch.Tensor) -> torch.Tensor:
    """Next-token loss of every position of ``batch`` [B, T+1]: shape [B, T], float32; ``.mean(1)`` is
    :func:`per_sample_loss` (the same numbers)."""
    inputs, targets = batch[:, :-1], batch[:, 1:]
    logits = model(input_ids=inputs, use_cache=False).logits
    return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), reduction="none").view(targets.shape)


def sequence_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy of each row: logits [B, T, V], targets [B, T] -> [B], in float32."""
    loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), reduction="none")
    return loss.view(targets.shape).mean(dim=1)


def count_params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def flops_per_token(model: Any, seq_len: int) -> float:
    """Model FLOPs per trained token (PaLM, appendix B): 6N for the weights plus 12·L·d·T for attention."""
    cfg = model.config
    n_layer = getattr(cfg, "num_hidden_layers", None) or getattr(cfg, "n_layer", 0)
    d_model = getattr(cfg, "hidden_size", None) or getattr(cfg, "n_embd", 0)
    return 6 * count_params(model) + 12 * n_layer * d_model * seq_len
