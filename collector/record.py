"""The raw record: one row per HTTP attempt, success or failure, with the body as received.

This is the contract between the collector, the journal, the Parquet raw store and the
pipelines. Times are integers, microseconds since the epoch, UTC. `params` never holds a
secret or a signature (the nonce is kept: it is what proves the request order).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pyarrow as pa

# error_class values. None means success: HTTP 200 with a body the exchange meant as an answer.
TIMEOUT = "timeout"  # no answer within the client timeout
CONNECTION = "connection"  # refused, reset or dropped before a full answer
HTTP_4XX = "http_4xx"
HTTP_5XX = "http_5xx"
RATE_LIMITED = "rate_limited"  # 429, or an anti-DDoS page
HTML_PAGE = "html_page"  # an HTML page where JSON was expected
NOT_JSON = "not_json"  # a body that does not parse (truncated JSON, "MySQL error ...")
EXCHANGE_ERROR = "exchange_error"  # a JSON error envelope ({"result":"error"} / {"error":...})
AUTH_FAILED = "auth_failed"  # 403 on a private call
ERROR_CLASSES = (TIMEOUT, CONNECTION, HTTP_4XX, HTTP_5XX, RATE_LIMITED, HTML_PAGE, NOT_JSON, EXCHANGE_ERROR,
                 AUTH_FAILED)


@dataclass(frozen=True, slots=True)
class RawRecord:
    record_id: str  # "<segment>-<seq>", unique and stable across journal replays
    exchange: str  # partition key
    endpoint: str  # canonical endpoint name (ticker, depth, fulldepth, trades, wallet_history, ...)
    market: str  # partition key: "BTCUSD", or "-" for account calls
    api_version: int
    method: str
    path: str  # without host and query string
    params: str  # JSON object of request parameters, nonce included, no secrets
    sent_at: int  # µs since epoch, UTC
    received_at: int  # µs; equals sent_at + latency; for failures, when the attempt ended
    http_status: int | None
    error_class: str | None
    body: bytes  # exactly as received (b"" when nothing came)
    collector_run: str  # which process recorded it

    @property
    def latency_us(self) -> int:
        return self.received_at - self.sent_at

    @property
    def ok(self) -> bool:
        return self.error_class is None


# The Parquet schema of the raw store. Partition columns (exchange, endpoint, market, date) are
# also kept inside the files so a file read alone is complete.
SCHEMA = pa.schema([
    pa.field("record_id", pa.string(), nullable=False),
    pa.field("exchange", pa.string(), nullable=False),
    pa.field("endpoint", pa.string(), nullable=False),
    pa.field("market", pa.string(), nullable=False),
    pa.field("api_version", pa.int8(), nullable=False),
    pa.field("method", pa.string(), nullable=False),
    pa.field("path", pa.string(), nullable=False),
    pa.field("params", pa.string(), nullable=False),
    pa.field("sent_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("received_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("latency_us", pa.int64(), nullable=False),
    pa.field("http_status", pa.int16()),
    pa.field("error_class", pa.string()),
    pa.field("body", pa.binary(), nullable=False),
    pa.field("collector_run", pa.string(), nullable=False),
])


_EPOCH = dt.date(1970, 1, 1)
_US_PER_DAY = 86_400_000_000
# Hive partition values become directory names: no separators, no `=`, nothing a shell or URL must escape.
_PARTITION_VALUE = re.compile(r"[A-Za-z0-9_.+-]+\Z")
_INT8 = (-(2**7), 2**7 - 1)
_INT16 = (-(2**15), 2**15 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_DATED = (0, 253_402_300_799_999_999)  # received_at must name a date: 1970-01-01 .. 9999-12-31


def utc_date(us: int) -> str:
    """The UTC date (YYYY-MM-DD) of a time in µs since the epoch, by integer arithmetic.

    Floor division keeps it exact: a float division rounds 23:59:59.9999995 into the next day.
    """
    return (_EPOCH + dt.timedelta(days=us // _US_PER_DAY)).isoformat()


def partition_date(record: RawRecord) -> str:
    """The `date=` partition: the UTC date of received_at, YYYY-MM-DD."""
    return utc_date(record.received_at)


def is_partition_value(value: object) -> bool:
    """True when `value` can be a hive partition value (exchange, endpoint, market) as it is."""
    return isinstance(value, str) and value not in (".", "..") and _PARTITION_VALUE.match(value) is not None


def record_problem(record: RawRecord) -> str | None:
    """Why `record` cannot be stored under SCHEMA, in one line; None when it can.

    The journal asks before it writes: a record the raw store cannot convert would otherwise
    block the ingestion of its whole segment.
    """
    for name in ("exchange", "endpoint", "market"):
        value = getattr(record, name)
        if not is_partition_value(value):
            return f"{name} {value!r} is not a partition value (letters, digits, _ . + - only)"
    for name in ("record_id", "method", "path", "params", "collector_run"):
        if not isinstance(getattr(record, name), str):
            return f"{name} must be a str, not {type(getattr(record, name)).__name__}"
    if record.error_class is not None and not isinstance(record.error_class, str):
        return f"error_class must be a str or None, not {type(record.error_class).__name__}"
    if not isinstance(record.body, bytes):
        return f"body must be bytes, not {type(record.body).__name__}"
    checks = (("api_version", record.api_version, _INT8, False), ("http_status", record.http_status, _INT16, True),
              ("sent_at", record.sent_at, _INT64, False), ("received_at", record.received_at, _DATED, False))
    for name, value, (low, high), optional in checks:
        if value is None and optional:
            continue
        if type(value) is not int or not low <= value <= high:
            return f"{name} {value!r} is not an integer in [{low}, {high}]"
    if not _INT64[0] <= record.received_at - record.sent_at <= _INT64[1]:
        return "received_at - sent_at overflows int64"
    return None
