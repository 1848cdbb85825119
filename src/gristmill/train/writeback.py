"""Write a run's per-document signals back into the catalog as a new version of the dataset it trained on.

The new version shares the trained version's data files and adds the ``train.<run>.*`` columns as side
files (:mod:`gristmill.catalog.columns`): the text is not rewritten. Its ``lineage`` names the run::

    {"kind": "run", "run": "r1", "run_dir": "/abs/out/r1", "config_hash": "xxh3-128:..",
     "checkpoint_hash": "xxh3-128:..", "version": "web@1", "version_hash": "xxh3-128:..",
     "signals": {"loss": true, "ref_loss": false, ...}, "reference": null}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gristmill.errors import UsageError
from gristmill.train.score import SIGNALS_FILE, ScoreReport
from gristmill.train.signals import RunOutput


def write_back(run_dir: str | Path, *, signals: str | Path | None = None, catalog: str | None = None,
               tags: list[str] | None = None) -> Any:
    """Commit ``signals`` (default: the run's ``signals.parquet`` from :func:`score_run`) as the next version
    of the scored version's dataset; returns the new :class:`~gristmill.catalog.core.Version`."""
    from gristmill.catalog.core import Catalog

    run = RunOutput.open(run_dir)
    path = Path(signals) if signals else run.dir / SIGNALS_FILE
    meta_path = path.with_suffix(".json")
    if not path.is_file() or not meta_path.is_file():
        raise UsageError(f"no scored signals at {path} (with {meta_path.name}): run `gristmill train score "
                         f"{run.dir}` first")
    report = ScoreReport.read(meta_path)
    if report.checkpoint_hash != run.checkpoint_hash():
        raise UsageError(f"{path} scored another state of run {run.dir} (model {report.checkpoint_hash}, now "
                         f"{run.checkpoint_hash()}): score it again")
    lineage = {
        "kind": "run", "run": run.name, "run_dir": str(run.dir.resolve()), "config_hash": run.config_hash(),
        "checkpoint_hash": report.checkpoint_hash, "version": report.version, "version_hash": report.version_hash,
        "trained_on": run.source.ref if run.source else None, "signals": report.measured,
        "reference": report.reference, "forced": report.forced,
    }
    cat = Catalog(catalog or (run.source.catalog if run.source else None))
    base = cat.get(report.version)
    if base.content_hash != report.version_hash:
        raise UsageError(f"{base.ref} changed since it was scored (content {base.content_hash}, scored "
                         f"{report.version_hash}): score it again")
    return cat.add_columns(base.ref, path, lineage, id_field=report.id_field, tags=tags)
