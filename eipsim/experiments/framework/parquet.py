"""The Parquet encoding of sweep tables, shared by workers (which encode their own part
files) and the store (which writes the design table)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 3}


def encode(table: pa.Table) -> bytes:
    """A table as Parquet file bytes."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **PARQUET_OPTIONS)
    return bytes(sink.getvalue().to_pybytes())
