"""Putting response bodies into a raw store exactly as the collector does, and reading the built warehouse.

A `Response` is what came back for one request: the collector's own request for that endpoint,
API version and market (`collector.exchanges.mtgox.build`), the HTTP status and content type, and
the body bytes. `write_raw` turns each into the RawRecord the collector would have made (params as
sent, a nonce on private calls, error_class from `classify`), appends them to a journal, closes it,
ingests the closed segment into the Parquet raw store and exports the (empty) coverage and gaps,
as a collector does when it stops. Nothing here imports the pipelines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson

from collector.exchanges.mtgox import ENDPOINTS, build, classify
from collector.journal import Journal
from collector.rawstore import RawStore
from collector.record import RawRecord
from collector.state import State

RUN_ID = "tests-pipelines"
LATENCY_US = 180_000


@dataclass(frozen=True, slots=True)
class Response:
    endpoint: str  # a key of collector.exchanges.mtgox.ENDPOINTS
    api_version: int
    market: str  # "BTCUSD", ...; ignored (recorded as "-") for account endpoints
    body: bytes
    received_at: int  # µs since the epoch, UTC
    http_status: int | None = 200
    content_type: str = "application/json"
    since: int | None = None  # trades: the cursor the request carried
    currency: str | None = None  # wallet_history: the wallet asked for


def us(iso: str) -> int:
    """µs since the epoch of an ISO time (UTC when it names no zone)."""
    when = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return (when - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def raw_record(response: Response, run_id: str = RUN_ID) -> RawRecord:
    """The record the collector's Fetcher would have made for this answer (record_id comes from the journal)."""
    spec = ENDPOINTS[response.endpoint]
    req = build(spec, response.api_version, response.market, since=response.since, currency=response.currency)
    sent = response.received_at - LATENCY_US
    params = dict(req.params)
    if req.private:
        params["nonce"] = str(sent)  # the collector's nonce: max(now in µs, last + 1)
    error, _ = classify(response.http_status, response.content_type, response.body, req.private)
    return RawRecord(
        record_id="", exchange="mtgox", endpoint=req.endpoint, market=req.market, api_version=req.api_version,
        method=req.method, path="/api/" + req.path, params=orjson.dumps(params).decode(), sent_at=sent,
        received_at=response.received_at, http_status=response.http_status, error_class=error, body=response.body,
        collector_run=run_id,
    )


def write_raw(root: Path, responses: Iterable[Response], run_id: str = RUN_ID) -> list[RawRecord]:
    """Journal the responses, roll the segment into raw Parquet under `root`; the records as stored."""
    return write_records(root, (raw_record(r, run_id) for r in responses), run_id)


def write_records(root: Path, records: Iterable[RawRecord], run_id: str = RUN_ID) -> list[RawRecord]:
    """Journal the records, roll the segment into raw Parquet under `root` and export the (empty) coverage and
    gaps, as a collector does when it stops; the records as stored."""
    journal = Journal(root / "journal", run_id=run_id)
    stored = [journal.append(record) for record in records]
    closed = journal.close()
    if closed is not None:
        RawStore(str(root)).ingest_segment(closed)
    state = State(root / "state" / "collector.sqlite")
    try:
        state.export(root / "meta")
    finally:
        state.close()
    return stored


def rows(warehouse: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of one query against the built warehouse, opened read-only (times: use epoch_us())."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def count(warehouse: Path, table: str) -> int:
    [(n,)] = rows(warehouse, f'SELECT count(*) FROM "{table}"')
    return int(n)


def failed_checks(warehouse: Path) -> list[tuple[str, int, tuple[tuple[object, ...], ...]]]:
    """The invariants (pipelines.checks) that do not hold: name, offending rows, a few of them."""
    from pipelines.checks import check

    results = check(warehouse)
    assert results, "no invariant was checked"
    return [(r.name, r.rows, r.sample[:3]) for r in results if not r.ok]


# The tables a user reads; an incremental build must leave them as a full rebuild would.
MARTS = ("trades", "ohlc", "ticker", "depth_snapshots", "depth_levels", "book_top", "account_ledger",
         "account_trades", "balances", "quarantine")


def same_tables(a: Path, b: Path, tables: Sequence[str] = MARTS) -> None:
    """Every mart of warehouse a holds the rows of b (ids of files, records and snapshots aside: those differ
    between builds made from different files holding the same records)."""
    for table in tables:
        cols = [r[0] for r in rows(a, f"SELECT column_name FROM duckdb_columns() WHERE table_name = '{table}' "
                                      "AND column_name NOT IN ('file', 'record_id', 'snapshot_id')")]
        select = ", ".join(f'"{c}"' for c in cols)
        left, right = sorted(map(repr, rows(a, f"SELECT {select} FROM {table}"))), sorted(
            map(repr, rows(b, f"SELECT {select} FROM {table}")))
        assert left == right, f"{table} differs between the incremental and the full build"
