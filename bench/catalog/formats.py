"""Which table format holds a catalog version: Lance, Delta Lake, or plain Parquet plus a manifest.

    python bench/catalog/formats.py [--rows 1000000] [--take 1000]

The corpus is the bundled sample (data/sample.jsonl.gz) repeated with fresh ids to ``--rows`` rows, built
once in memory. For each format, on the same table, same machine, same run:

* write: seconds and rows/s to write the version, size on disk, ratio to plain Parquet (zstd);
* add column: seconds to make a new version carrying one more float column (a training signal).
  Parquet + manifest writes a side file of the new column aligned by row (the manifest lists it); Lance
  writes new column files per fragment (``add_columns``); Delta Lake has no column-only files, so a new
  column with values means rewriting every data file (``schema_mode="merge"``, ``mode="overwrite"``);
* take: seconds to fetch ``--take`` random rows by ``id`` (Lance with a btree index on ``id``; Parquet and
  Delta by a filtered scan);
* readers: seconds for ``count(*)`` and a group-by over ``domain`` from DuckDB, Polars, Ray Data (when
  installed) and Hugging Face ``datasets``, each reading the format the way that tool reads it today,
  without gristmill.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample.jsonl.gz"


def build_table(rows: int) -> pa.Table:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        base = pa.Table.from_pylist([json.loads(line) for line in f])
    reps = -(-rows // base.num_rows)
    parts = []
    for r in range(reps):
        ids = pc.binary_join_element_wise(base["id"], pa.scalar(f"-r{r}"), "")
        # distinct texts, so that no format wins by dictionary-encoding the repeats
        text = pc.binary_join_element_wise(base["text"], pa.scalar(f"\n{r}"), "")
        parts.append(base.set_column(0, "id", ids).set_column(base.schema.get_field_index("text"), "text", text))
    return pa.concat_tables(parts).slice(0, rows).combine_chunks()


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Parquet:
    name = "parquet + manifest"

    def __init__(self, root: Path) -> None:
        self.root = root / "parquet"

    def write(self, table: pa.Table) -> None:
        self.root.mkdir(parents=True)
        pq.write_table(table, self.root / "part-000000.parquet", compression="zstd", row_group_size=100_000)

    def add_column(self, name: str, values: pa.Array) -> None:
        side = self.root / "_columns" / "v2"
        side.mkdir(parents=True)
        pq.write_table(pa.table({name: values}), side / "part-000000.parquet", compression="zstd")
        (self.root / "_manifest.v2.json").write_text(json.dumps({"files": ["part-000000.parquet"],
                                                                 "columns": {name: [str(side)]}}))

    def take(self, ids: list[str]) -> int:
        return pq.read_table(self.root, filters=pc.field("id").isin(ids)).num_rows

    def glob(self) -> str:
        return str(self.root / "*.parquet")

    def duckdb(self, con) -> int:
        return con.sql(f"select domain, count(*) from read_parquet('{self.glob()}') group by domain").fetchall()

    def polars(self):
        import polars as pl

        return pl.scan_parquet(self.glob()).group_by("domain").len().collect()

    def hf(self) -> int:
        import datasets

        return datasets.load_dataset("parquet", data_files=self.glob(), split="train").num_rows

    def ray(self) -> int:
        import ray

        return ray.data.read_parquet(str(self.root / "part-000000.parquet")).count()


class Lance:
    name = "lance"

    def __init__(self, root: Path) -> None:
        self.uri = str(root / "data.lance")

    def write(self, table: pa.Table) -> None:
        import lance

        lance.write_dataset(table, self.uri)

    def add_column(self, name: str, values: pa.Array) -> None:
        import lance

        ds = lance.dataset(self.uri)
        name = name.replace(".", "_")  # Lance refuses dots in top-level names (gristmill's signal names have them)
        reader = pa.RecordBatchReader.from_batches(pa.schema([(name, values.type)]),
                                                   pa.table({name: values}).to_batches(max_chunksize=65536))
        ds.add_columns(reader)

    def prepare_take(self) -> float:
        import lance

        return timed(lambda: lance.dataset(self.uri).create_scalar_index("id", "BTREE"))[0]

    def take(self, ids: list[str]) -> int:
        import lance

        return lance.dataset(self.uri).to_table(filter=pc.field("id").isin(ids)).num_rows

    def dataset(self):
        import lance

        return lance.dataset(self.uri)

    def duckdb(self, con):
        ds = self.dataset()  # noqa: F841 - DuckDB scans the Arrow dataset by its variable name
        return con.sql("select domain, count(*) from ds group by domain").fetchall()

    def polars(self):
        import polars as pl

        return pl.scan_pyarrow_dataset(self.dataset()).group_by("domain").len().collect()

    def hf(self) -> int:
        import datasets

        return datasets.Dataset(self.dataset().to_table()).num_rows

    def ray(self) -> int:
        import ray

        return ray.data.read_lance(self.uri).count()


class Delta:
    name = "delta lake"

    def __init__(self, root: Path) -> None:
        self.uri = str(root / "delta")

    def write(self, table: pa.Table) -> None:
        from deltalake import write_deltalake

        write_deltalake(self.uri, table)

    def add_column(self, name: str, values: pa.Array) -> None:
        from deltalake import DeltaTable, write_deltalake

        table = DeltaTable(self.uri).to_pyarrow_table()
        write_deltalake(self.uri, table.append_column(name, values), mode="overwrite", schema_mode="overwrite")

    def dataset(self):
        from deltalake import DeltaTable

        return DeltaTable(self.uri).to_pyarrow_dataset()

    def take(self, ids: list[str]) -> int:
        return self.dataset().to_table(filter=pc.field("id").isin(ids)).num_rows

    def duckdb(self, con):
        ds = self.dataset()  # noqa: F841
        return con.sql("select domain, count(*) from ds group by domain").fetchall()

    def polars(self):
        import polars as pl

        return pl.scan_delta(self.uri).group_by("domain").len().collect()

    def hf(self) -> int:
        import datasets

        return datasets.Dataset(self.dataset().to_table()).num_rows

    def ray(self) -> int:
        import ray

        return ray.data.read_delta(self.uri).count()


def _try(fn: Callable[[], object]) -> str:
    try:
        seconds, _ = timed(fn)
    except Exception as exc:  # a reader that cannot read the format is a result, not a crash
        return f"n/a ({type(exc).__name__})"
    return f"{seconds:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--take", type=int, default=1000)
    ap.add_argument("--ray", action="store_true", help="also read through Ray Data (starts a local Ray)")
    args = ap.parse_args()
    import duckdb

    if args.ray:
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)  # start-up is not the reader's cost
    table = build_table(args.rows)
    mb = table.nbytes / (1 << 20)
    rng = np.random.default_rng(0)
    ids = table["id"].take(pa.array(rng.choice(table.num_rows, args.take, replace=False))).to_pylist()
    signal = pa.array(rng.random(table.num_rows), pa.float64())
    with tempfile.TemporaryDirectory(prefix="gm-formats-") as tmp:
        rows = []
        for fmt in (Parquet(Path(tmp)), Lance(Path(tmp)), Delta(Path(tmp))):
            write_s, _ = timed(lambda fmt=fmt: fmt.write(table))
            size = du(Path(tmp) / Path(getattr(fmt, "uri", getattr(fmt, "root", ""))).name)
            index_s = fmt.prepare_take() if hasattr(fmt, "prepare_take") else 0.0
            take_s, got = timed(lambda fmt=fmt: fmt.take(ids))
            assert got == args.take, (fmt.name, got)
            con = duckdb.connect()
            row = {
                "format": fmt.name, "write_s": write_s, "size_mb": size / (1 << 20),
                "take_s": take_s, "index_s": index_s,
                "duckdb": _try(lambda fmt=fmt, con=con: fmt.duckdb(con)),
                "polars": _try(fmt.polars), "hf": _try(fmt.hf),
                "ray": _try(fmt.ray) if args.ray else "not run",
            }
            row["add_s"], _ = timed(lambda fmt=fmt: fmt.add_column("train.run1.loss", signal))
            rows.append(row)
            shutil.rmtree(Path(tmp) / Path(getattr(fmt, "uri", getattr(fmt, "root", ""))).name, ignore_errors=True)
    base = rows[0]["write_s"]
    print(f"Table formats: {table.num_rows:,} rows ({mb:,.0f} MiB in Arrow), bundled sample repeated; "
          f"take = {args.take:,} random ids; seconds, one run")
    print()
    print("| format | write s | rows/s | vs parquet | on disk MiB | add 1 float column s | take by id s "
          "| DuckDB s | Polars s | HF datasets s | Ray Data s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        take = f"{r['take_s']:.2f}" + (f" (+{r['index_s']:.2f} index)" if r["index_s"] else "")
        print(f"| {r['format']} | {r['write_s']:.2f} | {table.num_rows / r['write_s']:,.0f} | "
              f"{base / r['write_s']:.2f}x | {r['size_mb']:,.0f} | {r['add_s']:.2f} | {take} | "
              f"{r['duckdb']} | {r['polars']} | {r['hf']} | {r['ray']} |")


if __name__ == "__main__":
    main()
