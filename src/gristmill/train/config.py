"""Training configuration: one YAML file, validated by pydantic, with dotted ``--set KEY=VALUE`` overrides.

The config is deliberately flat per section (nanoGPT style): every knob has a name, a default and a range,
and an override such as ``--set policy.name=odm --set train.max_tokens=2e6`` is coerced to the field's type
before validation, so a typo is an error naming the key and the closest valid one.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gristmill.errors import UsageError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Section):
    """Where the tokens come from: token shard sets (train + held-out), or plain text to tokenize first."""

    train: str | None = None
    heldout: str | None = None
    text: str | list[str] | None = None
    tokenizer: str | None = None
    vocab_size: int = Field(4096, ge=256)
    text_field: str = "text"
    domain_field: str = "domain"
    heldout_fraction: float = Field(0.05, gt=0, lt=1)
    max_heldout_docs: int = Field(200, ge=1)
    min_heldout_tokens: int = Field(1024, ge=0)
    domains: list[str] | None = None
    catalog: str | None = None  # catalog root for data.train: catalog://NAME@V (default $GRISTMILL_HOME, ~/.gristmill)
    shard_cache: str | None = None  # tokenized versions are cached here (default <catalog>/cache/shards)
    version_hash: str | None = None  # the content hash data.train's version must have (set in a run's config.yaml)


class ModelConfig(_Section):
    """A Hugging Face causal LM: from a config (trained from scratch) or a local path. Never downloads."""

    path: str | None = None
    config: dict[str, Any] = Field(
        default_factory=lambda: {"model_type": "gpt2", "n_layer": 2, "n_head": 2, "n_embd": 128}
    )


class TrainConfig(_Section):
    """The loop's knobs; ``max_tokens`` is the token budget (all ranks together)."""

    seq_len: int = Field(128, ge=8)
    batch_size: int = Field(16, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_tokens: int = Field(1_000_000, ge=1)
    lr: float = Field(1e-3, gt=0)
    min_lr_ratio: float = Field(0.1, ge=0, le=1)
    warmup_steps: int = Field(20, ge=0)
    weight_decay: float = Field(0.1, ge=0)
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = Field(1.0, ge=0)
    eval_every: int = Field(50, ge=1)
    eval_tokens: int = Field(8192, ge=1)
    ckpt_every: int = Field(0, ge=0)
    keep_checkpoints: int = Field(2, ge=1)
    resume: bool | str = False
    stop_at_step: int | None = None
    device: str = "auto"
    threads: int = Field(0, ge=0)  # torch CPU threads; 0 keeps torch's default
    peak_tflops: float = Field(989.0, gt=0)  # per device, for MFU on CUDA (H100 SXM dense bf16)
    compile: bool = False
    feedback_delay: int = Field(1, ge=0, le=1)  # 1: the policy reads step t's stats after step t+1 is queued


class PolicyConfig(BaseModel):
    """``name`` picks a registered policy; every other key is one of that policy's parameters.

    Any policy takes ``init_weights_from: RUN_DIR`` (start from the mixture that run learnt) and ``static``
    takes ``weights_from: RUN_DIR`` (keep it fixed); see :mod:`gristmill.train.run_mixture`. ``policy: NAME``
    is short for ``policy: {name: NAME}``."""

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _name_only(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    name: str = "uniform"
    warmup_steps: int | None = Field(None, ge=0)  # None: the policy's own default
    update_every: int | None = Field(None, ge=1)  # None: the policy's own default (ODM: 1, others: 10)
    reference: str | None = None

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class LogConfig(_Section):
    plot: bool = True
    tensorboard: bool = False
    per_rank_weights: bool = False
    step_log: bool = True


class RunConfig(_Section):
    name: str | None = None  # names the run's signal columns train.<name>.*; default: the output folder's name


class SignalsConfig(_Section):
    """Per-document training signals the run records as it goes (docs/train.md, "Per-document signals")."""

    draws: bool = True  # count the training windows that touch each document (shards with a document map)
    doc_losses: bool = False  # the loss of each document at its first and last draw (one host sync per step)
    save_init: bool = False  # save the step-0 weights as <output>/model_init, a reference for scoring
    reference: str | None = None  # `train score`'s default reference: init, a model folder or a run's output


class Config(_Section):
    seed: int = 0
    output: str = "out/train"
    run: RunConfig = Field(default_factory=RunConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    log: LogConfig = Field(default_factory=LogConfig)
    signals: SignalsConfig = Field(default_factory=SignalsConfig)


def _coerce(text: str) -> Any:
    """A ``--set`` value as YAML (numbers, bools, lists), with ``1e6``-style numbers accepted."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        for cast in (int, float):
            try:
                return cast(value)
            except ValueError:
                pass
    return value


def _known_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, f in model.model_fields.items():
        keys.append(prefix + name)
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys += _known_keys(ann, prefix + name + ".")
    return keys


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Set dotted keys (``train.lr=3e-4``) in a raw config dict; values are coerced from YAML text."""
    known = _known_keys(Config)
    for item in overrides:
        if "=" not in item:
            raise UsageError(f"--set {item!r}: expected KEY=VALUE, e.g. --set train.lr=3e-4")
        key, _, text = item.partition("=")
        parts = key.strip().split(".")
        if key not in known and not (parts[0] in ("policy",) or key.startswith("model.config.")):
            hint = difflib.get_close_matches(key, known, n=1)
            raise UsageError(
                f"--set {key}: unknown key" + (f"; did you mean {hint[0]}?" if hint else "")
            )
        node = raw
        if len(parts) > 1 and parts[0] == "policy" and isinstance(raw.get("policy"), str):
            raw["policy"] = {"name": raw["policy"]}  # `policy: NAME` is short for `policy: {name: NAME}`
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise UsageError(f"--set {key}: {p} is not a section")
        node[parts[-1]] = _coerce(text)
    return raw


def _format_errors(err: ValidationError, source: str) -> str:
    lines = []
    known = _known_keys(Config)
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            hint = difflib.get_close_matches(loc, known, n=1)
            msg = "unknown key" + (f"; did you mean {hint[0]}?" if hint else "")
        lines.append(f"{source}: {loc}: {msg} (got {e.get('input')!r})")
    return "\n".join(lines)


def load_config(path: str | Path | None, overrides: list[str] | None = None, **top: Any) -> Config:
    """Read a YAML config, apply ``--set`` overrides and validate; errors name the key and the file."""
    raw: dict[str, Any] = {}
    source = str(path) if path else "<config>"
    if path is not None:
        try:
            raw = yaml.safe_load(Path(path).read_text()) or {}
        except FileNotFoundError as e:
            raise UsageError(f"config file {path} does not exist") from e
        except yaml.YAMLError as e:
            raise UsageError(f"{path}: not valid YAML: {e}") from e
        if not isinstance(raw, dict):
            raise UsageError(f"{path}: expected a mapping at the top level")
    raw = apply_overrides(raw, list(overrides or []))
    raw.update({k: v for k, v in top.items() if v is not None})
    try:
        return Config.model_validate(raw)
    except ValidationError as e:
        raise UsageError(_format_errors(e, source)) from e


def dump_config(cfg: Config) -> str:
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)


Device = Literal["auto", "cpu", "cuda"]
