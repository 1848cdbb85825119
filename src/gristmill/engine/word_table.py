"""The word table: every distinct whitespace chunk a run split into words, kept with the run's output (and
its catalog version) so that the next incremental run starts with warm word caches.

Splitting a chunk the first time costs ~5 µs (``ops/wordsplit.py``); a corpus holds ~10^5 distinct chunks,
so every worker process of a run pays about a CPU-second before its caches are warm. That is noise in a
full run and most of what a small incremental run costs per worker. The table is loaded by the driver
before it starts its workers, which inherit the filled caches (forked), and it is keyed by a fingerprint of
the splitter's source: a table written by another splitter is ignored, never trusted.

Format (``.gristmill/word_table.txt.gz``): gzip text, first line ``gristmill.word_table/1 FINGERPRINT``,
then one line per chunk: the chunk, then its tokens separated by spaces when they are not the chunk itself
(neither holds whitespace). A file may be several gzip members: a child's table is its parent's file
followed by a member of the chunks it added. Workers write the chunks each task split
(``state/words/sS-part-N.txt``); the driver merges them when the run finishes.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from functools import lru_cache
from pathlib import Path

from gristmill.engine.layout import Layout
from gristmill.io.writers import atomic_write
from gristmill.ops import wordsplit

FORMAT = "gristmill.word_table/1"


@lru_cache(maxsize=1)
def splitter_fingerprint() -> str:
    """A hash of the splitter's source: a table is valid only for the splitter that wrote it."""
    return hashlib.sha256(Path(wordsplit.__file__).read_bytes()).hexdigest()[:16]


def _line(chunk: str) -> str:
    tokens = wordsplit.chunk_tokens(chunk)
    return chunk if tokens == (chunk,) else chunk + " " + " ".join(tokens)


def parts_dir(layout: Layout) -> Path:
    return layout.state / "words"


def write_task_words(layout: Layout, stage: int, chunk: int) -> None:
    """In a worker, after a task: the chunks this process split during it (written before its marker)."""
    new = wordsplit.take_new_chunks()
    if not new:
        return
    payload = "\n".join(_line(c) for c in dict.fromkeys(new)).encode("utf-8", "surrogatepass")
    path = parts_dir(layout) / f"s{stage}-part-{chunk:06d}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(payload))


class WordTable:
    """A loaded table: its file's bytes (to extend) and its chunks."""

    def __init__(self, path: str, raw: bytes, chunks: dict[str, tuple[str, ...]]) -> None:
        self.path, self.raw, self.chunks = path, raw, chunks


def load(path: str | os.PathLike[str]) -> WordTable | None:
    """The table at ``path``; None when it was written by another splitter, is not a word table or cannot be
    read (a cache: a damaged table costs a cold start, never the run)."""
    try:
        raw = Path(path).read_bytes()
        text = gzip.decompress(raw).decode("utf-8", "surrogatepass")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError):
        return None
    head, _, body = text.partition("\n")
    if head != f"{FORMAT} {splitter_fingerprint()}":
        return None
    lines = body.split("\n")
    chunks = {line: (line,) for line in lines if " " not in line}  # most chunks are one word
    chunks.pop("", None)
    for line in lines:
        if " " in line:
            parts = line.split(" ")
            chunks[parts[0]] = tuple(parts[1:])
    return WordTable(str(path), raw, chunks)


def header_fingerprint(path: str | os.PathLike[str]) -> str | None:
    """The splitter fingerprint a table file was written with (None when it is not a readable word table)."""
    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            head = f.readline().rstrip("\n")
    except (OSError, EOFError, zlib.error):
        return None
    name, _, fp = head.partition(" ")
    return fp if name == FORMAT and fp else None


def preload(table: WordTable) -> str:
    """Fill this process's word caches with ``table`` alone (call before forking workers); returns the key
    that workers pass to ``wordsplit.record_new_chunks`` to keep them (``WorkerConfig.warm_words``)."""
    key = f"{table.path}:{len(table.raw)}"
    wordsplit.preload(table.chunks, key)
    return key


def merge(layout: Layout, parent: WordTable | None = None) -> Path | None:
    """Write the run's table from its tasks' chunk files, after ``parent``'s when given (the chunks the
    parent holds are not repeated); the chunk files are removed. Returns the table's path (None: empty)."""
    folder = parts_dir(layout)
    files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
    known = parent.chunks if parent is not None else {}
    lines: dict[str, None] = {}
    for f in files:
        for line in f.read_bytes().decode("utf-8", "surrogatepass").split("\n"):
            if line and line.partition(" ")[0] not in known:
                lines[line] = None
    target = layout.word_table
    if parent is None and not lines:
        return None
    if parent is not None:
        member = gzip.compress("".join(f"{x}\n" for x in lines).encode("utf-8", "surrogatepass"), 1, mtime=0) if lines else b""
        payload = parent.raw + member
    else:
        text = f"{FORMAT} {splitter_fingerprint()}\n" + "".join(f"{x}\n" for x in lines)
        payload = gzip.compress(text.encode("utf-8", "surrogatepass"), 1, mtime=0)
    atomic_write(target, lambda fh: fh.write(payload))
    for f in files:
        f.unlink()
    return target
