"""Where one document came from: ``gristmill catalog trace NAME@V DOC_ID``.

For the version named, the document's fate (kept, dropped by which step and rule, or rejected and why),
the steps it passed with their signal values, and its source: the input file and line (JSONL, CSV) or
row (Parquet) from the version's provenance table. When the source is a data file of another catalog
version (the run read ``catalog://X@2``), the trace continues there with the id that row holds, and so on
down to the raw files. An id may occur more than once in a version (the input repeated it): every
occurrence is reported.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gristmill.catalog.core import Catalog, Version
from gristmill.engine.provenance import find_ids
from gristmill.errors import GristmillError, UsageError

MAX_DEPTH = 64
PREVIEW_CHARS = 200
_GENERATED_ID = re.compile(r"^(?P<source>.+)#(?P<unit>[LR])(?P<loc>\d+)$")


def trace(catalog: Catalog, ref: str, doc_id: str) -> dict[str, Any]:
    """The lineage of ``doc_id`` in version ``ref``, through every parent version, as a tree of dicts."""
    node = _trace(catalog, catalog.get(ref), doc_id, depth=0)
    if not node["occurrences"] and not node["sources"]:
        v = catalog.get(ref)
        raise UsageError(f"no document with id {doc_id!r} in {v.ref} ({v.manifest['rows']:,} kept, "
                         f"{v.manifest['counts']['dropped']['total']:,} dropped, "
                         f"{v.manifest['counts']['rejected']['total']:,} rejected)")
    return node


def _trace(catalog: Catalog, v: Version, doc_id: str, depth: int) -> dict[str, Any]:
    occurrences = [_kept(v, entry, path, row) for entry, path, row in _kept_rows(v, doc_id)]
    occurrences += [_dropped(v, row) for row in _dropped_rows(v, doc_id)]
    where, note = _read_where(catalog, v, doc_id)
    if not occurrences and not where:
        occurrences = _rejected(v, doc_id)
    found = []
    for owner, hit in where:
        src = _source(catalog, owner, hit, depth)
        if owner is not v:
            src["read_by"] = owner.ref
        found.append(src)
    node: dict[str, Any] = {"version": v.ref, "id": doc_id, "occurrences": occurrences, "sources": found}
    if note:
        node["note"] = note
    return node


def _read_where(catalog: Catalog, v: Version, doc_id: str) -> tuple[list[tuple[Version, dict]], str | None]:
    """The provenance rows of ``doc_id``, each with the version whose table holds it: ``v``'s own and, for a
    version built incrementally (which records only the files it read itself), its parent's, and so on up
    the chain (an id may have been read by several of them)."""
    chain: list[list[tuple[Version, dict]]] = []
    cur, tables = v, 0
    while True:
        if cur.manifest.get("provenance_files"):
            tables += 1
            chain.append([(cur, hit) for hit in find_ids(cur.local_files("provenance_files"), doc_id)])
        record = cur.manifest.get("incremental") or {}
        parent = record.get("parent") if record.get("mode") == "incremental" else None
        if not parent:
            break
        try:
            cur = catalog.get(parent)
        except GristmillError as exc:  # a removed parent ends the search, with the reason
            return _earliest_first(chain), f"its rows from {parent} cannot be followed: {exc}"
    if not tables:
        return [], ("this version has no provenance table (made before gristmill recorded one, or with "
                       "output.provenance: false)")
    return _earliest_first(chain), None


def _earliest_first(chain: list[list[tuple[Version, dict]]]) -> list[tuple[Version, dict]]:
    """The oldest version's readings first, as a full run's table lists them."""
    return [hit for hits in reversed(chain) for hit in hits]


# -- finding the document ---------------------------------------------------------------------------------

def _hits(table: pa.Table, column: str, doc_id: str) -> list[int]:
    if column not in table.column_names:
        return []
    col = table.column(column)
    if not pa.types.is_string(col.type):
        col = col.cast(pa.string())
    mask = pc.equal(col, pa.scalar(doc_id, pa.string()))
    return pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist()


def _read_row(path: str, index: int) -> dict[str, Any]:
    """Row ``index`` of a Parquet file, reading only its row group."""
    f = pq.ParquetFile(path)
    start = 0
    for g in range(f.metadata.num_row_groups):
        n = f.metadata.row_group(g).num_rows
        if index < start + n:
            return f.read_row_group(g).slice(index - start, 1).to_pylist()[0]
        start += n
    raise GristmillError(f"{path} has no row {index} ({start} rows)")


def _kept_rows(v: Version, doc_id: str) -> list[tuple[dict, str, dict]]:
    out = []
    for entry, path in zip(v.manifest["files"], v.local_files()):
        for i in _hits(pq.read_table(path, columns=["id"]), "id", doc_id):
            out.append((entry, path, _read_row(path, i) | {"__row__": i}))
    return out


def _dropped_rows(v: Version, doc_id: str) -> list[dict]:
    out = []
    for path in v.local_files("dropped_files"):
        table = pq.read_table(path)
        out += [table.slice(i, 1).to_pylist()[0] for i in _hits(table, "id", doc_id)]
    return out


def _rejected(v: Version, doc_id: str) -> list[dict[str, Any]]:
    """A document that never became a row: an operator raised on it (its id is in the reason), or an input
    line/row that could not be read, named by the id gristmill would have given it (``a.jsonl#L7``)."""
    out = []
    gen = _GENERATED_ID.match(doc_id)
    for path in v.local_files("rejected_files"):
        for r in pq.read_table(path).to_pylist():
            by_reason = r["reason"] and r["reason"].endswith(f"on id {doc_id}")
            by_place = gen and r["source"] == gen["source"] and r["location"] == int(gen["loc"])
            if by_reason or by_place:
                out.append({"status": "rejected", "kind": r["kind"], "reason": r["reason"], "source": r["source"],
                            "unit": r["unit"], "location": r["location"], "text": (r["raw"] or "")[:PREVIEW_CHARS]})
    return out


# -- what happened to it ----------------------------------------------------------------------------------

def _steps(v: Version, row: dict[str, Any], dropped_at: str | None, rule: str | None) -> list[dict[str, Any]]:
    ops = {o["name"]: o for o in v.manifest.get("operators", [])}  # the compiled steps: op, params, rules
    ran = {s["name"]: s.get("op") for s in v.manifest.get("steps", [])}  # the run summary's steps, in order
    out, reached = [], True
    for name in list(ran) or list(ops):
        op = ops.get(name, {})
        entry: dict[str, Any] = {"step": name, "op": op.get("op") or ran.get(name)}
        if not reached:
            entry["status"] = "not reached"
            out.append(entry)
            continue
        entry["signals"] = {k.split(".", 1)[1]: val for k, val in row.items() if k.startswith(name + ".")}
        if name == dropped_at:
            entry["status"] = "dropped"
            entry["rule"] = rule
            entry["rule_text"] = op.get("rules", {}).get(rule)
            reached = False
        else:
            entry["status"] = "passed"
            if op.get("rules"):
                entry["rules"] = op["rules"]
        out.append(entry)
    return out


def _kept(v: Version, entry: dict, path: str, row: dict[str, Any]) -> dict[str, Any]:
    index = row.pop("__row__")
    occ = {"status": "kept", "file": entry["path"], "row": index, "text": _preview(row),
           "steps": _steps(v, row, None, None)}
    if not any(s.get("signals") for s in occ["steps"]) and _signals_off(v.manifest):
        occ["note"] = "signal columns were not kept in this version (output.keep_signals: false)"
    return occ


def _signals_off(manifest: dict[str, Any]) -> bool:
    """Whether the recipe that made the version said ``output.keep_signals: false`` (not merely: no signals,
    which is also what a recipe of filters on fields gives)."""
    import yaml

    try:
        doc = yaml.safe_load((manifest.get("recipe") or {}).get("text") or "")
        return isinstance(doc, dict) and (doc.get("output") or {}).get("keep_signals") is False
    except yaml.YAMLError:
        return False


def _dropped(v: Version, row: dict[str, Any]) -> dict[str, Any]:
    return {"status": "dropped", "step": row["step"], "rule": row["rule"], "text": _preview(row),
            "steps": _steps(v, row, row["step"], row["rule"])}


def _preview(row: dict[str, Any]) -> str | None:
    text = row.get("text")
    return text[:PREVIEW_CHARS] if isinstance(text, str) else None


# -- where it came from -----------------------------------------------------------------------------------

def _source(catalog: Catalog, v: Version, prov: dict[str, Any], depth: int) -> dict[str, Any]:
    relpath = prov["source"]
    src: dict[str, Any] = {"file": relpath, "unit": prov["unit"], "location": prov["location"]}
    parent = _parent_version(v, relpath)
    if parent is None:
        raw = next((p for p in v.manifest["parents"] if p.get("kind") == "input" and p.get("relpath") == relpath), None)
        src["kind"] = "input"
        if raw is not None:
            src.update(path=raw["path"], fingerprint=raw["fingerprint"], present=os.path.exists(raw["path"]))
        return src
    src.update(kind="version", ref=parent)
    if depth >= MAX_DEPTH:
        src["error"] = f"lineage deeper than {MAX_DEPTH} versions; not followed further"
        return src
    try:
        pv = catalog.get(parent)
        base = relpath.rsplit("/", 1)[-1]
        match = [(e, p) for e, p in zip(pv.manifest["files"], pv.local_files()) if e["path"].rsplit("/", 1)[-1] == base]
        if not match:
            raise GristmillError(f"{parent} has no data file named {base}")
        parent_id = _read_row(match[0][1], int(prov["location"]))["id"]
    except (GristmillError, OSError) as exc:  # a removed or damaged parent ends the trail, with the reason
        src["error"] = str(exc)
        return src
    src["id"] = parent_id
    src["trace"] = _trace(catalog, pv, parent_id, depth + 1)
    return src


def _parent_version(v: Version, relpath: str) -> str | None:
    for f in v.manifest.get("input_files", []):
        if f["relpath"] == relpath:
            return f.get("version")
    head = relpath.split("/", 1)[0]  # versions committed before input_files: catalog:// inputs are NAME@V/file
    refs = {p["ref"] for p in v.manifest["parents"] if p.get("kind") == "version"}
    return head if head in refs else None


# -- text -------------------------------------------------------------------------------------------------

def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def render(node: dict[str, Any], depth: int = 0) -> list[str]:
    """The trace as indented lines, newest version first."""
    pad = "  " * depth
    out = [f"{pad}{node['version']}  id {node['id']}"]
    for occ in node["occurrences"]:
        if occ["status"] == "kept":
            out.append(f"{pad}  kept: {occ['file']} row {occ['row']}")
        elif occ["status"] == "dropped":
            out.append(f"{pad}  DROPPED by step {occ['step']!r}, rule {occ['rule']!r}")
        else:
            out.append(f"{pad}  REJECTED ({occ['kind']}): {occ['reason']}  [{occ['source']} {occ['unit']} {occ['location']}]")
        for st in occ.get("steps", []):
            sig = ", ".join(f"{k}={_fmt(val)}" for k, val in st.get("signals", {}).items())
            why = f" by rule {st['rule']}: {st['rule_text']}" if st["status"] == "dropped" and st.get("rule_text") else ""
            out.append(f"{pad}    {st['status']:<11} {st['step']} ({st['op']}){why}{'  ' + sig if sig else ''}")
        if occ.get("note"):
            out.append(f"{pad}    note: {occ['note']}")
        if occ.get("text"):
            out.append(f"{pad}    text: {occ['text'][:100]!r}")
    if node.get("note"):
        out.append(f"{pad}  note: {node['note']}")
    for src in node["sources"]:
        where = f"{src['file']} {src['unit']} {src['location']}"
        if src["kind"] == "input":
            extra = f"  ({src['path']}, {src['fingerprint']}{'' if src.get('present', True) else ', file no longer there'})" \
                if "path" in src else ""
            out.append(f"{pad}  from input {where}{extra}{_read_by(src)}")
        else:
            out.append(f"{pad}  from {where} of version {src['ref']}" + (f" (id {src['id']})" if "id" in src else "")
                       + _read_by(src))
            if "error" in src:
                out.append(f"{pad}    cannot follow: {src['error']}")
            if "trace" in src:
                out += render(src["trace"], depth + 1)
    return out


def _read_by(src: dict[str, Any]) -> str:
    return f"  [read by {src['read_by']}, which this version builds on]" if src.get("read_by") else ""
