"""Find the input files of a run and tell their format from their names.

A path may be a file, a folder (searched recursively) or a glob; several may be mixed. Files are sorted so
that chunk numbering, generated ids and output order never depend on the file system's listing order.

A gristmill output folder named as an input contributes its kept rows only; one found *inside* an input
folder or glob is skipped (and reported), so that a run whose output sits inside its input folder reads the
same inputs when it is run again.
"""

from __future__ import annotations

import errno
import glob
import os
import stat
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
    columns_from: tuple[str, ...] = ()  # Parquet side files whose columns join this file row by row (catalog)

    def fingerprint(self) -> str:
        """xxh3-128 of the file's bytes: identifies the input for lineage and for safe resume (with side
        files: a hash of the file's and their hashes, as the catalog computes it from a manifest)."""
        if not self.columns_from:
            return _file_xxh3(self.path)
        from gristmill.catalog.columns import joined_fingerprint

        parts = [f"xxh3-128:{_file_xxh3(p)}" for p in (self.path, *self.columns_from)]
        return joined_fingerprint(parts[0], parts[1:]).removeprefix("xxh3-128:")

    def to_dict(self) -> dict:
        return asdict(self)


def _file_xxh3(path: str) -> str:
    h = xxhash.xxh3_128()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


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


def resolve_inputs(
    paths: str | list[str], fmt: str = "auto", base_dir: str | None = None, skipped: list[str] | None = None
) -> list[InputFile]:
    """Expand files, folders and globs into a sorted, de-duplicated list of readable input files.

    Gristmill output folders found inside a folder or under a glob's fixed part are left out; their paths
    are appended to ``skipped`` (when given) so the caller can say so."""
    from gristmill.engine.layout import is_gristmill_output, kept_files

    specs = [paths] if isinstance(paths, str) else list(paths)
    if not specs:
        raise UsageError("no input given: set input.path in the recipe or pass --input")
    found: dict[str, InputFile] = {}
    outputs: dict[str, bool] = {}

    def in_nested_output(path: str, root: str) -> bool:
        """Whether ``path`` lies in a gristmill output folder strictly below ``root``."""
        root_abs = os.path.abspath(root)
        d = os.path.dirname(os.path.abspath(path))
        while d != root_abs and d.startswith(root_abs + os.sep):
            if d not in outputs:
                outputs[d] = is_gristmill_output(d)
                if outputs[d] and skipped is not None:
                    skipped.append(d)
            if outputs[d]:
                return True
            d = os.path.dirname(d)
        return False

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
            matches = [m for m in matches if not in_nested_output(m, root)]
            if not matches:
                raise UsageError(f"input glob {spec!r} matches no file")
            candidates = [(m, root) for m in matches]
        elif os.path.isdir(raw) and is_gristmill_output(raw):
            candidates = [(str(p), raw) for p in kept_files(raw)]
        elif os.path.isdir(raw):
            candidates = [(str(p), raw) for p in sorted(Path(raw).rglob("*")) if p.is_file()]
            candidates = [(p, r) for p, r in candidates if not _hidden(os.path.relpath(p, r))]
            candidates = [(p, r) for p, r in candidates if not in_nested_output(p, r)]
        elif os.path.isfile(raw):
            candidates = [(raw, os.path.dirname(raw) or ".")]
        else:
            raise UsageError(_not_a_file(spec, raw))
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


def _not_a_file(spec: str, raw: str) -> str:
    """Why ``raw`` is neither a file nor a folder, in words: a link loop, a broken link, a FIFO, ..."""
    try:
        st = os.stat(raw)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"input {spec!r} is a symbolic link loop (it never reaches a file); point it at a real file or folder"
        if os.path.islink(raw):
            return f"input {spec!r} is a broken symbolic link (to {os.readlink(raw)!r}, which does not exist)"
        if exc.errno == errno.EACCES:
            return f"input {spec!r} cannot be opened: permission denied"
        return f"input {spec!r} does not exist"
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    what = next((name for test, name in kinds if test(st.st_mode)), "not a regular file")
    return (f"input {spec!r} is {what}, not a regular file: gristmill reads each input twice (to fingerprint "
            "it, then to parse it), so write the stream to a file first")


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
