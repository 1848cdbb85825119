"""datatrove side of the parity run: apply each datatrove filter to every document, record keep/reason.

Runs inside datatrove's own venv (bench/_work/dt-venv); writes one JSON line per document.
"""

import argparse
import gzip
import json
import time

from datatrove.data import Document
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)

FILTERS = {
    "gopher_quality": GopherQualityFilter,
    "gopher_repetition": GopherRepetitionFilter,
    "c4_quality": C4QualityFilter,
    "fineweb_quality": FineWebQualityFilter,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--skip", type=int, default=0, help="start after this many documents (to split the work)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    filters = {k: cls() for k, cls in FILTERS.items()}
    t0 = time.time()
    n = 0
    with gzip.open(args.corpus, "rt", encoding="utf-8") as f, open(args.out, "w", buffering=1) as out:
        for k, line in enumerate(f):
            if k < args.skip:
                continue
            d = json.loads(line)
            rec = {"id": d["id"]}
            for name, flt in filters.items():
                try:
                    r = flt.filter(Document(text=d["text"], id=d["id"]))
                except ZeroDivisionError:
                    r = (False, "ZeroDivisionError")
                rec[name] = "keep" if r is True else (r[1] if isinstance(r, tuple) else "drop")
            out.write(json.dumps(rec) + "\n")
            n += 1
            if args.limit and n + args.skip >= args.limit:
                break
    print(f"datatrove: {n} docs in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
