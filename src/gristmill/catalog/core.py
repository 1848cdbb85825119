"""The catalog: datasets with immutable versions, committed atomically by claiming a manifest number.

The manifests on the store are the truth; ``index.sqlite`` is a local index rebuilt from them (see
docs/catalog.md for why this works the same on a local folder and on S3).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from gristmill import __version__
from gristmill.catalog.manifest import (
    MANIFEST_FILE,
    TAKEN_FILE,
    CorruptManifest,
    manifest_key,
    removed_key,
    seal,
    unseal,
)
from gristmill.catalog.store import AlreadyExists, Store, file_hash
from gristmill.engine.layout import SIDE_TABLE_EXT, Layout
from gristmill.errors import GristmillError, UsageError
from gristmill.io.writers import write_json

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
FAULT_ENV = "GRISTMILL_TEST_FAULT"  # "catalog:before-claim" kills the commit just before its manifest


_ROOT: ContextVar[str | None] = ContextVar("gristmill_catalog_root", default=None)
INDEX_SCHEMA = 2  # bump to rebuild every local index (it is derived from the manifests)


def default_root(explicit: str | None = None) -> str:
    """The catalog root: ``explicit``, else the one a command set (``--catalog``), else $GRISTMILL_HOME,
    else ~/.gristmill."""
    return explicit or _ROOT.get() or os.environ.get("GRISTMILL_HOME") or os.path.expanduser("~/.gristmill")


@contextmanager
def use_root(root: str | None) -> Iterator[None]:
    """Within the block, ``catalog://`` inputs and ``Catalog()`` open ``root`` (None leaves the default):
    how a command's ``--catalog`` reaches the place where a ``catalog://`` input is resolved."""
    token = _ROOT.set(root) if root else None
    try:
        yield
    finally:
        if token is not None:
            _ROOT.reset(token)


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``NAME`` or ``NAME@V`` (``catalog://`` prefix allowed) into (name, version or None for latest)."""
    ref = ref.removeprefix("catalog://")
    name, _, ver = ref.partition("@")
    if not _NAME.match(name):
        raise UsageError(f"bad dataset name {name!r}: letters, digits, '_', '-', '.', starting with a letter or digit")
    if not ver:
        return name, None
    if not ver.isdigit():
        raise UsageError(f"bad version {ver!r} in {ref!r}: a version is a number, e.g. {name}@3")
    return name, int(ver)


@dataclass
class Version:
    """One committed version: its manifest, and how to read its files."""

    manifest: dict[str, Any]
    catalog: Catalog

    @property
    def name(self) -> str:
        return self.manifest["dataset"]

    @property
    def number(self) -> int:
        return self.manifest["version"]

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.number}"

    def local_files(self, kind: str = "files") -> list[str]:
        """Local paths of the data files, each checked against its recorded hash (fetched for remote roots)."""
        out = []
        for entry in self.manifest[kind]:
            out.append(self.catalog._fetch_verified(entry, self.ref))
        return out

    @property
    def content_hash(self) -> str:
        """A hash of everything a reader sees: data files and side-column files (see catalog/columns.py)."""
        from gristmill.catalog.columns import content_hash

        return content_hash(self.manifest)

    def to_arrow(self) -> pa.Table:
        paths = self.local_files()
        if not paths:
            return pa.schema(_schema_fields(self.manifest["schema"])).empty_table()
        return pa.concat_tables([self._read_file(i, p) for i, p in enumerate(paths)], promote_options="default")

    def _read_file(self, index: int, path: str) -> pa.Table:
        """One data file with its side columns (columns added by :meth:`Catalog.add_columns`) joined."""
        if not self.manifest.get("side_files"):
            return pq.read_table(path)
        from gristmill.catalog.columns import read_file

        return read_file(self, index, path)

    def to_pandas(self):
        return self.to_arrow().to_pandas()

    def to_hf(self):
        import datasets

        return datasets.Dataset(self.to_arrow())

    def dropped(self) -> pa.Table | None:
        paths = self.local_files("dropped_files")
        return pa.concat_tables([pq.read_table(p) for p in paths], promote_options="default") if paths else None


def _schema_fields(schema: list[dict]) -> list[pa.Field]:
    return [pa.field(f["name"], pa.string()) for f in schema]


class Catalog:
    def __init__(self, root: str | None = None) -> None:
        self.store = Store(default_root(root))
        if self.store.is_local:
            index = Path(self.store.root) / "index.sqlite"
        else:
            import hashlib

            cache = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "gristmill" / "catalogs"
            index = cache / hashlib.sha256(self.store.uri.encode()).hexdigest()[:16] / "index.sqlite"
        self.index_path = index

    @property
    def missing(self) -> bool:
        """A local root that does not exist, or an object store's bucket that does not: it reads as empty and
        is not created by reading (a mistyped ``--catalog`` must not leave a folder behind); committing
        creates a local root."""
        return not self.store.bucket_exists()

    # -- index --------------------------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        try:
            if self.store.is_local and self.missing:
                db = sqlite3.connect(":memory:")
            else:
                self.index_path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.index_path, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(f"cannot open the catalog index {self.index_path}: {exc}") from None
        if db.execute("pragma user_version").fetchone()[0] != INDEX_SCHEMA:
            with db:
                db.execute("drop table if exists versions")
                db.execute(f"pragma user_version = {INDEX_SCHEMA}")
        db.execute("create table if not exists versions (dataset text, version integer, manifest text, "
                   "stamp text, problem text, primary key (dataset, version))")
        return db

    def sync(self) -> None:
        """Bring the index up to date with the manifests on the store."""
        db = self._db()
        with db:
            known = {(d, v): st for d, v, st in db.execute("select dataset, version, stamp from versions")}
            present = set()
            for name in self.store.list("datasets"):
                for fname, stamp in self.store.list_stamped(f"datasets/{name}/versions").items():
                    if not (m := MANIFEST_FILE.fullmatch(fname)):
                        continue
                    v = int(m.group(1))
                    present.add((name, v))
                    if known.get((name, v)) == stamp:
                        continue
                    key = manifest_key(name, v)
                    try:
                        manifest = unseal(self.store.read_bytes(key), self.store.url(key))
                        text, problem = json.dumps(manifest), None
                    except FileNotFoundError:  # removed while we listed
                        present.discard((name, v))
                        continue
                    except CorruptManifest as exc:
                        text, problem = None, str(exc)
                    db.execute("insert or replace into versions values (?, ?, ?, ?, ?)", (name, v, text, stamp, problem))
            for gone in set(known) - present:  # removed by gc / rm, here or on another machine
                db.execute("delete from versions where dataset = ? and version = ?", gone)
        db.close()

    def datasets(self) -> list[str]:
        self.sync()
        db = self._db()
        names = [r[0] for r in db.execute("select distinct dataset from versions order by dataset")]
        db.close()
        return names

    def versions(self, name: str) -> list[Version]:
        self.sync()
        db = self._db()
        rows = db.execute("select manifest from versions where dataset = ? and problem is null order by version",
                          (name,)).fetchall()
        db.close()
        return [Version(json.loads(r[0]), self) for r in rows]

    def damaged(self, name: str) -> dict[int, str]:
        """Versions of ``name`` whose manifest is damaged or was modified, with why (see :func:`unseal`)."""
        db = self._db()
        rows = db.execute("select version, problem from versions where dataset = ? and problem is not null",
                          (name,)).fetchall()
        db.close()
        return dict(rows)

    def get(self, ref: str) -> Version:
        name, number = parse_ref(ref)
        found = self.versions(name)
        damaged = self.damaged(name)
        numbers = sorted([v.number for v in found] + list(damaged))
        if number is None and numbers:
            number = numbers[-1]  # the latest, even when damaged: never fall back silently to an older one
        if number in damaged:
            raise CorruptManifest(damaged[number])
        for v in found:
            if v.number == number:
                return v
        removed = self.removed(name, number) if number is not None else None
        if removed is not None:
            raise UsageError(f"{name}@{number} was removed from catalog {self.store.uri} on {removed['removed']} "
                             f"({removed['by']}); versions left: {', '.join(map(str, numbers)) or 'none'}")
        if not numbers and self.missing:
            raise UsageError(f"unknown dataset {name!r}: there is no catalog at {self.store.url('')} "
                             "(--catalog or GRISTMILL_HOME names another)")
        if not numbers:
            known = ", ".join(self.datasets()) or "none"
            raise UsageError(f"unknown dataset {name!r} in catalog {self.store.uri} (datasets: {known})")
        raise UsageError(f"unknown version {name}@{number} (versions: {', '.join(map(str, numbers))})")

    def removed(self, name: str, number: int) -> dict | None:
        """The tombstone of a removed version (when, how, its last manifest), or None."""
        try:
            return json.loads(self.store.read_bytes(removed_key(name, number)))
        except FileNotFoundError:
            return None

    def tags(self, name: str) -> dict[str, int]:
        out = {}
        for fname in self.store.list(f"datasets/{name}/tags"):
            if fname.endswith(".json"):
                out[fname[:-5]] = json.loads(self.store.read_bytes(f"datasets/{name}/tags/{fname}"))["version"]
        return out

    def tag(self, ref: str, tag: str) -> Version:
        if not _NAME.match(tag):
            raise UsageError(f"bad tag {tag!r}: letters, digits, '_', '-', '.'")
        v = self.get(ref)
        self.store.put_bytes(f"datasets/{v.name}/tags/{tag}.json", json.dumps({"version": v.number}).encode())
        return v

    # -- reading files --------------------------------------------------------------------------------------
    def _fetch_verified(self, entry: dict, ref: str) -> str:
        key = entry["path"]
        local = self.store.local_path(key)
        if local is None:
            cache = self.index_path.parent / "files" / entry["hash"].split(":")[-1]
            if not cache.exists() or file_hash(cache) != entry["hash"]:
                cache.parent.mkdir(parents=True, exist_ok=True)
                try:
                    self.store.get_file(key, str(cache) + ".tmp", entry.get("bytes"))
                except FileNotFoundError:
                    raise GristmillError(f"{ref}: data file {self.store.url(key)} is missing") from None
                os.replace(str(cache) + ".tmp", cache)
            local = str(cache)
        if not os.path.exists(local):
            raise GristmillError(f"{ref}: data file {local} is missing")
        got = file_hash(local)
        if got != entry["hash"]:
            raise GristmillError(f"{ref}: data file {self.store.url(key)} is corrupt: its hash {got} does not "
                                 f"match the manifest's {entry['hash']}")
        return local

    # -- committing -------------------------------------------------------------------------------------------
    def commit_run(self, name: str, out_dir: str | Path, recipe_text: str | None = None,
                   recipe: Any = None, tags: list[str] | None = None) -> Version:
        """Register a finished run output folder as the next version of ``name``."""
        parse_ref(name)
        try:
            self.store.check_writable()
        except GristmillError as exc:  # checked before the run too: failing now is a runtime failure
            raise GristmillError(f"could not register {out_dir} as a version of {name}: {exc}") from None
        layout = Layout(out_dir)
        if not layout.summary.exists():
            raise UsageError(f"{out_dir} holds no finished gristmill run (no {layout.summary.name})")
        summary = json.loads(layout.summary.read_text())
        commit = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"
        base = f"datasets/{name}/data/{commit}"
        files = self._upload([layout.out / f for f in summary["output"]["files"]], base)
        dropped = self._upload(sorted(layout.dropped_dir.glob("*" + SIDE_TABLE_EXT)), f"{base}/_dropped")
        rejected = self._upload(sorted(layout.rejected_dir.glob("*" + SIDE_TABLE_EXT)), f"{base}/_rejected")
        provenance = self._upload(sorted(layout.provenance_dir.glob("*" + SIDE_TABLE_EXT)), f"{base}/_provenance")
        schema = pq.read_schema(layout.out / summary["output"]["files"][0]) if summary["output"]["files"] else None
        by_hash = self._file_owners()
        owner_of = {inp["relpath"]: _owner(by_hash.get(inp["fingerprint"], []), inp["relpath"]) for inp in summary["inputs"]}
        parents = []
        for inp in summary["inputs"]:
            owner = owner_of[inp["relpath"]]
            if owner:
                parents.append({"kind": "version", "ref": owner})
            else:
                parents.append({"kind": "input", "path": inp["path"], "relpath": inp["relpath"],
                                "format": inp["format"], "fingerprint": inp["fingerprint"], "bytes": inp["bytes"]})
        parents = [p for i, p in enumerate(parents) if p["kind"] == "input" or p not in parents[:i]]
        manifest: dict[str, Any] = {
            "format": "gristmill.catalog/1",
            "dataset": name,
            "commit": commit,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "gristmill_version": __version__,
            "rows": summary["kept"],
            "schema": [{"name": f.name, "type": str(f.type)} for f in schema] if schema else [],
            "files": files,
            "dropped_files": dropped,
            "rejected_files": rejected,
            "provenance_files": provenance,  # id -> input file and line/row: what `catalog trace` follows
            "recipe": {"name": summary["recipe"]["name"], "hash": summary["recipe"]["hash"], "text": recipe_text},
            "operators": [s.canonical() for s in recipe.steps] if recipe is not None else [],
            "id_field": recipe.spec.input.id_field if recipe is not None else "id",
            "parents": parents,
            "input_files": [{"relpath": i["relpath"], "fingerprint": i["fingerprint"],
                             "version": owner_of[i["relpath"]]} for i in summary["inputs"]],
            "counts": {"input": summary["input"], "kept": summary["kept"], "dropped": summary["dropped"],
                       "rejected": summary["rejected"]},
            "steps": summary["steps"],
        }
        from gristmill.catalog.incremental import extend_manifest  # dedup_state files + incremental record

        extend_manifest(self, manifest, layout, summary, recipe, base)
        version = self._claim(name, manifest)
        for t in tags or []:
            self.tag(version.ref, t)
        with suppress(OSError):  # only lets a later --into replace the folder without --overwrite
            write_json(layout.registered, {"catalog": self.store.url(""), "ref": version.ref, "commit": commit,
                                           "files": _stamps(layout, summary["output"]["files"])})
        return version

    def registered_as(self, out_dir: str | Path) -> Version | None:
        """The version of this catalog that holds the finished run in ``out_dir`` (still there, and the kept
        files as they were when it was committed), or None."""
        return self.registration(out_dir)[0]

    def registration(self, out_dir: str | Path) -> tuple[Version | None, str]:
        """:meth:`registered_as`, with what it found: why the run may be replaced without loss, or why not."""
        layout = Layout(out_dir)
        try:
            record = json.loads(layout.registered.read_text())
        except FileNotFoundError:
            return None, "its run was not registered in a catalog"
        except (OSError, ValueError) as exc:
            return None, f"its record of registration ({layout.registered}) cannot be read: {exc}"
        try:
            catalog, ref, commit, stamped = record["catalog"], record["ref"], record["commit"], record["files"]
            if not isinstance(stamped, dict) or not all(isinstance(x, str) for x in (catalog, ref, commit)):
                raise TypeError("files")
            parse_ref(ref)
        except (KeyError, TypeError, UsageError):
            return None, f"its record of registration ({layout.registered}) is not one gristmill wrote"
        files = list(stamped)
        if catalog != self.store.url(""):
            return None, f"its run is registered in another catalog ({catalog})"
        try:
            version = self.get(ref)
        except UsageError:
            return None, f"{ref}, which its run was registered as, is no longer in the catalog"
        except Exception as exc:  # noqa: BLE001 - a damaged manifest, a store that does not answer, a disk error
            return None, f"{ref}, which its run was registered as, cannot be read: {exc}"
        if version.manifest["commit"] != commit:
            return None, f"{ref} in the catalog is not the version its run was registered as"
        stamps = _stamps(layout, files)
        touched = sorted(n for n in files if stamps[n] != stamped[n])
        if touched:
            return None, (f"{_count(touched, 'file')} changed or removed since its run was registered as {ref} "
                          f"({', '.join(touched[:3])})")
        extra = sorted({p.name for p in layout.kept_files()} - set(files))
        if extra:  # a part file no version holds
            return None, f"it holds {_count(extra, 'part file')} that {ref} does not ({', '.join(extra[:3])})"
        return version, f"its run is registered as {ref} in the catalog, which holds a copy of its files"

    def latest_holding(self, name: str, out_dir: str | Path) -> Version | None:
        """The latest version of ``name`` when it is the one holding the finished run in ``out_dir``: running
        that run again registers nothing new (an older version's run is committed again, to be the latest)."""
        same = self.registered_as(out_dir)
        return same if same is not None and same.ref == self.get(name).ref else None

    def register_run(self, name: str, out_dir: str | Path, recipe_text: str | None, recipe: Any,
                     already_complete: bool) -> tuple[Version, bool]:
        """What ``run --into`` (and ``Recipe.run(into=)``) registers: the next version of ``name``, or, for a
        run that was already complete and is ``name``'s latest version, that version; True when new."""
        same = self.latest_holding(name, out_dir) if already_complete else None
        if same is not None:
            return same, False
        return self.commit_run(name, out_dir, recipe_text, recipe), True

    def holds_run(self, out_dir: str | Path) -> tuple[bool, str]:
        """Whether the finished run in ``out_dir`` may be replaced without loss, and why or why not
        (:meth:`registration`): the ``RunOptions.replaceable`` of a run ``--into`` this catalog."""
        version, why = self.registration(out_dir)
        return version is not None, why

    def _upload(self, paths: list[Path], base: str) -> list[dict]:
        out = []
        for p in paths:
            key = f"{base}/{p.name}"
            self.store.put_file(p, key)
            out.append({"path": key, "hash": file_hash(p), "bytes": p.stat().st_size,
                        "rows": pq.ParquetFile(p).metadata.num_rows if p.suffix == ".parquet" else None})
        return out

    def _file_owners(self) -> dict[str, list[str]]:
        """Data file hash -> the versions holding it, so a run reading catalog://X records X as its parent."""
        self.sync()
        db = self._db()
        owners = {}
        from gristmill.catalog.columns import joined_fingerprint, side_files_of

        for (text,) in db.execute("select manifest from versions where problem is null order by dataset, version"):
            m = json.loads(text)
            for i, f in enumerate(m["files"]):  # a file read with side columns has its own fingerprint
                sides = [s["hash"] for s in side_files_of(m, i)]
                owners.setdefault(joined_fingerprint(f["hash"], sides), []).append(f"{m['dataset']}@{m['version']}")
        db.close()
        return owners

    def _claim(self, name: str, manifest: dict) -> Version:
        """Take the next free version number with put-if-absent; a lost race moves on to the next number."""
        taken = [int(m.group(1)) for f in self.store.list(f"datasets/{name}/versions") if (m := TAKEN_FILE.fullmatch(f))]
        number = max(taken, default=0) + 1
        if os.environ.get(FAULT_ENV) == "catalog:before-claim":
            os.kill(os.getpid(), 9)
        for _ in range(100):
            manifest["version"] = number
            if self.store.exists(removed_key(name, number)):  # a removed version's number is never reused
                number += 1
                continue
            try:
                self.store.put_if_absent(manifest_key(name, number), seal(manifest))
            except AlreadyExists:
                number += 1
                continue
            self.sync()
            return Version(manifest, self)
        raise GristmillError(f"could not commit a version of {name}: 100 numbers taken by concurrent writers")

    def add_columns(self, ref: str, columns: Any, lineage: dict[str, Any], *, id_field: str | None = None,
                    tags: list[str] | None = None) -> Version:
        """The next version of ``ref``'s dataset with ``columns`` (a table or Parquet file: id + new columns)
        added as side files; the text is not rewritten (see :mod:`gristmill.catalog.columns`)."""
        from gristmill.catalog.columns import add_columns

        return add_columns(self, ref, columns, lineage, id_field=id_field, tags=tags or ())

    # -- export ---------------------------------------------------------------------------------------------
    def export(self, ref: str, output: str | Path, fmt: str = "parquet") -> list[Path]:
        v = self.get(ref)
        if "://" in str(output):
            raise UsageError(f"export writes to a local folder, not {output}: read the version where it is "
                             f"({self.store.url('')}), or copy the exported folder there")
        out = Path(output)
        if out.exists() and any(out.iterdir()):
            raise UsageError(f"export folder {out} is not empty")
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for i, path in enumerate(v.local_files()):
            table = v._read_file(i, path)
            target = out / f"part-{i:06d}.{'parquet' if fmt == 'parquet' else 'jsonl'}"
            if fmt == "parquet":
                pq.write_table(table, target, compression="zstd")
            else:
                with target.open("w", encoding="utf-8") as f:
                    for row in table.to_pylist():
                        f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            written.append(target)
        return written


def _count(names: list[str], what: str) -> str:
    return f"{len(names)} {what}{'s' if len(names) != 1 else ''}"


def _stamps(layout: Layout, names: list[str]) -> dict[str, list[int]]:
    """Size and modification time of each named file in the folder (-1, -1 for one that is gone)."""
    out = {}
    for n in names:
        try:
            st = os.stat(layout.out / n)
            out[n] = [st.st_size, st.st_mtime_ns]
        except OSError:
            out[n] = [-1, -1]
    return out


def _owner(refs: list[str], relpath: str) -> str | None:
    """The version an input file came from: the one its ``catalog://`` path named (``NAME@V/part-...``),
    since versions of identical content share file hashes; else the first version holding those bytes."""
    head = relpath.split("/", 1)[0]
    return head if head in refs else (refs[0] if refs else None)


def catalog_input_files(spec: str) -> list:
    """The data files of ``catalog://NAME[@V]`` as run inputs (hash-checked), for io.inputs, each with its side
    files (added columns). The catalog is the one the command names (``--catalog``, see :func:`use_root`), else
    $GRISTMILL_HOME, else ~/.gristmill."""
    from gristmill.catalog.columns import side_files_of
    from gristmill.io.inputs import InputFile

    version = Catalog().get(spec)
    out = []
    for i, (entry, p) in enumerate(zip(version.manifest["files"], version.local_files())):
        sides = tuple(version.catalog._fetch_verified(s, version.ref) for s in side_files_of(version.manifest, i))
        out.append(InputFile(path=p, relpath=f"{version.ref}/{entry['path'].rsplit('/', 1)[-1]}", format="parquet",
                             compression=None, size=os.path.getsize(p), columns_from=sides))
    return out

