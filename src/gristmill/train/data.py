"""Training data for the loop: open (or build) the shard sets, check them, sample mixed batches, cut eval windows.

Every sample is a window of ``seq_len + 1`` tokens cut at a random offset inside one domain's packed
stream, so its domain id is known even with packing. The sampler draws the domain of each sample from the
policy's current weights with its own seeded generator (seed and rank), whose state is checkpointed: a
resumed run draws exactly the same samples.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gristmill.errors import UsageError
from gristmill.io.documents import describe_rejects
from gristmill.io.inputs import resolve_inputs
from gristmill.shards import DomainShard, ShardError, build_shards, open_shards
from gristmill.train.config import DataConfig
from gristmill.train.source import is_catalog_ref, shards_for_version


@dataclass
class TrainData:
    domains: list[str]
    train: list[DomainShard]
    heldout: list[DomainShard]
    vocab_size: int
    eos_id: int
    tokenizer_hash: str
    tokenizer_path: Path | None
    source: Any = None  # a VersionSource when data.train is a catalog version (gristmill.train.source)

    @property
    def natural(self) -> np.ndarray:
        return np.array([s.n_tokens for s in self.train], dtype=np.float64)


def _build_from_text(cfg: DataConfig, output: Path) -> tuple[Path, Path]:
    """Tokenize plain text into ``<output>/shards`` once; reused while the input files (size, mtime) and settings are unchanged."""
    texts = [cfg.text] if isinstance(cfg.text, str) else list(cfg.text or [])
    try:
        stamps = [(f.path, f.size, os.path.getmtime(f.path)) for f in resolve_inputs(texts)]
    except UsageError as e:
        raise UsageError(f"data.text: {e}") from None
    key = json.dumps(
        [stamps, cfg.text, cfg.tokenizer, cfg.vocab_size, cfg.text_field, cfg.domain_field, cfg.heldout_fraction,
         cfg.max_heldout_docs, cfg.min_heldout_tokens, cfg.domains], sort_keys=True,
    )
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    root = output / "shards"
    stamp = root / "source.key"
    if not (stamp.exists() and stamp.read_text() == digest):
        try:
            summary = build_shards(
                cfg.text, root, tokenizer=cfg.tokenizer, vocab_size=cfg.vocab_size, text_field=cfg.text_field,
                domain_field=cfg.domain_field, heldout_fraction=cfg.heldout_fraction,
                max_heldout_docs=cfg.max_heldout_docs, min_heldout_tokens=cfg.min_heldout_tokens,
                domains=cfg.domains,
            )
        except (FileNotFoundError, UsageError) as e:
            raise UsageError(f"data.text: {e}") from e
        rejected = dict(summary["rejected"])
        if rejected["total"]:
            rejected["details"] = str(root / rejected["details"])
            print(f"[gristmill] data.text: {describe_rejects(rejected)}", flush=True)
        stamp.write_text(digest)
    return root / "train", root / "heldout"


def load_data(cfg: DataConfig, output: Path, seq_len: int) -> TrainData:
    """Open the train and held-out shard sets and check them before any training starts."""
    source = None
    if cfg.text:
        train_root, held_root = _build_from_text(cfg, output)
    elif is_catalog_ref(cfg.train):
        source = shards_for_version(cfg)
        train_root, held_root = Path(source.shards) / "train", Path(source.shards) / "heldout"
        if cfg.heldout:  # a fixed evaluation set (e.g. clean, or shared by runs on different versions)
            held_root = Path(cfg.heldout)
    elif cfg.train:
        train_root = Path(cfg.train)
        held_root = Path(cfg.heldout) if cfg.heldout else None
        if held_root is None:
            raise UsageError("data.heldout: missing; give a held-out shard set with the same domains as data.train")
    else:
        raise UsageError("data: give data.train and data.heldout (token shards) or data.text (JSONL/Parquet)")
    try:
        train = open_shards(train_root, cfg.domains)
    except ShardError as e:
        raise ShardError(f"data.train: {e}") from None
    except FileNotFoundError as e:
        raise UsageError(f"data.train: {e}") from e
    if not train:
        raise UsageError(f"data.train: no domain folders (with meta.json) in {train_root}")
    if not held_root.is_dir():
        raise UsageError(f"data.heldout: folder {held_root} does not exist")
    heldout = []
    for dom, shard in train.items():
        if not (held_root / dom / "meta.json").exists():
            raise UsageError(
                f"data.heldout: held-out split missing for domain {dom!r}: no shard {held_root / dom} "
                f"(every training domain needs one to be evaluated)"
            )
        try:
            heldout.append(DomainShard.open(held_root / dom))
        except ShardError as e:
            raise ShardError(f"data.heldout: {e}") from None
        if shard.n_tokens == 0 or shard.n_docs == 0:
            raise UsageError(f"data.train: domain {dom!r} has no data (0 documents in {shard.path})")
        if shard.n_tokens < seq_len + 1:
            raise UsageError(
                f"data.train: domain {dom!r} has only {shard.n_tokens} tokens in {shard.path}; "
                f"a sample needs train.seq_len + 1 = {seq_len + 1}"
            )
    for h in heldout:
        if h.n_tokens < seq_len + 1:
            raise UsageError(
                f"data.heldout: domain {h.domain!r} has only {h.n_tokens} held-out tokens in {h.path}; "
                f"an eval window needs train.seq_len + 1 = {seq_len + 1}"
            )
    shards = list(train.values()) + heldout
    vocabs = {(s.meta["vocab_size"], s.meta.get("tokenizer_hash", "")) for s in shards}
    if len(vocabs) > 1:
        detail = ", ".join(f"{s.path}: vocab {s.meta['vocab_size']} {s.meta.get('tokenizer_hash', '')}" for s in shards)
        raise UsageError(f"data: shards were made by different tokenizers ({detail})")
    first = shards[0].meta
    if cfg.tokenizer and not cfg.text and source is None:
        _check_tokenizer(cfg.tokenizer, first.get("tokenizer_hash", ""), train_root)
    tok = train_root.parent / "tokenizer.json"
    return TrainData(
        domains=list(train), train=list(train.values()), heldout=heldout, vocab_size=int(first["vocab_size"]),
        eos_id=int(first["eos_id"]), tokenizer_hash=first.get("tokenizer_hash", ""),
        tokenizer_path=tok if tok.exists() else None, source=source,
    )


def _check_tokenizer(path: str, shard_hash: str, root: Path) -> None:
    """data.tokenizer next to ready shards: it must be the tokenizer that made them."""
    from gristmill.shards import load_tokenizer, tokenizer_hash

    try:
        got = tokenizer_hash(load_tokenizer(path))
    except Exception as e:  # noqa: BLE001 - tokenizers raises plain Exceptions for a bad file
        raise UsageError(f"data.tokenizer: cannot load {path}: {e}") from None
    if shard_hash and got != shard_hash:
        raise UsageError(f"data.tokenizer: {path} (hash {got}) did not make the shards in {root} (made by "
                         f"tokenizer {shard_hash}); use their tokenizer or re-tokenize")


class MixtureSampler:
    """Draw windows of ``seq_len + 1`` tokens: domain ~ weights, offset uniform within the domain's stream."""

    def __init__(self, shards: list[DomainShard], seq_len: int, seed: int, rank: int = 0) -> None:
        self.shards = shards
        self.seq_len = seq_len
        self.high = np.array([s.n_tokens - seq_len - 1 for s in shards], dtype=np.int64)
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, rank, 7919])))
        self.drawn = np.zeros(len(shards), dtype=np.int64)

    def sample(self, n: int, weights: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        p = np.asarray(weights, dtype=np.float64)
        p = p / p.sum()
        doms = self.rng.choice(len(self.shards), size=n, p=p)
        starts = self.rng.integers(0, self.high[doms], endpoint=True)
        rows = np.stack(
            [np.asarray(self.shards[d].tokens[s : s + self.seq_len + 1], dtype=np.int64) for d, s in zip(doms, starts, strict=True)]
        )
        np.add.at(self.drawn, doms, 1)
        self.last_draw = (doms, starts)  # which windows these are: the loop counts each document's draws
        return torch.from_numpy(rows), torch.from_numpy(doms.astype(np.int64))

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.bit_generator.state, "drawn": self.drawn.tolist()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.drawn = np.asarray(state["drawn"], dtype=np.int64)


def eval_windows(shard: DomainShard, seq_len: int, max_tokens: int) -> torch.Tensor:
    """Fixed, non-overlapping held-out windows from the start of the domain (the same at every eval)."""
    n = max(1, min(max_tokens // seq_len, (shard.n_tokens - 1) // seq_len))
    rows = [np.asarray(shard.tokens[i * seq_len : i * seq_len + seq_len + 1], dtype=np.int64) for i in range(n)]
    return torch.from_numpy(np.stack(rows))
