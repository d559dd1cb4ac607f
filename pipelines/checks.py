"""The warehouse's invariants: one SQL file each under `pipelines/sql/checks/`, returning offending rows.

    low <= open, close <= high (ohlc_bounds); one row per tid (duplicate_tids); each ledger balance
    the previous one plus the entry's delta (ledger_continuity); bars equal to a recomputation from
    trades (ohlc_recomputed); no hole in the fetched trade ranges that is not a gap (coverage_holes);
    1-minute bars equal to the exchange's own where our trades cover the minute (ohlc_exchange_bars).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from .build import connect
from .errors import WarehouseError
from .models import SQL_DIR, load_checks

SHOWN_ROWS = 20  # offending rows kept per failed check; `rows` counts them all


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    summary: str
    rows: int  # offending rows; 0 when the invariant holds
    columns: tuple[str, ...]
    sample: tuple[tuple[object, ...], ...]  # the first SHOWN_ROWS offending rows

    @property
    def ok(self) -> bool:
        return self.rows == 0


def check(warehouse: str | Path, *, sql_dir: Path = SQL_DIR) -> list[CheckResult]:
    """Every invariant's result, in name order (read-only: safe beside readers)."""
    path = Path(warehouse)
    if not path.exists():
        raise WarehouseError(f"{path}: no warehouse here (run `marketrec build` first)")
    con = connect(path, read_only=True)
    try:
        return [_run(con, model.name, model.summary, model.sql) for model in load_checks(sql_dir)]
    finally:
        con.close()


def _run(con: duckdb.DuckDBPyConnection, name: str, summary: str, sql: str) -> CheckResult:
    try:
        cursor = con.execute(sql)
        columns = tuple(d[0] for d in cursor.description or ())
        sample = tuple(tuple(r) for r in cursor.fetchmany(SHOWN_ROWS))
        rest = len(cursor.fetchall())
    except duckdb.Error as exc:
        raise WarehouseError(f"check {name}: {str(exc).splitlines()[0]}") from None
    return CheckResult(name, summary, len(sample) + rest, columns, sample)
