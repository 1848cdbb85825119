"""Build the public suite's corpora from the bundled samples, with what was injected kept aside.

Every corpus is JSON Lines with only ``id`` and ``text`` (unlabelled, as a new user's data would be).
What the checks need to know — the domain a document came from, its language, which rows are copies,
which values were injected — goes into ``labels.json``, which ``prepare`` never sees. The build is
deterministic (seeded ``random.Random``, sorted inputs), so a corpus built twice is byte-identical.

    python bench/agent/public/corpora.py --out DIR [--data data]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import json
import random
import sys
from collections.abc import Iterable
from pathlib import Path

DATA = Path(__file__).resolve().parents[3] / "data"

Row = dict[str, str]
Labels = dict[str, dict]  # id -> labels for that document


def read_jsonl_gz(path: Path) -> list[dict]:
    """Well-formed rows only; the malformed lines of the dirty sample are not part of these corpora."""
    rows = []
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            with contextlib.suppress(json.JSONDecodeError):
                r = json.loads(line)
                if isinstance(r, dict) and isinstance(r.get("text"), str) and isinstance(r.get("id"), str):
                    rows.append(r)
    return rows


def locale_lang(source: str) -> str:
    """``.../html/ja-JP/...`` -> ``ja``; Chinese keeps its script (``zh-CN``/``zh-TW`` -> ``zh``)."""
    for part in source.split("/"):
        if len(part) == 5 and part[2] == "-" and part[:2].isalpha() and part[:2].islower():
            return part[:2]
    return "en"


def take(rng: random.Random, rows: list[dict], n: int) -> list[dict]:
    """``n`` rows drawn without replacement, returned in their original order."""
    if n >= len(rows):
        return list(rows)
    idx = sorted(rng.sample(range(len(rows)), n))
    return [rows[i] for i in idx]


def by_domain(clean: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in clean:
        out.setdefault(r["domain"], []).append(r)
    return out


def base_label(r: dict) -> dict:
    lang = locale_lang(r["source"]) if r["domain"] == "multilingual" else ("code" if r["domain"] == "code" else "en")
    return {"domain": r["domain"], "lang": lang}


# -- corpora ----------------------------------------------------------------------------------------------

def web(dirty: list[dict], manifest: dict, clean_by_id: dict[str, dict]) -> tuple[list[Row], Labels]:
    """The dirty sample, unlabelled: duplicates, near-duplicates, boilerplate, PII, spam, short and empty docs."""
    kinds = manifest["kinds"]
    kind_of: dict[str, str] = {}
    for k in ("exact_duplicate", "near_duplicate", "boilerplate", "pii", "spam", "mixed_language", "short", "empty"):
        for i in kinds[k]["ids"]:
            kind_of[i] = k
    original = {d["id"]: d["original_id"] for k in ("exact_duplicate", "near_duplicate") for d in kinds[k]["details"]}
    jacc = {d["id"]: d.get("jaccard_5gram", 1.0) for d in kinds["near_duplicate"]["details"]}
    pii = {d["id"]: [i["value"] for i in d["items"]] for d in kinds["pii"]["details"]}
    pii_types = {d["id"]: sorted({i["type"] for i in d["items"]}) for d in kinds["pii"]["details"]}
    rows, labels = [], {}
    for r in dirty:
        rows.append({"id": r["id"], "text": r["text"]})
        lab = {"kind": kind_of.get(r["id"], "clean"), "domain": r.get("domain")}
        if r["id"] in clean_by_id:
            lab["lang"] = base_label(clean_by_id[r["id"]])["lang"]
        if r["id"] in original:
            lab["original"] = original[r["id"]]
            lab["jaccard_5gram"] = jacc.get(r["id"], 1.0)
        if r["id"] in pii:
            lab["pii"] = pii[r["id"]]
            lab["pii_types"] = pii_types[r["id"]]
        labels[r["id"]] = lab
    return rows, labels


def mixed(rng: random.Random, dom: dict[str, list[dict]]) -> tuple[list[Row], Labels]:
    """A slice of every domain of the clean sample, with no field saying which."""
    counts = {"books": 60, "code": 60, "docs": 110, "reference": 60, "legal": 40, "multilingual": 130, "chat": 40}
    picked = [r for d, n in counts.items() for r in take(rng, dom[d], n)]
    rng.shuffle(picked)
    return [{"id": r["id"], "text": r["text"]} for r in picked], {r["id"]: base_label(r) for r in picked}


def lang(rng: random.Random, dom: dict[str, list[dict]]) -> tuple[list[Row], Labels]:
    """Up to 14 handbook sections per locale plus English prose."""
    per_locale: dict[str, list[dict]] = {}
    for r in dom["multilingual"]:
        per_locale.setdefault(locale_lang(r["source"]) + r["source"].split("/html/")[-1][:5], []).append(r)
    picked = [r for k in sorted(per_locale) for r in take(rng, per_locale[k], 14)]
    picked += take(rng, dom["docs"], 90) + take(rng, dom["books"], 40) + take(rng, dom["legal"], 20)
    rng.shuffle(picked)
    return [{"id": r["id"], "text": r["text"]} for r in picked], {r["id"]: base_label(r) for r in picked}


SPAM_TOPICS = {
    "casino": {
        "terms": ["online casino", "casino bonus", "free spins", "jackpot", "slot machines", "poker room",
                  "sports betting", "roulette", "blackjack tables", "bet now"],
        "lines": ["Join the best {t} tonight and claim {n} {t2} with your first deposit.",
                  "Our {t} pays out faster than any other site, and the {t2} grows every hour.",
                  "Players who sign up today get {n} {t2} and VIP access to the {t}.",
                  "Do not miss the weekend {t} tournament: the {t2} is waiting for a lucky winner."],
    },
    "crypto": {
        "terms": ["bitcoin", "crypto trading", "guaranteed returns", "ethereum", "crypto signals",
                  "altcoin", "trading bot", "token presale", "blockchain investment", "passive income"],
        "lines": ["Turn {n} dollars into a fortune with our {t} platform and {t2}.",
                  "Experts agree that {t} is the fastest way to {t2}; join thousands of happy investors.",
                  "Our {t} has delivered {t2} every single month, with zero risk to your savings.",
                  "Buy into the {t} now, before the {t2} closes and the price goes to the moon."],
    },
    "pills": {
        "terms": ["weight loss pills", "diet pills", "fat burner", "lose weight fast", "appetite suppressant",
                  "slimming capsules", "miracle supplement", "keto pills", "burn belly fat", "detox tea"],
        "lines": ["Doctors hate this {t}: customers lose {n} pounds in a week with our {t2}.",
                  "Order the {t} today and get a second bottle of {t2} for free.",
                  "Our {t} works while you sleep, no diet and no gym, just {t2} every morning.",
                  "Thousands of women trust our {t}; the {t2} is clinically formulated and all natural."],
    },
}


def spam_doc(rng: random.Random, topic: str) -> str:
    spec = SPAM_TOPICS[topic]
    paras = []
    for _ in range(rng.randint(3, 5)):
        sents = []
        for _ in range(rng.randint(2, 4)):
            t, t2 = rng.sample(spec["terms"], 2)
            sents.append(rng.choice(spec["lines"]).format(t=t, t2=t2, n=rng.choice([50, 100, 200, 500, 1000])))
        paras.append(" ".join(sents))
    return "\n\n".join(paras)


def topics(rng: random.Random, dom: dict[str, list[dict]]) -> tuple[list[Row], Labels]:
    """Clean English prose with three kinds of topical spam mixed in (20 docs each)."""
    base = take(rng, dom["docs"], 140) + take(rng, dom["books"], 80) + take(rng, dom["reference"], 70) + take(rng, dom["legal"], 50)
    rows = [{"id": r["id"], "text": r["text"]} for r in base]
    labels = {r["id"]: {**base_label(r), "topic": "none"} for r in base}
    for topic in SPAM_TOPICS:
        for k in range(20):
            i = f"{topic}-{k:03d}"
            rows.append({"id": i, "text": spam_doc(rng, topic)})
            labels[i] = {"domain": "spam", "lang": "en", "topic": topic}
    rng.shuffle(rows)
    return rows, labels


FIRST = ["jane", "omar", "li", "sofia", "arjun", "mette", "pavel", "amara", "kenji", "lucia"]
LAST = ["doe", "haddad", "wei", "rossi", "patel", "hansen", "novak", "okafor", "sato", "garcia"]


def fake_pii(rng: random.Random, kind: str) -> str:
    if kind == "email":
        return f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.randint(1, 99)}@{rng.choice(['example.com', 'example.org', 'mail.example.net'])}"
    if kind == "phone":
        n = rng.randint(100, 199)
        return rng.choice([f"+1 555-0{n}", f"(555) 01{n % 100:02d}-{rng.randint(1000, 9999)}",
                           f"+44 20 7946 0{n}", f"555-01{n % 100:02d}"])
    # public-looking IPv4 from the documentation ranges
    return f"{rng.choice(['203.0.113', '198.51.100', '192.0.2'])}.{rng.randint(1, 254)}"


PII_LINES = {"email": "Contact {v} for details.", "phone": "Call {v} during office hours.",
             "ipv4": "The server answered from {v} this morning."}


def pii(rng: random.Random, dom: dict[str, list[dict]]) -> tuple[list[Row], Labels]:
    """English prose; 100 docs get 1-9 e-mail/phone/IP spans each, 20 get version numbers that look like IPs."""
    base = take(rng, dom["docs"], 160) + take(rng, dom["reference"], 60) + take(rng, dom["legal"], 40) + take(rng, dom["books"], 40)
    rng.shuffle(base)
    rows, labels = [], {}
    for j, r in enumerate(base):
        text, lab = r["text"], {**base_label(r), "pii": [], "pii_types": []}
        if j < 100:
            n = 1 + j % 9  # 1..9 spans: a third of them more than five
            kinds = [rng.choice(list(PII_LINES)) for _ in range(n)]
            paras = text.split("\n\n")
            for kind in kinds:
                v = fake_pii(rng, kind)
                paras.insert(rng.randint(0, len(paras)), PII_LINES[kind].format(v=v))
                lab["pii"].append(v)
                lab["pii_types"].append(kind)
            text = "\n\n".join(paras)
        elif j < 120:
            v = f"{rng.randint(2, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(1, 9)}"
            text += f"\n\nThis section was last revised for release {v} of the software."
            lab["version"] = v
        rows.append({"id": r["id"], "text": text})
        labels[r["id"]] = lab
    return rows, labels


def perturb_code(rng: random.Random, text: str, share: float = 0.03) -> str:
    """Rename a few identifiers-sized tokens: a near-duplicate of the file."""
    toks = text.split(" ")
    for _ in range(max(1, int(len(toks) * share))):
        k = rng.randrange(len(toks))
        if toks[k].isidentifier():
            toks[k] = toks[k] + "X"
    return " ".join(toks)


def code(rng: random.Random, dom: dict[str, list[dict]]) -> tuple[list[Row], Labels]:
    """Go files and documentation prose; exact and near copies, generated files, e-mails and keys in comments."""
    files = list(dom["code"])
    prose = take(rng, dom["docs"], 90)
    rows = [{"id": r["id"], "text": r["text"]} for r in files + prose]
    labels = {r["id"]: {**base_label(r), "kind": "code" if r["domain"] == "code" else "prose"} for r in files + prose}
    order = list(range(len(files)))
    rng.shuffle(order)
    for k, i in enumerate(order[:15]):  # exact copies
        cid = f"code-copy-{k:03d}"
        rows.append({"id": cid, "text": files[i]["text"]})
        labels[cid] = {"domain": "code", "lang": "code", "kind": "code", "original": files[i]["id"], "copy": "exact"}
    for k, i in enumerate(order[15:30]):  # near copies
        cid = f"code-near-{k:03d}"
        rows.append({"id": cid, "text": perturb_code(rng, files[i]["text"])})
        labels[cid] = {"domain": "code", "lang": "code", "kind": "code", "original": files[i]["id"], "copy": "near"}
        labels[files[i]["id"]]["near_original"] = True  # fuzzy dedup may rightly keep the copy instead
    for k, i in enumerate(order[30:40]):  # generated files
        cid = f"code-gen-{k:03d}"
        rows.append({"id": cid, "text": "// Code generated by stringer -type=Kind; DO NOT EDIT.\n\n" + perturb_code(rng, files[i]["text"], 0.2)})
        labels[cid] = {"domain": "code", "lang": "code", "kind": "code", "generated": True}
    by_id = {r["id"]: r for r in rows}
    for i in order[40:55]:  # secrets and e-mails in comments
        fid = files[i]["id"]
        email = fake_pii(rng, "email")
        key = "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(12)) + "EXAMPLE"[:4]
        by_id[fid]["text"] = f"// Maintainer: {email}\n// aws_access_key_id = {key}\n" + by_id[fid]["text"]
        labels[fid]["pii"] = [email, key]
    rng.shuffle(rows)
    return rows, labels


REFUSALS = [
    "As an AI language model, I cannot help with that request.",
    "I'm sorry, but as an AI I am not able to provide that.",
    "I do not have emotions, but I can tell you what people usually feel.",
    "As an AI, I don't have opinions on this matter.",
    "I don't have personal opinions, but here is some general information.",
]


def chat(rng: random.Random, dom: dict[str, list[dict]]) -> tuple[list[Row], Labels]:
    """The chat conversations: refusal replies injected in 20, casing errors in 20, 10 exact copies."""
    convs = list(dom["chat"])
    order = list(range(len(convs)))
    rng.shuffle(order)
    rows, labels = [], {}
    for pos, i in enumerate(order):
        r = convs[i]
        text, lab = r["text"], {**base_label(r), "refusal": False}
        if pos < 20:
            lines = text.split("\n")
            k = next((n for n, ln in enumerate(lines) if ln.startswith("Assistant: ")), None)
            if k is not None:
                lines[k] = "Assistant: " + REFUSALS[pos % len(REFUSALS)] + " " + lines[k][len("Assistant: "):]
                text, lab["refusal"] = "\n".join(lines), True
        elif pos < 40:
            for cut in range(len(text) - 3):
                if text[cut] == "." and text[cut + 1] == " " and text[cut + 2].isupper() and text[cut + 3].islower():
                    text = text[:cut + 2] + text[cut + 2].lower() + text[cut + 3:]
                    lab["casing_error"] = text[cut:cut + 12]
                    break
        rows.append({"id": r["id"], "text": text})
        labels[r["id"]] = lab
    for k, row in enumerate(take(rng, [x for x in rows if not labels[x["id"]]["refusal"]], 10)):
        cid = f"chat-copy-{k:03d}"
        rows.append({"id": cid, "text": row["text"]})
        labels[cid] = {**labels[row["id"]], "original": row["id"]}
    rng.shuffle(rows)
    return rows, labels


# -- build ------------------------------------------------------------------------------------------------

def write_jsonl(path: Path, rows: Iterable[Row]) -> str:
    data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode("utf-8")
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def build(out: Path, data: Path = DATA) -> dict[str, str]:
    """Write ``<name>.jsonl`` for every corpus and ``labels.json``; return the corpora's sha256 by name."""
    clean = read_jsonl_gz(data / "sample.jsonl.gz")
    dirty = read_jsonl_gz(data / "dirty.jsonl.gz")
    manifest = json.loads((data / "dirty_manifest.json").read_text(encoding="utf-8"))
    dom = by_domain(clean)
    built = {
        "web": web(dirty, manifest, {r["id"]: r for r in clean}),
        "mixed": mixed(random.Random(101), dom),
        "lang": lang(random.Random(102), dom),
        "topics": topics(random.Random(103), dom),
        "pii": pii(random.Random(104), dom),
        "code": code(random.Random(105), dom),
        "chat": chat(random.Random(106), dom),
    }
    out.mkdir(parents=True, exist_ok=True)
    sums = {name: write_jsonl(out / f"{name}.jsonl", rows) for name, (rows, _) in built.items()}
    labels = {name: {"order": [r["id"] for r in rows], "docs": labs} for name, (rows, labs) in built.items()}
    (out / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    return sums


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    for name, digest in build(args.out, args.data).items():
        n = sum(1 for _ in (args.out / f"{name}.jsonl").open(encoding="utf-8"))
        print(f"{name:8s} {n:5d} docs  sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
