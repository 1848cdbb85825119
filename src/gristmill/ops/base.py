"""The operator contract: what every step of a recipe declares and does.

An operator is a small class. It declares, for people and for the planning agent alike, what it does
(``description``), its typed parameters (``Params``, a pydantic model with defaults and ranges), the
columns it reads and writes, the signals it measures, the languages it covers, its cost class and version.

Two kinds of work:

* **Per-document operators** (``apply``) see one :class:`~gristmill.batch.Batch` at a time. They may rewrite
  the text and return *signals* (numbers per document). A filter is an operator with default keep *rules*:
  expressions over signals such as ``length.words >= 5``. Measuring and deciding are separate, so a
  threshold can change without recomputing the signal.
* **Global operators** (``is_global = True``, e.g. dedup) compute a compact ``signature`` per document while
  the data streams, then ``decide`` which rows to keep after seeing every signature.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from gristmill.batch import Batch

Cost = Literal["cheap", "moderate", "expensive", "model"]
Family = Literal["clean", "quality", "lang", "pii", "safety", "dedup", "sft", "tokenize", "select", "misc"]


class OpParams(BaseModel):
    """Base for operator parameters: unknown keys are errors, values are validated on assignment.

    ``decision_params`` names the parameters that only shape the default keep rules (thresholds) and never
    what ``apply`` or ``signature`` compute. A recipe that changes only those (or the ``keep`` rules) is
    re-decided from a catalog version's stored signals without measuring again; every other parameter
    counts as measuring. Declaring a parameter here is a promise that the tests check on sample data.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=True)
    decision_params: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def decision_params_for(cls, params: dict[str, Any]) -> frozenset[str]:
        """The decision parameters of these particular values (a parameter can shape only the rules in one mode
        of an operator and what it computes in another)."""
        return cls.decision_params


@dataclass(frozen=True)
class Signal:
    """A measured value an operator writes as column ``<step>.<name>``."""

    name: str
    dtype: Literal["float", "int", "bool", "str"]
    description: str


class Operator(ABC):
    """Base class of every operator. Subclasses set the class attributes and override ``apply``."""

    name: ClassVar[str]
    family: ClassVar[Family]
    description: ClassVar[str]
    Params: ClassVar[type[OpParams]] = OpParams
    reads: ClassVar[tuple[str, ...]] = ("text",)
    writes: ClassVar[tuple[str, ...]] = ()
    signals: ClassVar[tuple[Signal, ...]] = ()
    languages: ClassVar[tuple[str, ...]] = ("*",)
    cost: ClassVar[Cost] = "cheap"
    version: ClassVar[str] = "1"
    is_global: ClassVar[bool] = False
    needs_keep: ClassVar[bool] = False
    """True for an operator that only decides by the step's ``keep`` rule (it measures nothing of its own)."""
    references: ClassVar[tuple[str, ...]] = ()
    needs: ClassVar[tuple[tuple[str, str], ...]] = ()
    """Optional packages as (importable module, gristmill extra), checked when a recipe compiles."""
    expression_params: ClassVar[tuple[str, ...]] = ()
    """Parameters holding an expression over columns in the keep-rule language (a weight, a value to rank),
    checked when the recipe compiles against the signals of earlier steps and the input's columns."""
    column_params: ClassVar[tuple[str, ...]] = ()
    """Parameters naming a column (a field to group by), checked when the recipe compiles where the input's
    columns are known then; otherwise a column absent from the data reads as null."""

    def __init__(self, params: OpParams | None = None, step: str | None = None) -> None:
        self.params = params if params is not None else self.Params()
        self.step = step or self.name
        self._expressions: dict[str, Any] = {}

    # -- expressions in parameters ------------------------------------------------------------------------
    def bind_expression(self, param: str, rule: Any) -> None:
        """Keep the compiled form of an expression parameter (done by the recipe compiler)."""
        self._expressions[param] = rule

    def expression(self, param: str, batch: Batch) -> Any:
        """The compiled expression of ``param`` (a :class:`~gristmill.recipe.rules.Rule`), or None when unset.

        An operator built outside a recipe compiles it here, against the batch's columns."""
        source = getattr(self.params, param)
        if source is None:
            return None
        rule = self._expressions.get(param)
        if rule is None:
            from gristmill.recipe.rules import compile_rule

            rule = compile_rule(param, str(source), batch.column_names)
            self._expressions[param] = rule
        return rule

    # -- naming -------------------------------------------------------------------------------------------
    def signal_column(self, signal: str) -> str:
        """The column a signal lives in: ``<step name>.<signal>``."""
        return f"{self.step}.{signal}"

    # -- decisions ----------------------------------------------------------------------------------------
    def rules(self) -> dict[str, str]:
        """Default keep rules, name -> expression over signal columns. Empty for pure transforms."""
        return {}

    def required_modules(self) -> tuple[tuple[str, str], ...]:
        """The (module, extra) pairs these parameters need; override when a parameter picks a backend."""
        return self.needs

    # -- work ---------------------------------------------------------------------------------------------
    def apply(self, batch: Batch) -> dict[str, Any] | None:
        """Transform ``batch`` in place and/or return signals as ``{signal name: values}``."""
        raise NotImplementedError(f"{self.name} does not implement apply()")

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Load assets once per worker process before the first batch (models, word lists)."""

    # -- catalogue ----------------------------------------------------------------------------------------
    @classmethod
    def describe(cls) -> dict[str, Any]:
        """Machine-readable description for ``gristmill ops show --json`` and for the planner."""
        schema = cls.Params.model_json_schema()
        return {
            "name": cls.name,
            "family": cls.family,
            "description": " ".join(cls.description.split()),
            "params": schema.get("properties", {}),
            "required": schema.get("required", []),
            "reads": list(cls.reads),
            "writes": list(cls.writes),
            "signals": [{"name": s.name, "dtype": s.dtype, "description": s.description} for s in cls.signals],
            "languages": list(cls.languages),
            "cost": cls.cost,
            "version": cls.version,
            "global": cls.is_global,
            "decision_params": sorted(cls.Params.decision_params),
            "references": list(cls.references),
        }


def cut_per_chunk(chunks: list[tuple[int, int]], rows: np.ndarray) -> dict[int, np.ndarray]:
    """Cut a row-order array over the whole dataset back into per-chunk pieces (chunks: (id, rows), in order)."""
    out, start = {}, 0
    for cid, n in chunks:
        out[cid] = rows[start : start + n]
        start += n
    return out


class SignatureSource:
    """Re-iterable access to the signatures a global operator computed, in input order, chunk by chunk."""

    def __init__(self, chunk_ids: list[int], loader: Any) -> None:
        self.chunk_ids = chunk_ids
        self._loader = loader

    def __iter__(self) -> Iterator[tuple[int, pa.Array]]:
        for cid in self.chunk_ids:
            yield cid, self._loader(cid)


class GlobalOperator(Operator):
    """An operator that must see the whole dataset before deciding (dedup, boilerplate lines).

    Three calls, each in its own phase:

    1. ``signature(batch)`` runs in the workers while the data streams (in parallel) and returns one compact
       value per row (hashes, not text); the engine stores it beside the chunk.
    2. ``decide(signatures)`` runs once, in one process, over every signature in input order, and returns a
       picklable decision. The default convention is ``{chunk id: keep mask}``.
    3. ``apply_decision(batch, chunk_id, decision)`` runs in the workers on each chunk again: it returns a
       keep mask (or None to keep all) and may rewrite the text (e.g. remove boilerplate lines).

    Rows dropped by a decision are attributed to the rule ``drop_rule``.
    """

    is_global = True
    drop_rule: ClassVar[str] = "duplicate"
    decides_rows_only: ClassVar[bool] = True
    """True when ``apply_decision`` only keeps or drops rows and writes signals, never the text: then the
    decision can be made again from stored signatures alone (incremental runs, re-deciding)."""

    def signature(self, batch: Batch) -> pa.Array:
        raise NotImplementedError

    def decide(self, signatures: SignatureSource) -> Any:
        raise NotImplementedError

    def apply_decision(self, batch: Batch, chunk_id: int, decision: Any) -> np.ndarray | None:
        return decision.get(chunk_id)
