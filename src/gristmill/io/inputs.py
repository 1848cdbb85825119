"""Find the input files of a run and tell their format from their names.

A path may be a file, a folder (searched recursively) or a glob; several may be mixed. Files are sorted so
that chunk numbering, generated ids and output order never depend on the file system's listing order.
"""

from __future__ import annotations

import glob
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import xxhash

from gristmill.errors import UsageError

FORMATS = ("jsonl", "parquet", "csv", "tsv")
_SUFFIXES = {
    ".jsonl": ("jsonl", None),
    ".json": ("jsonl", None),
    ".ndjson": ("jsonl", None),
    ".parquet": ("parquet", None),
    ".pq": ("parquet", None),
    ".csv": ("csv", None),
    ".tsv": ("tsv", None),
}
_COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}


@dataclass(frozen=True)
class InputFile:
    path: str
    relpath: str
    format: str
    compression: str | None
    size: int

    def fingerprint(self) -> str:
        """xxh3-128 of the file's bytes: identifies the input for lineage and for safe resume."""
        h = xxhash.xxh3_128()
        with open(self.path, "rb") as f:
            while block := f.read(1 << 22):
                h.update(block)
        return h.hexdigest()

    def to_dict(self) -> dict:
        return asdict(self)


def detect_format(name: str, default: str = "auto") -> tuple[str, str | None] | None:
    """(format, compression) from a file name, or None when the name says nothing we read."""
    lower = name.lower()
    compression = None
    for suffix, comp in _COMPRESSIONS.items():
        if lower.endswith(suffix):
            compression = comp
            lower = lower[: -len(suffix)]
            break
    for suffix, (fmt, _) in _SUFFIXES.items():
        if lower.endswith(suffix):
            return (fmt if default == "auto" else default), compression
    if default != "auto":
        return default, compression
    return None


def resolve_inputs(paths: str | list[str], fmt: str = "auto", base_dir: str | None = None) -> list[InputFile]:
    """Expand files, folders and globs into a sorted, de-duplicated list of readable input files."""
    specs = [paths] if isinstance(paths, str) else list(paths)
    if not specs:
        raise UsageError("no input given: set input.path in the recipe or pass --input")
    found: dict[str, InputFile] = {}
    for spec in specs:
        if spec.startswith("catalog://"):
            from gristmill.catalog.core import catalog_input_files

            for f in catalog_input_files(spec):
                found.setdefault(os.path.realpath(f.path), f)
            continue
        raw = os.path.expanduser(spec)
        if base_dir and not os.path.isabs(raw):
            raw = os.path.join(base_dir, raw)
        if glob.has_magic(raw):
            root = _glob_root(raw)
            matches = sorted(p for p in glob.glob(raw, recursive=True) if os.path.isfile(p))
            if not matches:
                raise UsageError(f"input glob {spec!r} matches no file")
            candidates = [(m, root) for m in matches]
        elif os.path.isdir(raw):
            candidates = [(str(p), raw) for p in sorted(Path(raw).rglob("*")) if p.is_file()]
            candidates = [(p, r) for p, r in candidates if not _hidden(os.path.relpath(p, r))]
        elif os.path.isfile(raw):
            candidates = [(raw, os.path.dirname(raw) or ".")]
        else:
            raise UsageError(f"input {spec!r} does not exist")
        explicit = os.path.isfile(raw)
        for path, root in candidates:
            kind = detect_format(path, fmt)
            if kind is None:
                if explicit:
                    raise UsageError(
                        f"cannot tell the format of {spec!r} from its name; use a .jsonl/.parquet/.csv/.tsv "
                        "name (optionally .gz/.zst) or set input.format"
                    )
                continue  # folders may hold READMEs and the like
            real = os.path.realpath(path)
            if real in found:
                continue
            found[real] = InputFile(
                path=os.path.abspath(path),
                relpath=os.path.relpath(path, root),
                format=kind[0],
                compression=kind[1],
                size=os.path.getsize(path),
            )
    files = sorted(found.values(), key=lambda f: (f.relpath, f.path))
    if not files:
        raise UsageError(f"no readable input files under {specs!r} (.jsonl, .parquet, .csv, .tsv, optionally .gz/.zst)")
    return files


def _glob_root(pattern: str) -> str:
    parts = Path(pattern).parts
    root: list[str] = []
    for part in parts:
        if glob.has_magic(part):
            break
        root.append(part)
    return str(Path(*root)) if root else "."


def _hidden(rel: str) -> bool:
    return any(p.startswith((".", "_")) for p in Path(rel).parts)
