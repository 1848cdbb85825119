"""What kind of text a document is — code (and its language), prose, mixed, LaTeX/math, table, log, markup.

Read from the text alone, offline: hand-built features (defined in ``content_kind_reference``, computed for
the whole batch at once by ``content_kind_features``) and two softmax regressions whose weights ship as
``assets/content_kind/model.json`` (fitted by ``bench/content_kind/train.py`` on excerpts of Debian packages;
accuracy and speed in ``bench/README.md``). It lets a recipe or the planner select or exclude source code,
logs, tables... when no field labels them.
"""

from __future__ import annotations

import json
import threading
from importlib import resources
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from gristmill.batch import Batch
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.content_kind_features import KINDS, LANGUAGES, batch_features, feature_names
from gristmill.ops.registry import register

Kind = Literal["code", "prose", "mixed", "math", "table", "log", "markup"]
_MODEL: dict[str, Any] = {}
_COLUMN = {name: i for i, name in enumerate(feature_names())}
_LOCK = threading.Lock()


def load_model() -> dict[str, Any]:
    """The fitted weights as numpy arrays, read once per process."""
    with _LOCK:
        if not _MODEL:
            raw = json.loads(resources.files("gristmill.assets").joinpath("content_kind/model.json").read_text())
            if raw["features"] != feature_names():
                raise RuntimeError("content_kind model.json does not match the feature code: rerun bench/content_kind/train.py")
            _MODEL.update({k: np.asarray(raw[k], np.float64) for k in ("mean", "std", "kind_w", "kind_b", "lang_w", "lang_b")})
    return _MODEL


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(1, keepdims=True)


class ContentKindParams(OpParams):
    keep: list[Kind] = Field(default_factory=list, description="keep only documents of these kinds (empty: keep all)")
    drop: list[Kind] = Field(default_factory=list, description="drop documents of these kinds")
    max_chars: int = Field(8000, ge=200, description="only the first max_chars characters are examined")

    @model_validator(mode="after")
    def _disjoint(self) -> ContentKindParams:
        both = sorted(set(self.keep) & set(self.drop))
        if both:
            raise ValueError(f"kinds {both} are in both keep and drop")
        return self


@register
class ContentKind(Operator):
    name = "content_kind"
    family = "quality"
    description = """Content kind: whether a document is source code (and which programming language:
    python, go, c, cpp, java, javascript, shell, sql, rust), prose, mixed prose and code (a README or a
    tutorial with code blocks), math/LaTeX, a table (CSV, TSV, pipe or aligned columns), a log, or markup
    (HTML, XML, SVG), read from the text alone. Signals: `kind`, `code_language`, `code_share` and a score
    per kind. Use it to keep or drop code, logs, tables or markup when no field labels them, e.g.
    `params: {keep: [code]}` or the rule `content_kind.kind == 'code'`. Measures only unless keep/drop is set."""
    Params = ContentKindParams
    version = "2"  # 2: features computed per batch (bytes, runs of code lines), weights refit; was per document
    cost = "cheap"
    references = ("Weights fitted on Debian package excerpts: bench/content_kind (train.py, run.py)",)
    signals = (
        Signal("kind", "str", "one of code, prose, mixed, math, table, log, markup"),
        Signal("code_language", "str", "programming language when kind is code or mixed ('' otherwise)"),
        Signal("code_share", "float", "share of the non-blank characters on lines that look like code (0-1)"),
        *(Signal(f"score_{k}", "float", f"probability that the document is {k} (0-1)") for k in KINDS),
    )

    def setup(self) -> None:
        load_model()

    def rules(self) -> dict[str, str]:
        p: ContentKindParams = self.params  # type: ignore[assignment]
        col = self.signal_column("kind")
        rules = {}
        if p.keep:
            rules["wrong_content_kind"] = f"{col} in {list(p.keep)!r}"
        if p.drop:
            rules["unwanted_content_kind"] = f"{col} not in {list(p.drop)!r}"
        return rules

    def apply(self, batch: Batch) -> dict[str, Any]:
        m = load_model()
        x = batch_features(batch.column(batch.text_field), self.params.max_chars)  # type: ignore[attr-defined]
        xs = (x - m["mean"]) / m["std"]
        probs = _softmax(xs @ m["kind_w"] + m["kind_b"])
        lang = (xs @ m["lang_w"] + m["lang_b"]).argmax(1)
        blank = x[:, _COLUMN["blank_lines"]] == 1.0  # no line with anything but whitespace
        kinds = ["prose" if e else KINDS[i] for i, e in zip(probs.argmax(1).tolist(), blank.tolist())]
        share = x[:, _COLUMN["code_share"]]
        out: dict[str, Any] = {
            "kind": kinds,
            "code_language": [LANGUAGES[j] if k in ("code", "mixed") else "" for j, k in zip(lang.tolist(), kinds)],
            "code_share": share,
        }
        out.update({f"score_{k}": probs[:, i] for i, k in enumerate(KINDS)})
        return out
