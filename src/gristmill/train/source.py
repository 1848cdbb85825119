"""Training straight from a catalog version (``data.train: catalog://NAME@V``), tokenized once and cached.

The version's rows are read through the catalog (side columns joined, files hash-checked), split into
train and held-out documents per domain and tokenized with :func:`gristmill.shards.build_shards`. The shard
set is cached under ``data.shard_cache`` (default: ``<catalog root>/cache/shards`` for a local catalog, the
catalog's local cache folder for an object-store root), in a folder keyed by

- the version's *rows hash*: the hashes of its data files, plus those of the side files that hold one of
  the fields read (text, domain, id) — a version that only adds columns reuses its parent's shards;
- the tokenizer: the xxh64 of ``data.tokenizer``, or ``bpe-<vocab_size>`` for a BPE trained on the version;
- the split settings (fields, held-out fraction and sizes, domains).

A second run on the same version reuses the folder without reading the text again. Every shard keeps its
documents' ids and version rows (the document map), which is how a run's per-document signals reach the
version's rows. A build goes to a temporary folder renamed into place, so concurrent runs never see half a set.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gristmill.errors import UsageError
from gristmill.shards import META_FILE, build_shards, load_tokenizer, tokenizer_hash
from gristmill.train.config import DataConfig

CACHE_FORMAT = 1
SOURCE_FILE = "source.json"  # in a run's output folder: the version it read


def is_catalog_ref(spec: str | None) -> bool:
    return bool(spec) and str(spec).startswith("catalog://")


@dataclass
class VersionSource:
    """Which version a run read, and where its tokens are: written to the run's ``source.json``."""

    ref: str  # NAME@V, pinned even when the config said only NAME
    catalog: str  # the catalog root
    content_hash: str  # everything a reader of the version sees (data and side files)
    rows_hash: str  # what was tokenized (data files + side files holding text/domain/id)
    rows: int
    id_field: str
    text_field: str
    domain_field: str
    tokenizer_hash: str
    shards: str  # the cached shard set (train/, heldout/, tokenizer.json)
    reused: bool  # True when the shard set was already in the cache
    heldout: str | None = None  # data.heldout: a fixed held-out shard set evaluated on instead of the version's split
    excluded: int = 0  # documents of the version left out of training because they are in data.heldout

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def read(cls, run_dir: str | Path) -> VersionSource | None:
        path = Path(run_dir) / SOURCE_FILE
        if not path.is_file():
            return None
        return cls(**json.loads(path.read_text()))


def open_version(spec: str, catalog: str | None) -> Any:
    from gristmill.catalog.core import Catalog

    return Catalog(catalog).get(spec)


def cache_root(cfg: DataConfig, version: Any) -> Path:
    if cfg.shard_cache:
        return Path(cfg.shard_cache).expanduser()
    return version.catalog.index_path.parent / "cache" / "shards"


def check_fields(cfg: DataConfig, version: Any) -> str:
    """The version's id field, after checking that it has the text, domain and id columns; else a UsageError."""
    from gristmill.catalog.columns import side_columns

    names = [f["name"] for f in version.manifest["schema"]] + side_columns(version.manifest)
    id_field = version.manifest.get("id_field") or "id"
    if cfg.domain_field not in names:
        raise UsageError(
            f"data.train: {version.ref} has no domain column {cfg.domain_field!r} (columns: {', '.join(names)}); "
            f"the loop mixes by domain: set data.domain_field to the column that names each document's domain"
        )
    if cfg.text_field not in names:
        raise UsageError(f"data.train: {version.ref} has no text column {cfg.text_field!r} (columns: "
                         f"{', '.join(names)}); set data.text_field")
    if id_field not in names:
        raise UsageError(f"data.train: {version.ref} has no id column {id_field!r}; per-document signals need one")
    return id_field


def _tokenizer_key(cfg: DataConfig) -> tuple[str, Any]:
    """(the tokenizer part of the cache key, the tokenizer to build with or None to train a BPE)."""
    if cfg.tokenizer:
        try:
            tok = load_tokenizer(cfg.tokenizer)
        except Exception as e:  # noqa: BLE001 - tokenizers raises plain Exceptions for a bad file
            raise UsageError(f"data.tokenizer: cannot load {cfg.tokenizer}: {e}") from None
        return tokenizer_hash(tok), tok
    return f"bpe-{cfg.vocab_size}", None


def _records(version: Any, fields: list[str]) -> Iterator[dict[str, Any]]:
    from gristmill.catalog.columns import iter_version

    for _, table in iter_version(version, fields):
        yield from table.to_pylist()


def shards_for_version(cfg: DataConfig) -> VersionSource:
    """The cached shard set of ``cfg.train``'s version, built on first use; checks fields and tokenizer."""
    from gristmill.catalog.columns import content_hash

    version = open_version(cfg.train, cfg.catalog)
    id_field = check_fields(cfg, version)
    full_hash = content_hash(version.manifest)
    if cfg.version_hash and cfg.version_hash != full_hash:
        raise UsageError(f"data.version_hash: {version.ref} has content hash {full_hash}, the config pins "
                         f"{cfg.version_hash}; the catalog holds other data under that name")
    fields = [cfg.text_field, cfg.domain_field, id_field]
    rows_hash = content_hash(version.manifest, fields)
    tok_key, tok = _tokenizer_key(cfg)
    settings = {"format": CACHE_FORMAT, "rows_hash": rows_hash, "tokenizer": tok_key, "fields": fields,
                "heldout_fraction": cfg.heldout_fraction, "max_heldout_docs": cfg.max_heldout_docs,
                "min_heldout_tokens": cfg.min_heldout_tokens, "domains": cfg.domains, "vocab_size": cfg.vocab_size}
    exclude: set[str] = set()
    if cfg.heldout:  # a fixed held-out set: its documents are never trained on; the version's own split is minimal
        exclude = heldout_ids(cfg.heldout)
        settings |= {"max_heldout_docs": 1, "min_heldout_tokens": 0,
                     "exclude": hashlib.sha256("\n".join(sorted(exclude)).encode()).hexdigest()}
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:20]
    folder = cache_root(cfg, version) / f"{version.name}-{key}"
    reused = (folder / "cache.json").is_file()
    if not reused:
        _build(version, cfg, fields, id_field, tok, folder, settings, exclude)
    built_with = _shard_tokenizer_hash(folder)
    if tok is not None and built_with != tok_key:
        raise UsageError(
            f"data.tokenizer: the cached shard set {folder} was tokenized by tokenizer {built_with}, but "
            f"{cfg.tokenizer} is {tok_key}; the cache was changed after it was built: remove {folder} to rebuild it"
        )
    return VersionSource(
        ref=version.ref, catalog=version.catalog.store.uri, content_hash=full_hash, rows_hash=rows_hash,
        rows=int(version.manifest["rows"]), id_field=id_field, text_field=cfg.text_field,
        domain_field=cfg.domain_field, tokenizer_hash=built_with, shards=str(folder), reused=reused,
        heldout=str(Path(cfg.heldout).resolve()) if cfg.heldout else None, excluded=_excluded(folder),
    )


def heldout_ids(folder: str | Path) -> set[str]:
    """The document ids of a held-out shard set (every domain's document map); a UsageError without them."""
    from gristmill.shards import read_doc_map

    root = Path(folder)
    domains = sorted(p for p in root.iterdir() if (p / META_FILE).is_file()) if root.is_dir() else []
    if not domains:
        raise UsageError(f"data.heldout: {folder} holds no held-out shards (a folder per domain with {META_FILE})")
    ids: set[str] = set()
    for dom in domains:
        table = read_doc_map(dom)
        if table is None:
            raise UsageError(f"data.heldout: {dom} has no document map, so its documents cannot be kept out of "
                             f"training on {folder}'s version; use a held-out split built from a catalog version")
        ids.update(str(x) for x in table.column("id").to_pylist() if x)
    return ids


def _excluded(folder: Path) -> int:
    cache = folder / "cache.json"
    return int(json.loads(cache.read_text()).get("excluded", 0)) if cache.is_file() else 0


def _shard_tokenizer_hash(folder: Path) -> str:
    for split in ("train", "heldout"):
        for meta in sorted((folder / split).glob(f"*/{META_FILE}")):
            return json.loads(meta.read_text()).get("tokenizer_hash", "")
    raise UsageError(f"data.train: the cached shard set {folder} holds no shard; remove it to rebuild it")


def _build(version: Any, cfg: DataConfig, fields: list[str], id_field: str, tok: Any, folder: Path,
           settings: dict[str, Any], exclude: set[str]) -> None:
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"[gristmill] tokenizing {version.ref} into {folder}", flush=True)
    try:
        build_shards(
            _records(version, fields), tmp, tokenizer=cfg.tokenizer if tok is not None else None,
            vocab_size=cfg.vocab_size, text_field=cfg.text_field, domain_field=cfg.domain_field, id_field=id_field,
            heldout_fraction=cfg.heldout_fraction, max_heldout_docs=settings["max_heldout_docs"],
            min_heldout_tokens=settings["min_heldout_tokens"], domains=cfg.domains, exclude_ids=exclude,
        )
    except ValueError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UsageError(f"data.train: {version.ref}: {e}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    excluded = sum(1 for _ in _records(version, [id_field]) if str(_.get(id_field)) in exclude) if exclude else 0
    (tmp / "cache.json").write_text(json.dumps({"version": version.ref, **settings, "excluded": excluded},
                                               indent=2) + "\n")
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(tmp, folder)
    except OSError:  # another run built the same set meanwhile: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
        if not (folder / "cache.json").is_file():
            raise
