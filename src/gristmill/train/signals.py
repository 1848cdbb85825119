"""A finished run as the source of per-document signals: its name, its files, and the hashes that identify it.

Signal columns are named ``train.<run>.<signal>`` (the shared contract, docs/train.md): ``<run>`` is
``run.name`` or the run folder's base name, with every character outside ``[A-Za-z0-9_-]`` turned into ``_``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import xxhash

from gristmill.errors import UsageError
from gristmill.train.config import Config, load_config
from gristmill.train.source import VersionSource

SIGNALS = ("loss", "ref_loss", "excess_loss", "draws", "first_loss", "last_loss")
DOC_SIGNALS_FILE = "doc_signals.parquet"  # draws and first/last-draw losses, written at the end of training
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt")


def sanitize_run_name(name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    if not clean:
        raise UsageError(f"run name {name!r} is empty once sanitised; set run.name")
    return clean


def column(run: str, signal: str) -> str:
    """The column of ``signal`` for run ``run``: ``train.<run>.<signal>``."""
    return f"train.{run}.{signal}"


def _hash_files(paths: list[Path]) -> str:
    h = xxhash.xxh3_128()
    for p in paths:
        h.update(p.name.encode() + b"\0")
        with open(p, "rb") as f:
            while block := f.read(1 << 22):
                h.update(block)
    return "xxh3-128:" + h.hexdigest()


@dataclass
class RunOutput:
    """A training run's output folder, checked: its resolved config, name, model, tokenizer and data source."""

    dir: Path
    cfg: Config
    name: str
    model_dir: Path
    tokenizer: Path
    source: VersionSource | None

    @classmethod
    def open(cls, run_dir: str | Path) -> RunOutput:
        folder = Path(run_dir)
        if not (folder / "config.yaml").is_file():
            raise UsageError(f"{folder} is not a training run's output folder (no config.yaml)")
        cfg = load_config(folder / "config.yaml")
        model_dir = folder / "model"
        if not (model_dir / "config.json").is_file() or not _weights(model_dir):
            ckpts = sorted((folder / "checkpoints").glob("step_*")) if (folder / "checkpoints").is_dir() else []
            hint = f" (it has checkpoints up to {ckpts[-1].name}: resume it to the end)" if ckpts else ""
            raise UsageError(f"run {folder} has no trained model in {model_dir}: the run did not finish{hint}")
        tokenizer = model_dir / "tokenizer.json"
        if not tokenizer.is_file():
            raise UsageError(f"run {folder} has no tokenizer ({tokenizer}): it trained on ready-made shards; "
                             "scoring text needs the tokenizer that made them")
        name = sanitize_run_name(cfg.run.name or folder.resolve().name)
        return cls(dir=folder, cfg=cfg, name=name, model_dir=model_dir, tokenizer=tokenizer,
                   source=VersionSource.read(folder))

    def config_hash(self) -> str:
        return _hash_files([self.dir / "config.yaml"])

    def checkpoint_hash(self) -> str:
        """A hash of the trained weights (the files of ``model/``), so a version's lineage names the model."""
        return _hash_files(_weights(self.model_dir))

    def column(self, signal: str) -> str:
        return column(self.name, signal)


def _weights(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in _WEIGHT_SUFFIXES) if folder.is_dir() else []
