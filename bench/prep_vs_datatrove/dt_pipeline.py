"""datatrove side of bench (a): JsonlReader -> Gopher quality -> Gopher repetition -> C4 quality -> FineWeb
quality -> JsonlWriter, with LocalPipelineExecutor (tasks = workers = N, one task per input shard).

    bench/_work/dt-venv/bin/python dt_pipeline.py INPUT_DIR OUTPUT_DIR N
"""

from __future__ import annotations

import sys

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter


def main() -> None:
    src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    LocalPipelineExecutor(
        pipeline=[
            JsonlReader(src, glob_pattern="*.jsonl"),
            GopherQualityFilter(),
            GopherRepetitionFilter(),
            C4QualityFilter(),
            FineWebQualityFilter(),
            JsonlWriter(f"{dst}/out"),
        ],
        tasks=n,
        workers=n,
        logging_dir=f"{dst}/logs",
        skip_completed=False,
    ).run()


if __name__ == "__main__":
    main()
