"""Import every built-in operator module so that each registers itself."""

from gristmill.ops import (  # noqa: F401
    budget,
    clean,
    content_kind,
    decontam,
    dedup,
    filters,
    lang,
    lexicon,
    lines_dedup,
    minhash,
    model_signals,
    pii,
    quality,
    safety,
    semantic,
    sft,
    templates,
    token_count,
    topic,
    views,
)
