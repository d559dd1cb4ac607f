"""Load a file of real trades for the emulator's `--replay FILE` mode.

`load_replay(path, currency="USD")` returns `Trade` records sorted by tid, tids unique. The
format is detected from the content, never from the file name; gzip is recognised by its
magic bytes, so `trades.csv` may be gzipped and `trades.csv.gz` may be plain text.

1. bitcoincharts CSV, `unix_time,price,amount`, with no header or a header whose first field
   is not a number (`Time,Price,Volume`). It has no tids and no side, so trade_type is "".
2. pyalgotrade CSV, header `id,price,amount,type`, downloaded from the v1 API: `id` is the
   microsecond tid (the only time the row carries) and `type` is `bid` or `ask`.
3. Mt.Gox trade JSON: a bare array (v0, or v1/v2 with `?raw`), or an envelope
   `{"result":"success","return":[...]}` (v1) / `{..., "data":[...]}` (v2). Numbers may be JSON
   floats or strings, with or without `price_int`/`amount_int`; `tid` is a string.

Money is exact integers: price_int in the currency's scale (USD 1e5, JPY/SEK 1e3), amount_int in
BTC 1e8. `*_int` is used when present, otherwise the decimal text is converted exactly (a JSON
float through `repr`, the shortest decimal that reads back as it). More decimals than the scale
is an error, never a rounding.

Tids are the ones Mt.Gox had. JSON keeps its own. CSV rows without tids get what Mt.Gox would
have given them: before the June 2011 relaunch (`RELAUNCH_US`) small sequential integers 1, 2,
3... in file order; from it on microsecond timestamps `unix_time * 1e6 + k`, k the row's index
within its second, so `tid // 1e6 == unix_time`.

Every problem raises `ReplayFileError` with one line naming the file and the place:
`FILE:LINE: problem` for CSV rows and JSON syntax, `FILE: trade #N (tid T): problem` for a JSON
trade object (N counts from 1), `FILE: problem` for the file as a whole.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson

from .errors import ReplayFileError
from .model import RELAUNCH_TID, RELAUNCH_US, Trade
from .money import BTC, CURRENCIES, FIAT, Currency

_US = 1_000_000
_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"
# Mt.Gox kept tids, stamps and value_int in signed 64-bit integers; bigger is not a real value.
_MAX_INT = 2**63 - 1
_MAX_UNIX = _MAX_INT // _US
_PYALGOTRADE_HEADER = ["id", "price", "amount", "type"]
_TRADE_TYPES = ("bid", "ask", "")  # "" on 2010 trades, which recorded no side
_SHOW_LIMIT = 40


class _Problem(Exception):
    """What is wrong with one value or row; the caller adds where it is."""


def load_replay(path: Path, *, currency: str = "USD") -> list[Trade]:
    """The trades of a replay file, sorted by tid; ReplayFileError naming file and line if bad.

    `currency` prices the CSV formats and JSON trades without `price_currency`.
    """
    path = Path(path)
    cur = _fiat(currency, path)
    data = _read(path)
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    head = data.lstrip()[:1]
    if not head:
        raise ReplayFileError(f"{path}: empty file, no trades")
    if head in (b"[", b"{"):
        trades, where = _load_json(data, path, cur)
    else:
        trades, where = _load_csv(_decode(data, path), path, cur)
    return _sorted_unique(trades, where)


# --- reading -----------------------------------------------------------------------------------


def _fiat(code: str, path: Path) -> Currency:
    cur = CURRENCIES.get(code)
    if cur is None or cur is BTC:
        raise ReplayFileError(f"{path}: currency {code!r} is not a Mt.Gox fiat currency ({', '.join(FIAT)})")
    return cur


def _read(path: Path) -> bytes:
    """The file's bytes, gunzipped when they start with the gzip magic."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReplayFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ReplayFileError(f"{path}: is a directory, not a file") from None
    except OSError as e:
        raise ReplayFileError(f"{path}: cannot read: {e.strerror or e}") from None
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError; truncation is EOFError
        raise ReplayFileError(f"{path}: corrupt gzip data: {e}") from None


def _decode(data: bytes, path: Path) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ReplayFileError(f"{path}:{line}: not UTF-8 text (byte {data[e.start]:#04x})") from None
    # Line numbers must match what an editor shows, whatever the line ends.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


# --- where a trade came from -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Where:
    """How to name a trade's place in its file: a CSV line or a JSON array index (both from 1)."""

    path: Path
    is_json: bool
    positions: list[int]  # parallel to the parsed trades, in file order

    def at(self, pos: int, tid: object) -> str:
        return f"{self.path}: trade #{pos} (tid {tid})" if self.is_json else f"{self.path}:{pos}"

    def ref(self, pos: int) -> str:
        return f"trade #{pos}" if self.is_json else f"line {pos}"


def _sorted_unique(trades: list[Trade], where: _Where) -> list[Trade]:
    if all(a.tid < b.tid for a, b in pairwise(trades)):
        return trades  # the usual case: captures and assigned tids come in tid order
    order = sorted(range(len(trades)), key=lambda i: trades[i].tid)
    for a, b in pairwise(order):
        if trades[a].tid == trades[b].tid:
            first, second = sorted((where.positions[a], where.positions[b]))
            tid = trades[a].tid
            raise ReplayFileError(f"{where.at(second, tid)}: duplicate tid {tid}, also on {where.ref(first)}")
    return [trades[i] for i in order]


# --- values ------------------------------------------------------------------------------------


def _show(value: object) -> str:
    """A bad value for a one-line message: repr escapes newlines, long values are cut."""
    text = repr(value)
    return text if len(text) <= _SHOW_LIMIT else text[: _SHOW_LIMIT - 3] + "..."


def _integer(name: str, value: object, maximum: int = _MAX_INT) -> int:
    """A non-negative integer from a JSON int or a string of ASCII digits (no sign, no '_')."""
    if type(value) is str:
        text = value.strip()
        if text.isdigit() and text.isascii() and len(text) <= 19:
            value = int(text)
    if type(value) is int and 0 <= value <= maximum:  # `type is`: a JSON true is no integer
        return value
    raise _Problem(f"{name} {_show(value)} is not a non-negative integer")


def _scaled(name: str, text: str, cur: Currency) -> int:
    """Exact decimal text as an integer in `cur`'s scale; refuses rather than rounds."""
    whole, _, frac = text.partition(".")
    if not (whole.isdigit() and (not frac or frac.isdigit()) and text.isascii() and len(whole) <= 19):
        return _scaled_general(name, text, cur)
    frac = frac.rstrip("0")
    if len(frac) > cur.decimals:
        raise _Problem(f"{name} {_show(text)} has more than {cur.decimals} decimals for {cur.code}")
    return _in_range(name, text, int(whole) * cur.scale + int(frac.ljust(cur.decimals, "0") or 0))


def _scaled_general(name: str, text: str, cur: Currency) -> int:
    """The slow path: signs, exponents ('1e-05', as repr prints small floats), spaces.

    Works on the digits and exponent, not Decimal arithmetic, which rounds past 28 digits.
    """
    number = _decimal(text)
    if number is None:
        raise _Problem(f"{name} {_show(text)} is not a decimal number")
    sign, digits, exponent = number.as_tuple()
    significand = int("".join(map(str, digits)))
    shift = int(exponent) + cur.decimals
    if significand == 0:
        return 0
    if number.adjusted() > 19:
        raise _Problem(f"{name} {_show(text)} is out of range")
    if shift >= 0:
        value = significand * 10**shift
    elif -shift > len(digits) or significand % 10**-shift:
        raise _Problem(f"{name} {_show(text)} has more than {cur.decimals} decimals for {cur.code}")
    else:
        value = significand // 10**-shift
    return _in_range(name, text, -value if sign else value)


def _decimal(text: str) -> Decimal | None:
    # Decimal alone would also take '1_000', non-ASCII digits, 'NaN' and a megabyte of digits.
    if not text.isascii() or "_" in text or len(text) > 64:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _in_range(name: str, text: str, value: int) -> int:
    if value > _MAX_INT:
        raise _Problem(f"{name} {_show(text)} is out of range")
    return value


def _price(text: str, cur: Currency) -> int:
    value = _scaled("price", text, cur)
    if value <= 0:
        raise _Problem(f"price {_show(text)} is not positive")
    return value


def _amount(text: str) -> int:
    # Zero is allowed: Mt.Gox's 2010 feed has real zero-amount trades (bitcoincharts lines 208,
    # 221 and 233 of the first 100k); refusing them would refuse the real file.
    value = _scaled("amount", text, BTC)
    if value < 0:
        raise _Problem(f"amount {_show(text)} is negative")
    return value


# --- CSV ---------------------------------------------------------------------------------------


def _load_csv(text: str, path: Path, cur: Currency) -> tuple[list[Trade], _Where]:
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:  # only Unicode spaces, which the byte check upstream let through
        raise ReplayFileError(f"{path}: empty file, no trades")
    fields = [f.strip() for f in lines[first].split(",")]
    start, parse = first, _bitcoincharts_rows
    if _is_header(fields[0]):
        start = first + 1
        if [f.lower() for f in fields] == _PYALGOTRADE_HEADER:
            parse = _pyalgotrade_rows
        elif len(fields) != 3:
            raise ReplayFileError(
                f"{path}:{first + 1}: unrecognised header {_show(lines[first].strip())}, "
                "expected unix_time,price,amount or id,price,amount,type"
            )
    where = _Where(path, False, [])
    trades = parse(lines, start, cur, where)
    if not trades:
        raise ReplayFileError(f"{path}: no trades after the header on line {first + 1}")
    return trades, where


def _is_header(field: str) -> bool:
    """A header's first field has letters and is no number ('nan' and '1e9' are bad data)."""
    try:
        float(field)
    except ValueError:
        return any(c.isalpha() for c in field)
    return False


def _rows(lines: list[str], start: int, width: int, where: _Where) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each non-blank line from `start`, checking the field count."""
    for index in range(start, len(lines)):
        fields = lines[index].split(",")
        if len(fields) != width:
            if not lines[index].strip():
                continue
            raise ReplayFileError(f"{where.at(index + 1, None)}: expected {width} fields, got {len(fields)}")
        where.positions.append(index + 1)
        yield index + 1, fields


def _bitcoincharts_rows(lines: list[str], start: int, cur: Currency, where: _Where) -> list[Trade]:
    trades: list[Trade] = []
    sequential = 0
    seen_in_second: dict[int, int] = {}
    for line, (unix_text, price_text, amount_text) in _rows(lines, start, 3, where):
        try:
            unix = _integer("unix_time", unix_text, _MAX_UNIX)
            price, amount = _price(price_text, cur), _amount(amount_text)
        except _Problem as e:
            raise ReplayFileError(f"{where.at(line, None)}: {e}") from None
        time_us = unix * _US
        if time_us < RELAUNCH_US:
            sequential += 1
            tid = sequential
        else:
            k = seen_in_second.get(unix, 0)
            if k >= _US:
                raise ReplayFileError(f"{where.at(line, None)}: more than {_US} trades in second {unix}")
            seen_in_second[unix] = k + 1
            tid = time_us = time_us + k
        trades.append(Trade(tid, time_us, price, amount, cur.code, "", True, "limit"))
    return trades


def _pyalgotrade_rows(lines: list[str], start: int, cur: Currency, where: _Where) -> list[Trade]:
    trades: list[Trade] = []
    for line, (tid_text, price_text, amount_text, side) in _rows(lines, start, 4, where):
        try:
            tid = _pyalgotrade_tid(tid_text)
            price, amount = _price(price_text, cur), _amount(amount_text)
            side = side.strip()
            if side not in ("bid", "ask"):
                raise _Problem(f"type {_show(side)} is neither bid nor ask")
        except _Problem as e:
            raise ReplayFileError(f"{where.at(line, None)}: {e}") from None
        # pyalgotrade kept only primary == "Y" trades and dropped properties.
        trades.append(Trade(tid, tid, price, amount, cur.code, side, True, "limit"))
    return trades


def _pyalgotrade_tid(text: str) -> int:
    tid = _integer("id", text)
    if tid < RELAUNCH_TID:
        # The id is the row's only time; a pre-relaunch sequential tid carries none.
        raise _Problem(f"id {tid} is not a microsecond tid (those start at {RELAUNCH_TID})")
    return tid


# --- JSON --------------------------------------------------------------------------------------


def _load_json(data: bytes, path: Path, cur: Currency) -> tuple[list[Trade], _Where]:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise ReplayFileError(f"{path}:{e.lineno}: invalid JSON: {e.msg} (column {e.colno})") from None
    items = _trade_array(document, path)
    if not items:
        raise ReplayFileError(f"{path}: no trades (an empty array)")
    where = _Where(path, True, list(range(1, len(items) + 1)))
    trades = []
    for number, item in enumerate(items, 1):
        try:
            trades.append(_json_trade(item, cur))
        except _Problem as e:
            raise ReplayFileError(f"{_json_place(path, number, item)}: {e}") from None
    return trades, where


def _json_kind(value: object) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")


def _trade_array(document: Any, path: Path) -> list[Any]:
    """The trade list of a bare array or a success envelope; says what else it is otherwise."""
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        raise ReplayFileError(f"{path}: JSON is {_json_kind(document)}, not a trade array or envelope")
    result = document.get("result")
    if result == "error" or (result is None and "error" in document):  # v1/v2 envelope, v0 error
        token = f" (token {_show(document['token'])})" if "token" in document else ""
        message = _show(document.get("error"))
        raise ReplayFileError(f"{path}: an error response, not trades: {message}{token}")
    if result != "success":
        keys = ", ".join(sorted(map(str, document))[:6])
        raise ReplayFileError(
            f"{path}: a JSON object, neither a trade array nor a success envelope (keys: {keys})"
        )
    payload = document.get("return", document.get("data"))
    if not isinstance(payload, list):
        raise ReplayFileError(f"{path}: the success envelope holds {_json_kind(payload)}, not a trade array")
    return payload


def _json_place(path: Path, number: int, item: object) -> str:
    tid = item.get("tid") if isinstance(item, dict) else None
    if tid is None:
        return f"{path}: trade #{number}"
    shown = str(tid) if str(tid).isdigit() and len(str(tid)) <= 20 else _show(tid)
    return f"{path}: trade #{number} (tid {shown})"


def _json_trade(item: Any, default: Currency) -> Trade:
    if not isinstance(item, dict):
        raise _Problem(f"is {_json_kind(item)}, not a trade object")
    for name in ("tid", "date", "price", "amount"):
        if name not in item and f"{name}_int" not in item:
            raise _Problem(f"missing field {name!r}")
    cur = _json_currency(item, default)
    tid = _integer("tid", item["tid"])
    if tid == 0:
        raise _Problem("tid 0 is not a Mt.Gox tid (they start at 1)")
    date = _integer("date", item["date"], _MAX_UNIX)
    price = _json_money(item, "price", cur)
    if price <= 0:
        raise _Problem(f"price {_show(item.get('price_int', item.get('price')))} is not positive")
    amount = _json_money(item, "amount", BTC)
    if amount < 0:
        raise _Problem(f"amount {_show(item.get('amount_int', item.get('amount')))} is negative")
    # µs tids are the time only when they agree with `date`; where they do not, trust `date`.
    time_us = tid if tid >= RELAUNCH_TID and tid // _US == date else date * _US
    return Trade(tid, time_us, price, amount, cur.code, *_json_flags(item))


def _json_currency(item: dict[str, Any], default: Currency) -> Currency:
    if item.get("item", "BTC") != "BTC":
        raise _Problem(f"item {_show(item['item'])} is not BTC")
    code = item.get("price_currency", default.code)
    cur = CURRENCIES.get(code) if isinstance(code, str) else None
    if cur is None or cur is BTC:
        raise _Problem(f"price_currency {_show(code)} is not a Mt.Gox fiat currency")
    return cur


def _json_money(item: dict[str, Any], name: str, cur: Currency) -> int:
    """`<name>_int` when the capture has it (that is what Mt.Gox stored), else the decimal."""
    if f"{name}_int" in item:
        return _integer(f"{name}_int", item[f"{name}_int"])
    value = item[name]
    if isinstance(value, float):
        value = repr(value)  # the shortest decimal reading back as this float: what was printed
    elif isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _Problem(f"{name} {_show(value)} is not a number")
    return _scaled(name, value, cur)


def _json_flags(item: dict[str, Any]) -> tuple[str, bool, str]:
    """(trade_type, primary, properties) with the defaults of captures that lack them."""
    trade_type = item.get("trade_type", "")
    if trade_type not in _TRADE_TYPES:
        raise _Problem(f"trade_type {_show(trade_type)} is not bid, ask or empty")
    primary = item.get("primary", "Y")
    if primary not in ("Y", "N"):
        raise _Problem(f"primary {_show(primary)} is neither Y nor N")
    properties = item.get("properties", "limit")
    if not isinstance(properties, str) or not properties:
        raise _Problem(f"properties {_show(properties)} is not a non-empty string")
    return trade_type, primary != "N", properties
