"""A custom operator, registered with ``@gm.register``, in a recipe run on local workers or on Ray.

    python examples/custom_operator.py [WORKDIR] [--engine ray]

The engine ships the operator class to its workers by value (cloudpickle), so it may live in the script
itself, as here, or in any module of yours, importable by the workers or not.
"""

import sys
import tempfile
from pathlib import Path

import pyarrow.compute as pc
from pydantic import Field

import gristmill as gm


@gm.register
class DigitShare(gm.Operator):
    """Measures the share of digits in a document; keeps documents under a threshold."""

    name = "digit_share"
    family = "quality"
    description = "Share of characters that are digits; drops number-heavy documents (tables, logs)."
    signals = (gm.Signal("share", "float", "digits / characters"),)

    class Params(gm.OpParams):
        max_share: float = Field(0.2, ge=0.0, le=1.0, description="drop documents with a larger digit share")

    def apply(self, batch):
        text = batch.column("text")
        digits = pc.count_substring_regex(text, r"\d")
        return {"share": pc.divide(pc.cast(digits, "double"), pc.max_element_wise(pc.utf8_length(text), 1))}

    def rules(self):
        return {"too_many_digits": f"{self.step}.share <= {self.params.max_share}"}


if __name__ == "__main__":  # worker processes may import this file: run only when executed
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    work = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="gm-custom-"))
    recipe = gm.Recipe(input=str(Path(__file__).resolve().parents[1] / "data" / "sample.jsonl.gz"),
                       steps=[gm.ops.normalize_text(), gm.ops.digit_share(max_share=0.05)], output=str(work / "out"))
    result = recipe.run(engine="ray" if "--engine" in sys.argv and "ray" in sys.argv else "local", workers=2)
    dropped = result.summary["dropped"]["by_step"].get("digit_share", {})
    print(f"kept {result.summary['kept']:,} of {result.summary['input']:,}; digit_share dropped {dropped}")
