import json

import numpy as np
import pytest

from gristmill.shards import DomainShard, ShardWriter, dtype_for_vocab, load_tokenizer, open_shards

pytestmark = pytest.mark.train


def test_dtype_boundary():
    assert dtype_for_vocab(65535) == np.uint16
    assert dtype_for_vocab(65536) == np.uint32


@pytest.mark.parametrize("vocab", [1000, 70000])
def test_writer_reader_round_trip(tmp_path, vocab):
    docs = [[1, 2, 3], [], [vocab - 1, 5]]
    with ShardWriter(tmp_path / "books", domain="books", vocab_size=vocab, eos_id=0, tokenizer="t", tokenizer_hash="h") as w:
        for d in docs:
            w.add(d)
    s = DomainShard.open(tmp_path / "books")
    assert s.tokens.dtype == dtype_for_vocab(vocab)
    assert s.n_docs == 3 and s.n_tokens == (3 + 1) + (0 + 1) + (2 + 1)
    assert [s.document(i).tolist() for i in range(3)] == [[1, 2, 3, 0], [0], [vocab - 1, 5, 0]]
    meta = json.loads((tmp_path / "books" / "meta.json").read_text())
    assert meta["domain"] == "books" and meta["tokenizer_hash"] == "h" and meta["eos_id"] == 0


def test_writer_rejects_out_of_range_ids_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="out of range"), ShardWriter(tmp_path / "d", domain="d", vocab_size=10, eos_id=0) as w:
        w.add([3, 10])
    assert not (tmp_path / "d").exists() and not (tmp_path / "d.tmp").exists()


def test_build_shards_splits_every_domain_stably(shards, corpus, tmp_path):
    train, held = open_shards(shards / "train"), open_shards(shards / "heldout")
    assert set(train) == set(held) == {"books", "code", "legal", "chat", "noisy"}
    assert held["chat"].n_docs >= 1  # scarce domain still has a held-out split
    assert {s.meta["tokenizer_hash"] for s in [*train.values(), *held.values()]} == {train["books"].meta["tokenizer_hash"]}
    tok = load_tokenizer(shards / "tokenizer.json")
    text = tok.decode(train["code"].document(0)[:-1].tolist())
    assert "def " in text
    # rebuilding with the saved tokenizer gives the same held-out documents
    from gristmill.shards import build_shards

    build_shards(str(corpus), tmp_path / "again", tokenizer=shards / "tokenizer.json")
    again = open_shards(tmp_path / "again" / "heldout")
    assert np.array_equal(again["legal"].tokens, held["legal"].tokens)


# --- a damaged shard is a ShardError (a UsageError: exit 2) naming the file, never a numpy traceback -------


def _books(tmp_path, docs=([1, 2, 3], [4, 5], [6])):
    with ShardWriter(tmp_path / "books", domain="books", vocab_size=100, eos_id=0) as w:
        for d in docs:
            w.add(d)
    return tmp_path / "books"


def _cut_index(folder):
    raw = (folder / "index.npy").read_bytes()
    (folder / "index.npy").write_bytes(raw[: len(raw) - 9])  # the header survives, the last offset does not


def _short_index(folder):
    np.save(folder / "index.npy", np.load(folder / "index.npy")[:-1])  # a well-formed array, one offset short


def _falling_index(folder):
    np.save(folder / "index.npy", np.array([0, 5, 3, 9], dtype=np.int64))


def _cut_tokens(folder):
    raw = (folder / "tokens.bin").read_bytes()
    (folder / "tokens.bin").write_bytes(raw[:-2])  # one uint16 id short


def _long_tokens(folder):
    with open(folder / "tokens.bin", "ab") as f:
        f.write(b"\0\0")


def _garbled_meta(folder):
    (folder / "meta.json").write_text('{"format": "gristmill.shards", "n_docs": 3,')


def _meta_field(key, value):
    def damage(folder):
        meta = json.loads((folder / "meta.json").read_text())
        meta[key] = value
        (folder / "meta.json").write_text(json.dumps(meta))

    return damage


@pytest.mark.parametrize(("damage", "file", "says"), [
    (_cut_index, "index.npy", "unreadable or cut short"),
    (_short_index, "index.npy", "holds 3 offsets, meta.json says n_docs = 3"),
    (_falling_index, "index.npy", "must not decrease; offset 2 (3) < offset 1 (5)"),
    (lambda f: (f / "index.npy").unlink(), "index.npy", "missing"),
    (_cut_tokens, "tokens.bin", "16 bytes, expected 18 (9 tokens of uint16 per meta.json); the file is cut short"),
    (_long_tokens, "tokens.bin", "longer than its index"),
    (lambda f: (f / "tokens.bin").unlink(), "tokens.bin", "missing"),
    (_garbled_meta, "meta.json", "not readable JSON"),
    (lambda f: (f / "meta.json").write_bytes(b"\xff\xfe\x00"), "meta.json", "not readable JSON"),
    (lambda f: (f / "meta.json").write_text("[1, 2]"), "meta.json", "expected a JSON object, found list"),
    (_meta_field("n_tokens", "9"), "meta.json", "'n_tokens' must be int, found '9'"),
    (_meta_field("dtype", None), "meta.json", "'dtype' must be str, found None"),
    (_meta_field("dtype", "float32"), "meta.json", "dtype 'float32' is not one of uint16, uint32"),
    (_meta_field("n_docs", 4), "index.npy", "holds 4 offsets, meta.json says n_docs = 4"),
    (_meta_field("n_tokens", 10), "index.npy", "must run from 0 to n_tokens = 10"),
    (_meta_field("eos_id", 100), "meta.json", "eos_id 100 is outside the vocabulary [0, 100)"),
])
def test_a_damaged_shard_names_the_file_and_the_fault(tmp_path, damage, file, says):
    from gristmill.errors import UsageError
    from gristmill.shards import ShardError

    folder = _books(tmp_path)
    assert DomainShard.open(folder).n_tokens == 9  # intact, it opens
    damage(folder)
    with pytest.raises(ShardError) as info:
        DomainShard.open(folder)
    assert str(info.value).startswith(f"{folder / file}: ")
    assert says in str(info.value)
    assert isinstance(info.value, UsageError) and isinstance(info.value, ValueError)


def test_open_shards_reports_the_damaged_domain(tmp_path):
    from gristmill.shards import ShardError

    _cut_tokens(_books(tmp_path))
    with pytest.raises(ShardError, match=r"books/tokens.bin: 16 bytes"):
        open_shards(tmp_path)
