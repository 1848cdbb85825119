"""A fast word splitter that reproduces the word boundaries datatrove's quality filters see.

datatrove splits English text with spaCy's rule-based tokenizer (``spacy.blank("en")``): whitespace first,
then punctuation peeled off the front and back of each chunk, then infixes (hyphens between letters, a
period between a lower- and an upper-case letter...), plus a table of exceptions (contractions such as
``don't`` -> ``do`` + ``n't``, abbreviations such as ``Mr.``). The thresholds of Gopher and FineWeb were
tuned on such tokens (punctuation marks count as words), so a plain ``str.split`` would move every ratio.

This module implements the same *kind* of rules in our own code, without spaCy: a per-chunk cache makes a
repeated chunk cost one dict lookup, which is what makes it fast. It is an approximation of spaCy's output,
measured against it in ``bench/parity_datatrove`` (decision agreement, not token identity, is the goal).

Languages without spaces: a run of Han characters is split into one token per character and a run of kana
(hiragana or katakana) into one token per run; this is a documented stand-in for a real segmenter (spaCy
uses jieba / SudachiPy there), good for counting and n-grams, not for linguistics. Hangul, Thai and other
scripts are split on spaces and punctuation only.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import chain

import numpy as np
import regex

# -- character classes (our own grouping; the same families spaCy's English rules use) ----------------------
_PUNCT = "…,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪"
_QUOTES = "'\"”“`‘´’‚,„»«「」『』（）〔〕【】《》〈〉〈〉⟦⟧"
_CURRENCY = "$£€¥฿₽﷼₴₠₡₢₣₤₥₦₧₨₩₪₫₭₮₯₰₱₲₳₵₶₷₸₹₺₻₼₾₿"
_PREFIX_ONLY = "§%=—–"
_UNITS = ["km", "km²", "km³", "m", "m²", "m³", "dm", "dm²", "dm³", "cm", "cm²", "cm³", "mm", "mm²", "mm³", "ha", "µm", "nm", "yd", "in", "ft", "kg", "g", "mg", "µg", "t", "lb", "oz", "m/s", "km/h", "kmh", "mph", "hPa", "Pa", "mbar", "mb", "MB", "kb", "KB", "gb", "GB", "tb", "TB", "T", "G", "M", "K", "%"]
_ICON = r"\p{So}"  # other symbols (emoji, dingbats, box drawing): split off like punctuation

_pc = re.escape(_PUNCT + _QUOTES)
_qc = re.escape(_QUOTES)
_L = r"\p{Ll}\p{Lo}"  # lower-case or uncased letters (Arabic, Hebrew, CJK...), as spaCy's ALPHA_LOWER
_U = r"\p{Lu}\p{Lo}"  # upper-case or uncased letters
_A = r"\p{L}"
_PREFIX = regex.compile(
    rf"^(?:\.\.+|…|\+(?![0-9])|US\$|C\$|A\$|[{_pc}{re.escape(_CURRENCY + _PREFIX_ONLY)}{_ICON}])"
)
_units_alt = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_cur_alt = "|".join(["US\\$", "C\\$", "A\\$"] + [re.escape(c) for c in _CURRENCY])
# suffix alternatives, tried in the order listed (first match wins, as spaCy's alternation does)
_SUFFIX = regex.compile(
    rf"(?:\.\.+|…|'s|'S|’s|’S|[{_pc}{_ICON}—–]"
    rf"|(?<=[0-9])\+|(?<=°[FfCcKk])\.|(?<=[0-9])(?:{_cur_alt})|(?<=[0-9])(?:{_units_alt})"
    rf"|(?<=[0-9{_L}%²+\-{_pc}|])\.|(?<=[{_U}][{_U}])\.)$"  # '|' too: spaCy's class contains it
)
_INFIX = regex.compile(
    rf"\.\.+|…|[{_ICON}]|(?<=[0-9])[+\-*^](?=[0-9-])"
    rf"|(?<=[{_L}{_qc}])\.(?=[{_U}{_qc}])"
    rf"|(?<=[{_A}]),(?=[{_A}])"
    rf"|(?<=[{_A}0-9])(?:---|--|——|[-–—~])(?=[{_A}])"
    rf"|(?<=[{_A}0-9])[:<>=/](?=[{_A}])"
)
_URL = regex.compile(
    r"^(?:(?:[\w+\-.]{2,})://)?(?:\S+(?::\S*)?@)?"
    r"(?:(?:[A-Za-z0-9\u00a1-\uffff][A-Za-z0-9\u00a1-\uffff_-]{0,62})?[A-Za-z0-9\u00a1-\uffff]\.)+"
    r"[a-z\u00a1-\uffff]{2,63}(?::\d{2,5})?(?:[/?#]\S*)?$"
)
# specials made of affix characters: after splitting, adjacent pieces that spell one of these are merged
# again (emoticons, doubled quotes), as spaCy's special-case matcher does
_MERGE = set(
    ["''", "):", "(:", "(=", "=)", "=(", ")=", "[:", ":]", "[=", "=]", "]=", ":(", ":)", ":-)", ":-(", ";)", ";-)", ":/", ":-/", ":|", ":-|", ":>", ":->", ":}", ":-}", ":]", ":-]", ":*", ":-*", "(-:", ")-:", "(-;", "(;", "(-8", "8)", "8-)", "<3", "</3", "=/", "=|", "=[", ":((", ":))", ":(((", ":)))", ":-((", ":-))", ":()", ":o)", "[-:", "[="]
)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]|[\u3040-\u309f]+|[\u30a0-\u30ffー]+")


def _build_exceptions() -> dict[str, tuple[str, ...]]:
    """Contractions and abbreviations that are one chunk but two words (or one word with a period)."""
    ex: dict[str, tuple[str, ...]] = {}

    def add(parts: tuple[str, ...]) -> None:
        # the form with each apostrophe style, with no apostrophe, and capitalised
        for apo in ("'", "’", ""):
            ps = tuple(p.replace("'", apo) for p in parts)
            for form in (ps, (ps[0][:1].upper() + ps[0][1:],) + ps[1:]):
                key = "".join(form)
                if apo == "" and key.lower() in _NO_BARE:
                    continue
                ex.setdefault(key, form)

    pronouns = ["i", "you", "he", "she", "it", "we", "they", "that", "this", "these", "those", "there",
                "who", "what", "when", "where", "why", "how"]
    for p in pronouns:
        for suf in ("'ll", "'d", "'ve", "'re", "'m", "'ll've", "'d've"):
            if suf == "'m" and p != "i":
                continue
            if suf == "'re" and p in ("i", "he", "she", "it", "that", "this"):
                continue
            if suf in ("'ll've", "'d've"):
                add((p, suf[:-3], "'ve"))
            else:
                add((p, suf))
    for p in ("he", "she", "that", "this", "there", "what", "when", "where", "who", "why", "how"):
        add((p, "'s"))
    for p in ("i", "you", "we", "they", "should", "could", "would", "might", "must"):
        add((p, "'ve"))
    neg = {"ca": "n't", "wo": "n't", "ai": "n't", "do": "n't", "does": "n't", "did": "n't", "is": "n't",
           "are": "n't", "was": "n't", "were": "n't", "have": "n't", "has": "n't", "had": "n't", "could": "n't",
           "should": "n't", "would": "n't", "might": "n't", "must": "n't", "need": "n't", "may": "n't",
           "ought": "n't", "sha": "n't", "dare": "n't"}
    for base, suf in neg.items():
        add((base, suf))
        add((base, suf, "'ve"))
    for w, parts in {"cannot": ("can", "not"), "gonna": ("gon", "na"), "gotta": ("got", "ta"),
                     "wanna": ("wan", "na"), "lemme": ("lem", "me"), "y'all": ("y'", "all")}.items():
        ex.setdefault(w, parts)
        ex.setdefault(w.capitalize(), (parts[0].capitalize(),) + parts[1:])
    for abbr in _ABBREVIATIONS.split():
        ex[abbr] = (abbr,)
    for c in "abcdefghijklmnopqrstuvwxyzäöü":
        ex[c + "."] = (c + ".",)
    for h in range(1, 13):
        for ap in ("a.m.", "p.m."):
            ex[f"{h}{ap}"] = (str(h), ap)
        for ap in ("am", "pm"):
            ex[f"{h}{ap}"] = (str(h), ap)
    return ex


# bare (apostrophe-less) forms that are ordinary English words and must stay whole
_NO_BARE = {"ill", "well", "its", "shed", "whore", "were", "hell", "shell"}
_ABBREVIATIONS = (
    "Mr. Mrs. Ms. Dr. Prof. St. Mt. Jr. Sr. Rev. Gen. Gov. Sen. Rep. Adm. Inc. Ltd. Co. co. Corp. Bros. "
    "Jan. Feb. Mar. Apr. Jun. Jul. Aug. Sep. Sept. Oct. Nov. Dec. e.g. i.e. E.g. I.e. E.G. I.E. vs. v.s. "
    "a.m. p.m. Ph.D. D.C. N.Y. N.J. N.C. N.D. N.H. N.M. S.C. Ala. Ariz. Ark. Calif. Colo. Conn. Del. Fla. "
    "Ga. Ia. Id. Ill. Ind. Kan. Kans. Ky. La. Mass. Md. Mich. Minn. Miss. Mo. Mont. Neb. Nebr. Nev. Okla. "
    "Ore. Pa. Tenn. Va. Wash. Wis. Messrs. and/or C++ w/o 'em"
)
_EXCEPTIONS = _build_exceptions()
_CACHE: dict[str, tuple[str, ...]] = {}
_NEW: list[list[str]] = []  # while recording (a run's worker): the chunks split since take_new_chunks()
_WARM: list[str | None] = [None]  # the key of the table the caches hold (preload), None: anything
_CACHE_MAX = 2_000_000


_DIGITS = frozenset("0123456789")
_POSSESSIVE = frozenset(["'s", "'S", "’s", "’S"])
_SUFFIX_WINDOW = 8  # longer than any suffix alternative but a run of periods


def _suffix_len(t: str) -> int:
    """The length of the suffix that ``_SUFFIX`` peels off ``t`` (0 for none), searching only where one can
    be: a suffix ending in a letter is a possessive or a unit after a digit, none ends in an ASCII digit, and
    only a run of periods is longer than the window (a match at the window's start is searched again whole)."""
    if not t:
        return 0
    last = t[-1]
    if last in _DIGITS:
        return 0
    n = len(t)
    if last.isalpha():
        if t[-2:] in _POSSESSIVE:
            return 2
        if not any(ch in _DIGITS for ch in t):
            return 0
    pos = max(0, n - _SUFFIX_WINDOW)
    m = _SUFFIX.search(t, pos)
    if m is not None and pos and m.start() == pos:
        m = _SUFFIX.search(t)
    return n - m.start() if m else 0


def _split_chunk(chunk: str) -> tuple[str, ...]:
    """Split one whitespace-free chunk: exceptions, then prefixes/suffixes, then infixes."""
    ex = _EXCEPTIONS
    if chunk in ex:
        return ex[chunk]
    prefixes: list[str] = []
    suffixes: list[str] = []
    s = chunk
    special: tuple[str, ...] | None = None
    last = -1
    while s and len(s) != last:
        if s in ex:
            special = ex[s]
            break
        last = len(s)
        m = _PREFIX.search(s)
        pre = m.end() if m else 0
        if pre and s[pre:] in ex:
            prefixes.append(s[:pre])
            s = s[pre:]
            special = ex[s]
            break
        suf = _suffix_len(s[pre:])
        if suf and s[:-suf] in ex:
            suffixes.append(s[-suf:])
            s = s[:-suf]
            special = ex[s]
            break
        if pre and suf and pre + suf <= len(s):
            prefixes.append(s[:pre])
            suffixes.append(s[-suf:])
            s = s[pre:-suf]
        elif pre:
            prefixes.append(s[:pre])
            s = s[pre:]
        elif suf:
            suffixes.append(s[-suf:])
            s = s[:-suf]
    out = prefixes
    if special is not None:
        out.extend(special)
    elif s:
        if _URL.match(s):
            out.append(s)
        else:
            start = 0
            for m in _INFIX.finditer(s):
                a, b = m.start(), m.end()
                if a == 0 or a == b:
                    continue
                out.append(s[start:a])
                out.append(s[a:b])
                start = b
            if start < len(s):
                out.append(s[start:])
    out.extend(reversed(suffixes))
    if len(out) > 1:
        out = _merge_specials(out)
    return tuple(out)


def _merge_specials(pieces: list[str]) -> list[str]:
    """Re-join adjacent pieces that spell an emoticon-like special or a letter abbreviation (``t.``)."""
    out: list[str] = []
    i = 0
    n = len(pieces)
    while i < n:
        if i + 2 < n and pieces[i] + pieces[i + 1] + pieces[i + 2] in _MERGE:
            out.append(pieces[i] + pieces[i + 1] + pieces[i + 2])
            i += 3
            continue
        if i + 1 < n:
            pair = pieces[i] + pieces[i + 1]
            if pair in _MERGE or (pieces[i + 1] == "." and pair in _EXCEPTIONS and _EXCEPTIONS[pair] == (pair,)):
                out.append(pair)
                i += 2
                continue
        out.append(pieces[i])
        i += 1
    return out


def _single_affixes() -> tuple[frozenset[str], frozenset[str]]:
    """Characters that ``_PREFIX`` / ``_SUFFIX`` peel off alone, whatever is next to them (read from the
    patterns themselves, so the fast path below follows them when they change). A period is left out (after
    some letters it is no suffix, see :func:`_affixed`), and so is '+' (a prefix only before a non-digit)."""
    cands = set(_PUNCT + _QUOTES + _CURRENCY + _PREFIX_ONLY + "—–…-'’")
    pre = {c for c in cands if (m := _PREFIX.match(c + "x")) and m.end() == 1 and c != "+"}
    suf = {c for c in cands if (m := _SUFFIX.search("x" + c)) and m.start() == 1}
    return frozenset(pre), frozenset(suf)


_AFFIX_PRE, _AFFIX_SUF = _single_affixes()
_DOT_AFTER = frozenset(_PUNCT + _QUOTES + "%²+-|")  # non-letters after which '.' is a suffix (see _SUFFIX)
_LOWER_OR_UNCASED = frozenset(("Ll", "Lo"))
_UPPER_OR_UNCASED = frozenset(("Lu", "Lo"))


def _cat_in(ch: str, cats: frozenset[str]) -> bool:
    if ch.isascii():
        return ch.islower() if "Ll" in cats else ch.isupper()
    return unicodedata.category(ch) in cats


def _affixed(chunk: str) -> tuple[str, ...] | None:
    """The tokens of a word with punctuation around it, ``"(word),"``, ``word's.``, ``{well-known}.``, as the
    rule-based path cuts it, without its regular expressions; None for any other shape.

    The core must be letters (any script but Han and kana) joined by single hyphens or apostrophes, with
    letters on both sides of each: then no infix but the hyphen, no URL and no suffix but a possessive
    applies to it. Around it, characters that the prefix and suffix patterns peel off one at a time, and
    periods where the suffix pattern takes them (after a lower-case or uncased letter, two upper-case ones,
    or punctuation; never a run of them). No string the rule path would look up among the exceptions on
    the way (every prefix-and-suffix-trimmed form) may be one; the pieces are then merged as it merges them.
    Checked equal to :func:`_split_chunk` on every distinct chunk of the bench corpus and on generated ones
    (tests/ops/test_wordsplit.py)."""
    n = len(chunk)
    pre, suf = _AFFIX_PRE, _AFFIX_SUF
    i = 0
    while i < n and chunk[i] in pre:
        i += 1
    j = n
    tail: list[str] = []
    while j > i:
        c = chunk[j - 1]
        if c in suf:
            tail.append(c)
            j -= 1
        elif c == ".":
            if j - 2 < i:
                return None
            b = chunk[j - 2]
            if b.isalpha():
                if not (_cat_in(b, _LOWER_OR_UNCASED)
                        or (j - 3 >= i and _cat_in(b, _UPPER_OR_UNCASED) and _cat_in(chunk[j - 3], _UPPER_OR_UNCASED))):
                    return None
            elif b not in _DOT_AFTER:  # a run of periods, a digit, a symbol...
                return None
            tail.append(".")
            j -= 1
        else:
            break
    while j - i > 2 and chunk[j - 2 : j] in _POSSESSIVE:
        tail.append(chunk[j - 2 : j])
        j -= 2
    core = chunk[i:j]
    if not core or not (core[0].isalpha() and core[-1].isalpha()):
        return None
    if core in ("s", "S") and i and chunk[i - 1] in "'’":  # the rules peel "'s" as one suffix
        return None
    if not core.isalpha():
        bare = core.replace("-", "").replace("'", "").replace("’", "")
        if not bare.isalpha() or "--" in core or any(
                not (core[k - 1].isalpha() and core[k + 1].isalpha()) for k, ch in enumerate(core) if not ch.isalpha()):
            return None
    if not core.isascii() and _CJK.search(chunk):
        return None
    ex = _EXCEPTIONS
    for a in range(i + 1):
        for b in range(j, n + 1):
            if chunk[a:b] in ex:
                return None
    out = list(chunk[:i])
    if "-" in core:
        parts = core.split("-")
        out.append(parts[0])
        for p in parts[1:]:
            out += ("-", p)
    else:
        out.append(core)
    out.extend(reversed(tail))
    return tuple(_merge_specials(out)) if len(out) > 1 else (core,)


def _plain_letters(w: str) -> bool:
    """Letters only, in any script but Han and kana (which split per character or run): no affix, infix or
    URL rule matches a string without digits, punctuation or symbols, so such a word is one token."""
    return w.isalpha() and w not in _EXCEPTIONS and (w.isascii() or not _CJK.search(w))


def _chunk_tokens(chunk: str) -> tuple[str, ...]:
    """Tokens of one whitespace-free chunk (not cached here)."""
    if _NEW:
        _NEW[0].append(chunk)
    if _plain_letters(chunk):  # a word, with accents or in another alphabet (Cyrillic, Greek, Arabic...) too
        return (chunk,)
    fast = _affixed(chunk)  # a word with punctuation around it: '(word),' 'word.' "word's" 'well-known'
    if fast is not None:
        return fast
    if _CJK.search(chunk):
        return tuple(t for part in _split_chunk(chunk) for t in _split_cjk(part))
    return _split_chunk(chunk)


def split_words(text: str) -> list[str]:
    """Words of ``text`` as datatrove's English tokenizer would cut them (punctuation marks included)."""
    cache = _CACHE
    if len(cache) > _CACHE_MAX:
        cache.clear()
    chunks = text.split()
    parts = list(map(cache.get, chunks))  # one C-level pass; misses are None
    if None in parts:
        for i, p in enumerate(parts):
            if p is None:
                c = chunks[i]
                p = cache.get(c)  # a chunk seen earlier in this same text
                if p is None:
                    p = cache[c] = _chunk_tokens(c)
                parts[i] = p
    return list(chain.from_iterable(parts))


# -- token ids: a process-wide vocabulary, so per-token facts are computed once per distinct token ----------
_VOCAB: dict[str, int] = {}
_TOKENS: list[str] = []
_ID_CACHE: dict[str, tuple[int, ...]] = {}
_VOCAB_MAX = 3_000_000


def _chunk_ids(chunk: str) -> tuple[int, ...]:
    vocab, tokens = _VOCAB, _TOKENS
    out = []
    split = _CACHE.get(chunk)  # split already: by split_words, or in a preloaded table
    for t in split if split is not None else _chunk_tokens(chunk):
        i = vocab.get(t)
        if i is None:
            i = vocab[t] = len(tokens)
            tokens.append(t)
        out.append(i)
    ids = _ID_CACHE[chunk] = tuple(out)
    return ids


def split_word_ids(text: str) -> np.ndarray:
    """The words of ``split_words(text)`` as ids into the process vocabulary (``token_text``/``token_props``).

    Ids are stable until ``reset_vocab_if_large`` clears the vocabulary, which the ``word_ids`` view calls
    only before it starts a batch, so every id of a batch's views stays valid while the batch is processed.
    """
    cache = _ID_CACHE
    chunks = text.split()
    parts = list(map(cache.get, chunks))
    if None in parts:
        for i, p in enumerate(parts):
            if p is None:
                c = chunks[i]
                p = cache.get(c)
                parts[i] = p if p is not None else _chunk_ids(c)
    return np.fromiter(chain.from_iterable(parts), np.int64)


def record_new_chunks(warm: str | None = None) -> None:
    """From now on, remember the chunks this process splits, for :func:`take_new_chunks`. The caches are
    emptied first unless they hold exactly the table preloaded as ``warm`` (see :func:`preload`): then
    every chunk met is either in that table or recorded."""
    if warm is None or _WARM[0] != warm:
        _clear_caches()
    _NEW[:] = [[]]


def _clear_caches(chunks: bool = True) -> None:
    """Forget the vocabulary and the ids; with ``chunks`` also the split chunks (their text is kept otherwise)."""
    if chunks:
        _CACHE.clear()
    _VOCAB.clear()
    _TOKENS.clear()
    _ID_CACHE.clear()
    _PROPS.clear()
    _PROPS_N[0] = 0
    _WARM[0] = None


def take_new_chunks() -> list[str]:
    """The chunks this process split since the last call while recording (a chunk may appear twice: once
    per cache), for the word table a version keeps (``engine/word_table.py``)."""
    if not _NEW:
        return []
    out, _NEW[0] = _NEW[0], []
    return out


def chunk_tokens(chunk: str) -> tuple[str, ...]:
    """The tokens of one whitespace-free chunk, from the cache when it holds them."""
    ids = _ID_CACHE.get(chunk)
    if ids is not None:
        return tuple(_TOKENS[i] for i in ids)
    got = _CACHE.get(chunk)
    return got if got is not None else _chunk_tokens(chunk)


def preload(table: dict[str, tuple[str, ...]], key: str) -> int:
    """Fill the chunk cache with ``table`` alone (chunks split earlier by this splitter), so that this
    process and the processes forked from it find them split; ``key`` names the table for
    :func:`record_new_chunks`. Returns how many chunks (0: too many for the cache).

    Token ids and per-token properties are not built here: each process gives ids to the chunks it meets
    (from this cache, without splitting), often a small part of the table in an incremental run; building
    them for all ~10^5 chunks took the driver ~0.35 s before it could start its workers."""
    _clear_caches()
    if len(table) > _CACHE_MAX:
        return 0
    _CACHE.update(table)
    _WARM[0] = key
    return len(table)


def reset_vocab_if_large() -> None:
    """Bound memory in long runs: forget the vocabulary once it holds more than ``_VOCAB_MAX`` tokens."""
    if len(_TOKENS) > _VOCAB_MAX or len(_ID_CACHE) > _CACHE_MAX:
        _clear_caches(chunks=False)


def word_id(token: str) -> int | None:
    """The id of a token in the process vocabulary, or None when no text seen so far contained it."""
    return _VOCAB.get(token)


def token_text(ids: np.ndarray) -> list[str]:
    """The token strings of an id array."""
    tokens = _TOKENS
    return [tokens[i] for i in ids.tolist()]


_PROPS: dict[str, np.ndarray] = {}  # capacity-doubling buffers; the first len(_TOKENS) entries are valid
_PROPS_N = [0]


def token_props() -> dict[str, np.ndarray]:
    """Per token id: ``length``, ``symbol`` (only Gopher punctuation), ``alpha`` (has a letter), ``hash``,
    ``term`` (a sentence terminal) and ``punct`` (only Unicode punctuation), for the sentence counter.

    Extended incrementally for tokens added since the last call; indexing these arrays with a batch's
    concatenated ids replaces a Python loop over every token of every document.
    """
    from gristmill.ops.textstats import is_punct_token, punctuation_set, terminal_punctuation

    have = _PROPS_N[0] if _PROPS else 0
    n = len(_TOKENS)
    if have < n or not _PROPS:  # (also before any token was seen: empty tables, not a KeyError)
        new = _TOKENS[have:n]
        k = len(new)
        sym = punctuation_set()
        length = np.fromiter(map(len, new), np.int64, k)
        # a token of letters only (most are) is alpha, and neither a symbol, a terminal nor punctuation (no
        # letter is in those sets), so the per-character tests below run on the other tokens alone
        word = np.fromiter(map(str.isalpha, new), bool, k) if not any(map(str.isalpha, sym)) else np.zeros(k, bool)
        other = np.flatnonzero(~word)
        rest = [new[i] for i in other.tolist()]
        n_rest = len(rest)
        symbol = np.zeros(k, bool)
        symbol[other] = np.fromiter((all(ch in sym for ch in t) for t in rest), bool, n_rest)
        alpha = word.copy()
        alpha[other] = np.fromiter((any(ch.isalpha() for ch in t) for t in rest), bool, n_rest)
        # splitmix64 of the id: a well-mixed 64-bit value per token for rolling n-gram hashes
        with np.errstate(over="ignore"):
            z = np.arange(have, n, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
        tp = terminal_punctuation()
        term = np.zeros(k, bool)
        term[other] = np.fromiter((t in tp for t in rest), bool, n_rest)
        punct = np.zeros(k, bool)
        punct[other] = np.fromiter((not t.isalnum() and is_punct_token(t) for t in rest), bool, n_rest)
        fresh = {"length": length, "symbol": symbol, "alpha": alpha, "hash": z, "term": term, "punct": punct}
        for name, v in fresh.items():
            buf = _PROPS.get(name)
            if buf is None or len(buf) < n:
                grown = np.zeros(max(2 * n, 1 << 16), v.dtype)
                if buf is not None:
                    grown[:have] = buf[:have]
                _PROPS[name] = buf = grown
            buf[have:n] = v
        _PROPS_N[0] = n
    return _PROPS


def _split_cjk(token: str) -> list[str]:
    out: list[str] = []
    pos = 0
    for m in _CJK.finditer(token):
        if m.start() > pos:
            out.append(token[pos : m.start()])
        out.append(m.group())
        pos = m.end()
    if pos < len(token):
        out.append(token[pos:])
    return out


def is_cjk_text(text: str, sample: int = 2000) -> bool:
    """True when at least a third of the first ``sample`` non-space characters are Han or kana."""
    head = "".join(text[:sample].split())
    if not head:
        return False
    return len(_CJK.findall(head)) * 3 >= len(head)
