"""Incremental runs and re-deciding against full runs, on the same data, machine and run.

    python bench/incremental/run.py [--months 80] [--workers 2] [--repeat 3] [--cases a,a1,floor,b] [--loosen]

The default scale, 80 months (290,566 documents), makes a full run take about two minutes on two cores. The
goal is about what new data costs; an incremental command also pays ~2 s once (interpreter and imports, the
word table, starting workers, the commit), which is 6-7 points of the ratio where a full run takes ~30 s
(``--months 20``: 0.165; 40: 0.133; 80: 0.122, medians of three pairs, bench/incremental/README.md).

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
    the worker count;
(a') for scale: a plain run over the new months alone (the same documents through fresh worker processes,
    whose word caches start cold, where (a)'s start with the parent version's word table);
(b) tighter thresholds (length, Gopher and FineWeb): ``--incremental`` re-deciding the version from (a),
    against a full run of the new recipe over every month; the rows compared the same way.
``--loosen`` adds (c): a looser threshold, which re-deciding cannot serve (rows the parent dropped would
come back, and their text was never stored), so the run falls back to a full run; its time is reported.

``--repeat N`` times every pair N times (each incremental run on a fresh copy of the catalog it builds on,
each full run into a fresh output folder) and reports the median of each figure, then every pair.
``--cases`` picks the cases to time (all by default).

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


def worst(before: dict | None, now: dict) -> dict:
    """Two pairs' comparisons as one: the table's row says "same" only when every pair's versions were."""
    if before is None:
        return now
    return {"rows": now["rows"], "ids_differing": max(before["ids_differing"], now["ids_differing"]),
            "same_order": before["same_order"] and now["same_order"], "equal": before["equal"] and now["equal"],
            "pairs": before.get("pairs", 1) + 1}


def _median(values: list[float]) -> float:
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def _pairs(times: list[tuple[tuple[float, float], tuple[float, float]]]) -> tuple[tuple[float, float], tuple[float, float]]:
    """The median wall and CPU seconds of the incremental runs and of the full runs of ``times``."""
    return ((_median([t[0][0] for t in times]), _median([t[0][1] for t in times])),
            (_median([t[1][0] for t in times]), _median([t[1][1] for t in times])))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--months", type=int, default=80, help="months of data before the new ones (new: months/10)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="time each pair this many times; report medians")
    ap.add_argument("--cases", default="a,a1,floor,b", help="comma-separated: a, a1, floor (a'), b")
    ap.add_argument("--loosen", action="store_true", help="also time a looser threshold (falls back to full)")
    args = ap.parse_args()
    cases = set(args.cases.split(","))
    unknown = cases - {"a", "a1", "floor", "b"}
    if unknown:
        sys.exit(f"unknown case(s) {sorted(unknown)}: a, a1, floor, b")
    if "b" in cases:
        cases.add("a")  # (b) re-decides the version that (a) makes

    added = max(1, args.months // 10)
    old, new = build_corpus(args.months, added)
    run_dir = WORK / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    parent_cat = str(run_dir / "catalog-parent")  # the parent version alone: every (a) run starts from a copy
    compileall.compile_dir(ROOT / "src", quiet=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(ROOT / "src"))
    w = ["--workers", str(args.workers)]
    everything = [str(old), str(new)]
    docs = sum(count_lines(p) for p in [*old.glob("*.gz"), *new.glob("*.gz")])
    new_docs = sum(count_lines(p) for p in new.glob("*.gz"))
    print(f"corpus: {docs:,} documents, new months {new_docs:,} ({new_docs / (docs - new_docs):.1%} more)", file=sys.stderr)

    parent_s, parent, _ = gristmill(["run", str(recipe(run_dir / "r0.yaml", [str(old)], run_dir / "o0")), *w,
                                     "--into", "web"], {**env, "GRISTMILL_HOME": parent_cat})
    times: dict[str, list] = {k: [] for k in ("a", "a1", "floor", "b")}
    compared: dict[str, dict] = {}
    notes: dict[str, str] = {}
    for r in range(args.repeat):
        cat = str(run_dir / f"catalog-{r}")
        shutil.copytree(parent_cat, cat)
        e = {**env, "GRISTMILL_HOME": cat}
        if cases & {"a", "a1"}:
            full_s, _, _ = gristmill(["run", str(recipe(run_dir / f"r2-{r}.yaml", everything, run_dir / f"o2-{r}")),
                                      *w, "--into", "web-full"], e)
        if "a" in cases:
            inc_s, inc, inc_err = gristmill(["run", str(recipe(run_dir / f"r1-{r}.yaml", everything, run_dir / f"o1-{r}")),
                                             *w, "--into", "web", "--incremental"], e)
            assert inc["incremental"]["mode"] == "incremental", inc_err
            times["a"].append((inc_s, full_s))
            compared["a"] = worst(compared.get("a"), compare(cat, "web@2", "web-full@1"))
            notes["a"] = (f"{inc['incremental']['new_rows']['input']:,} new docs read; parent rows changed: "
                          f"{inc['incremental']['parent_rows_changed']['dropped_now']} dropped now, "
                          f"{inc['incremental']['parent_rows_changed']['signal_values']} cluster sizes; "
                          f"{inc['incremental']['parent_files']['chunks_rewritten']} of "
                          f"{inc['incremental']['parent_files']['chunks']} parent chunks rewritten")
        if "a1" in cases:
            cat1 = str(run_dir / f"catalog-1worker-{r}")
            shutil.copytree(parent_cat, cat1)
            one_s, one, _ = gristmill(["run", str(recipe(run_dir / f"r1b-{r}.yaml", everything, run_dir / f"o1b-{r}")),
                                       "--workers", "1", "--into", "web", "--incremental"], {**env, "GRISTMILL_HOME": cat1})
            assert one["incremental"]["mode"] == "incremental"
            times["a1"].append((one_s, full_s))
            compared["a1"] = worst(compared.get("a1"), compare(cat1, "web@2", "web-full@1", cat))
        if "floor" in cases:
            floor_s, _, _ = gristmill(["run", str(recipe(run_dir / f"rf-{r}.yaml", [str(new)], run_dir / f"of-{r}")), *w], e)
            times["floor"].append((floor_s, full_s if cases & {"a", "a1"} else (float("nan"),) * 2))
        if "b" in cases:
            full2_s, _, _ = gristmill(["run", str(recipe(run_dir / f"r4-{r}.yaml", everything, run_dir / f"o4-{r}", TIGHTER)),
                                       *w, "--into", "web-tight"], e)
            red_s, red, red_err = gristmill(["run", str(recipe(run_dir / f"r3-{r}.yaml", everything, run_dir / f"o3-{r}",
                                                               TIGHTER)), *w, "--into", "web", "--incremental"], e)
            assert red["incremental"]["mode"] == "incremental", red_err
            times["b"].append((red_s, full2_s))
            compared["b"] = worst(compared.get("b"), compare(cat, "web@3", "web-tight@1"))
            pc = red["incremental"]["parent_rows_changed"]
            notes["b"] = (f"steps re-decided: {', '.join(red['incremental']['redecided_steps'])}; "
                          f"{pc['dropped_now']:,} kept rows now dropped, {pc['kept_now']:,} duplicates back in their "
                          f"place ({pc['measured_again']:,} row-steps measured)")
    loose = None
    if args.loosen:
        e = {**env, "GRISTMILL_HOME": str(run_dir / "catalog-0")}
        loose_s, loose, _ = gristmill(["run", str(recipe(run_dir / "r5.yaml", everything, run_dir / "o5", LOOSER)), *w,
                                       "--into", "web", "--incremental"], e)

    rows = [
        ("a", f"(a) add {added} new month(s) (`--incremental`)", "<= 0.15"),
        ("a1", "(a1) the same, `--workers 1`", "<= 0.15 (CPU)"),
        ("floor", "(a') for scale: a plain run over the new months alone (no parent, no dedup against it)", "-"),
        ("b", "(b) tighter thresholds (re-decide)", ">= 10 (full / re-decide)"),
    ]
    notes.setdefault("a1", "one worker process")
    notes.setdefault("floor", "the floor for (a): the same documents through fresh workers")
    print(f"\nIncremental runs vs full runs: {docs:,} documents ({args.months + added} months, the last {added} new: "
          f"{new_docs:,} docs, {new_docs / (docs - new_docs):.1%} more); {args.workers} workers; wall and CPU "
          f"seconds (the command and its workers) per `gristmill run` command, start-up and catalog commit "
          f"included{f'; medians of {args.repeat} runs' if args.repeat > 1 else ''}; the parent version (old months) "
          f"took {parent_s[0]:.1f} s wall, {parent_s[1]:.1f} s CPU\n")
    print("| case | incremental s wall / CPU | full run s wall / CPU | ratio wall / CPU | goal | "
          "rows (child / full) | ids differing | same rows, all columns | notes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key, name, goal in rows:
        if not times[key]:
            continue
        t_inc, t_full = _pairs(times[key])
        cmp = compared.get(key)
        same = "-" if cmp is None else ("yes" if cmp["equal"] else "NO") + (f" (all {cmp['pairs']} pairs)" if cmp.get("pairs") else "")
        counts = "-" if cmp is None else f"{cmp['rows'][0]:,} / {cmp['rows'][1]:,}"
        differ = "-" if cmp is None else str(cmp["ids_differing"])
        print(f"| {name} | {t_inc[0]:.1f} / {t_inc[1]:.1f} | {t_full[0]:.1f} / {t_full[1]:.1f} | {_ratio(goal, times[key])} "
              f"| {goal} | {counts} | {differ} | {same} | {notes[key]} |")
    if loose is not None:
        print(f"\n(c) looser threshold: fell back to a full run in {loose_s[0]:.1f} s wall / {loose_s[1]:.1f} s CPU: "
              f"{loose['incremental'].get('reason', '')[:160]}")
    if args.repeat > 1:
        print("\nEvery pair (incremental / full, s wall / CPU):\n")
        for key, name, goal in rows:
            for i, (a, f) in enumerate(times[key]):
                print(f"- {name.split(' ')[0]} run {i + 1}: {a[0]:.1f} / {a[1]:.1f} against {f[0]:.1f} / {f[1]:.1f}: "
                      f"{_ratio(goal, [(a, f)])}")
    print(f"\ncommand: python bench/incremental/run.py --months {args.months} --workers {args.workers}"
          f"{f' --repeat {args.repeat}' if args.repeat > 1 else ''}"
          f"{f' --cases {args.cases}' if args.cases != 'a,a1,floor,b' else ''}{' --loosen' if args.loosen else ''}")


def _ratio(goal: str, times: list) -> str:
    """Median of the per-pair ratios (a speed-up for (b): full / incremental), wall / CPU."""
    if goal.startswith(">="):
        return (f"{_median([f[0] / i[0] for i, f in times]):.1f}x / "
                f"{_median([f[1] / i[1] for i, f in times]):.1f}x")
    return f"{_median([i[0] / f[0] for i, f in times]):.3f} / {_median([i[1] / f[1] for i, f in times]):.3f}"


if __name__ == "__main__":
    main()
