"""Import every built-in operator module so that each registers itself."""

from gristmill.ops import clean, decontam, dedup, filters, lang, lines_dedup, minhash, pii, semantic, views  # noqa: F401
