"""Build the labelled excerpts that train and evaluate the ``content_kind`` operator.

Reads real, licensed files installed from Debian packages (see ``data/LICENSES.md``, section "content_kind
excerpts") and writes ``bench/content_kind/data/excerpts.jsonl.gz``: one record per excerpt with its text,
``kind``, ``language`` (for code), the source file (train/test splits are by source file) and the licence.
Logs of formats absent from this machine are generated with a seeded generator and say so in ``source``.

    apt-get install -y python3.11-doc golang-1.19-src postgresql-doc-15 debian-handbook openjdk-17-source \\
        librust-serde-dev librust-clap-dev texlive-latex-base-doc
    python bench/content_kind/build_data.py

The committed file is the output of this script on Debian 12; rerunning it on another machine may pick
other files, which is why the excerpts, not the packages, are what the tests and the trainer read.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from build_sample import html_blocks  # noqa: E402 - the sample builder's HTML-to-blocks reader

OUT = Path(__file__).with_name("data") / "excerpts.jsonl.gz"
PY_HTML = Path("/usr/share/doc/python3.11/html")
PG_HTML = Path("/usr/share/doc/postgresql-doc-15/html")
HB_HTML = Path("/usr/share/doc/debian-handbook/html")
GO_SRC = Path("/usr/share/go-1.19/src")
MIN_CHARS, MAX_CHARS = 200, 3500


def _rng(name: str) -> random.Random:
    return random.Random(int(hashlib.sha256(name.encode()).hexdigest()[:12], 16))


def _read(path: Path) -> str | None:
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text.replace("\r\n", "\n")


def excerpts(text: str, name: str, k: int, lo: int = MIN_CHARS, hi: int = MAX_CHARS) -> list[str]:
    """Up to ``k`` non-overlapping excerpts of ``text`` cut at line boundaries, lengths drawn in [lo, hi]."""
    lines = text.split("\n")
    r = _rng(name)
    out: list[str] = []
    starts = list(range(len(lines)))
    r.shuffle(starts)
    used: set[int] = set()
    for s in starts:
        if len(out) >= k:
            break
        if s in used:
            continue
        target = r.randint(lo, hi)
        buf, i = [], s
        while i < len(lines) and i not in used and sum(len(x) + 1 for x in buf) < target:
            buf.append(lines[i])
            i += 1
        chunk = "\n".join(buf).strip("\n")
        if len(chunk.strip()) >= lo:
            out.append(chunk)
            used.update(range(s, i))
    return out


def _files(root: Path, patterns: tuple[str, ...], exclude: str = r"$^") -> list[Path]:
    bad = re.compile(exclude)
    files = sorted({p for pat in patterns for p in root.rglob(pat) if p.is_file() and not bad.search(str(p))})
    return files


def _pick(files: list[Path], n: int, name: str) -> list[Path]:
    files = list(files)
    _rng(name).shuffle(files)
    return files[:n]


def record(text: str, kind: str, source: str, licence: str, language: str = "", share: float | None = None) -> dict:
    rec = {"text": text, "kind": kind, "language": language, "source": source, "license": licence}
    if share is not None:
        rec["code_share"] = round(share, 3)
    return rec


# -- code -------------------------------------------------------------------------------------------------
def code_files() -> Iterator[tuple[str, str, Path | tuple[str, str], str]]:
    """(language, licence, path, source prefix) for every code file considered."""
    py = Path("/usr/lib/python3.11")
    for p in _pick(_files(py, ("*.py",), r"/(test|tests|idlelib|lib2to3|site-packages|dist-packages)/"), 90, "py"):
        yield "python", "PSF-2.0", p, "debian:libpython3.11-stdlib"
    for p in _pick(_files(GO_SRC, ("*.go",), r"/(testdata|vendor|cmd)/|_test\.go$"), 90, "go"):
        yield "go", "BSD-3-Clause", p, "debian:golang-1.19-src"
    cfiles = _files(GO_SRC.parent, ("*.c",), r"/testdata/") + _files(Path("/usr/share/doc/postgresql-doc-15"), ("*.c",))
    cfiles += _files(Path("/usr/share/doc/nettle-dev"), ("*.c",))
    for p in _pick(cfiles, 70, "c"):
        yield "c", "BSD-3-Clause" if "go-1.19" in str(p) else ("PostgreSQL" if "postgresql" in str(p) else "LGPL-3.0-or-later"), p, "debian"
    for p in _pick(_files(Path("/usr/include"), ("*.h",), r"/(c\+\+|linux|asm|x86_64|drm|rdma|sound|video|mtd|scsi|python)"), 40, "ch"):
        yield "c", "LGPL-2.1-or-later", p, "debian:libc6-dev"
    cpp = _files(Path("/usr/include/c++/12"), ("*.h", "*.tcc"), r"/(pstl|tr1|ext/pb_ds)/")
    for p in _pick(cpp, 80, "cpp"):
        yield "cpp", "GPL-3.0-or-later WITH GCC-exception-3.1", p, "debian:libstdc++-12-dev"
    for p in _pick(_files(Path("/usr/share/cargo/registry"), ("*.rs",), r"/(tests|benches|examples)/"), 90, "rs"):
        yield "rust", "MIT OR Apache-2.0", p, "debian:librust-*-dev"
    npm = _files(Path("/usr/lib/node_modules/npm"), ("*.js",), r"/(test|tests|dist|docs)/|\.min\.js$")
    for p in _pick(npm, 70, "js"):
        yield "javascript", "Artistic-2.0 (npm), MIT/ISC (its modules)", p, "debian:npm"
    for p in _pick(_files(PY_HTML / "_static", ("*.js",), r"\.min\.js$|jquery|underscore"), 15, "js2"):
        yield "javascript", "BSD-2-Clause (Sphinx)", p, "debian:python3.11-doc"
    sh = _files(GO_SRC.parent, ("*.bash", "*.sh"))
    sh += [p for p in sorted(Path("/usr/lib/git-core").iterdir()) if p.is_file() and _shebang(p, "sh")]
    sh += [p for p in sorted(Path("/usr/bin").iterdir()) if p.is_file() and _shebang(p, "sh")][:200]
    for p in _pick(sh, 90, "sh"):
        lic = "BSD-3-Clause" if "go-1.19" in str(p) else ("GPL-2.0-only" if "git-core" in str(p) else "see /usr/share/doc/<package>/copyright")
        yield "shell", lic, p, "debian"
    sql = _files(Path("/usr/share/postgresql/15"), ("*.sql",)) + _files(Path("/usr/share/doc/postgresql-doc-15/tutorial"), ("*.source",))
    for p in _pick(sql, 90, "sql"):
        yield "sql", "PostgreSQL", p, "debian:postgresql-15"
    java = sorted(Path("/usr/lib/jvm/java-17-openjdk-amd64/lib/src.zip").parent.glob("src.zip"))
    if java:
        with zipfile.ZipFile(java[0]) as z:
            names = sorted(n for n in z.namelist() if n.startswith("java.base/java/") and n.endswith(".java"))
        for n in _pick(names, 90, "java"):
            yield "java", "GPL-2.0-only WITH Classpath-exception-2.0", (str(java[0]), n), "debian:openjdk-17-source"


def _shebang(p: Path, want: str) -> bool:
    try:
        with p.open("rb") as f:
            head = f.read(64)
    except OSError:
        return False
    return head.startswith(b"#!") and re.match(rb"#! ?/(usr/)?bin/(env )?(ba|da)?sh\b", head) is not None


def build_code() -> list[dict]:
    out = []
    for lang, lic, p, prefix in code_files():
        if isinstance(p, tuple):
            with zipfile.ZipFile(p[0]) as z:
                text = z.read(p[1]).decode("utf-8", "replace")
            src = f"{prefix}:{p[1]}"
        else:
            text = _read(p)
            src = f"{prefix}:{p}"
        if not text or "DO NOT EDIT" in text[:400]:
            continue
        for ex in excerpts(text, src, 2):
            out.append(record(ex, "code", src, lic, lang))
    return out


# -- prose and mixed from HTML documentation -------------------------------------------------------------
def _sections(blocks: list[tuple[str, int, str]], target: int) -> list[list[tuple[str, str]]]:
    """Consecutive blocks grouped into sections of about ``target`` characters."""
    secs, cur, size = [], [], 0
    for kind, _lvl, text in blocks:
        cur.append((kind, text))
        size += len(text)
        if size >= target:
            secs.append(cur)
            cur, size = [], 0
    if cur and size >= MIN_CHARS:
        secs.append(cur)
    return secs


def doc_pages() -> Iterator[tuple[Path, str, str, dict]]:
    py_skip = {"headerlink", "sphinxsidebar", "related", "footer", "linenos", "toctree-wrapper"}
    pages = [p for p in PY_HTML.rglob("*.html") if "whatsnew" not in str(p) and p.name not in ("genindex.html", "search.html")]
    for p in _pick(sorted(pages), 160, "pyhtml"):
        yield p, "debian:python3.11-doc", "PSF-2.0", {"skip_classes": py_skip, "root_class": "body"}
    for p in _pick(sorted(PG_HTML.glob("*.html")), 160, "pghtml"):
        yield p, "debian:postgresql-doc-15", "PostgreSQL", {"skip_classes": {"navheader", "navfooter", "toc", "indexterm"}}
    for loc in ("en-US", "fr-FR", "de-DE", "es-ES", "ja-JP", "zh-CN", "ru-RU", "it-IT", "pt-BR"):
        pages = sorted((HB_HTML / loc).glob("*.html"))
        for p in _pick(pages, 25 if loc == "en-US" else 10, "hb" + loc):
            yield p, "debian:debian-handbook", "GPL-2.0-or-later OR CC-BY-SA-3.0", {
                "skip_classes": {"docnav", "indexterm", "toc"}, "skip_ids": {"banner", "title"}}


def build_docs() -> list[dict]:
    """Prose sections (no preformatted block) and mixed ones (15-85% of the characters preformatted)."""
    out = []
    for page, prefix, lic, kw in doc_pages():
        src = f"{prefix}:{page}"
        r = _rng(src)
        try:
            blocks = html_blocks(page, **kw)
        except Exception:  # noqa: BLE001 - a page the parser cannot read is skipped
            continue
        blocks = [b for b in blocks if b[0] != "h" or len(b[2]) > 3]
        for sec in _sections(blocks, r.randint(600, 3000))[:4]:
            text = "\n\n".join(t for _, t in sec)
            if len(text) > MAX_CHARS + 1500:
                continue
            pre = sum(len(t) for k, t in sec if k == "pre")
            share = pre / max(1, sum(len(t) for _, t in sec))
            if share == 0 and len(text) >= MIN_CHARS:
                out.append(record(text, "prose", src, lic))
            elif 0.15 <= share <= 0.85:
                lang = "python" if "python" in prefix else ("sql" if "postgres" in prefix else "shell")
                out.append(record(text, "mixed", src, lic, lang, share))
    return out


def build_markup() -> list[dict]:
    """Raw HTML, XML and SVG sources."""
    out = []
    files = [(p, "debian:python3.11-doc", "PSF-2.0") for p in _pick(sorted(PY_HTML.rglob("*.html")), 40, "mk-py")]
    files += [(p, "debian:postgresql-doc-15", "PostgreSQL") for p in _pick(sorted(PG_HTML.glob("*.html")), 40, "mk-pg")]
    files += [(p, "debian:debian-handbook", "GPL-2.0-or-later OR CC-BY-SA-3.0") for p in _pick(sorted(HB_HTML.rglob("*.html")), 30, "mk-hb")]
    files += [(p, "debian:gobject-introspection (.gir)", "LGPL-2.1-or-later") for p in _pick(_files(Path("/usr/share/gir-1.0"), ("*.gir",)), 20, "mk-gir")]
    files += [(p, "debian:shared-mime-info", "GPL-2.0-or-later") for p in _files(Path("/usr/share/mime/packages"), ("*.xml",))]
    files += [(p, "debian:adwaita-icon-theme", "LGPL-3.0-or-later OR CC-BY-SA-3.0") for p in _pick(_files(Path("/usr/share/icons/Adwaita"), ("*.svg",)), 30, "mk-svg")]
    files += [(p, "debian (XML catalogs and schemas)", "see /usr/share/doc/<package>/copyright") for p in _pick(_files(Path("/usr/share/xml"), ("*.xml", "*.xsd", "*.xsl")), 20, "mk-xml")]
    for p, prefix, lic in files:
        text = _read(p)
        if not text:
            continue
        src = f"{prefix}:{p}"
        for ex in excerpts(text, src, 2 if "mime" not in str(p) else 20):
            out.append(record(ex, "markup", src, lic))
    return out


# -- tables ----------------------------------------------------------------------------------------------
def _dpkg_rows() -> list[list[str]]:
    fmt = "${Package}\t${Version}\t${Architecture}\t${Installed-Size}\t${Section}\t${Priority}\n"
    res = subprocess.run(["dpkg-query", "-W", "-f", fmt], capture_output=True, text=True, check=True)
    return [line.split("\t") for line in res.stdout.splitlines() if line.count("\t") == 5]


def _render(rows: list[list[str]], style: str) -> str:
    if style == "csv":
        return "\n".join(",".join(f'"{c}"' if "," in c else c for c in r) for r in rows)
    if style == "tsv":
        return "\n".join("\t".join(r) for r in rows)
    if style == "semicolon":
        return "\n".join(";".join(r) for r in rows)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    if style == "markdown":
        head = "| " + " | ".join(c.ljust(w) for c, w in zip(rows[0], widths)) + " |"
        sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
        body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows[1:]]
        return "\n".join([head, sep, *body])
    if style == "psql":
        head = " " + " | ".join(c.ljust(w) for c, w in zip(rows[0], widths))
        sep = "-" + "-+-".join("-" * w for w in widths) + "-"
        body = [" " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows[1:]]
        return "\n".join([head, sep, *body, f"({len(rows) - 1} rows)"])
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)  # fixed width


def build_tables() -> list[dict]:
    """Real CSV/TSV files, plus real records (installed packages, time zones) rendered in five table styles."""
    out = []
    real = [(p, "PyPI matplotlib 3.x sample data", "matplotlib licence (PSF-based)") for p in
            _files(Path("/work/main/.venv/lib/python3.11/site-packages/matplotlib/mpl-data/sample_data"), ("*.csv",))]
    real += [(p, "PyPI numpy test data", "BSD-3-Clause") for p in
             _pick(_files(Path("/work/main/.venv/lib/python3.11/site-packages/numpy"), ("*.csv",)), 12, "tb-np")]
    real += [(p, "debian:distro-info-data", "ISC") for p in _files(Path("/usr/share/distro-info"), ("*.csv",))]
    real += [(p, "debian:tzdata", "public-domain") for p in _files(Path("/usr/share/zoneinfo"), ("*.tab",))]
    real += [(p, "debian:golang-1.19-src", "BSD-3-Clause") for p in _files(GO_SRC, ("*.tsv", "*.csv"))]
    for p, prefix, lic in real:
        text = _read(p)
        if not text:
            continue
        src = f"{prefix}:{p}"
        for ex in excerpts(text, src, 4):
            out.append(record(ex, "table", src, lic))
    rows = _dpkg_rows()
    header = ["package", "version", "arch", "installed_kb", "section", "priority"]
    styles = ["csv", "tsv", "markdown", "psql", "fixed", "semicolon"]
    r = _rng("dpkg-tables")
    for i in range(120):
        style = styles[i % len(styles)]
        start = r.randrange(0, max(1, len(rows) - 60))
        cols = sorted(r.sample(range(6), r.randint(3, 6)))
        body = [[row[c] for c in cols] for row in rows[start:start + r.randint(6, 45)]]
        text = _render([[header[c] for c in cols], *body], style)
        out.append(record(text, "table", f"dpkg-query -W (installed packages) as {style} #{i}", "facts (package metadata)"))
    return out


# -- logs ------------------------------------------------------------------------------------------------
def build_logs(synthetic: int = 160) -> list[dict]:
    """This machine's own logs (dpkg, apt, alternatives, PostgreSQL) and seeded synthetic logs of other formats."""
    out = []
    for p in _files(Path("/var/log"), ("*.log",)):
        text = _read(p)
        if not text or len(text) < MIN_CHARS:
            continue
        src = f"local:{p}"
        for ex in excerpts(text, src, 12):
            out.append(record(ex, "log", src, "machine-generated (no copyright)"))
    r = _rng("synthetic-logs")
    for i in range(synthetic):
        out.append(record(synthetic_log(r, i % 7), "log", f"synthetic:gristmill-log-generator:{_STYLES[i % 7]} #{i}", "CC0-1.0"))
    return out


_STYLES = ["syslog", "python-logging", "access-log", "json-lines", "kernel", "log4j", "logfmt"]
_HOSTS = ["web01", "db-primary", "worker-3", "gateway", "build7"]
_SERVICES = ["sshd", "systemd", "cron", "kernel", "nginx", "dockerd", "postfix/smtpd"]
_MSGS = [
    "Accepted publickey for deploy from 10.0.{a}.{b} port {p} ssh2", "Started Session {n} of user root.",
    "connection reset by peer", "Failed password for invalid user admin from 192.0.2.{a} port {p} ssh2",
    "(root) CMD (run-parts /etc/cron.hourly)", "Out of memory: Killed process {n} (python3)",
    "upstream timed out (110: Connection timed out) while reading response header", "Reloading configuration.",
    "disk usage at {a}% on /dev/sda1", "request completed in {n} ms", "retrying in {a} seconds (attempt {b})",
    "cache miss for key user:{n}", "worker {a} exited with status {b}", "listening on 0.0.0.0:{p}",
]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def synthetic_log(r: random.Random, style: int) -> str:
    lines = []
    t = r.randint(1_600_000_000, 1_800_000_000)
    for _ in range(r.randint(5, 40)):
        t += r.randint(0, 90)
        msg = r.choice(_MSGS).format(a=r.randint(1, 254), b=r.randint(1, 9), p=r.randint(1024, 65000), n=r.randint(1, 99999))
        lvl = r.choice(["INFO", "INFO", "INFO", "WARNING", "ERROR", "DEBUG"])
        sec, mi, h, d = t % 60, t // 60 % 60, t // 3600 % 24, t // 86400 % 28 + 1
        mo = t // 2419200 % 12
        if style == 0:  # syslog
            lines.append(f"{_MONTHS[mo]} {d:2d} {h:02d}:{mi:02d}:{sec:02d} {r.choice(_HOSTS)} {r.choice(_SERVICES)}[{r.randint(100, 40000)}]: {msg}")
        elif style == 1:  # Python logging
            lines.append(f"2024-{mo + 1:02d}-{d:02d} {h:02d}:{mi:02d}:{sec:02d},{r.randint(0, 999):03d} {lvl} app.{r.choice(['db', 'api', 'jobs'])}: {msg}")
        elif style == 2:  # combined access log
            path = r.choice(["/", "/index.html", "/api/v1/items?page=2", "/static/app.js", "/login"])
            lines.append(f'203.0.113.{r.randint(1, 254)} - - [{d:02d}/{_MONTHS[mo]}/2024:{h:02d}:{mi:02d}:{sec:02d} +0000] '
                         f'"{r.choice(["GET", "GET", "POST"])} {path} HTTP/1.1" {r.choice([200, 200, 304, 404, 500])} {r.randint(0, 90000)} "-" "Mozilla/5.0"')
        elif style == 3:  # JSON lines
            lines.append(json.dumps({"ts": f"2024-{mo + 1:02d}-{d:02d}T{h:02d}:{mi:02d}:{sec:02d}Z", "level": lvl.lower(), "msg": msg, "req_id": r.randint(1, 10**6)}))
        elif style == 4:  # kernel ring buffer
            lines.append(f"[{(t % 100000) + r.random():12.6f}] {r.choice(['usb 1-1', 'EXT4-fs (sda1)', 'e1000e 0000:00:19.0 eth0', 'audit'])}: {msg}")
        elif style == 5:  # log4j
            lines.append(f"{h:02d}:{mi:02d}:{sec:02d}.{r.randint(0, 999):03d} [{r.choice(['main', 'pool-1-thread-2', 'http-nio-8080-exec-4'])}] {lvl:5s} com.example.{r.choice(['Service', 'Repo'])} - {msg}")
        else:  # Go / systemd journal style with key=value
            lines.append(f'time="2024-{mo + 1:02d}-{d:02d}T{h:02d}:{mi:02d}:{sec:02d}Z" level={lvl.lower()} msg="{msg}" component={r.choice(["raft", "http", "sched"])}')
    return "\n".join(lines)


# -- math ------------------------------------------------------------------------------------------------
def build_math() -> list[dict]:
    """LaTeX sources from texlive-latex-base-doc (the LaTeX and amsmath manuals) and Python's docs sources."""
    out = []
    tex = _files(Path("/usr/share/doc/texlive-doc"), ("*.tex", "*.ltx")) + _files(Path("/usr/share/texlive"), ("*.tex",))
    tex += _files(Path("/root/.pyenv/versions/3.11.7"), ("*.tex",))
    for p in tex:
        text = _read(p)
        if not text or text.count("\\") < 20:
            continue
        src = f"debian:texlive-latex-base-doc:{p}"
        for ex in excerpts(text, src, 6):
            if ex.count("\\") >= 5:
                out.append(record(ex, "math", src, "LPPL-1.3c"))
    return out


def build_prose_extra() -> list[dict]:
    """Plain prose that is not documentation: licence texts and the project sample's books and dictionary."""
    out = []
    for p in sorted(Path("/usr/share/common-licenses").iterdir()):
        text = _read(p) if p.is_file() and not p.is_symlink() else None
        if text:
            src = f"debian:base-files:{p}"
            for ex in excerpts(text, src, 3):
                out.append(record(ex, "prose", src, "LicenseRef-license-text"))
    with gzip.open(ROOT / "data/sample.jsonl.gz", "rt") as f:
        rows = [json.loads(line) for line in f]
    r = _rng("sample-prose")
    for domain, n in (("books", 60), ("reference", 40), ("chat", 20)):
        pool = [x for x in rows if x["domain"] == domain]
        for x in r.sample(pool, min(n, len(pool))):
            out.append(record(x["text"][:MAX_CHARS], "prose", f"gristmill:data/sample.jsonl.gz:{x['id']}", x["license"]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    recs = build_code() + build_docs() + build_markup() + build_tables() + build_logs() + build_math() + build_prose_extra()
    seen: set[str] = set()
    uniq = []
    for rec in recs:
        key = hashlib.sha1(rec["text"].encode()).hexdigest()
        if key not in seen:
            seen.add(key)
            uniq.append(rec)
    for i, rec in enumerate(uniq):
        rec["id"] = f"ck-{i:05d}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(args.out, "wb", mtime=0) as f:
        f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in uniq).encode())
    from collections import Counter

    print(Counter(r["kind"] for r in uniq), Counter(r["language"] for r in uniq if r["kind"] == "code"))
    print(f"{len(uniq)} excerpts -> {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
