"""Diagnostic: compare gristmill's word splitter with datatrove's (spaCy English) on corpus documents.

Run with the datatrove venv's python, from the repository root:
    bench/_work/dt-venv/bin/python bench/parity_datatrove/compare_words.py --n 3000
"""

import argparse
import collections
import gzip
import importlib.util
import json

from datatrove.utils.text import split_into_words

_spec = importlib.util.spec_from_file_location("wordsplit", "src/gristmill/ops/wordsplit.py")
_ws = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ws)
split_words = _ws.split_words

ap = argparse.ArgumentParser()
ap.add_argument("--corpus", default="bench/_work/corpus.jsonl.gz")
ap.add_argument("--n", type=int, default=3000)
args = ap.parse_args()
same = 0
diffs: collections.Counter = collections.Counter()
n = 0
for line in gzip.open(args.corpus, "rt"):  # noqa: SIM115
    d = json.loads(line)
    if d["language"].startswith(("zh", "ja")):
        continue
    text = d["text"][:20000]
    a = split_into_words(text, "eng")
    b = split_words(text)
    n += 1
    if a == b:
        same += 1
    else:
        for chunk in text.split():
            x = split_into_words(chunk, "eng")
            y = list(split_words(chunk))
            if x != y:
                diffs[(chunk, tuple(x), tuple(y))] += 1
    if n >= args.n:
        break
print(f"identical token lists: {same}/{n}")
for (c, x, y), k in diffs.most_common(60):
    print(k, repr(c), "spacy:", x, "ours:", y)
