"""The raw record: one row per HTTP attempt, success or failure, with the body as received.

This is the contract between the collector, the journal, the Parquet raw store and the
pipelines. Times are integers, microseconds since the epoch, UTC. `params` never holds a
secret or a signature (the nonce is kept: it is what proves the request order).
"""

from __future__ import annotations

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


def partition_date(record: RawRecord) -> str:
    """The `date=` partition: the UTC date of received_at, YYYY-MM-DD."""
    import datetime as dt

    return dt.datetime.fromtimestamp(record.received_at / 1e6, dt.UTC).strftime("%Y-%m-%d")
