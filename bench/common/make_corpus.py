"""Build a local multi-domain benchmark corpus (not committed) from Debian documentation packages.

Domains: Python docs (HTML, en), PostgreSQL docs (HTML, en), the Debian Administrator's Handbook (HTML,
~20 languages incl. Chinese and Japanese), Go standard-library source (code), Perl pod (technical prose with
markup) and fortunes (very short documents). Pages are cut into documents of a few to a few dozen blocks so
that lengths vary like web documents do. Optionally the project's sample data is mixed in.

Install the sources first (as root):
    apt-get install python3.11-doc postgresql-doc-15 golang-1.19-src debian-handbook fortunes perl-doc

Usage:
    python bench/common/make_corpus.py --out bench/_work/corpus.jsonl.gz --target-mb 120
"""

from __future__ import annotations

import argparse
import glob
import gzip
import html
import json
import os
import random
import re
from collections.abc import Iterator
from html.parser import HTMLParser

_BLOCK = {
    "p",
    "div",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "tr",
    "dt",
    "dd",
    "br",
    "table",
    "section",
    "blockquote",
    "title",
    "td",
    "th",
}
_SKIP = {"script", "style", "head", "nav"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP:
            self.skip += 1
        if tag == "pre":
            self.pre += 1
        if tag in _BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self.skip:
            self.skip -= 1
        if tag == "pre" and self.pre:
            self.pre -= 1
        if tag in _BLOCK:
            self.parts.append("\n\n" if tag in {"p", "pre", "h1", "h2", "h3", "table"} else "\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.parts.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_text(raw: str) -> str:
    p = _Text()
    p.feed(raw)
    text = "".join(p.parts)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _chunks(text: str, rng: random.Random, lo: int = 2, hi: int = 40) -> Iterator[str]:
    blocks = [b for b in re.split(r"\n{2,}", text) if b.strip()]
    i = 0
    while i < len(blocks):
        n = rng.randint(lo, hi)
        doc = "\n\n".join(blocks[i : i + n]).strip()
        i += n
        if doc:
            yield doc


def _read(path: str) -> str:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        return f.read()


def sources(rng: random.Random) -> Iterator[tuple[str, str, str]]:
    """Yield (domain, language, text) forever-ish in an interleaved order."""
    gens = {
        "python_docs": (
            ("en", f) for f in sorted(glob.glob("/usr/share/doc/python3.11/html/**/*.html", recursive=True))
        ),
        "postgres_docs": (
            ("en", f) for f in sorted(glob.glob("/usr/share/doc/postgresql-doc-15/html/*.html"))
        ),
        "handbook": (
            (f.split("/")[6], f) for f in sorted(glob.glob("/usr/share/doc/debian-handbook/html/*/*.html"))
        ),
        "go_code": (("code", f) for f in sorted(glob.glob("/usr/share/go-1.19/src/**/*.go", recursive=True))),
        "perl_pod": (("en", f) for f in sorted(glob.glob("/usr/share/perl/5.36/pod/*.pod"))),
    }
    for domain, it in gens.items():
        for lang, path in it:
            if not os.path.isfile(path):
                continue
            raw = _read(path)
            if domain == "go_code":
                yield domain, lang, raw
                continue
            text = html_to_text(raw) if path.endswith(".html") else raw
            for doc in _chunks(text, rng):
                yield domain, lang, doc
    for path in sorted(glob.glob("/usr/share/games/fortunes/*")):
        if "." in os.path.basename(path):
            continue
        for fortune in _read(path).split("\n%\n"):
            if fortune.strip():
                yield "fortunes", "en", fortune.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="bench/_work/corpus.jsonl.gz")
    ap.add_argument("--target-mb", type=float, default=120.0, help="stop after this many MB of text")
    ap.add_argument(
        "--sample", default="/work/wt-sample/data/sample.jsonl.gz", help="project sample to mix in if present"
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    docs: list[dict] = []
    if os.path.exists(args.sample):
        with gzip.open(args.sample, "rt", encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                docs.append(
                    {"text": d["text"], "domain": "sample:" + str(d.get("domain", "?")), "language": "?"}
                )
    for domain, lang, text in sources(rng):
        docs.append(
            {"text": html.unescape(text) if domain != "go_code" else text, "domain": domain, "language": lang}
        )
    rng.shuffle(docs)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    total = 0
    n = 0
    with gzip.open(args.out, "wt", encoding="utf-8") as f:
        for d in docs:
            if total >= args.target_mb * 1e6:
                break
            d["id"] = f"doc{n:07d}"
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
            total += len(d["text"].encode())
            n += 1
    print(f"wrote {n} documents, {total / 1e6:.1f} MB of text -> {args.out}")


if __name__ == "__main__":
    main()
