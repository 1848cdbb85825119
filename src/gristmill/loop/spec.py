"""The loop spec: one YAML file (validated by pydantic) that says what ``gristmill loop`` runs, plus the flags that
override its common knobs. Every mistake is a one-line :class:`UsageError` naming the key (exit 2).

    input: data/sample.jsonl.gz            # files to prepare, or catalog://NAME@V to start from a version
    goal: "lenient quality, remove duplicates"   # prepared by the agent; or  recipe: my.yaml
    name: web                              # the catalog dataset the versions are registered under
    catalog: out/catalog                   # catalog root [default: $GRISTMILL_HOME or ~/.gristmill]
    output: out/loop                       # rounds, signals, report.html, loop.json
    train:
      config: examples/train/tiny.yaml     # the training config of both rounds [default: a bundled tiny GPT-2]
      tokens: 400000                       # each round's token budget: the rounds compare at equal tokens
      policy: ado                          # round 1's policy (round 2's too unless round2.policy says)
      set: ["model.config.n_layer=1"]      # more --set overrides, both rounds
    score:
      reference: init                      # init | a run's output folder | a local HF model folder
    refine:                                # one of: goal, drop_share, keep, recipe
      drop_share: 0.1                      # "drop the 10% the last model found noisy or unlearnable, per domain"
    round2:
      init_weights_from: true              # start round 2 from the mixture round 1 learnt
      control: false                       # also train round 2's settings on the unrefined version (attribution)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gristmill.errors import UsageError

DEFAULT_REFINE_GOAL = "drop what the last model found noisy or unlearnable"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def bundled_train_config() -> str:
    """The tiny GPT-2 config shipped with the package (examples/train/tiny.yaml's model and schedule)."""
    from importlib import resources

    return str(resources.files("gristmill") / "assets" / "train" / "loop_default.yaml")


class TrainSpec(_Section):
    config: str = Field(default_factory=bundled_train_config)
    tokens: int | None = Field(None, ge=1)  # each round's budget; None: the config's train.max_tokens
    policy: str | None = None  # round 1's policy; None: the config's
    set: list[str] = Field(default_factory=list)  # dotted overrides for both rounds


class ScoreSpec(_Section):
    reference: str = "init"  # init | RUN_DIR | MODEL_DIR
    batch_size: int = Field(32, ge=1)
    docs_per_batch: int = Field(512, ge=1)
    threads: int = Field(0, ge=0)
    device: str = "auto"


class RefineSpec(_Section):
    """How version 3 is made from version 2 (which carries round 1's ``train.r1.*`` columns): exactly one of
    an agent goal, a drop share (the agent's goal with that share), a rule, or a recipe over version 2."""

    goal: str | None = None
    drop_share: float | None = Field(None, gt=0, lt=1)
    keep: str | None = None  # a rule, e.g. "field('train.r1.excess_loss') < -1.0"
    recipe: str | None = None  # a recipe file; its input is replaced by version 2

    @model_validator(mode="after")
    def _one(self) -> RefineSpec:
        given = [k for k in ("goal", "drop_share", "keep", "recipe") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of refine.goal, refine.drop_share, refine.keep, refine.recipe (got {given})")
        return self

    def agent_goal(self) -> str | None:
        """The goal the agent refines with (None when a rule or recipe is given)."""
        if self.drop_share is not None:
            return f"drop the {self.drop_share * 100:g}% of documents the last model found noisy or unlearnable"
        if self.keep is not None or self.recipe is not None:
            return None
        return self.goal or DEFAULT_REFINE_GOAL


class Round2Spec(_Section):
    init_weights_from: bool = True  # start from the mixture round 1 learnt
    policy: str | None = None  # None: round 1's policy
    control: bool = False  # also train round 2's settings on version 1 (unrefined): what the refinement alone adds


class LoopSpec(_Section):
    input: str
    goal: str | None = None
    recipe: str | None = None
    name: str = "loop"  # with a catalog:// input, versions 2 and 3 go to that version's dataset
    catalog: str | None = None
    output: str = "out/loop"
    runs: tuple[str, str] = ("r1", "r2")  # the rounds' run names: round 1's signals are train.<runs[0]>.*
    seed: int = 0
    train: TrainSpec = Field(default_factory=TrainSpec)
    score: ScoreSpec = Field(default_factory=ScoreSpec)
    refine: RefineSpec = Field(default_factory=RefineSpec)
    round2: Round2Spec = Field(default_factory=Round2Spec)
    workers: int | None = Field(None, ge=1)  # recipe worker processes

    @model_validator(mode="after")
    def _check(self) -> LoopSpec:
        from gristmill.catalog.core import parse_ref
        from gristmill.train.signals import sanitize_run_name

        if self.goal is not None and self.recipe is not None:
            raise ValueError("give goal or recipe, not both")
        if self.input.startswith("catalog://"):
            if self.goal is not None or self.recipe is not None:
                raise ValueError(f"input {self.input} is already a version: prepare nothing (drop goal/recipe)")
        elif self.goal is None and self.recipe is None:
            raise ValueError("give goal (prepared by the agent) or recipe for the input, or a catalog://NAME@V input")
        try:
            parse_ref(self.name)
        except UsageError as e:
            raise ValueError(f"name: {e}") from None
        if self.runs[0] == self.runs[1] or any(sanitize_run_name(r) != r for r in self.runs):
            raise ValueError(f"runs: two different names of [A-Za-z0-9_-] (got {list(self.runs)})")
        return self


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = data
    for p in parents:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise UsageError(f"loop spec: {p} is not a section")
    node[last] = value


SPEC_PATHS = ("input", "recipe", "output", "catalog", "train.config", "refine.recipe")


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Paths written in a spec file are relative to the file's folder (flags stay relative to the working
    directory); URIs (``catalog://``, ``s3://``) are left alone."""
    for dotted in SPEC_PATHS:
        *parents, last = dotted.split(".")
        node: Any = data
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(last), str) and "://" not in node[last] \
                and not Path(node[last]).is_absolute():
            node[last] = str(base / node[last])


def load_spec(path: str | Path | None, overrides: dict[str, Any] | None = None) -> LoopSpec:
    """The spec in ``path`` (optional) with ``overrides`` (dotted key -> value, None values ignored) applied."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as e:
            raise UsageError(f"loop spec: cannot read {path}: {e.strerror or e}") from None
        except yaml.YAMLError as e:
            raise UsageError(f"loop spec: {path} is not valid YAML: {str(e).splitlines()[0]}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise UsageError(f"loop spec: {path} must be a mapping of keys (input, goal, train, ...)")
        data = loaded or {}
        _resolve_paths(data, Path(path).resolve().parent)
    for key, value in (overrides or {}).items():
        if value is None or value == () or value == []:
            continue
        if key == "refine" and isinstance(value, dict):  # a flag picks the refinement: it replaces the spec's
            data["refine"] = value
            continue
        _set(data, key, list(value) if isinstance(value, tuple) else value)
    try:
        return LoopSpec.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "spec"
        msg = err["msg"].removeprefix("Value error, ")
        more = f" (and {len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
        raise UsageError(f"loop spec: {where}: {msg}{more}") from None
