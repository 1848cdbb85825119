"""Without torch, `gristmill train` says which extra to install in one line and exits 2 (simulated in a subprocess)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.train

SRC = str(Path(__file__).resolve().parents[2] / "src")


def run_without(module: str, code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter where importing ``module`` fails, as on a machine without it."""
    prelude = f"import sys\nsys.modules[{module!r}] = None\nsys.path.insert(0, {SRC!r})\n"
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("module", ["torch", "transformers"])
@pytest.mark.parametrize("args", [["train"], ["train", "--check"], ["doremi"]])
def test_train_without_the_extra_is_one_line_and_exit_2(tmp_path, module, args):
    (tmp_path / "c.yaml").write_text("data: {train: shards/train, heldout: shards/heldout}\n")
    cli = "gristmill.cli" if args[0] == "train" else "gristmill.train.cli"
    res = run_without(module, f"""
        sys.argv = ["gristmill", *{args!r}, "c.yaml"]
        from {cli} import main
        main()
    """, tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert lines == [f"error: training needs {module}, which is not installed: pip install 'gristmill[train]'"]


def test_the_python_entry_names_the_extra(tmp_path):
    res = run_without("torch", """
        from gristmill.train import load_config, train
        try:
            train(load_config(None, []))
        except ImportError as e:
            print(e)
    """, tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "training needs torch, which is not installed: pip install 'gristmill[train]'"
