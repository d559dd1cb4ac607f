"""Public market payloads in Mt.Gox's shapes (key names, order and JSON types as captured). Pure.

The 2013 forms are served: money objects with `display_short`, tickers with `now` (and `item` in
v2), depth with per-level `stamp` and the fetch window's `filter_min_price`/`filter_max_price`.
v0 keeps its float forms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .book import Book
from .market import DAY_US, Market
from .model import Level, Trade
from .money import CURRENCIES, money, to_number
from .synthetic import convert

DEPTH_WINDOW = (9, 11)  # depth/fetch shows prices within 90 %..110 % of the last price


def plain_decimal(value_int: int, code: str) -> str:
    """Trade prices and amounts as Mt.Gox printed them: '72.98274', '0.1065', '15'."""
    cur = CURRENCIES[code]
    whole, frac = divmod(value_int, cur.scale)
    if frac == 0:
        return str(whole)
    return f"{whole}.{frac:0{cur.decimals}d}".rstrip("0")


# -- trades ------------------------------------------------------------------------------------


def trade_json(t: Trade, *, version: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "date": t.date,
        "price": plain_decimal(t.price_int, t.currency),
        "amount": plain_decimal(t.amount_int, "BTC"),
        "price_int": str(t.price_int),
        "amount_int": str(t.amount_int),
        "tid": str(t.tid),
        "price_currency": t.currency,
        "item": "BTC",
        "trade_type": t.trade_type,
    }
    if version > 0:  # the 2013 v0 capture has neither
        row["primary"] = "Y" if t.primary else "N"
        row["properties"] = t.properties
    return row


def trades_json(trades: Sequence[Trade], *, version: int) -> list[dict[str, Any]]:
    return [trade_json(t, version=version) for t in trades]


# -- ticker ------------------------------------------------------------------------------------


def _stats(trades: Sequence[Trade]) -> tuple[int, int, int, int, int]:
    """high, low, avg, vwap (price ints) and volume (BTC int) of a window; exact integer maths."""
    high = max(t.price_int for t in trades)
    low = min(t.price_int for t in trades)
    vol = sum(t.amount_int for t in trades)
    avg = round(sum(t.price_int for t in trades) / len(trades))
    vwap = (sum(t.price_int * t.amount_int for t in trades) + vol // 2) // vol
    return high, low, avg, vwap, vol


@dataclass(frozen=True, slots=True)
class _Lasts:
    local: int  # last trade in this currency
    orig: int  # last trade anywhere, in its own currency
    orig_currency: str
    all: int  # that trade converted to this currency (`last` is the same figure)


def _lasts(market: Market, cur: str) -> _Lasts:
    ref = market.reference_price(cur) or 0
    local = market.feeds[cur].last() if cur in market.feeds else None
    orig = market.last_any()
    if orig is None:
        return _Lasts(ref, ref, cur, ref)
    return _Lasts(local.price_int if local else ref, orig.price_int, orig.currency,
                  convert(orig.price_int, orig.currency, cur))


def _touch(book: Book, fallback: int) -> tuple[int, int]:
    bid, ask = book.best_bid(), book.best_ask()
    return (bid.price_int if bid else fallback), (ask.price_int if ask else fallback)


def ticker_json(market: Market, cur: str, *, version: int) -> dict[str, Any]:
    window = market.feeds[cur].since_time(market.now_us - DAY_US) if cur in market.feeds else []
    lasts = _lasts(market, cur)
    high, low, avg, vwap, vol = _stats(window) if window else (lasts.all,) * 4 + (0,)
    buy, sell = _touch(market.book(cur), lasts.all)

    def m(value: int, code: str = cur) -> dict[str, str]:
        return money(value, code, short_display=True)

    out: dict[str, Any] = {
        "high": m(high), "low": m(low), "avg": m(avg), "vwap": m(vwap), "vol": m(vol, "BTC"),
        "last_local": m(lasts.local), "last_orig": m(lasts.orig, lasts.orig_currency),
        "last_all": m(lasts.all), "last": m(lasts.all), "buy": m(buy), "sell": m(sell),
    }
    if version >= 2:
        out["item"] = "BTC"
    out["now"] = str(market.now_us)
    return out


def ticker_fast_json(market: Market, cur: str) -> dict[str, Any]:
    lasts = _lasts(market, cur)
    buy, sell = _touch(market.book(cur), lasts.all)

    def m(value: int, code: str = cur) -> dict[str, str]:
        return money(value, code, short_display=True)

    return {
        "last_local": m(lasts.local), "last": m(lasts.all), "last_orig": m(lasts.orig, lasts.orig_currency),
        "last_all": m(lasts.all), "buy": m(buy), "sell": m(sell), "now": str(market.now_us),
    }


def v0_ticker_json(market: Market, cur: str) -> dict[str, Any]:
    full = ticker_json(market, cur, version=1)

    def f(key: str) -> int | float:
        return to_number(int(full[key]["value_int"]), CURRENCIES[full[key]["currency"]])

    ticker = {k: f(k) for k in ("high", "low", "avg", "vwap")}
    ticker["vol"] = int(full["vol"]["value_int"]) // 100_000_000  # the captures show whole BTC
    ticker.update({k: f(k) for k in ("last_all", "last_local", "last", "buy", "sell")})
    return {"ticker": ticker}


# -- depth -------------------------------------------------------------------------------------


def depth_window(market: Market, cur: str) -> tuple[int, int]:
    last = market.reference_price(cur) or 1
    return last * DEPTH_WINDOW[0] // 10, last * DEPTH_WINDOW[1] // 10


def _level_json(level: Level, cur: str) -> dict[str, Any]:
    c = CURRENCIES[cur]
    return {
        "price": to_number(level.price_int, c),
        "amount": to_number(level.amount_int, CURRENCIES["BTC"]),
        "price_int": str(level.price_int),
        "amount_int": str(level.amount_int),
        "stamp": str(level.stamp_us),
    }


def depth_json(market: Market, cur: str, *, full: bool) -> dict[str, Any]:
    book = market.book(cur)
    lo, hi = (None, None) if full else depth_window(market, cur)
    out: dict[str, Any] = {
        "asks": [_level_json(lv, cur) for lv in book.asks.levels(lo, hi)],
        "bids": [_level_json(lv, cur) for lv in book.bids.levels(lo, hi)],
    }
    if not full:
        out["filter_min_price"] = money(lo or 0, cur, short_display=True)
        out["filter_max_price"] = money(hi or 0, cur, short_display=True)
    return out


def v0_depth_json(market: Market, cur: str) -> dict[str, Any]:
    book = market.book(cur)
    lo, hi = depth_window(market, cur)
    c, btc = CURRENCIES[cur], CURRENCIES["BTC"]

    def pairs(levels: list[Level]) -> list[list[int | float]]:
        return [[to_number(lv.price_int, c), to_number(lv.amount_int, btc)] for lv in levels]

    return {"asks": pairs(book.asks.levels(lo, hi)), "bids": pairs(book.bids.levels(lo, hi))}


# -- misc --------------------------------------------------------------------------------------


def lag_json(queue_length: int, lag_us: int) -> dict[str, Any]:
    return {
        "lag": lag_us,
        "lag_secs": lag_us / 1_000_000,
        "lag_text": f"{lag_us / 1_000_000:.6f} seconds",
        "length": str(queue_length),
    }


def currency_json(code: str) -> dict[str, str]:
    c = CURRENCIES[code]
    return {
        "currency": code,
        "name": c.name,
        "symbol": c.symbol,
        "decimals": str(c.decimals),
        "display_decimals": str(c.display_decimals),
        "symbol_position": "before" if c.prefix else "after",
        "virtual": "N",
        # Mt.Gox published one socket channel per currency; stable made-up UUIDs stand in.
        "ticker_channel": _channel_uuid("ticker", code),
        "depth_channel": _channel_uuid("depth", code),
    }


def _channel_uuid(kind: str, code: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mtgox-emulator:{kind}:{code}"))
