import pytest

from gristmill.errors import UsageError
from gristmill.train.config import load_config

pytestmark = pytest.mark.train


def test_overrides_are_coerced(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("train:\n  lr: 0.01\npolicy:\n  name: temperature\n")
    cfg = load_config(p, ["train.max_tokens=2e6", "train.lr=3e-4", "log.plot=false", "policy.tau=0.5"])
    assert cfg.train.max_tokens == 2_000_000 and isinstance(cfg.train.max_tokens, int)
    assert cfg.train.lr == 3e-4 and cfg.log.plot is False
    assert cfg.policy.name == "temperature" and cfg.policy.params() == {"tau": 0.5}


def test_unknown_key_suggests_the_closest():
    with pytest.raises(UsageError, match="did you mean train.max_tokens"):
        load_config(None, ["train.max_token=5"])


def test_bad_value_names_the_key(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("train:\n  batch_size: 0\n")
    with pytest.raises(UsageError, match=r"c.yaml: train.batch_size"):
        load_config(p)
