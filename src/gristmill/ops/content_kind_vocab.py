"""The definitions ``content_kind``'s features share: kinds, languages, keywords, the characters counted.

Both the batch feature code (``content_kind_features``, what the operator runs) and its one-document
reference (``content_kind_reference``, what the tests compare it with) read these, so the two cannot drift.
"""

from __future__ import annotations

KINDS = ("code", "prose", "mixed", "math", "table", "log", "markup")

# distinctive tokens per language (a token is a run of ASCII letters, digits, ``_`` and non-ASCII bytes);
# shared words are fine: the fitted weights sort them out. At most 16 bytes each (the batch code compares
# a token's first and last 8 bytes).
KEYWORDS: dict[str, tuple[str, ...]] = {
    "python": ("def", "self", "elif", "None", "True", "False", "import", "lambda", "yield", "isinstance",
               "kwargs", "args", "raise", "except", "__init__", "print", "len"),
    "go": ("func", "package", "chan", "defer", "go", "nil", "err", "fmt", "struct", "interface", "range",
           "make", "int64", "uint64", "byte", "string"),
    "c": ("include", "define", "ifdef", "ifndef", "endif", "NULL", "sizeof", "typedef", "unsigned", "void",
          "char", "int", "static", "extern", "malloc", "free", "printf", "const"),
    "cpp": ("std", "template", "typename", "namespace", "noexcept", "constexpr", "operator", "public",
            "private", "virtual", "inline", "bool", "size_type", "__glibcxx_assert"),
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
LANGUAGES = tuple(KEYWORDS)
VOCAB = tuple(sorted({w for ws in KEYWORDS.values() for w in ws}))
LEVEL_WORDS = ("INFO", "WARN", "WARNING", "ERROR", "DEBUG", "TRACE", "FATAL", "CRITICAL", "NOTICE",
               "info", "warn", "error", "debug")

PUNCT = "{}()[];:=<>+-*/\\%$#@&|^~!?\"'`,._\t"  # each counted per character
CODE_LINE_END = b";{}):,]"  # a line whose last non-blank byte is one of these ends like a statement
COMMENT_START = (b"#", b"*", b"%", b"//", b"/*", b"--")
SENTENCE_STOPS_CJK = ("\u3002".encode(), "\uff01".encode(), "\uff1f".encode())
DELIMITERS = (b",", b"\t", b"|", b";")  # table columns: same count on every line
STAMP_WINDOW = 32  # a log line has a date or time starting in its first STAMP_WINDOW bytes
MAX_WORD = 16

if max(map(len, VOCAB)) > MAX_WORD:
    raise RuntimeError(f"content_kind keywords must be at most {MAX_WORD} bytes")


def feature_names() -> list[str]:
    """Column names of the feature matrix, in order (``model.json`` stores them to catch a mismatch)."""
    names = [f"punct_{ord(c)}" for c in PUNCT]
    names += ["letters", "digits", "spaces", "upper", "non_ascii", "log_chars", "mean_line_len", "blank_lines",
              "indented", "code_line_end", "prose_line_end", "sentences", "comment_start", "assign", "call",
              "timestamp_lines", "timestamp_any", "level", "tex_cmd", "tex_env", "math_dollar", "tags",
              "tag_chars", "entities", "delim_comma", "delim_tab", "delim_pipe", "delim_semicolon",
              "delim_spaces2", "keyword_share", "ident_share", "code_share", "code_share_mid", "prose_chars",
              "code_runs", "code_blocks", "code_longest", "code_and_prose"]
    names += [f"kw_{w}" for w in VOCAB]
    names += [f"lang_{lang}" for lang in LANGUAGES]
    return names
