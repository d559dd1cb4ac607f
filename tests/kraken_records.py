"""Kraken answers put into a raw store as the collector records them.

Each `KrakenResponse` (a captured or hand-written body) becomes, by hand, the RawRecord the collector's Kraken
adapter (collector/exchanges/kraken.py) would make of it, so a capture can be built without a server:
exchange "kraken", api_version 0, the method, path and params of its endpoint (a nonce on private
calls), market marketrec's name or "-" for account and exchange-wide calls, and error_class "exchange_error"
for an answer whose `error` array holds an error (or that has the structured `errors`), None for a good one.
`write_raw` journals the records and rolls the segment into the Parquet raw store as
tests/pipelines_harness.py does for Mt.Gox, so Mt.Gox and Kraken records can share one store.

Bodies keep every number exactly as written: `dumps` writes JSON from values read with `loads` or
`yaml_value` (numbers as Decimal or int, never float), so a time such as 1688671969.9931508 reaches the
raw store with all its digits, as it left Kraken.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from collector.record import EXCHANGE_ERROR, RawRecord
from tests.pipelines_harness import LATENCY_US, RUN_ID, write_records

# marketrec's market -> Kraken's altname, what a request's pair= says (the contract's market table).
ALTNAMES = {"BTCUSD": "XBTUSD", "BTCEUR": "XBTEUR", "ETHUSD": "ETHUSD", "ETHEUR": "ETHEUR", "ETHBTC": "ETHXBT"}


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    per_market: bool
    private: bool


ENDPOINTS = {
    "time": Endpoint("GET", "/0/public/Time", False, False),
    "asset_pairs": Endpoint("GET", "/0/public/AssetPairs", False, False),
    "ticker": Endpoint("GET", "/0/public/Ticker", True, False),
    "depth": Endpoint("GET", "/0/public/Depth", True, False),
    "trades": Endpoint("GET", "/0/public/Trades", True, False),
    "ohlc": Endpoint("GET", "/0/public/OHLC", True, False),
    "ledgers": Endpoint("POST", "/0/private/Ledgers", False, True),
    "trades_history": Endpoint("POST", "/0/private/TradesHistory", False, True),
    "balance": Endpoint("POST", "/0/private/Balance", False, True),
}


@dataclass(frozen=True, slots=True)
class KrakenResponse:
    endpoint: str  # a key of ENDPOINTS
    market: str  # "BTCUSD", ...; recorded as "-" for account and exchange-wide endpoints
    body: bytes
    received_at: int  # µs since the epoch, UTC
    params: Mapping[str, str] = field(default_factory=dict)  # beside the contract's defaults (since, ofs, ...)
    error_class: str | None = "from the body"  # exchange_error for an error answer, else None; or as given
    http_status: int | None = 200


def default_params(endpoint: str, market: str) -> dict[str, str]:
    """The params the contract's table gives the endpoint (without the nonce)."""
    pair = {"pair": ALTNAMES.get(market, market)}
    return {"ticker": pair, "trades": pair, "depth": {**pair, "count": "100"}, "ohlc": {**pair, "interval": "1"},
            "ledgers": {"ofs": "0"}, "trades_history": {"ofs": "0"}}.get(endpoint, {})


def error_class_of(body: bytes) -> str | None:
    """exchange_error when the answer holds an error (warnings alone are none), else None."""
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(decoded, dict):
        return None
    error = decoded.get("error")
    errors = [e for e in error if not str(e).startswith("W")] if isinstance(error, list) else []
    return EXCHANGE_ERROR if errors or decoded.get("errors") else None


def raw_record(response: KrakenResponse, run_id: str = RUN_ID) -> RawRecord:
    spec = ENDPOINTS[response.endpoint]
    sent = response.received_at - LATENCY_US
    params = {**default_params(response.endpoint, response.market), **response.params}
    if spec.private:
        params = {"nonce": str(sent), **params}
    error = error_class_of(response.body) if response.error_class == "from the body" else response.error_class
    return RawRecord(
        record_id="", exchange="kraken", endpoint=response.endpoint,
        market=response.market if spec.per_market else "-", api_version=0, method=spec.method, path=spec.path,
        params=orjson.dumps(params).decode(), sent_at=sent, received_at=response.received_at,
        http_status=response.http_status, error_class=error, body=response.body,
        collector_run=run_id,
    )


def write_raw(root: Path, responses: Iterable[KrakenResponse], run_id: str = RUN_ID) -> list[RawRecord]:
    """Journal the responses, roll the segment into raw Parquet under `root`; the records as stored."""
    return write_records(root, (raw_record(r, run_id) for r in responses), run_id)


# --- exact JSON -----------------------------------------------------------------------------------------------------


def loads(text: str | bytes) -> Any:
    """JSON with every number kept as written: fractions as Decimal, integers as int."""
    return json.loads(text, parse_float=Decimal)


def dumps(value: Any) -> bytes:
    """Compact JSON of a value from `loads` or `yaml_value`; a Decimal is written with its own digits."""
    return _json(value).encode()


def _json(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        raise TypeError(f"a float would lose digits: {value!r} (read with loads or yaml_value)")
    return json.dumps(value)


# --- the spec's YAML examples ---------------------------------------------------------------------------------------

_INT = re.compile(r"-?[0-9]+\Z")
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?\Z")


def yaml_value(path: Path) -> Any:
    """The value of a YAML file of the shapes Kraken's spec examples use: block mappings and sequences
    (`- - x` included), quoted and plain scalars, `[]`. Plain numbers keep their digits (int or Decimal)."""
    lines = [(len(raw) - len(raw.lstrip(" ")), raw.strip()) for raw in path.read_text(encoding="utf-8").splitlines()
             if raw.strip() and not raw.lstrip().startswith("#")]
    value, end = _block(lines, 0, lines[0][0])
    if end != len(lines):
        raise ValueError(f"{path}: line {end + 1} is not in the YAML shapes read here: {lines[end][1]!r}")
    return value


def _is_item(text: str) -> bool:
    return text == "-" or text.startswith("- ")


def _block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    if _is_item(lines[i][1]):
        items = []
        while i < len(lines) and lines[i][0] == indent and _is_item(lines[i][1]):
            rest = lines[i][1][1:]
            if not rest.strip():
                value, i = _block(lines, i + 1, lines[i + 1][0])
            else:
                lines[i] = (indent + 1 + len(rest) - len(rest.lstrip(" ")), rest.strip())
                value, i = _block(lines, i, lines[i][0])
            items.append(value)
        return items, i
    key, sep, rest = _split(lines[i][1])
    if not sep:
        return _scalar(lines[i][1]), i + 1
    mapping: dict[str, Any] = {}
    while i < len(lines) and lines[i][0] == indent and not _is_item(lines[i][1]):
        key, sep, rest = _split(lines[i][1])
        if not sep:
            raise ValueError(f"not a key: value line: {lines[i][1]!r}")
        i += 1
        if rest:
            mapping[key] = _scalar(rest)
        elif i < len(lines) and (lines[i][0] > indent or (lines[i][0] == indent and _is_item(lines[i][1]))):
            mapping[key], i = _block(lines, i, lines[i][0])
        else:
            mapping[key] = None
    return mapping, i


def _split(text: str) -> tuple[str, bool, str]:
    if text.endswith(":"):
        return _unquote(text[:-1]), True, ""
    key, sep, rest = text.partition(": ")
    if not sep or (key.startswith(("'", '"')) and not key.endswith(key[0])):
        return text, False, ""
    return _unquote(key), True, rest.strip()


def _unquote(key: str) -> str:
    return _scalar(key) if key[:1] in ("'", '"') else key


def _scalar(text: str) -> Any:
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return json.loads(text)
    if text in ("[]", "{}"):
        return [] if text == "[]" else {}
    if text in ("null", "~"):
        return None
    if text in ("true", "false"):
        return text == "true"
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return Decimal(text)
    return text
