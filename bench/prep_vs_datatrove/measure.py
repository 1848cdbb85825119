"""Run a command and report its CPU time, wall time and peak memory, process tree included.

    python measure.py -- CMD ARGS...      -> prints one JSON line on stderr-free stdout (last line)

CPU = user + sys of every descendant: the larger of getrusage(RUSAGE_CHILDREN) (which misses processes
nobody waits for, e.g. workers of a forkserver) and the sum of each tree process's own CPU ticks as last
sampled from /proc every 0.1 s. Memory: ``max_rss_mb`` is the largest
single process (getrusage), ``tree_rss_mb`` the peak of the summed RSS of the whole tree, sampled every
0.1 s from /proc (so worker pools count once per worker). Standard library only: it runs under both venvs.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time

PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root: int, cpu: dict[int, int]) -> int:
    """Summed RSS of the tree under ``root``; records each tree process's own CPU ticks into ``cpu``."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
            with open(f"/proc/{name}/statm") as f:
                rss[int(name)] = int(f.read().split()[1]) * PAGE
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        ppid = int(fields[1])
        ticks[int(name)] = int(fields[11]) + int(fields[12])  # utime + stime of the process itself
        children.setdefault(ppid, []).append(int(name))
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        if p in ticks:
            cpu[p] = max(cpu.get(p, 0), ticks[p])
        todo.extend(children.get(p, []))
    return total


def main() -> None:
    cmd = sys.argv[sys.argv.index("--") + 1 :]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    peak = [0]
    cpu: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid, cpu))
            done.wait(0.1)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    rc = proc.wait()
    done.set()
    th.join()
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    tree_cpu = sum(cpu.values()) / os.sysconf("SC_CLK_TCK")
    print(
        json.dumps(
            {
                "rc": rc,
                "wall_s": round(wall, 2),
                "cpu_s": round(max(ru.ru_utime + ru.ru_stime, tree_cpu), 2),
                "cpu_waited_s": round(ru.ru_utime + ru.ru_stime, 2),
                "cpu_sampled_s": round(tree_cpu, 2),
                "max_rss_mb": round(ru.ru_maxrss / 1024),
                "tree_rss_mb": round(peak[0] / 2**20),
            }
        )
    )


if __name__ == "__main__":
    main()
