"""Every operator of the dedup / PII / language / safety modules is registered and describable offline."""

from __future__ import annotations

import json

import pytest

from gristmill.ops.registry import all_ops

MINE = {
    "minhash_dedup": "dedup",
    "lines_dedup": "dedup",
    "decontaminate": "dedup",
    "semantic_dedup": "dedup",
    "pii": "pii",
    "toxicity": "safety",
    "lang_id": "lang",
}


@pytest.mark.parametrize(("name", "family"), sorted(MINE.items()))
def test_registered_with_family_and_json_description(name: str, family: str) -> None:
    cls = all_ops()[name]
    d = cls.describe()
    assert d["family"] == family and len(d["description"]) > 100
    json.dumps(d)  # machine-readable for `gristmill ops show --json`
    if name != "decontaminate":  # the only one that needs an argument: the reference texts
        cls.Params()
