"""Score every document of a catalog version with a trained model: per-document training signals.

For each document (in the version's row order, so the result is row-aligned with it):

- ``loss``: the mean next-token loss of the document under the trained model. The document is read as the
  loop saw it, after an end-of-sequence token and followed by one, cut into pieces of ``train.seq_len``
  predictions (each piece overlaps the previous by one token, so every token is predicted once);
- ``ref_loss``, ``excess_loss = loss - ref_loss``: the same under a reference model (``--reference``: the
  run's initial weights ``init``, a run trained on a trusted subset, or any local Hugging Face model folder
  with the same tokenizer); RHO-LOSS's learnability (Mindermann et al. 2022): high where the trained model
  still does worse than the reference, so low-excess documents are the ones already learnt or unlearnable;
- ``draws``, ``first_loss``, ``last_loss``: copied from the run's ``doc_signals.parquet`` (counted during
  training; the losses only with ``signals.doc_losses``).

The scan streams: one batch of documents at a time is tokenized, cut into pieces, sorted by length (little
padding), scored in batches of ``batch_size`` pieces and written out, and the run's draws are merged in by
row, so memory does not grow with the number of documents. A document with no text gets null losses.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from gristmill.errors import GristmillError, UsageError
from gristmill.shards import EOS_TOKEN, load_tokenizer, tokenizer_hash
from gristmill.train.model import per_token_loss
from gristmill.train.signals import DOC_SIGNALS_FILE, SIGNALS, RunOutput

SIGNALS_FILE = "signals.parquet"
SIGNALS_META = "signals.json"
DOCS_PER_BATCH = 512


@dataclass
class ScoreReport:
    """What a scoring pass wrote and how fast it ran; ``signals.json`` next to the Parquet file."""

    run: str
    run_dir: str
    version: str
    version_hash: str
    rows_hash: str
    id_field: str
    path: str
    columns: list[str]
    measured: dict[str, bool]
    reference: str | None
    config_hash: str
    checkpoint_hash: str
    forced: bool
    rows: int = 0
    docs_scored: int = 0
    tokens: int = 0
    seconds: float = 0.0
    docs_per_s: float = 0.0
    tokens_per_s: float = 0.0
    device: str = "cpu"
    batch_size: int = 32
    per_domain: dict[str, dict[str, float | int | None]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def read(cls, path: str | Path) -> ScoreReport:
        return cls(**json.loads(Path(path).read_text()))


def resolve_reference(run: RunOutput, reference: str | None) -> Path | None:
    """The reference model's folder: ``init`` (the run's step-0 weights), a run output or a model folder."""
    if not reference:
        return None
    if reference == "init":
        folder = run.dir / "model_init"
        if not (folder / "config.json").is_file():
            raise UsageError(f"--reference init: run {run.dir} saved no initial weights (model_init/); train it "
                             "with --set signals.save_init=true, or give a model folder")
        return folder
    folder = Path(reference)
    if (folder / "model" / "config.json").is_file():
        folder = folder / "model"
    if not (folder / "config.json").is_file():
        raise UsageError(f"--reference: {reference} holds no Hugging Face model (config.json missing); give "
                         "'init', a run's output folder or a local model folder")
    return folder


def _load_model(folder: Path, vocab: int, seq_len: int, device: torch.device, where: str) -> Any:
    from transformers.utils import logging as hf_logging

    from gristmill.train.config import ModelConfig
    from gristmill.train.model import build_model, check_model_fits

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a bar per model load would garble the report (and --json)
    try:
        model = build_model(ModelConfig(path=str(folder)), vocab, seq_len, 0)
    finally:
        if shown:
            hf_logging.enable_progress_bar()
    check_model_fits(model, vocab, seq_len, where=where)
    model.to(device).eval()
    return model


class _RunDraws:
    """The run's ``doc_signals.parquet`` (sorted by version row), read in step with the version's batches."""

    def __init__(self, path: Path) -> None:
        self._batches = pq.ParquetFile(path).iter_batches(batch_size=65536)
        self._held: pa.Table | None = None
        self._done = False

    def take(self, start: int, ids: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(ids)
        while not self._done and (self._held is None or self._held.num_rows == 0
                                  or self._held.column("row")[self._held.num_rows - 1].as_py() < start + n):
            try:
                rb = next(self._batches)
            except StopIteration:
                self._done = True
                break
            t = pa.Table.from_batches([rb])
            self._held = t if self._held is None else pa.concat_tables([self._held, t])
        draws, first, last = np.zeros(n, np.int64), np.full(n, np.nan), np.full(n, np.nan)
        if self._held is None or self._held.num_rows == 0:
            return draws, first, last
        rows = self._held["row"].to_numpy()
        cut = int(np.searchsorted(rows, start + n, side="left"))
        part, self._held = self._held.slice(0, cut), self._held.slice(cut)
        at = rows[:cut] - start
        if (at < 0).any():
            raise GristmillError("doc_signals.parquet is not sorted by row; the run's files are damaged")
        got = part["id"].to_pylist()
        want = [ids[i] for i in at]
        if got != want:
            bad = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
            raise GristmillError(f"the run's document map says row {start + at[bad]} is {got[bad]!r}, the version "
                                 f"holds {want[bad]!r} there: the run's doc_signals do not belong to this version")
        draws[at] = part["draws"].to_numpy()
        first[at] = part["first_loss"].to_numpy(zero_copy_only=False)
        last[at] = part["last_loss"].to_numpy(zero_copy_only=False)
        return draws, first, last


class _Scorer:
    """Mean token loss of documents under one or more models, batched by pieces of similar length."""

    def __init__(self, models: list[Any], eos: int, seq_len: int, batch_size: int, device: torch.device) -> None:
        self.models, self.eos, self.seq_len, self.batch_size, self.device = models, eos, seq_len, batch_size, device
        use_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        self.autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_bf16 else contextlib.nullcontext

    def pieces(self, docs: list[list[int] | None]) -> Iterator[tuple[int, np.ndarray]]:
        step = self.seq_len
        for i, ids in enumerate(docs):
            if ids is None:
                continue
            seq = np.asarray([self.eos, *ids, self.eos], dtype=np.int64)
            for a in range(0, len(seq) - 1, step):
                yield i, seq[a : a + step + 1]

    @torch.no_grad()
    def mean_losses(self, docs: list[list[int] | None]) -> tuple[np.ndarray, np.ndarray]:
        """(losses [models, docs] with NaN for documents without text, predicted tokens per document)."""
        pieces = sorted(self.pieces(docs), key=lambda p: -len(p[1]))
        sums = np.zeros((len(self.models), len(docs)))
        counts = np.zeros(len(docs))
        for b in range(0, len(pieces), self.batch_size):
            chunk = pieces[b : b + self.batch_size]
            # widths rounded up to a multiple of 32: a handful of tensor shapes instead of one per batch, which
            # keeps the allocator from fragmenting over a long scan (and suits compiled kernels)
            width = min(self.seq_len + 1, -(-len(chunk[0][1]) // 32) * 32)
            x = np.full((len(chunk), width), self.eos, dtype=np.int64)
            mask = np.zeros((len(chunk), width - 1), dtype=np.float32)
            for r, (_, p) in enumerate(chunk):
                x[r, : len(p)] = p
                mask[r, : len(p) - 1] = 1.0
            which = np.array([i for i, _ in chunk])
            xt, mt = torch.from_numpy(x).to(self.device), torch.from_numpy(mask).to(self.device)
            for m, model in enumerate(self.models):
                with self.autocast():
                    row = (per_token_loss(model, xt) * mt).sum(dim=1)
                np.add.at(sums[m], which, row.double().cpu().numpy())
            np.add.at(counts, which, mask.sum(axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan), counts


def _check_seen(run: RunOutput, version: Any, force: bool) -> bool:
    """Whether the run trained on ``version``'s documents; refuses (UsageError) when not, unless ``force``."""
    from gristmill.catalog.columns import content_hash

    src = run.source
    if src is None:
        why = (f"run {run.dir} trained on shard folders or text files, not on a catalog version, so its model "
               f"never saw {version.ref} as such")
    else:
        rows_hash = content_hash(version.manifest, [src.text_field, src.domain_field, src.id_field])
        if rows_hash == src.rows_hash:
            return True
        why = (f"run {run.dir} trained on {src.ref}; {version.ref} holds other documents (rows hash {rows_hash}, "
               f"trained on {src.rows_hash}), which the model never saw")
    if not force:
        raise UsageError(f"{why}: its losses there are not signals of this training run. Score {src.ref if src else 'the version it trained on'} "
                         "instead, or pass --force to score anyway (draws and first/last losses are then left empty)")
    return False


def score_run(run_dir: str | Path, *, version: str | None = None, reference: str | None = None,
              catalog: str | None = None, output: str | Path | None = None, batch_size: int = 32,
              device: str = "auto", force: bool = False, docs_per_batch: int = DOCS_PER_BATCH) -> ScoreReport:
    """Score every document of the version a run trained on (or ``version``) and write ``signals.parquet``
    (the version's id field and the ``train.<run>.*`` columns, in the version's row order) and
    ``signals.json`` (this report) into the run folder, or to ``output``."""
    from gristmill.catalog.columns import content_hash, iter_version
    from gristmill.catalog.core import Catalog
    from gristmill.train.loop import pick_device

    run = RunOutput.open(run_dir)
    if version is None and run.source is None:
        raise UsageError(f"run {run.dir} did not train on a catalog version: pass --version catalog://NAME@V")
    ref = version or f"catalog://{run.source.ref}"
    cat = Catalog(catalog or (run.source.catalog if run.source else None))
    ver = cat.get(ref)
    seen = _check_seen(run, ver, force)
    ref_dir = resolve_reference(run, reference if reference is not None else run.cfg.signals.reference)
    tok = load_tokenizer(run.tokenizer)
    if ref_dir is not None and (ref_dir / "tokenizer.json").is_file():
        theirs = tokenizer_hash(load_tokenizer(ref_dir / "tokenizer.json"))
        if theirs != tokenizer_hash(tok):
            raise UsageError(f"--reference: {ref_dir} uses another tokenizer than run {run.dir}; per-token losses "
                             "are comparable only under the same tokenizer")
    src = run.source
    text_field = src.text_field if src else run.cfg.data.text_field
    domain_field = src.domain_field if src else run.cfg.data.domain_field
    id_field = ver.manifest.get("id_field") or "id"
    names = {f["name"] for f in ver.manifest["schema"]} | set(_side_columns(ver.manifest))
    for f in (text_field, id_field):
        if f not in names:
            raise UsageError(f"{ver.ref} has no column {f!r} to score by")
    draws_file = run.dir / DOC_SIGNALS_FILE
    use_draws = seen and draws_file.is_file()
    measured = {"loss": True, "ref_loss": ref_dir is not None, "excess_loss": ref_dir is not None,
                "draws": use_draws, "first_loss": use_draws and run.cfg.signals.doc_losses,
                "last_loss": use_draws and run.cfg.signals.doc_losses}

    dev = pick_device(device)
    vocab, seq_len = tok.get_vocab_size(), run.cfg.train.seq_len
    models = [_load_model(run.model_dir, vocab, seq_len, dev, "run model")]
    if ref_dir is not None:
        models.append(_load_model(ref_dir, vocab, seq_len, dev, "--reference"))
    eos = tok.token_to_id(EOS_TOKEN)
    scorer = _Scorer(models, eos, seq_len, batch_size, dev)
    draws_reader = _RunDraws(draws_file) if use_draws else None

    out = Path(output) if output else run.dir / SIGNALS_FILE
    cols = {s: run.column(s) for s in SIGNALS}
    schema = pa.schema([pa.field(id_field, pa.string())] +
                       [pa.field(cols[s], pa.int64() if s == "draws" else pa.float64()) for s in SIGNALS])
    report = ScoreReport(
        run=run.name, run_dir=str(run.dir.resolve()), version=ver.ref, version_hash=content_hash(ver.manifest),
        rows_hash=content_hash(ver.manifest, [text_field, domain_field, id_field]), id_field=id_field,
        path=str(out), columns=[cols[s] for s in SIGNALS], measured=measured,
        reference=str(ref_dir.resolve()) if ref_dir else None, config_hash=run.config_hash(),
        checkpoint_hash=run.checkpoint_hash(), forced=not seen, device=str(dev), batch_size=batch_size,
    )
    per_domain: dict[str, list[float]] = {}
    read = [c for c in (id_field, text_field, domain_field) if c in names]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + f".tmp-{os.getpid()}")
    t0 = time.perf_counter()
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for start, table in iter_version(ver, read, batch_size=docs_per_batch):
                ids = [str(x) for x in table.column(id_field).to_pylist()]
                texts = table.column(text_field).to_pylist()
                present = [i for i, t in enumerate(texts) if isinstance(t, str) and t]
                encoded = tok.encode_batch([texts[i] for i in present]) if present else []
                docs: list[list[int] | None] = [None] * len(texts)
                for i, enc in zip(present, encoded, strict=True):
                    docs[i] = list(enc.ids)
                losses, counts = scorer.mean_losses(docs)
                loss = losses[0]
                ref_loss = losses[1] if len(models) > 1 else np.full(len(docs), np.nan)
                if draws_reader is not None:
                    draws, first, last = draws_reader.take(start, ids)
                else:
                    draws, first, last = None, np.full(len(docs), np.nan), np.full(len(docs), np.nan)
                values = {"loss": loss, "ref_loss": ref_loss, "excess_loss": loss - ref_loss, "first_loss": first,
                          "last_loss": last}
                arrays = [pa.array(ids, pa.string())]
                for s in SIGNALS:
                    if s == "draws":
                        arrays.append(pa.nulls(len(docs), pa.int64()) if draws is None else pa.array(draws, pa.int64()))
                    else:
                        v = values[s]
                        arrays.append(pa.array(v, pa.float64(), mask=~np.isfinite(v)))
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
                report.rows += len(docs)
                report.docs_scored += len(present)
                report.tokens += int(counts.sum())
                if domain_field in table.column_names:
                    for d, lo, ex in zip(table.column(domain_field).to_pylist(), loss, loss - ref_loss, strict=True):
                        acc = per_domain.setdefault(str(d), [0, 0.0, 0, 0.0, 0])
                        acc[0] += 1
                        if np.isfinite(lo):
                            acc[1] += lo
                            acc[2] += 1
                        if np.isfinite(ex):
                            acc[3] += ex
                            acc[4] += 1
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    report.seconds = time.perf_counter() - t0
    report.docs_per_s = report.docs_scored / report.seconds if report.seconds else 0.0
    report.tokens_per_s = report.tokens / report.seconds if report.seconds else 0.0
    report.per_domain = {d: {"docs": a[0], "loss": a[1] / a[2] if a[2] else None,
                             "excess_loss": a[3] / a[4] if a[4] else None} for d, a in sorted(per_domain.items())}
    out.with_suffix(".json").write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return report


def _side_columns(manifest: dict) -> list[str]:
    from gristmill.catalog.columns import side_columns

    return side_columns(manifest)
