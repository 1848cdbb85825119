"""End to end through the engine: dedup, boilerplate, PII and toxicity steps on the bundled dirty sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..conftest import DIRTY, ROOT, gristmill, read_kept, summary

RECIPE = ROOT / "examples" / "recipes" / "dedup_pii.yaml"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not DIRTY.exists():
        pytest.skip("bundled dirty sample missing")
    out = tmp_path_factory.mktemp("dedup_pii")
    res = gristmill("run", str(RECIPE), "--output", str(out), "--overwrite")
    assert res.returncode == 0, res.stderr[-2000:]
    return out


def test_every_row_accounted_and_dups_dropped_by_named_rules(run: Path) -> None:
    s = summary(run)
    assert s["balance"]["holds"]
    by = s["dropped"]["by_step"]
    assert by["exact_dedup"]["duplicate"] == 50  # the manifest's 50 exact copies
    assert by["minhash_dedup"]["near_duplicate"] >= 10
    assert by["lines_dedup"]["only_boilerplate"] >= 1  # the pages with no real content


def test_no_injected_pii_survives(run: Path) -> None:
    manifest = json.loads((DIRTY.parent / "dirty_manifest.json").read_text())["kinds"]["pii"]["details"]
    kept = read_kept(
        run, ["id", "text", "pii.total", "minhash_dedup.cluster_size", "lines_dedup.lines_removed"]
    )
    texts = dict(zip(kept.column("id").to_pylist(), kept.column("text").to_pylist()))
    checked = 0
    for d in manifest:
        if d["id"] in texts:
            for item in d["items"]:
                assert item["value"] not in texts[d["id"]], (d["id"], item)
                checked += 1
    assert checked > 50
    assert sum(kept.column("pii.total").to_pylist()) >= checked
    assert max(kept.column("minhash_dedup.cluster_size").to_pylist()) >= 2
    assert sum(kept.column("lines_dedup.lines_removed").to_pylist()) > 100
