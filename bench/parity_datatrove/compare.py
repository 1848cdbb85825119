"""Compare keep/drop decisions of gristmill and datatrove per filter: agreement and confusion counts."""

from __future__ import annotations

import argparse
import collections
import gzip
import json


def load(*paths: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for path in paths:
        with open(path) as f:
            for line in f:
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:  # a run cut short mid-line
                    continue
                out[r["id"]] = r
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--theirs", required=True, nargs="+", help="datatrove result files (parts are merged)")
    ap.add_argument("--corpus", help="to print the domain of disagreements")
    ap.add_argument("--show", type=int, default=0, help="list this many disagreeing ids per filter")
    args = ap.parse_args()
    ours, theirs = load(args.ours), load(*args.theirs)
    ids = [i for i in theirs if i in ours]
    domains: dict[str, str] = {}
    if args.corpus:
        with gzip.open(args.corpus, "rt") as f:
            for line in f:
                d = json.loads(line)
                domains[d["id"]] = d["domain"] + ("/" + d["language"] if d["domain"] == "handbook" else "")
    filters = [k for k in theirs[ids[0]] if k != "id"]
    print(f"documents compared: {len(ids)}\n")
    print(
        "| filter | agreement | both keep | both drop | only datatrove keeps | only gristmill keeps | same reason (both drop) |"
    )
    print("|---|---|---|---|---|---|---|")
    details = {}
    for flt in filters:
        c = collections.Counter()
        same_reason = 0
        dis = collections.Counter()
        examples = []
        for i in ids:
            a, b = ours[i][flt], theirs[i][flt]
            ka, kb = a == "keep", b == "keep"
            c[(ka, kb)] += 1
            if not ka and not kb:
                same_reason += b.removeprefix("gopher_") == a
            if ka != kb:
                dis[(a, b, domains.get(i, "?"))] += 1
                examples.append(i)
        agree = c[(True, True)] + c[(False, False)]
        both_drop = c[(False, False)]
        print(
            f"| {flt} | {agree / len(ids):.4%} | {c[(True, True)]} | {both_drop} | {c[(False, True)]} | "
            f"{c[(True, False)]} | {same_reason / both_drop if both_drop else 1:.2%} |"
        )
        details[flt] = (dis, examples)
    for flt, (dis, examples) in details.items():
        if dis:
            print(f"\n{flt}: disagreements by (gristmill, datatrove, domain)")
            for k, v in dis.most_common(12):
                print(f"  {v:5d}  {k}")
            if args.show:
                print("  e.g.", examples[: args.show])


if __name__ == "__main__":
    main()
