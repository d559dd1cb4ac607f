"""The collector's memory between runs: cursors, coverage, gaps and the last poll per endpoint.

One SQLite file (WAL, synchronous=FULL) under the state directory. A cursor only moves after
the response that justifies it is durable in the journal, so a crash can make the collector
ask a page again but never skip one. Coverage (tid and time ranges fetched) and gaps (ranges
that could not be fetched, and why) are data: `export` writes them as Parquet beside the raw
store for the pipelines, which read files only. A write refused for space raises DiskFull and
changes nothing (the transaction is rolled back); any other failure is a StateError.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .disk import full_reason, reason
from .errors import DiskFull, StateError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cursors (
    exchange TEXT NOT NULL, market TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL,
    updated_us INTEGER NOT NULL, PRIMARY KEY (exchange, market, name));
CREATE TABLE IF NOT EXISTS coverage (
    exchange TEXT NOT NULL, market TEXT NOT NULL, after_tid INTEGER NOT NULL, through_tid INTEGER NOT NULL,
    first_us INTEGER, last_us INTEGER, trades INTEGER NOT NULL, record_id TEXT NOT NULL, fetched_us INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS coverage_market ON coverage (exchange, market, after_tid);
CREATE TABLE IF NOT EXISTS gaps (
    id INTEGER PRIMARY KEY, exchange TEXT NOT NULL, market TEXT NOT NULL, after_tid INTEGER NOT NULL,
    through_tid INTEGER, reason TEXT NOT NULL, opened_us INTEGER NOT NULL, closed_us INTEGER);
CREATE TABLE IF NOT EXISTS polls (
    exchange TEXT NOT NULL, endpoint TEXT NOT NULL, market TEXT NOT NULL, last_ok_us INTEGER,
    last_error_us INTEGER, last_error TEXT, requests INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (exchange, endpoint, market));
"""


@dataclass(frozen=True, slots=True)
class Gap:
    id: int
    exchange: str
    market: str
    after_tid: int
    through_tid: int | None  # None: up to wherever the feed continues
    reason: str
    opened_us: int
    closed_us: int | None


@dataclass(frozen=True, slots=True)
class Poll:
    exchange: str
    endpoint: str
    market: str
    last_ok_us: int | None
    last_error_us: int | None
    last_error: str | None
    requests: int
    errors: int
    bytes: int


class State:
    def __init__(self, path: Path) -> None:
        self.path = path
        db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as e:
            if db is not None:
                db.close()  # a file of the data root is not kept open by a failed start
            raise _error(f"{path}: cannot open the collector state", path, e) from None
        self._db = db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            yield self._db
            self._db.execute("COMMIT")
        except BaseException as e:
            if self._db.in_transaction:
                # The original error is the one worth reporting; SQLite rolls back on close anyway.
                with suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            if isinstance(e, sqlite3.Error):
                raise _error(str(self.path), self.path, e) from None
            raise

    def close(self) -> None:
        self._db.close()

    # -- cursors --------------------------------------------------------------------------------

    def cursor(self, exchange: str, market: str, name: str) -> int | None:
        row = self._db.execute("SELECT value FROM cursors WHERE exchange=? AND market=? AND name=?",
                               (exchange, market, name)).fetchone()
        return None if row is None else int(row[0])

    def set_cursor(self, exchange: str, market: str, name: str, value: int, now_us: int) -> None:
        self.set_cursors(exchange, market, {name: value}, now_us)

    def set_cursors(self, exchange: str, market: str, values: Mapping[str, int], now_us: int) -> None:
        """Several cursors of one scope in one transaction: they move together or not at all."""
        with self._tx() as db:
            db.executemany("INSERT INTO cursors VALUES (?,?,?,?,?) ON CONFLICT (exchange, market, name) "
                           "DO UPDATE SET value=excluded.value, updated_us=excluded.updated_us",
                           [(exchange, market, name, value, now_us) for name, value in values.items()])

    # -- coverage and gaps ----------------------------------------------------------------------

    def add_coverage(self, exchange: str, market: str, after_tid: int, through_tid: int, first_us: int | None,
                     last_us: int | None, trades: int, record_id: str, now_us: int, *,
                     cursor: str | None = None) -> None:
        """Record a fetched range; with `cursor`, move that cursor to its end in the same transaction."""
        with self._tx() as db:
            db.execute("INSERT INTO coverage VALUES (?,?,?,?,?,?,?,?,?)",
                       (exchange, market, after_tid, through_tid, first_us, last_us, trades, record_id, now_us))
            if cursor is not None:
                db.execute("INSERT INTO cursors VALUES (?,?,?,?,?) ON CONFLICT (exchange, market, name) "
                           "DO UPDATE SET value=excluded.value, updated_us=excluded.updated_us",
                           (exchange, market, cursor, through_tid, now_us))

    def covered(self, exchange: str, market: str) -> list[tuple[int, int]]:
        """Fetched tid ranges (after, through], merged."""
        rows = self._db.execute("SELECT after_tid, through_tid FROM coverage WHERE exchange=? AND market=? "
                                "ORDER BY after_tid, through_tid", (exchange, market)).fetchall()
        merged: list[tuple[int, int]] = []
        for lo, hi in rows:
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        return merged

    def open_gap(self, exchange: str, market: str, after_tid: int, through_tid: int | None, reason: str,
                 now_us: int) -> int:
        with self._tx() as db:
            existing = db.execute("SELECT id FROM gaps WHERE exchange=? AND market=? AND after_tid=? AND "
                                  "closed_us IS NULL", (exchange, market, after_tid)).fetchone()
            if existing:
                db.execute("UPDATE gaps SET reason=?, through_tid=? WHERE id=?", (reason, through_tid, existing[0]))
                return int(existing[0])
            cur = db.execute("INSERT INTO gaps (exchange, market, after_tid, through_tid, reason, opened_us) "
                             "VALUES (?,?,?,?,?,?)", (exchange, market, after_tid, through_tid, reason, now_us))
            return int(cur.lastrowid or 0)

    def close_gap(self, gap_id: int, now_us: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE gaps SET closed_us=? WHERE id=?", (now_us, gap_id))

    def gaps(self, *, open_only: bool = True) -> list[Gap]:
        sql = "SELECT * FROM gaps" + (" WHERE closed_us IS NULL" if open_only else "") + " ORDER BY id"
        return [Gap(*row) for row in self._db.execute(sql).fetchall()]

    # -- polls ----------------------------------------------------------------------------------

    def record_polls(self, polls: list[tuple[str, str, str, int, str | None, int]]) -> None:
        """Add a batch of (exchange, endpoint, market, at_us, error, bytes) to the poll counters."""
        if not polls:
            return
        with self._tx() as db:
            for exchange, endpoint, market, at_us, error, nbytes in polls:
                db.execute("INSERT INTO polls (exchange, endpoint, market) VALUES (?,?,?) ON CONFLICT DO NOTHING",
                           (exchange, endpoint, market))
                if error is None:
                    db.execute("UPDATE polls SET last_ok_us=max(coalesce(last_ok_us, 0), ?), requests=requests+1, "
                               "bytes=bytes+? WHERE exchange=? AND endpoint=? AND market=?",
                               (at_us, nbytes, exchange, endpoint, market))
                else:
                    db.execute("UPDATE polls SET last_error_us=?, last_error=?, requests=requests+1, "
                               "errors=errors+1, bytes=bytes+? WHERE exchange=? AND endpoint=? AND market=?",
                               (at_us, error, nbytes, exchange, endpoint, market))

    def polls(self) -> list[Poll]:
        return [Poll(*row) for row in self._db.execute(
            "SELECT exchange, endpoint, market, last_ok_us, last_error_us, last_error, requests, errors, bytes "
            "FROM polls ORDER BY exchange, endpoint, market").fetchall()]

    # -- export for the pipelines ---------------------------------------------------------------

    def export(self, meta_dir: Path) -> None:
        """Write coverage.parquet and gaps.parquet (temporary name, then rename)."""
        try:
            self._export(meta_dir)
        except (OSError, pa.ArrowException) as e:
            for name in ("coverage", "gaps"):
                with suppress(OSError):
                    (meta_dir / f".{name}.parquet.tmp").unlink(missing_ok=True)
            raise _error(f"{meta_dir}: cannot export coverage and gaps", meta_dir, e) from None

    def _export(self, meta_dir: Path) -> None:
        meta_dir.mkdir(parents=True, exist_ok=True)
        tables = {
            "coverage": ("SELECT exchange, market, after_tid, through_tid, first_us, last_us, trades, record_id, "
                         "fetched_us FROM coverage ORDER BY exchange, market, after_tid"),
            "gaps": "SELECT id, exchange, market, after_tid, through_tid, reason, opened_us, closed_us FROM gaps",
        }
        for name, sql in tables.items():
            cur = self._db.execute(sql)
            columns = [d[0] for d in cur.description]
            rows = cur.fetchall()
            data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
            types = {c: pa.string() if c in ("exchange", "market", "record_id", "reason") else pa.int64()
                     for c in columns}
            table = pa.table({c: pa.array(data[c], type=types[c]) for c in columns})
            tmp = meta_dir / f".{name}.parquet.tmp"
            pq.write_table(table, tmp)
            tmp.replace(meta_dir / f"{name}.parquet")


def _error(what: str, path: Path, e: BaseException) -> StateError | DiskFull:
    full = full_reason(e, path)
    return DiskFull(f"{what}: {full}", str(path), full) if full else StateError(f"{what}: {reason(e)}")
