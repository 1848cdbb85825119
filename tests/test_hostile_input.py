"""One hostile input line cannot kill a run or silently change a value (issue 11 §3)."""

from __future__ import annotations

import io
import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gristmill.io.inputs import InputFile
from gristmill.io.json_guard import MAX_NESTING, nesting_depths, too_deep_lines
from gristmill.io.parse import ParseSpec, parse_chunk
from gristmill.io.readers import RawChunk
from tests.conftest import gristmill, read_kept, read_rejects, summary, write_jsonl

GOOD = [{"id": f"g{i}", "text": f"good document number {i} with a few words"} for i in range(3)]


def nested(depth: int) -> str:
    """A record whose ``meta`` field nests lists so that the whole line is ``depth`` levels deep."""
    inner = depth - 1
    return '{"id": "deep", "text": "a fine text", "meta": ' + "[" * inner + "]" * inner + "}"


def run(recipe, inp, out, *extra: str) -> dict:
    res = gristmill("run", recipe, "--input", inp, "--output", out, *extra)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    s = summary(out)
    assert s["balance"]["holds"], s["balance"]
    return s


@pytest.mark.parametrize("blank_line", [False, True], ids=["arrow-path", "per-line-path"])
def test_a_line_nested_100000_deep_is_rejected_and_the_run_goes_on(tmp_path, identity_recipe, blank_line):
    rows = [GOOD[0], nested(100_000), GOOD[1]] + ([""] if blank_line else []) + [GOOD[2]]
    inp = write_jsonl(tmp_path / "in.jsonl", rows)
    s = run(identity_recipe, inp, tmp_path / "out", "--workers", "2")
    assert (s["input"], s["kept"], s["rejected"]["by_kind"]) == (4, 3, {"too_deep": 1})
    (r,) = read_rejects(tmp_path / "out")
    assert r["location"] == 2 and f"nesting deeper than {MAX_NESTING} levels" in r["reason"]


def test_nesting_just_under_the_limit_is_kept_just_over_is_rejected(tmp_path, identity_recipe):
    inp = write_jsonl(tmp_path / "in.jsonl", [nested(MAX_NESTING), nested(MAX_NESTING + 1), GOOD[0]])
    s = run(identity_recipe, inp, tmp_path / "out", "--workers", "1")
    assert (s["kept"], s["rejected"]["by_kind"]) == (2, {"too_deep": 1})
    assert read_rejects(tmp_path / "out")[0]["location"] == 2
    # what was kept reads back: Parquet refuses schemas nested much deeper than this
    assert read_kept(tmp_path / "out").num_rows == 2


def test_brackets_inside_strings_do_not_count_as_nesting():
    line = json.dumps({"text": "[" * 500 + "]]]]" + '\\"[[', "code": "{" * 100}).encode()
    trick = b'{"a": "]]]]]]]]]]", "b": ' + b"[" * 40 + b'"x\\"]]]]"' + b"]" * 40 + b"}"
    assert list(nesting_depths(line + b"\n" + trick)) == [1, 41]
    assert too_deep_lines(line + b"\n" + trick) == {1: 41}


def test_deeply_nested_parquet_input_is_a_rejected_file_not_a_crash(tmp_path, identity_recipe):
    d = tmp_path / "in"
    d.mkdir()
    value: list = []
    for _ in range(60):
        value = [value]
    pq.write_table(pa.table({"text": ["deep parquet"], "meta": pa.array([value])}), d / "deep.parquet")
    write_jsonl(d / "good.jsonl", GOOD)
    s = run(identity_recipe, d, tmp_path / "out", "--workers", "1")
    assert s["kept"] == 3 and s["rejected"]["total"] == 1
    (r,) = read_rejects(tmp_path / "out")
    assert r["source"] == "deep.parquet" and "nested" in r["reason"]


HUGE = 123456789012345678901234567890
NUMBERS = [
    '{"id": "a", "text": "first", "n": 123456789012345678901234567890}',
    '{"id": "b", "text": "second", "n": NaN}',
    '{"id": "c", "text": "third", "n": -Infinity}',
    '{"id": "d", "text": "fourth", "n": 5, "m": {"x": 1e400}}',
    '{"id": "e", "text": "fifth", "n": 9223372036854775807, "m": {"x": 2.5}}',
]


@pytest.mark.parametrize("blank_line", [False, True], ids=["arrow-path", "per-line-path"])
def test_numbers_beyond_64_bits_and_nan_are_kept_as_their_text_and_counted(tmp_path, identity_recipe, blank_line):
    inp = write_jsonl(tmp_path / "in.jsonl", NUMBERS[:2] + ([""] if blank_line else []) + NUMBERS[2:])
    s = run(identity_recipe, inp, tmp_path / "out", "--workers", "1")
    assert (s["kept"], s["rejected"]["total"]) == (5, 0)
    assert s["numbers_kept_as_text"] == {"m": 1, "n": 3}
    kept = {r["id"]: r for r in read_kept(tmp_path / "out").to_pylist()}
    # the column mixes numbers and texts, so it holds JSON text: every number exactly as it was written
    assert [kept[k]["n"] for k in "abcde"] == [str(HUGE), "NaN", "-Infinity", "5", "9223372036854775807"]
    assert json.loads(kept["a"]["n"]) == HUGE
    assert kept["d"]["m"] == '{"x":1e400}' and json.loads(kept["e"]["m"]) == {"x": 2.5}


def test_an_out_of_range_id_stays_exact(tmp_path, identity_recipe):
    inp = write_jsonl(tmp_path / "in.jsonl", ['{"id": 98765432109876543210, "text": "big id"}', GOOD[0]])
    s = run(identity_recipe, inp, tmp_path / "out", "--workers", "1")
    assert s["numbers_kept_as_text"] == {"id": 1}
    assert read_kept(tmp_path / "out").column("id").to_pylist() == ["98765432109876543210", "g0"]


def test_plain_numbers_are_not_reported():
    data = b'{"text": "x", "n": 1.5, "k": -9223372036854775808}\n{"text": "y", "n": 2, "k": 3}\n'
    parsed = parse_chunk(RawChunk(0, "lines", first=1, data=data), _file(), ParseSpec())
    assert parsed.numbers_as_text == {} and not parsed.rejects
    assert parsed.table.column("k").to_pylist() == [-(1 << 63), 3]


def _file() -> InputFile:
    return InputFile(path="/nonexistent/in.jsonl", relpath="in.jsonl", format="jsonl", compression=None, size=1)


def _mutations(seed: int) -> list[bytes]:
    """Seeded hostile variants of valid lines: bit flips, cuts, splices, and nasty tokens."""
    rng = random.Random(seed)
    base = [
        json.dumps(GOOD[0]).encode(),
        json.dumps({"text": "caf\u00e9 \u2603", "meta": {"a": [1, 2.5, None, True], "b": "x"}}).encode(),
        b'{"text": "t", "n": 123456789012345678901234567890, "f": NaN}',
        json.dumps({"text": "chat", "messages": [{"role": "user", "content": "hi"}]}).encode(),
    ]
    tokens = [b"NaN", b"-Infinity", b"1e400", b"\\ud800", b"\\u0000", b"\xff\xfe", b"\xef\xbb\xbf", b"[" * 3000,
              b"{" * 50, b'"', b"\\", b"\x00", b"99999999999999999999999", b"-0", b"\r", b'"text": null', b"]" * 9]
    out = []
    for _ in range(400):
        line = bytearray(rng.choice(base))
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(4)
            pos = rng.randrange(len(line) + 1)
            if op == 0 and line:
                line[min(pos, len(line) - 1)] ^= 1 << rng.randrange(8)
            elif op == 1:
                del line[pos : pos + rng.randint(1, 8)]
            elif op == 2:
                line[pos:pos] = rng.choice(tokens)
            else:
                line[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        out.append(bytes(line).replace(b"\n", b" "))
    return out


@pytest.mark.parametrize("chat", [False, True], ids=["plain", "chat"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fuzzed_lines_never_raise_and_every_line_is_accounted_for(seed, chat):
    lines = _mutations(seed)
    data = b"\n".join(lines) + b"\n"
    spec = ParseSpec(chat=chat)
    whole = parse_chunk(RawChunk(0, "lines", first=1, data=data), _file(), spec)
    rows = whole.table.num_rows if whole.table is not None else 0
    assert rows + len(whole.rejects) + whole.blank_lines == len(lines)
    assert all(r["reason"] and r["kind"] for r in whole.rejects)
    if whole.table is not None:  # what was kept writes as Parquet and reads back
        buf = io.BytesIO()
        pq.write_table(whole.table, buf)
        assert pq.read_table(io.BytesIO(buf.getvalue())).num_rows == rows
    # one line at a time gives the same verdicts as the whole chunk (the Arrow path agrees with the per-line one)
    kept_alone = sum(
        (p.table.num_rows if p.table is not None else 0)
        for p in (parse_chunk(RawChunk(0, "lines", first=i, data=ln + b"\n"), _file(), spec)
                  for i, ln in enumerate(lines, start=1))
    )
    assert kept_alone == rows


def test_a_byte_order_mark_opens_a_file_but_not_a_later_line():
    bom = b"\xef\xbb\xbf"
    data = bom + b'{"text": "first"}\n' + bom + b'{"text": "second"}\n{"text": "third"}\n'
    parsed = parse_chunk(RawChunk(0, "lines", first=1, data=data), _file(), ParseSpec())
    assert parsed.table.column("text").to_pylist() == ["first", "third"]
    assert [(r["location"], r["kind"]) for r in parsed.rejects] == [(2, "malformed_json")]
