"""The word table a version keeps: every distinct chunk its runs split, loaded by the next incremental run
before its workers start. It is a cache: a table of another splitter is ignored, and the output of an
incremental run is the same with it, without it, and as a full run's."""

from __future__ import annotations

import gzip

import pytest

import gristmill as gm
from gristmill.engine import word_table
from gristmill.engine.layout import Layout
from gristmill.ops import wordsplit
from tests.catalog.incremental_corpus import build
from tests.catalog.test_incremental import _assert_same, _hold, _recipe

TEXT = "The (quick) brown fox's tail, well-known: “Zürich” x1t e.g. 数据 don't... jumps."


@pytest.fixture
def corpus(tmp_path):
    data = tmp_path / "in"
    return {"root": tmp_path / "catalog", "data": data, "docs": build(data), "tmp": tmp_path}


def _split_in_a_task(layout: Layout, stage: int, chunk: int, text: str) -> None:
    wordsplit.record_new_chunks()  # as a worker starts: empty caches
    wordsplit.split_word_ids(text)
    word_table.write_task_words(layout, stage, chunk)


def test_a_table_holds_every_chunk_with_its_words_and_a_child_extends_its_parents(tmp_path):
    parent = Layout(tmp_path / "parent")
    _split_in_a_task(parent, 0, 0, TEXT)
    _split_in_a_task(parent, 0, 1, TEXT + " again")
    path = word_table.merge(parent)
    assert path == parent.word_table and not list(word_table.parts_dir(parent).glob("*"))
    table = word_table.load(path)
    assert table is not None
    assert table.chunks == {c: wordsplit._chunk_tokens(c) for c in (TEXT + " again").split()}

    child = Layout(tmp_path / "child")
    _split_in_a_task(child, 0, 2, "again newer (words).")
    word_table.merge(child, table)
    raw = child.word_table.read_bytes()
    assert raw.startswith(table.raw)  # the parent's file, then a gzip member of what the child added
    grown = word_table.load(child.word_table)
    assert grown is not None and set(grown.chunks) == set(table.chunks) | {"newer", "(words)."}
    assert grown.chunks["(words)."] == ("(", "words", ")", ".")


def test_preloaded_chunks_get_their_ids_without_being_split_again(monkeypatch):
    """A forked worker finds the table's chunks split: it only numbers their tokens, and records (for the
    next table) only the chunks it had to split."""
    table = {c: wordsplit._chunk_tokens(c) for c in TEXT.split()}
    wordsplit._clear_caches()
    cold = wordsplit.token_text(wordsplit.split_word_ids(TEXT + " unseen"))
    wordsplit.preload(table, "key")
    wordsplit.record_new_chunks("key")
    split: list[str] = []
    original = wordsplit._chunk_tokens
    monkeypatch.setattr(wordsplit, "_chunk_tokens", lambda c: split.append(c) or original(c))
    try:
        warm = wordsplit.split_word_ids(TEXT + " unseen")
        assert wordsplit.token_text(warm) == cold and split == ["unseen"]
        assert wordsplit.take_new_chunks() == ["unseen"]
        props = wordsplit.token_props()
        assert props["length"][warm].tolist() == [len(t) for t in cold]
    finally:
        wordsplit._clear_caches()


def test_a_table_of_another_splitter_is_ignored(tmp_path, monkeypatch):
    lay = Layout(tmp_path / "o")
    _split_in_a_task(lay, 0, 0, TEXT)
    word_table.merge(lay)
    assert word_table.header_fingerprint(lay.word_table) == word_table.splitter_fingerprint()
    monkeypatch.setattr(word_table, "splitter_fingerprint", lambda: "0" * 16)
    assert word_table.load(lay.word_table) is None
    lay.word_table.write_bytes(gzip.compress(b"not a table\n"))
    assert word_table.header_fingerprint(lay.word_table) is None


def test_a_damaged_table_is_a_cold_start_not_an_error(tmp_path):
    lay = Layout(tmp_path / "o")
    _split_in_a_task(lay, 0, 0, TEXT)
    word_table.merge(lay)
    good = lay.word_table.read_bytes()
    lay.word_table.write_bytes(good[: len(good) // 2])  # cut short: the header reads, the table does not
    assert word_table.load(lay.word_table) is None
    for damaged in (b"\x1f\x8b" + b"\x00" * 40, b"plain text"):
        lay.word_table.write_bytes(damaged)
        assert word_table.load(lay.word_table) is None
        assert word_table.header_fingerprint(lay.word_table) is None


def _run(c: dict, out: str, into: str, incremental: bool = True):
    return gm.Recipe.load(str(_recipe(c, out))).run(workers=2, into=into, catalog=str(c["root"]),
                                                    incremental=incremental)


def test_an_incremental_run_loads_its_parents_table_and_its_version_keeps_it_extended(corpus):
    c = corpus
    held = _hold(c, "2024-02.jsonl")
    _run(c, "o1", "web")
    entry = gm.catalog.get("web@1", str(c["root"])).manifest["word_table"]
    assert entry["splitter"] == word_table.splitter_fingerprint() and (c["root"] / entry["path"]).is_file()
    held.rename(c["data"] / "2024-02.jsonl")

    warm = _run(c, "o2", "web")
    parent_table = word_table.load(c["root"] / entry["path"])
    assert warm.summary["incremental"]["word_table_chunks"] == len(parent_table.chunks) > 1000
    child = gm.catalog.get("web@2", str(c["root"])).manifest["word_table"]
    grown = word_table.load(c["root"] / child["path"])
    assert (c["root"] / child["path"]).read_bytes().startswith(parent_table.raw)
    assert set(grown.chunks) > set(parent_table.chunks)  # the new month's chunks the parent never met


@pytest.mark.parametrize("stale", [False, True])
def test_with_or_without_the_table_the_child_equals_a_full_run(corpus, monkeypatch, stale):
    import gristmill.catalog.incremental as plan

    c = corpus
    held = _hold(c, "2024-02.jsonl")
    _run(c, "o1", "web")
    held.rename(c["data"] / "2024-02.jsonl")
    if stale:
        monkeypatch.setattr(plan, "splitter_fingerprint", lambda: "0" * 16)
    child = _run(c, "o2", "web")
    assert (child.summary["incremental"]["word_table_chunks"] == 0) == stale
    _run(c, "o3", "full", incremental=False)
    _assert_same(c, "web@2", "full@1")


def test_re_deciding_reads_no_input_and_keeps_the_parents_table(corpus):
    from tests.catalog.test_incremental import STEPS

    c = corpus
    _run(c, "o1", "web")
    tighter = [dict(s) for s in STEPS]
    tighter[1] = {"op": "length_filter", "params": {"min_words": 120}}
    child = gm.Recipe.load(str(_recipe(c, "o2", tighter))).run(workers=2, into="web", catalog=str(c["root"]),
                                                              incremental=True)
    assert child.summary["incremental"]["redecided_steps"] and child.summary["incremental"]["word_table_chunks"] == 0
    tables = [gm.catalog.get(f"web@{n}", str(c["root"])).manifest["word_table"]["hash"] for n in (1, 2)]
    assert tables[0] == tables[1]
