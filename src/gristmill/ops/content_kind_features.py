"""Hand-built features of a text's kind (code, prose, LaTeX, table, log, markup), shared by the operator and
its trainer (``bench/content_kind/train.py``).

Every feature is a count over the whole text made by one C-level pass (``str.count``, a regex ``findall``,
``Counter`` over identifiers), divided by the number of characters, lines or tokens: no Python loop over
characters, so the operator keeps up with ``lang_id``.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

KINDS = ("code", "prose", "mixed", "math", "table", "log", "markup")

# distinctive tokens per language (identifiers as the tokenizer cuts them); shared words are fine: the
# fitted weights sort them out
KEYWORDS: dict[str, tuple[str, ...]] = {
    "python": ("def", "self", "elif", "None", "True", "False", "import", "lambda", "yield", "isinstance",
               "kwargs", "args", "raise", "except", "__init__", "print", "len"),
    "go": ("func", "package", "chan", "defer", "go", "nil", "err", "fmt", "struct", "interface", "range",
           "make", "int64", "uint64", "byte", "string"),
    "c": ("include", "define", "ifdef", "ifndef", "endif", "NULL", "sizeof", "typedef", "unsigned", "void",
          "char", "int", "static", "extern", "malloc", "free", "printf", "const"),
    "cpp": ("std", "template", "typename", "namespace", "_GLIBCXX_NOEXCEPT", "noexcept", "constexpr",
            "operator", "public", "private", "virtual", "inline", "bool", "size_type", "__glibcxx_assert"),
    "java": ("public", "private", "protected", "class", "extends", "implements", "new", "final", "throws",
             "boolean", "this", "null", "Override", "synchronized", "String", "param", "return"),
    "javascript": ("function", "var", "let", "const", "require", "module", "exports", "async", "await",
                   "undefined", "this", "null", "console", "prototype", "then", "document"),
    "shell": ("then", "fi", "esac", "done", "do", "echo", "exit", "elif", "local", "export", "shift", "set",
              "test", "dev", "null", "grep", "sed"),
    "sql": ("SELECT", "FROM", "WHERE", "CREATE", "TABLE", "INSERT", "INTO", "VALUES", "FUNCTION", "RETURNS",
            "LANGUAGE", "AS", "AND", "NOT", "NULL", "BEGIN", "END", "select", "from", "where", "create",
            "text", "integer"),
    "rust": ("fn", "let", "mut", "impl", "pub", "use", "crate", "mod", "match", "Some", "Ok", "Err", "Self",
             "u8", "usize", "where", "unsafe", "trait"),
}
VOCAB = tuple(sorted({w for ws in KEYWORDS.values() for w in ws}))
_VOCAB_INDEX = {w: i for i, w in enumerate(VOCAB)}
LANGUAGES = tuple(KEYWORDS)

PUNCT = "{}()[];:=<>+-*/\\%$#@&|^~!?\"'`,._\t"
_PUNCT_CODES = np.array([ord(c) for c in PUNCT])
_LETTER_CODES = np.r_[65:91, 97:123]
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TIMESTAMP = re.compile(
    r"^\W{0,2}(?:\d{4}-\d\d-\d\d[ T]\d\d:\d\d|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d\d:\d\d:\d\d[.,]\d"
    r"|\d+\.\d+\.\d+\.\d+ - |\[\s*\d+\.\d{3,}\]|time=\"?\d{4}-)",
    re.M,
)
_TIMESTAMP_ANY = re.compile(r"\d\d:\d\d:\d\d")
_LEVEL = re.compile(r"\b(?:INFO|WARN|WARNING|ERROR|DEBUG|TRACE|FATAL|CRITICAL|NOTICE|info|warn|error|debug)\b")
_TEX_CMD = re.compile(r"\\[A-Za-z@]+")
_TEX_ENV = re.compile(r"\\(?:begin|end)\{")
_MATH_DOLLAR = re.compile(r"\$[^$\n]{1,80}\$")
_TAG = re.compile(r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(?:#\d+|[a-z]+);")
_CODE_LINE_END = re.compile(r"[;{}):,\]]\s*$|^\s*[{}]\s*$", re.M)
_INDENTED = re.compile(r"^(?:    |\t)\S", re.M)
_PROSE_LINE = re.compile(r"[a-z]{2,}[.!?][\"')]?\s*$|[\u3002\uff01\uff1f]\s*$", re.M)
_SENTENCE = re.compile(r"[a-z]{2}[.!?] [A-Z]")
_COMMENT_START = re.compile(r"^\s*(?:#|//|/\*|\*|--|%)", re.M)
_ASSIGN = re.compile(r"\w\s*(?:=|:=|\+=|->|=>|==|!=)\s*[\w\"'(\[{-]")
_CALL = re.compile(r"\w\(")


def _delimiter_consistency(lines: list[str], ch: str) -> float:
    """Share of non-blank lines whose count of ``ch`` equals the commonest non-zero count (tables: ~1)."""
    counts = [ln.count(ch) for ln in lines]
    nonzero = [c for c in counts if c]
    if len(nonzero) < 2:
        return 0.0
    mode = Counter(nonzero).most_common(1)[0][0]
    return sum(1 for c in counts if c == mode) / len(counts)


def feature_names() -> list[str]:
    names = [f"punct_{ord(c)}" for c in PUNCT]
    names += ["letters", "digits", "spaces", "upper", "non_ascii", "log_chars", "mean_line_len", "blank_lines",
              "indented", "code_line_end", "prose_line_end", "sentences", "comment_start", "assign", "call",
              "timestamp_lines", "timestamp_any", "level", "tex_cmd", "tex_env", "math_dollar", "tags",
              "tag_chars", "entities", "delim_comma", "delim_tab", "delim_pipe", "delim_semicolon",
              "delim_spaces2", "keyword_share", "ident_share", "code_share", "code_share_mid"]
    names += [f"kw_{w}" for w in VOCAB]
    names += [f"lang_{lang}" for lang in LANGUAGES]
    return names


_CODE_LINE = re.compile(
    r"^(?![^\n]*[a-z]{2,}[.!?][\"')]?[ \t]*$)"  # not a line ending like a sentence
    r"(?:[ \t]+\S|[#$<]|[^\n]*(?:[;{}):,\]][ \t]*$|\w\(|\w[ \t]*(?:=|:=|\+=|->|=>)[ \t]*\S))[^\n]*",
    re.M,
)


def code_share(text: str, nonblank_chars: int) -> float:
    """Share of the non-blank lines' characters on lines that look like code.

    A line looks like code when it is indented, starts with ``#``, ``$`` or ``<``, or ends like a statement
    or a block (``;``, ``{``, ``}``, ``)``, ``:``...), calls or assigns something, and does not end like a
    sentence. One regex pass over the text.
    """
    if not nonblank_chars:
        return 0.0
    return min(1.0, sum(len(m.strip()) for m in _CODE_LINE.findall(text)) / nonblank_chars)


def features(text: str, max_chars: int = 8000) -> np.ndarray:
    """The feature vector of one text (its first ``max_chars`` characters)."""
    t = text[:max_chars]
    n = max(len(t), 1)
    lines = [ln for ln in t.split("\n") if ln.strip()]
    nl = max(len(lines), 1)
    cp = np.frombuffer(t.encode("utf-32-le", "surrogatepass"), np.uint32)
    ascii_counts = np.bincount(np.minimum(cp, 128), minlength=129)  # one pass for every ASCII class
    out = list(ascii_counts[_PUNCT_CODES] / n)
    idents = _IDENT.findall(t)
    ni = max(len(idents), 1)
    tags = _TAG.findall(t)
    cs = code_share(t, sum(len(ln.strip()) for ln in lines))
    out += [
        (ascii_counts[_LETTER_CODES].sum() + ascii_counts[128]) / n,  # non-ASCII counted as letters
        ascii_counts[48:58].sum() / n,
        ascii_counts[32] / n,
        ascii_counts[65:91].sum() / n,
        ascii_counts[128] / n,
        math.log1p(len(t)) / 10,
        min(sum(map(len, lines)) / nl / 100, 3.0),
        t.count("\n\n") / max(t.count("\n"), 1),
        len(_INDENTED.findall(t)) / nl,
        len(_CODE_LINE_END.findall(t)) / nl,
        len(_PROSE_LINE.findall(t)) / nl,
        len(_SENTENCE.findall(t)) / nl,
        len(_COMMENT_START.findall(t)) / nl,
        len(_ASSIGN.findall(t)) / nl,
        len(_CALL.findall(t)) / nl,
        len(_TIMESTAMP.findall(t)) / nl,
        min(len(_TIMESTAMP_ANY.findall(t)) / nl, 2.0),
        min(len(_LEVEL.findall(t)) / nl, 2.0),
        len(_TEX_CMD.findall(t)) / ni,
        min(len(_TEX_ENV.findall(t)) / nl, 2.0),
        min(len(_MATH_DOLLAR.findall(t)) / nl, 2.0),
        min(len(tags) / nl, 5.0),
        sum(map(len, tags)) / n,
        len(_ENTITY.findall(t)) / n * 10,
        _delimiter_consistency(lines, ","),
        _delimiter_consistency(lines, "\t"),
        _delimiter_consistency(lines, "|"),
        _delimiter_consistency(lines, ";"),
        sum(1 for ln in lines if "  " in ln.strip()) / nl,
    ]
    counts = Counter(idents)
    kw = np.zeros(len(VOCAB))
    for w, c in counts.items():
        i = _VOCAB_INDEX.get(w)
        if i is not None:
            kw[i] = c
    out += [kw.sum() / ni, len(idents) / n * 5, cs, cs * (1 - cs) * 4]
    kw_share = np.sqrt(kw / ni)
    lang = [sum(kw[_VOCAB_INDEX[w]] for w in ws) / ni for ws in KEYWORDS.values()]
    return np.concatenate([np.asarray(out, np.float64), kw_share, np.sqrt(np.asarray(lang))])
