"""Chat input (``input.chat: true``): three formats, one canonical conversation; bad shapes are rejects."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gristmill.io.chat import MESSAGES_TYPE, render
from gristmill.io.inputs import InputFile
from gristmill.io.parse import ParseSpec, parse_chunk, rows_to_table
from gristmill.io.readers import RawChunk

from .conftest import ROOT, gristmill, read_kept, read_rejects, summary, write_jsonl, write_recipe

CANON = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Capital of France?"},
    {"role": "assistant", "content": "Paris."},
]
OPENAI = {"id": "o", "messages": CANON}
SHAREGPT = {"id": "s", "conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "Capital of France?"},
                                        {"from": "gpt", "value": "Paris."}]}
ALPACA = {"id": "a", "system": "Be brief.", "instruction": "Capital of France?", "input": "", "output": "Paris."}


def parse_lines(rows: list, chat: bool = True) -> tuple[list[dict], list[dict]]:
    data = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()
    parsed = parse_chunk(RawChunk(0, "lines", 1, data), InputFile("/x", "chat.jsonl", "jsonl", None, len(data)),
                         ParseSpec(chat=chat))
    return (parsed.table.to_pylist() if parsed.table is not None else []), parsed.rejects


def test_three_formats_give_the_same_canonical_messages_and_rendering() -> None:
    rows, rejects = parse_lines([OPENAI, SHAREGPT, ALPACA])
    assert rejects == []
    assert [r["messages"] for r in rows] == [CANON] * 3
    assert [r["chat_format"] for r in rows] == ["openai", "sharegpt", "alpaca"]
    assert {r["text"] for r in rows} == {"System: Be brief.\n\nUser: Capital of France?\n\nAssistant: Paris."}
    # original fields are kept
    assert rows[1]["conversations"][1] == {"from": "human", "value": "Capital of France?"}
    assert rows[2]["instruction"] == "Capital of France?" and rows[2]["output"] == "Paris."


def test_messages_column_has_the_canonical_arrow_type() -> None:
    data = (json.dumps(OPENAI) + "\n").encode()
    parsed = parse_chunk(RawChunk(0, "lines", 1, data), InputFile("/x", "c.jsonl", "jsonl", None, 1), ParseSpec(chat=True))
    assert parsed.table.schema.field("messages").type == MESSAGES_TYPE


def test_alpaca_input_is_appended_to_the_instruction_and_variants_are_read() -> None:
    rows, rejects = parse_lines([
        {"instruction": "Translate.", "input": "Bonjour", "output": "Hello"},
        {"conversations": [{"from": "Human", "value": "hi"}, {"from": "ChatGPT", "value": "hello"}]},
        {"messages": [{"role": "developer", "content": "x"}, {"role": "user", "content": [{"type": "text", "text": "a"},
                      {"type": "text", "text": "b"}]}, {"role": "assistant", "content": "c"}]},
    ])
    assert rejects == []
    assert rows[0]["messages"][0] == {"role": "user", "content": "Translate.\n\nBonjour"}
    assert [m["role"] for m in rows[1]["messages"]] == ["user", "assistant"]
    assert rows[2]["messages"] == [{"role": "system", "content": "x"}, {"role": "user", "content": "a\nb"},
                                   {"role": "assistant", "content": "c"}]


def test_an_existing_text_field_is_kept_as_text_original() -> None:
    rows, _ = parse_lines([{**OPENAI, "text": "raw dump"}])
    assert rows[0]["text_original"] == "raw dump" and rows[0]["text"] == render(CANON)


BAD = [
    ({"conversations": [{"from": "human", "value": "hi"}, {"from": "robot", "value": "beep"}]},
     "turn 2 has unknown role 'robot' for ShareGPT (allowed: system, human, user, gpt"),
    ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "  "}]},
     "turn 2 (assistant) has empty content"),
    ({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}]},
     "no assistant turn (roles: system, user)"),
    ({"messages": [{"role": "assistant", "content": "hi"}]}, "no user turn (roles: assistant)"),
    ({"messages": "User: hi"}, "'messages' is str (expected a list of turns)"),
    ({"messages": []}, "'messages' is an empty list"),
    ({"messages": ["hi"]}, "turn 1 is str (expected an object with 'role' and 'content')"),
    ({"messages": [{"content": "hi"}]}, "turn 1 has no 'role' field"),
    ({"messages": [{"role": "user", "content": 7}, {"role": "assistant", "content": "x"}]},
     "turn 1 (user) content is int (expected a string)"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "u"}]}]},
     "turn 1 (user) content part 1 is 'image_url'; only text parts are supported"),
    ({"instruction": "Name a planet."}, "Alpaca record has no 'output'"),
    ({"instruction": "x", "input": 3, "output": "y"}, "Alpaca 'input' is int (expected a string)"),
    ({"instruction": "x", "output": ""}, "turn 2 (assistant, from 'output') has empty content"),
    ({"prompt": "x", "completion": "y"}, "no 'messages', 'conversations' or 'instruction'+'output' field (its fields: prompt, completion)"),
]


@pytest.mark.parametrize(("record", "reason"), BAD)
def test_each_bad_shape_is_rejected_with_its_line_and_reason(record: dict, reason: str) -> None:
    rows, rejects = parse_lines([OPENAI, record, ALPACA])
    assert len(rows) == 2
    (r,) = rejects
    assert r["location"] == 2 and r["unit"] == "line" and r["kind"] == "bad_chat"
    assert r["reason"].startswith("chat record: ") and reason in r["reason"], r["reason"]


def test_without_chat_mode_the_same_records_need_a_text_field() -> None:
    rows, rejects = parse_lines([OPENAI], chat=False)
    assert rows == [] and rejects[0]["kind"] == "missing_text"


def test_parquet_in_chat_mode_keeps_types_and_rejects_by_row() -> None:
    table, _ = rows_to_table([{**OPENAI, "n": 1}, {"id": "b", "messages": [{"role": "user", "content": "x"}], "n": 2},
                              {**OPENAI, "id": None, "n": 3}])
    table = table.set_column(table.schema.get_field_index("n"), "n", table.column("n").cast(pa.int32()))
    parsed = parse_chunk(RawChunk(0, "arrow", 0, table), InputFile("/x", "c.parquet", "parquet", None, 1), ParseSpec(chat=True))
    out = parsed.table
    assert out.column("id").to_pylist() == ["o", "c.parquet#R2"]
    assert out.schema.field("n").type == pa.int32() and out.schema.field("messages").type == MESSAGES_TYPE
    assert out.column("text").to_pylist() == [render(CANON)] * 2
    (r,) = parsed.rejects
    assert (r["unit"], r["location"], r["kind"]) == ("row", 1, "bad_chat")
    assert "no assistant turn" in r["reason"] and '"messages"' in r["raw"]


def test_example_recipe_runs_and_the_balance_holds(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = gristmill("run", ROOT / "examples/recipes/sft_chat.yaml", "--output", out)
    assert res.returncode == 0, res.stderr[-2000:]
    s = summary(out)
    assert s["balance"]["holds"] and s["input"] == 32
    assert s["rejected"]["by_kind"] == {"bad_chat": 7, "malformed_json": 1}
    by = s["dropped"]["by_step"]
    assert by["refusal_filter"]["refusal"] == 2
    assert by["prompt_dedup"]["duplicate_prompt"] == 2
    assert by["chat_turns"] == {"roles_not_alternating": 1, "not_ending_with_assistant": 1, "response_too_short": 1}
    assert by["turn_language"]["languages_disagree"] == 2  # French question, English answer; a translation task
    kept = read_kept(out) if (out / "part-000000.parquet").exists() else None
    rows = [json.loads(line) for f in sorted(out.glob("part-*.jsonl")) for line in f.read_text().splitlines()]
    assert kept is None and len(rows) == s["kept"]
    assert {r["id"] for r in rows} >= {"c01", "c07", "c09", "c17"}  # first of duplicated prompts kept
    assert not {"c05", "c06", "c11", "c12", "c20"} & {r["id"] for r in rows}
    assert all(r["text"].startswith(("User: ", "System: ")) for r in rows)
    rej = {r["location"]: r["reason"] for r in read_rejects(out)}
    assert "unknown role 'robot'" in rej[25] and "empty content" in rej[26] and "no assistant turn" in rej[27]


def test_prompt_dedup_keeps_the_first_across_chunks_and_files(tmp_path: Path) -> None:
    conv = [{"id": f"d{i}", "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": f"answer {i}"}]}
            for i, q in enumerate(["Same question?", "other", "same   QUESTION?", "x", "Same question?"])]
    write_jsonl(tmp_path / "in/a.jsonl", conv[:3])
    pq.write_table(pa.table({"id": ["p0"], "conversations": [[{"from": "human", "value": "OTHER"}, {"from": "gpt", "value": "y"}]]}),
                   tmp_path / "in/b.parquet")
    write_jsonl(tmp_path / "in/c.jsonl", conv[3:])
    recipe = write_recipe(tmp_path / "r.yaml", steps=[{"op": "prompt_dedup"}], input={"chat": True},
                          engine={"chunk_rows": 1})
    out = tmp_path / "out"
    res = gristmill("run", recipe, "--input", tmp_path / "in", "--output", out, "--workers", "2")
    assert res.returncode == 0, res.stderr[-2000:]
    assert read_kept(out, ["id"]).column("id").to_pylist() == ["d0", "d1", "d3"]
    assert summary(out)["dropped"]["by_step"]["prompt_dedup"] == {"duplicate_prompt": 3}
