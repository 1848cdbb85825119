"""Import every built-in operator module so that each registers itself."""

from gristmill.ops import clean, dedup, filters, lexicon, quality, token_count, views  # noqa: F401
