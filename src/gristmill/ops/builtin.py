"""Import every built-in operator module so that each registers itself."""

from gristmill.ops import clean, decontam, dedup, filters, lang, lines_dedup, minhash, pii, views  # noqa: F401
