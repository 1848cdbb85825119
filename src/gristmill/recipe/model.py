"""The recipe: a YAML document naming the input, the steps with their parameters, and the output."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputSpec(_Strict):
    path: str | list[str] | None = Field(None, description="file, folder or glob (or a list); --input overrides")
    format: Literal["auto", "jsonl", "parquet", "csv", "tsv"] = "auto"
    text_field: str = "text"
    id_field: str = "id"
    max_doc_bytes: int = Field(16 << 20, ge=1, description="larger documents are rejected, not processed")
    csv_delimiter: str | None = None
    chat: bool = Field(
        False,
        description="records are conversations (OpenAI messages, ShareGPT conversations or Alpaca "
        "instruction/output): they get a canonical `messages` column and their plain rendering in text_field",
    )


class OutputSpec(_Strict):
    path: str | None = Field(None, description="output folder; --output overrides")
    format: Literal["parquet", "jsonl", "jsonl.gz"] = "parquet"
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"
    keep_signals: bool = Field(True, description="write signal columns next to the kept documents")
    write_dropped: bool = Field(False, description="write dropped documents in full (ids and reasons are always "
                                "written; the rows dedup steps drop always are in full)")
    dropped_samples: int = Field(5, ge=0, le=1000, description="dropped documents kept per rule for inspection")
    provenance: bool = Field(True, description="record each document's source file and line/row in the side "
                             "folder (what `gristmill catalog trace` follows)")


class EngineSpec(_Strict):
    chunk_rows: int = Field(10_000, ge=1, le=10_000_000)
    chunk_bytes: int = Field(16 << 20, ge=1024)


class StepSpec(_Strict):
    op: str
    name: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    keep: str | dict[str, str] | None = Field(None, description="keep rule(s) replacing the operator's defaults")
    why: str | None = Field(None, description="why this step is here (written by the planner)")


class RecipeSpec(_Strict):
    name: str = "recipe"
    description: str = ""
    input: InputSpec = Field(default_factory=InputSpec)
    steps: list[StepSpec] = Field(default_factory=list)
    output: OutputSpec = Field(default_factory=OutputSpec)
    engine: EngineSpec = Field(default_factory=EngineSpec)
