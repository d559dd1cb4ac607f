"""Ad-hoc SQL against the warehouse, read-only, and the formats `marketrec query` writes."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from .build import connect
from .errors import PipelineError, WarehouseError

FORMATS = ("table", "csv", "json", "parquet")


def query(warehouse: str | Path, sql: str) -> pa.Table:
    """The result of `sql` as an Arrow table (money stays DECIMAL, times stay UTC)."""
    path = Path(warehouse)
    if not path.exists():
        raise WarehouseError(f"{path}: no warehouse here (run `marketrec build` first)")
    con = connect(path, read_only=True)
    try:
        relation = con.sql(sql)
        return relation.to_arrow_table() if relation is not None else pa.table({})
    except duckdb.Error as exc:
        raise PipelineError(f"query: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()


def write(table: pa.Table, fmt: str, out: IO[str], *, parquet_path: Path | None = None) -> None:
    """Write `table` as `fmt`: an aligned text table, CSV, JSON lines, or a Parquet file (`parquet_path`)."""
    if fmt == "parquet":
        if parquet_path is None:
            raise PipelineError("query: --format parquet needs --output FILE")
        pq.write_table(table, parquet_path, compression="zstd")
        out.write(f"wrote {table.num_rows} rows to {parquet_path}\n")
        return
    rows = table.to_pylist()
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.column_names)
        writer.writerows([_text(r[c]) for c in table.column_names] for r in rows)
    elif fmt == "json":
        for r in rows:  # exact: decimals as strings, times as ISO 8601 with the zone
            out.write(json.dumps({k: _json(v) for k, v in r.items()}, ensure_ascii=False) + "\n")
    elif fmt == "table":
        out.write(_aligned(table.column_names, [[_text(r[c]) for c in table.column_names] for r in rows]))
    else:
        raise PipelineError(f"query: unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _json(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _aligned(header: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    line = io.StringIO()
    line.write("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip() + "\n")
    line.write("  ".join("-" * w for w in widths) + "\n")
    for r in rows:
        line.write("  ".join(v.rjust(w) if _numeric(v) else v.ljust(w)
                             for v, w in zip(r, widths, strict=True)).rstrip() + "\n")
    line.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")
    return line.getvalue()


def _numeric(text: str) -> bool:
    return bool(text) and text.lstrip("-").replace(".", "", 1).replace("E-", "", 1).isdigit()
