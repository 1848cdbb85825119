"""Benchmark of `gristmill prepare`: goals in varied wording, checked on the output data.

Each task is a goal, an input (the bundled dirty sample or a slice of the clean sample) and expectations:
properties of the output (every kept doc >= 50 words, no injected e-mail survives...) and, where the
manifest gives one, a ground-truth keep set scored by F1. Goals that cannot be met must fail with an
explanation. Prints one table row per task and pass rates per level and planner.

    python bench/agent/run.py [--data DIR] [--llm SPEC [--no-fallback]] [--only SUBSTRING]

With ``--llm`` a second table gives the LLM planner's own figures: plans it made, its pass rate without
the built-in fallback (and with no repair round), and the combined rate (see ``llmstats.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gristmill.agent.prepare import GoalError, Unsatisfiable, prepare
from gristmill.agent.profile import est_tokens, near_dup_pairs
from gristmill.agent.verify import EMAIL, read_kept, stopword_languages
from gristmill.errors import GristmillError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llmstats import Tally, llm_table, planner_of, repair_rounds  # noqa: E402 - beside this file

Out = dict[str, Any]  # {"rows": kept rows, "result": PrepareResult, "out": Path}


@dataclass
class Task:
    level: str  # single | multi | ambiguous
    goal: str
    input: str = "dirty"  # dirty | mixed | english | chat
    expect: list[Callable[[Out, dict], str | None]] = field(default_factory=list)  # None = ok, else why not
    truth: Callable[[dict, list[dict]], set[str]] | None = None  # ground-truth keep set
    fails: bool = False  # the goal cannot be met: success = a clear failure


# -- expectations -----------------------------------------------------------------------------------------

def words(text: str) -> int:
    """Words as the project counts them (issue 12 §7): whitespace-separated, except in Chinese and Japanese
    text, where each Han character and kana run is a word (a whitespace count sees a paragraph as one word)."""
    from gristmill.ops.filters import count_text_words

    return int(count_text_words([text])[0])


def min_words(n: int):
    return lambda o, m: None if all(words(r["text"]) >= n for r in o["rows"]) else f"a kept doc has < {n} words"


def max_words(n: int):
    return lambda o, m: None if all(words(r["text"]) <= n for r in o["rows"]) else f"a kept doc has > {n} words"


def no_injected(kind: str):
    def f(o: Out, m: dict) -> str | None:
        vals = [i["value"] for d in m["kinds"]["pii"]["details"] for i in d["items"] if kind in ("*", i["type"])]
        text = "\n".join(r["text"] for r in o["rows"])
        left = [v for v in vals if v in text]
        return None if not left else f"{len(left)} injected {kind} values remain, e.g. {left[0]!r}"
    return f


def max_tokens(cap: int):
    def f(o: Out, m: dict) -> str | None:
        n = sum(est_tokens(r["text"]) for r in o["rows"])
        return None if 0.7 * cap <= n <= cap else f"{n:,} kept tokens for a cap of {cap:,}"
    return f


def no_exact_dups(o: Out, m: dict) -> str | None:
    seen = set()
    for r in o["rows"]:
        k = " ".join(r["text"].split())
        if k in seen:
            return "exact duplicate kept"
        seen.add(k)
    return None


def no_near_pairs(t: float = 0.8):
    return lambda o, m: None if len(near_dup_pairs([r["text"] for r in o["rows"]], t)) <= max(0, len(o["rows"]) // 500) else f"near-dup pairs >= {t} kept"


def manifest_pairs_not_both(kind: str, min_j: float = 0.8):
    """Injected pairs at or above the goal's Jaccard (0.8 by default; the manifest also lists weaker ones)."""
    def f(o: Out, m: dict) -> str | None:
        ids = {r["id"] for r in o["rows"]}
        both = [d for d in m["kinds"][kind]["details"] if d["id"] in ids and d["original_id"] in ids
                and d.get("jaccard_5gram", 1.0) >= min_j]
        return None if not both else f"{len(both)} {kind} pairs kept twice"
    return f


def english_only(o: Out, m: dict) -> str | None:
    langs = [x for x in stopword_languages([r["text"] for r in o["rows"]]) if x != "unknown"]
    share = sum(x == "en" for x in langs) / len(langs) if langs else 0
    return None if share >= 0.9 else f"only {share:.0%} English"


def no_lang(code: str):
    def f(o: Out, m: dict) -> str | None:
        langs = stopword_languages([r["text"] for r in o["rows"]])
        bad = sum(x == code for x in langs)
        return None if bad <= 0.02 * max(1, len(langs)) else f"{bad} {code} docs kept"
    return f


def domains_in(*allowed: str):
    return lambda o, m: None if {r["domain"] for r in o["rows"]} <= set(allowed) and o["rows"] else f"domains {sorted({r['domain'] for r in o['rows']})}"


def domain_absent(d: str):
    return lambda o, m: None if all(r["domain"] != d for r in o["rows"]) else f"{d} kept"


def ids_dropped(kind: str, share: float = 1.0):
    def f(o: Out, m: dict) -> str | None:
        ids = {r["id"] for r in o["rows"]}
        want = [d["id"] for d in m["kinds"][kind]["details"]]
        gone = sum(i not in ids for i in want)
        return None if gone >= share * len(want) else f"{gone}/{len(want)} {kind} dropped (want {share:.0%})"
    return f


def no_text(pattern: str, flags: int = re.IGNORECASE):
    rx = re.compile(pattern, flags)
    return lambda o, m: None if not any(rx.search(r["text"]) for r in o["rows"]) else f"/{pattern}/ found in kept text"


def all_text(pattern: str):
    rx = re.compile(pattern)
    return lambda o, m: None if o["rows"] and all(rx.search(r["text"]) for r in o["rows"]) else f"a kept doc lacks /{pattern}/"


def kept_share(lo: float, hi: float = 1.0):
    def f(o: Out, m: dict) -> str | None:
        s = o["result"].summary
        share = s["kept"] / s["input"]
        return None if lo <= share <= hi else f"kept {share:.0%}, expected {lo:.0%}..{hi:.0%}"
    return f


def output_ext(ext: str):
    return lambda o, m: None if list(o["out"].glob(f"part-*{ext}")) else f"no part-*{ext}"


def chat_rows(min_turns: int):
    return lambda o, m: None if o["rows"] and all(len(r.get("messages") or []) >= min_turns for r in o["rows"]) else "non-chat or short chat kept"


def assumption_stated(o: Out, m: dict) -> str | None:
    return None if o["result"].goal.assumptions else "no assumption stated"


def has_steps(*ops: str):
    return lambda o, m: None if set(ops) <= {s["op"] for s in o["result"].recipe["steps"]} else f"missing {ops}"


# ground truths from the manifest
def truth_exact(m: dict, rows: list[dict]) -> set[str]:
    copies = {d["id"] for d in m["kinds"]["exact_duplicate"]["details"]}
    seen, keep = set(), set()
    for r in rows:
        k = " ".join(str(r.get("text") or "").split())
        if k in seen:
            continue
        seen.add(k)
        keep.add(r["id"])
    return keep - copies | (keep & copies)


def _text(r: dict) -> str | None:
    return r["text"] if isinstance(r.get("text"), str) else None


def truth_where(pred: Callable[[dict], bool]):
    """Keep set computed from the input itself: readable rows with text for which ``pred`` holds."""
    return lambda m, rows: {r["id"] for r in rows if _text(r) is not None and pred(r)}


def words_between(lo: int = 0, hi: int = 10**9):
    return truth_where(lambda r: lo <= words(r["text"]) <= hi)


def domain_in(*ds: str):
    return truth_where(lambda r: r.get("domain") in ds)


def domain_not(*ds: str):
    return truth_where(lambda r: r.get("domain") not in ds)


def text_lacks(pattern: str, flags: int = re.IGNORECASE):
    rx = re.compile(pattern, flags)
    return truth_where(lambda r: not rx.search(r["text"]))


def text_has(pattern: str):
    rx = re.compile(pattern)
    return truth_where(lambda r: bool(rx.search(r["text"])))


def all_of(*truths: Callable[[dict, list[dict]], set[str]]):
    def f(m: dict, rows: list[dict]) -> set[str]:
        out = truths[0](m, rows)
        for t in truths[1:]:
            out &= t(m, rows)
        return out
    return f


def truth_minus_pii(kind: str):
    """All rows with text except those the manifest injected a ``kind`` value into."""
    def f(m: dict, rows: list[dict]) -> set[str]:
        drop = {d["id"] for d in m["kinds"]["pii"]["details"] if any(i["type"] == kind for i in d["items"])}
        return {r["id"] for r in rows if _text(r) is not None} - drop
    return f


def truth_minus(*kinds: str):
    def f(m: dict, rows: list[dict]) -> set[str]:
        drop = {d["id"] for k in kinds for d in m["kinds"][k]["details"]}
        return {r["id"] for r in rows} - drop
    return f


TASKS: list[Task] = [
    # single intents, varied wording
    Task("single", "English only", expect=[english_only]),
    Task("single", "I only want documents written in English", expect=[english_only]),
    Task("single", "throw away everything that isn't english", expect=[english_only]),
    Task("single", "no Spanish", expect=[no_lang("es")]),
    Task("single", "remove exact duplicates", expect=[no_exact_dups, manifest_pairs_not_both("exact_duplicate")], truth=truth_exact),
    Task("single", "drop verbatim copies of documents", expect=[no_exact_dups]),
    Task("single", "remove near-duplicate documents", expect=[no_near_pairs(), manifest_pairs_not_both("near_duplicate")]),
    Task("single", "get rid of almost identical pages (fuzzy dedup)", expect=[no_near_pairs()]),
    Task("single", "redact e-mail addresses", expect=[no_injected("email"), no_text(EMAIL.pattern, 0)]),
    Task("single", "mask all personal data", expect=[no_injected("*")]),
    Task("single", "drop any document containing a phone number", expect=[no_injected("phone")], truth=truth_minus_pii("phone")),
    Task("single", "scrub credit card numbers and IBANs", expect=[no_injected("credit_card"), no_injected("iban")]),
    Task("single", "at least 50 words", expect=[min_words(50), ids_dropped("short"), ids_dropped("empty")], truth=words_between(50)),
    Task("single", "no documents shorter than a hundred words", expect=[min_words(100)], truth=words_between(100)),
    Task("single", "drop documents over 300 words", expect=[max_words(300)], truth=words_between(1, 300)),
    Task("single", "only code", expect=[domains_in("code")], truth=domain_in("code")),
    Task("single", "keep just the books and the legal texts", expect=[domains_in("books", "legal")], truth=domain_in("books", "legal")),
    Task("single", "exclude chat conversations", expect=[domain_absent("chat")], truth=domain_not("chat")),
    Task("single", "drop documents mentioning 'lorem ipsum'", expect=[no_text(r"lorem ipsum")], truth=text_lacks(r"lorem ipsum")),
    Task("single", "keep only documents that match /func \\w+\\(/", expect=[all_text(r"func \w+\(")], truth=text_has(r"func \w+\(")),
    Task("single", "remove toxic or profane content", expect=[has_steps("flagged_words")]),
    Task("single", "strip boilerplate like cookie banners and navigation menus", expect=[no_text(r"we use cookies to improve your experience")]),
    Task("single", "strict quality filtering", expect=[ids_dropped("spam", 0.8), ids_dropped("short"), has_steps("c4_quality")]),
    Task("single", "basic, light quality filtering", expect=[kept_share(0.5)]),
    Task("single", "write the output as gzipped jsonl", expect=[output_ext(".jsonl.gz")]),
    Task("single", "SFT: normalise the chat format", input="chat", expect=[chat_rows(2), domains_in("chat")]),
    Task("single", "cap the output at 100k tokens", expect=[max_tokens(100_000)]),
    # several intents
    Task("multi", "English only, remove duplicates and near-duplicates, at least 50 words, redact emails",
         expect=[english_only, no_exact_dups, no_near_pairs(), min_words(50), no_injected("email")]),
    Task("multi", "high-quality English prose without PII; dedupe", expect=[english_only, no_injected("*"), no_exact_dups]),
    Task("multi", "only documentation and reference pages, at least 80 words, no exact copies",
         expect=[domains_in("docs", "reference"), min_words(80), no_exact_dups],
         truth=all_of(domain_in("docs", "reference"), words_between(80), truth_exact)),
    Task("multi", "remove spam and boilerplate, then deduplicate", expect=[ids_dropped("spam", 0.8), no_exact_dups, no_near_pairs()]),
    Task("multi", "drop code and chat, keep at least 40% of the documents", expect=[domain_absent("code"), domain_absent("chat"), kept_share(0.4)],
         truth=domain_not("code", "chat")),
    Task("multi", "no German or French; between 20 and 400 words", expect=[no_lang("de"), no_lang("fr"), min_words(20), max_words(400)]),
    Task("multi", "redact secrets and api keys, drop documents mentioning 'cookies', output as jsonl",
         expect=[no_injected("secret"), no_text(r"\bcookies\b"), output_ext(".jsonl")]),
    Task("multi", "standard quality but keep at least 70% of tokens", expect=[kept_share(0.5)]),
    Task("multi", "SFT data: conversations with at least 4 turns, no duplicates", input="chat", expect=[chat_rows(4), no_exact_dups]),
    Task("multi", "English, strict quality, remove PII by dropping documents that contain it",
         expect=[english_only, no_injected("*"), ids_dropped("spam", 0.8)]),
    Task("multi", "English only, no exact duplicates, at most 150k tokens in total", expect=[english_only, no_exact_dups, max_tokens(150_000)]),
    Task("multi", "keep only legal texts and drop anything under 100 words", expect=[domains_in("legal"), min_words(100)],
         truth=all_of(domain_in("legal"), words_between(100))),
    # ambiguous / underspecified: sensible defaults with a stated assumption
    Task("ambiguous", "clean this up", expect=[assumption_stated, no_exact_dups, ids_dropped("empty")]),
    Task("ambiguous", "make it good for pretraining", expect=[assumption_stated, no_exact_dups, no_near_pairs()]),
    Task("ambiguous", "remove PII", expect=[assumption_stated, no_injected("email")]),
    Task("ambiguous", "get rid of the junk", expect=[ids_dropped("spam", 0.7), ids_dropped("short")]),
    Task("ambiguous", "deduplicate please", expect=[assumption_stated, no_exact_dups, no_near_pairs()]),
    Task("ambiguous", "drop short documents", expect=[assumption_stated, ids_dropped("short"), ids_dropped("empty")]),
    Task("ambiguous", "prepare this corpus", expect=[assumption_stated, no_exact_dups]),
    # goals that cannot be met: success is a clear failure
    Task("ambiguous", "keep only French", input="english", fails=True),
    Task("multi", "keep 90% of documents but only those over 10k words", fails=True),
    Task("single", "at least 500 words and at most 100 words", fails=True),
]


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            with contextlib.suppress(json.JSONDecodeError):
                rows.append(json.loads(line))
    return rows


def inputs(data: Path, work: Path) -> dict[str, Path]:
    clean = read_jsonl(data / "sample.jsonl.gz")

    def write(name: str, rows: list[dict]) -> Path:
        p = work / f"{name}.jsonl"
        p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        return p

    chat = [r for r in clean if r["domain"] == "chat"] + [r for r in clean if r["domain"] == "books"][:40]
    return {"dirty": data / "dirty.jsonl.gz", "english": write("english", [r for r in clean if r["domain"] == "docs"][:300]),
            "chat": write("chat", chat)}


def f1(kept: set[str], truth: set[str]) -> float:
    tp = len(kept & truth)
    if not kept and not truth:
        return 1.0
    p = tp / len(kept) if kept else 0.0
    r = tp / len(truth) if truth else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "data")
    ap.add_argument("--llm", default=None, help="LLM planner spec (default: the built-in planner)")
    ap.add_argument("--no-fallback", action="store_true", help="with --llm: no built-in plan when the LLM yields none")
    ap.add_argument("--only", default=None)
    ap.add_argument("--every", type=int, default=1, metavar="N",
                    help="a deterministic subset: every N-th task (tasks 1, 1+N, 1+2N, ...; with --offset K, K+1, ...)")
    ap.add_argument("--offset", type=int, default=0, metavar="K", help="with --every: start at task K+1")
    args = ap.parse_args()
    if args.every < 1 or not 0 <= args.offset < args.every:
        ap.error("--every must be >= 1 and 0 <= --offset < --every")
    if args.no_fallback and not args.llm:
        ap.error("--no-fallback needs --llm")
    extra = {"fallback": False} if args.no_fallback else {}
    manifest = json.loads((args.data / "dirty_manifest.json").read_text())
    work = Path(tempfile.mkdtemp(prefix="gristmill-bench-agent-"))
    ins = inputs(args.data, work)
    planner = "llm" if args.llm else "built-in"
    results = []
    tallies: list[Tally] = []
    src_rows = read_jsonl(ins["dirty"])
    t_all = time.perf_counter()
    print("| # | level | goal | ok | F1 | rounds | kept | s | planner | why not |\n|---|---|---|---|---|---|---|---|---|---|")
    for i, t in enumerate(TASKS, 1):
        if (args.only and args.only not in t.goal) or (i - 1) % args.every != args.offset:
            continue
        out = work / f"t{i}"
        t0 = time.perf_counter()
        why, f1v, rounds, kept = None, None, 0, "-"
        logs: list[str] = []
        try:
            res = prepare(str(ins[t.input]), t.goal, out, llm=args.llm, log=logs.append, workers=1, sample=5000, **extra)
            rows = read_kept(out).to_pylist()
            o = {"rows": rows, "result": res, "out": out}
            rounds, kept = len(res.history) - 1, f"{res.summary['kept']}/{res.summary['input']}"
            if t.fails:
                why = "expected a clear failure, got an output"
            else:
                for e in t.expect:
                    why = why or e(o, manifest)
                if t.truth and t.input == "dirty":
                    f1v = f1({r["id"] for r in rows}, t.truth(manifest, src_rows))
        except (Unsatisfiable, GoalError) as exc:
            if not t.fails:
                why = f"failed: {str(exc).splitlines()[0][:90]}"
            elif len(str(exc)) < 20:
                why = "failure without explanation"
        except GristmillError as exc:  # e.g. the LLM yielded no plan under --no-fallback
            why = f"failed: {str(exc).splitlines()[0][:90]}"
        except Exception as exc:  # noqa: BLE001 - a crash is a failed task, not a crashed benchmark
            why = f"crash: {type(exc).__name__}: {exc}"[:100]
        ok = why is None
        dt = time.perf_counter() - t0
        log = "\n".join(logs)
        who = planner_of(log) if args.llm else "built-in"
        results.append((t.level, ok, f1v, rounds, dt, who))
        tallies.append(Tally(t.level, ok, who, repair_rounds(log), dt))
        print(f"| {i} | {t.level} | {t.goal[:60]} | {'yes' if ok else 'NO'} | {'' if f1v is None else f'{f1v:.3f}'} | {rounds} | {kept} | {dt:.1f} | {who} | {why or ''} |", flush=True)
    print("\n| planner | level | tasks | passed | pass rate | keep-set F1 (tasks with a truth) | mean repair rounds | wall s | s/task | plans by the LLM |\n"
          "|---|---|---|---|---|---|---|---|---|---|")
    names = {"single": "single intent", "multi": "several intents", "ambiguous": "ambiguous / underspecified", "all": "all"}
    for level in ("single", "multi", "ambiguous", "all"):
        rs = [r for r in results if level in ("all", r[0])]
        if not rs:
            continue
        f1s = [r[2] for r in rs if r[2] is not None]
        f1txt = f"{sum(f1s) / len(f1s):.3f} ({len(f1s)})" if f1s else "- (0)"
        wall = sum(r[4] for r in rs)
        print(f"| {planner} | {names[level]} | {len(rs)} | {sum(r[1] for r in rs)} | {sum(r[1] for r in rs) / len(rs):.0%} | "
              f"{f1txt} | {sum(r[3] for r in rs) / len(rs):.2f} | {wall:.0f} | {wall / len(rs):.1f} | "
              f"{sum(1 for r in rs if r[5] == 'llm') if args.llm else '-'} |")
    if args.llm:
        print(f"\nLLM planner {args.llm}{' (no fallback)' if args.no_fallback else ''}: 'pass, LLM without fallback' counts "
              "tasks that passed with the LLM's plan (repaired by the agent's repair loop where needed) or where "
              "prepare stopped before any planner (the goals that must fail)\n")
        print(llm_table(tallies, [(k, v) for k, v in names.items()], fallback=not args.no_fallback))
    print(f"\ntotal wall time {time.perf_counter() - t_all:.0f} s (workers=1, sample=5000: the whole input is the sample)")
    print(f"\ncommand: python bench/agent/run.py{' --llm ' + args.llm if args.llm else ''}"
          f"{' --no-fallback' if args.no_fallback else ''} --data {args.data}"
          + (f" --every {args.every}" + (f" --offset {args.offset}" if args.offset else "") if args.every > 1 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
