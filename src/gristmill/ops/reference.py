"""The operator reference page (``docs/operators.md``), generated from the registry so it cannot drift.

``render_markdown()`` lists every registered operator with its family, cost, languages, description,
parameters (type, default, allowed range), signals, default keep rules (from the default parameters) and
references. ``scripts/gen_ops_reference.py`` writes the page; a test checks the committed page is current.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gristmill.ops.base import Operator
from gristmill.ops.registry import all_ops

_FAMILY_ORDER = ("clean", "quality", "language", "model", "safety", "dedup", "sft", "tokenize", "select")


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _type_name(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        names = [_type_name(s) for s in schema["anyOf"]]
        return " or ".join(dict.fromkeys(names))
    t = schema.get("type")
    if t == "array":
        return f"list of {_type_name(schema.get('items', {}))}" if schema.get("items") else "list"
    if t == "object":
        extra = schema.get("additionalProperties")
        return f"map to {_type_name(extra)}" if isinstance(extra, dict) and extra else "map"
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    return {"integer": "int", "number": "float", "string": "str", "boolean": "bool", "null": "null"}.get(t or "", t or "any")


def _range(schema: dict[str, Any]) -> str:
    parts = []
    for s in schema.get("anyOf", [schema]):
        lo = s.get("minimum", s.get("exclusiveMinimum"))
        hi = s.get("maximum", s.get("exclusiveMaximum"))
        lo_op = ">" if "exclusiveMinimum" in s else "≥"
        hi_op = "<" if "exclusiveMaximum" in s else "≤"
        if lo is not None and hi is not None:
            parts.append(f"{lo} … {hi}")
        elif lo is not None:
            parts.append(f"{lo_op} {lo}")
        elif hi is not None:
            parts.append(f"{hi_op} {hi}")
    return ", ".join(parts)


_SENTENCE_END = re.compile(r"(?<!\bal)(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)(?<!\betc)(?<!\.)\.\s")


def _first_sentence(cls: type[Operator]) -> str:
    return _SENTENCE_END.split(_cell(cls.describe()["description"]), maxsplit=1)[0].rstrip(".")


def _default_rules(cls: type[Operator]) -> dict[str, str] | None:
    """Rules with the default parameters and the step named after the operator; None if it needs params."""
    try:
        return cls().rules()
    except Exception:  # noqa: BLE001 - an operator with required parameters has no default rules
        return None


def _render_op(cls: type[Operator]) -> list[str]:
    d = cls.describe()
    out = [f"### `{d['name']}`", ""]
    facts = [f"family **{d['family']}**", f"cost **{d['cost']}**",
             "languages " + ", ".join(f"`{x}`" for x in d["languages"])]
    if d["global"]:
        facts.append("**global** (sees the whole dataset: signature, decide, apply)")
    out += ["; ".join(facts) + f"; version {d['version']}", "", _cell(d["description"]), ""]
    doc = (cls.__doc__ or "").strip()
    if doc:
        out += [" ".join(line.strip() for line in doc.splitlines()).strip() if "\n\n" not in doc else
                "\n\n".join(" ".join(p.split()) for p in doc.split("\n\n")), ""]
    params = d["params"]
    if params:
        out += ["| parameter | type | default | range | description |", "|---|---|---|---|---|"]
        required = set(d["required"])
        for name, s in params.items():
            default = "(required)" if name in required else json.dumps(s.get("default"), ensure_ascii=False)
            out.append(f"| `{name}` | {_cell(_type_name(s))} | `{_cell(default)}` | {_cell(_range(s))} | "
                       f"{_cell(s.get('description', ''))} |")
        out.append("")
    else:
        out += ["No parameters.", ""]
    if d["signals"]:
        out += ["Signals (column `<step>.<signal>`):", "", "| signal | type | description |", "|---|---|---|"]
        out += [f"| `{s['name']}` | {s['dtype']} | {_cell(s['description'])} |" for s in d["signals"]]
        out.append("")
    rules = _default_rules(cls)
    if rules:
        out += ["Default keep rules (a document is dropped by the first that fails; reason `step:rule`):", ""]
        out += [f"- `{name}`: `{expr}`" for name, expr in rules.items()]
        out.append("")
    elif rules is None:
        out += ["Default keep rules: none until its required parameters are given.", ""]
    if d["references"]:
        out += ["References: " + ", ".join(f"<{r}>" if r.startswith("http") else r for r in d["references"]), ""]
    return out


def render_markdown() -> str:
    """The whole reference page as Markdown (deterministic: sorted by family, then name)."""
    ops = all_ops()
    order = {f: i for i, f in enumerate(_FAMILY_ORDER)}
    ranked = sorted(ops.values(), key=lambda c: (order.get(c.family, len(order)), c.family, c.name))
    lines = ["# Operator reference", "",
             "Generated from the operator registry by `python scripts/gen_ops_reference.py`; do not edit by hand "
             "(a test fails when this page and the registry disagree). `gristmill ops show NAME --json` gives "
             "the same facts as JSON.", "",
             "| operator | family | cost | what it does |", "|---|---|---|---|"]
    for cls in ranked:
        first = _first_sentence(cls)
        lines.append(f"| [`{cls.name}`](#{cls.name}) | {cls.family}{' (global)' if cls.is_global else ''} | "
                     f"{cls.cost} | {first} |")
    lines.append("")
    family = None
    for cls in ranked:
        if cls.family != family:
            family = cls.family
            lines += [f"## {family}", ""]
        lines += _render_op(cls)
    return "\n".join(lines).rstrip() + "\n"


def render_overview() -> str:
    """The short README "Operators" table: name, family, one line."""
    ops = all_ops()
    order = {f: i for i, f in enumerate(_FAMILY_ORDER)}
    ranked = sorted(ops.values(), key=lambda c: (order.get(c.family, len(order)), c.family, c.name))
    lines = ["| name | family | what it does |", "| --- | --- | --- |"]
    for cls in ranked:
        first = _first_sentence(cls)
        lines.append(f"| `{cls.name}` | {cls.family}{' (global)' if cls.is_global else ''} | {first} |")
    return "\n".join(lines) + "\n"
