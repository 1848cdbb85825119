"""Incremental runs and re-deciding against full runs, on the same data, machine and run.

    python bench/incremental/run.py [--months 20] [--workers 2] [--loosen]

Corpus: the bundled sample (data/sample.jsonl.gz) scaled up to ``--months`` monthly files. Month 1 is the
sample; every later month is the sample with the words of each line shuffled by a seed of its own (the last
word stays, so lines keep their ending punctuation; word, line and stop-word statistics stay those of real
text; the word 5-grams differ, so months do not near-duplicate each other), plus 3% exact copies (new ids)
and 3% one-word edits of documents of earlier months. The new data is ``months / 10`` more months of the
same kind: 10% more documents.

Recipe: normalize_text, length_filter, gopher_quality, gopher_repetition, fineweb_quality, exact_dedup,
minhash_dedup. Each timing is one ``gristmill run`` command, process start-up, run and catalog commit
included, ``--workers`` worker processes:

(a) adding the new month: ``--incremental`` over the version of the old months, against a full run over
    every month; then the two versions' rows are compared (ids in order, and every column);
(a1) the same with one worker process: CPU is total work, so it is comparable with the full run's whatever
    the worker count; a small delta pays each worker's start (a cold word-splitting cache) once, not twice;
(a') for scale: a plain run over the new months alone, the floor for (a) (the same documents through fresh
    worker processes, whose per-process word-splitting cache starts cold, as (a)'s do);
(b) tighter thresholds (length, Gopher and FineWeb): ``--incremental`` re-deciding the version from (a),
    against a full run of the new recipe over every month; the rows compared the same way.
``--loosen`` adds (c): a looser threshold, which re-deciding cannot serve (rows the parent dropped would
come back, and their text was never stored), so the run falls back to a full run; its time is reported.

Before timing, the sources are compiled to bytecode (as an installed package is), so that no command pays
for compiling them (PYTHONDONTWRITEBYTECODE would otherwise make every process do it again).

Writes its files under bench/_work/incremental (git-ignored) and prints a markdown table.
"""

from __future__ import annotations

import argparse
import compileall
import gzip
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample.jsonl.gz"
WORK = ROOT / "bench" / "_work" / "incremental"

STEPS = [
    {"op": "normalize_text"},
    {"op": "length_filter", "params": {"min_words": 20}},
    {"op": "gopher_quality"},
    {"op": "gopher_repetition"},
    {"op": "fineweb_quality"},
    {"op": "exact_dedup"},
    {"op": "minhash_dedup"},
]
TIGHTER = {1: {"min_words": 40}, 2: {"min_doc_words": 100}, 4: {"line_punct_thr": 0.3}}
LOOSER = {2: {"min_doc_words": 20}}


def shuffled(text: str, rng: random.Random) -> str:
    lines = []
    for line in text.split("\n"):
        words = line.split(" ")
        if len(words) > 2:
            body = words[:-1]
            rng.shuffle(body)
            words = body + words[-1:]
        lines.append(" ".join(words))
    return "\n".join(lines)


def build_month(month: int, base: list[dict], earlier: list[dict], rng: random.Random) -> list[dict]:
    if month == 1:
        rows = [dict(r) for r in base]
    else:
        rows = [{**r, "id": f"{r['id']}-m{month:02d}", "text": shuffled(r["text"], rng)} for r in base]
    if earlier:
        for r in rng.sample(earlier, len(base) * 3 // 100):
            rows.append({**r, "id": f"{r['id']}-copy-m{month:02d}"})
        for r in rng.sample(earlier, len(base) * 3 // 100):
            words = r["text"].split(" ")
            words[rng.randrange(len(words))] = "edited"
            rows.append({**r, "id": f"{r['id']}-edit-m{month:02d}", "text": " ".join(words)})
        rng.shuffle(rows)
    return rows


def build_corpus(months: int, added: int) -> tuple[Path, Path]:
    """``old/`` (months 1..months) and ``new/`` (the ``added`` months after them)."""
    data = WORK / f"corpus-{months}+{added}"
    old, new = data / "old", data / "new"
    if (data / "done").exists():
        return old, new
    shutil.rmtree(data, ignore_errors=True)
    old.mkdir(parents=True)
    new.mkdir()
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        base = [json.loads(line) for line in f]
    rng = random.Random(0)
    earlier: list[dict] = []
    for month in range(1, months + added + 1):
        rows = build_month(month, base, earlier, rng)
        folder = old if month <= months else new
        with gzip.open(folder / f"month-{month:02d}.jsonl.gz", "wt", encoding="utf-8", compresslevel=1) as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        earlier += rows
    (data / "done").write_text("ok")
    return old, new


def count_lines(path: Path) -> int:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return sum(1 for _ in f)


def recipe(path: Path, inputs: list[str], out: Path, changes: dict[int, dict] | None = None) -> Path:
    steps = [dict(s) for s in STEPS]
    for i, params in (changes or {}).items():
        steps[i] = {**steps[i], "params": {**steps[i].get("params", {}), **params}}
    doc = {"name": "bench-incremental", "input": {"path": inputs}, "steps": steps, "output": {"path": str(out)}}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def gristmill(args: list[str], env: dict[str, str]) -> tuple[tuple[float, float], dict, str]:
    """Run one gristmill command; ((wall s, CPU s of it and its workers), its JSON summary, stderr)."""
    t, c = time.perf_counter(), _cpu()
    p = subprocess.run([sys.executable, "-m", "gristmill.cli", *args, "--json", "--no-progress"],
                       capture_output=True, text=True, env=env)
    took = (time.perf_counter() - t, _cpu() - c)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): gristmill {' '.join(args)}\n{p.stderr[-3000:]}")
    return took, json.loads(p.stdout), p.stderr


def compare(catalog: str, a: str, b: str, catalog_b: str | None = None) -> dict:
    from gristmill.catalog.core import Catalog

    ta, tb = Catalog(catalog).get(a).to_arrow(), Catalog(catalog_b or catalog).get(b).to_arrow()
    ia, ib = ta.column("id").to_pylist(), tb.column("id").to_pylist()
    differ = len(set(ia) ^ set(ib))
    return {"rows": (len(ia), len(ib)), "ids_differing": differ, "same_order": ia == ib, "equal": ta.equals(tb)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--months", type=int, default=20, help="months of data before the new ones (new: months/10)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--loosen", action="store_true", help="also time a looser threshold (falls back to full)")
    args = ap.parse_args()

    added = max(1, args.months // 10)
    old, new = build_corpus(args.months, added)
    run_dir = WORK / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    cat = str(run_dir / "catalog")
    compileall.compile_dir(ROOT / "src", quiet=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(GRISTMILL_HOME=cat, PYTHONPATH=str(ROOT / "src"))
    w = ["--workers", str(args.workers)]
    everything = [str(old), str(new)]
    docs = sum(count_lines(p) for p in [*old.glob("*.gz"), *new.glob("*.gz")])
    new_docs = sum(count_lines(p) for p in new.glob("*.gz"))
    print(f"corpus: {docs:,} documents, new months {new_docs:,} ({new_docs / (docs - new_docs):.1%} more)", file=sys.stderr)

    parent_s, parent, _ = gristmill(["run", str(recipe(run_dir / "r0.yaml", [str(old)], run_dir / "o0")), *w,
                                     "--into", "web"], env)
    cat1 = str(run_dir / "catalog-1worker")  # the parent version alone, for the one-worker run (a1)
    shutil.copytree(cat, cat1)
    inc_s, inc, inc_err = gristmill(["run", str(recipe(run_dir / "r1.yaml", everything, run_dir / "o1")), *w,
                                     "--into", "web", "--incremental"], env)
    full_s, _, _ = gristmill(["run", str(recipe(run_dir / "r2.yaml", everything, run_dir / "o2")), *w,
                              "--into", "web-full"], env)
    a = compare(cat, "web@2", "web-full@1")
    one_s, one, _ = gristmill(["run", str(recipe(run_dir / "r1b.yaml", everything, run_dir / "o1b")), "--workers", "1",
                               "--into", "web", "--incremental"], {**env, "GRISTMILL_HOME": cat1})
    a1 = compare(cat1, "web@2", "web-full@1", cat)
    assert one["incremental"]["mode"] == "incremental"
    floor_s, _, _ = gristmill(["run", str(recipe(run_dir / "rf.yaml", [str(new)], run_dir / "of")), *w], env)
    red_s, red, red_err = gristmill(["run", str(recipe(run_dir / "r3.yaml", everything, run_dir / "o3", TIGHTER)), *w,
                                     "--into", "web", "--incremental"], env)
    full2_s, _, _ = gristmill(["run", str(recipe(run_dir / "r4.yaml", everything, run_dir / "o4", TIGHTER)), *w,
                               "--into", "web-tight"], env)
    b = compare(cat, "web@3", "web-tight@1")
    assert inc["incremental"]["mode"] == "incremental", inc_err
    assert red["incremental"]["mode"] == "incremental", red_err

    rows = [
        (f"(a) add {added} new month(s) (`--incremental`)", inc_s, full_s, "<= 0.15", a,
         f"{inc['incremental']['new_rows']['input']:,} new docs read; parent rows changed: "
         f"{inc['incremental']['parent_rows_changed']['dropped_now']} dropped now, "
         f"{inc['incremental']['parent_rows_changed']['signal_values']} cluster sizes"),
        ("(a1) the same, `--workers 1`", one_s, full_s, "<= 0.15 (CPU)", a1,
         "one worker process: its cold start is paid once"),
        ("(a') for scale: a plain run over the new months alone (no parent, no dedup against it)", floor_s, full_s,
         "-", None, "the floor for (a): the same documents through fresh workers"),
        ("(b) tighter thresholds (re-decide)", red_s, full2_s, ">= 10 (full / re-decide)", b,
         f"steps re-decided: {', '.join(red['incremental']['redecided_steps'])}; "
         f"{red['incremental']['parent_rows_changed']['dropped_now']:,} kept rows now dropped, "
         f"{red['incremental']['parent_rows_changed']['kept_now']:,} duplicates back in their place "
         f"({red['incremental']['parent_rows_changed']['measured_again']:,} row-steps measured)"),
    ]
    if args.loosen:
        loose_s, loose, _ = gristmill(["run", str(recipe(run_dir / "r5.yaml", everything, run_dir / "o5", LOOSER)), *w,
                                       "--into", "web", "--incremental"], env)
        rows.append(("(c) looser threshold (falls back to a full run)", loose_s, full_s, "-",
                     None, loose["incremental"].get("reason", "")[:120]))

    print(f"\nIncremental runs vs full runs: {docs:,} documents ({args.months + added} months, the last {added} new: "
          f"{new_docs:,} docs, {new_docs / (docs - new_docs):.1%} more); {args.workers} workers; wall and CPU "
          f"seconds (the command and its workers) per `gristmill run` command, start-up and catalog commit "
          f"included; the parent version (old months) took {parent_s[0]:.1f} s wall, {parent_s[1]:.1f} s CPU\n")
    print("| case | incremental s wall / CPU | full run s wall / CPU | ratio wall / CPU | goal | "
          "rows (child / full) | ids differing | same rows, all columns | notes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, t_inc, t_full, goal, cmp, notes in rows:
        same = "-" if cmp is None else ("yes" if cmp["equal"] else "NO")
        counts = "-" if cmp is None else f"{cmp['rows'][0]:,} / {cmp['rows'][1]:,}"
        differ = "-" if cmp is None else str(cmp["ids_differing"])
        if goal.startswith(">="):  # a speed-up: full / incremental
            ratio = f"{t_full[0] / t_inc[0]:.1f}x / {t_full[1] / t_inc[1]:.1f}x"
        else:
            ratio = f"{t_inc[0] / t_full[0]:.3f} / {t_inc[1] / t_full[1]:.3f}"
        print(f"| {name} | {t_inc[0]:.1f} / {t_inc[1]:.1f} | {t_full[0]:.1f} / {t_full[1]:.1f} | {ratio} | {goal} "
              f"| {counts} | {differ} | {same} | {notes} |")
    print(f"\ncommand: python bench/incremental/run.py --months {args.months} --workers {args.workers}"
          f"{' --loosen' if args.loosen else ''}")


if __name__ == "__main__":
    main()
