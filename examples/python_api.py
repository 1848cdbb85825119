"""The Python API in one page: build a recipe from typed steps, run it into a catalog, read the version back.

    python examples/python_api.py [WORKDIR]
"""

import sys
import tempfile
from pathlib import Path

import gristmill as gm

work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="gm-api-"))
recipe = gm.Recipe(
    input=str(Path(__file__).resolve().parents[1] / "data" / "sample.jsonl.gz"),
    steps=[gm.ops.normalize_text(), gm.ops.length_filter(min_words=50)],
    output=str(work / "out"),
)
recipe.validate()  # raises RecipeError listing every problem, before anything runs
result = recipe.run(engine="local", workers=2, into="web", catalog=str(work / "catalog"))
print(f"kept {result.summary['kept']:,} of {result.summary['input']:,}; registered {result.version.ref}")

version = gm.catalog.get("web", root=str(work / "catalog"))  # latest; "web@1" names one version
table = version.to_arrow()  # also .to_pandas(), .to_hf()
print(table.num_rows, "rows;", ", ".join(table.column_names))

# where one dropped document came from, and why it was dropped (also: gristmill catalog trace web@1 ID)
dropped = version.dropped()  # the dropped rows: id, step, rule and the signals
node = gm.catalog.trace(version.ref, str(dropped["id"][0]), root=str(work / "catalog"))
occurrence, source = node["occurrences"][0], node["sources"][0]
print(f"{node['id']}: dropped by {occurrence['step']}/{occurrence['rule']}, "
      f"read from {source['file']} {source['unit']} {source['location']}")
