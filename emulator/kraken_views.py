"""Kraken's public answers from the emulator's market: Time, SystemStatus, Assets, AssetPairs, Ticker,
Depth, Trades and OHLC, in the shapes of the spec's examples and the 2024 captures. Pure.

Each function returns the `result` object; the face adds the `{"error": [], "result": ...}` envelope.
Times that Kraken sends as float seconds are `orjson.Fragment`s holding the exact microsecond decimal, so
no float rounding ever reaches the wire.

Trades: `trade_id` numbers a pair's trades one by one from 1 (its position in the feed); `last` and
`since` are nanoseconds, the trade's µs time × 1000 (in the synthetic market a tid is its µs time, so
the feed's tid order is time order). OHLC bars are made from exactly the trades Trades serves, so a
client's own 1-minute bars match the committed ones field by field. An interval without trades gets
no bar: Kraken's documentation does not say, and a gap invents no prices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from .account import DEFAULT_FEE_PPM
from .kraken_model import (
    ASSETS,
    BOOK_VOLUME_DECIMALS,
    PRICE_DECIMALS,
    KrakenPair,
    btc_text,
    fiat_text,
    rfc1123,
    time_text,
)
from .market import DAY_US, Market
from .model import Level, Trade

TRADES_MAX = 1000  # Trades' count: "1..1000", default 1000
DEPTH_DEFAULT, DEPTH_MAX = 100, 500
OHLC_INTERVALS = frozenset({1, 5, 15, 30, 60, 240, 1440, 10080, 21600})  # minutes
OHLC_ROWS = 720  # "Returns up to 720 of the most recent entries"
SECONDS_SINCE_BELOW = 10**11  # a smaller `since` is unix seconds (Kraken takes both); ns are ~1e18
MINUTE_US = 60_000_000


def time_json(now_us: int) -> dict[str, Any]:
    return {"unixtime": now_us // 1_000_000, "rfc1123": rfc1123(now_us // 1_000_000)}


def system_status_json(now_us: int) -> dict[str, Any]:
    stamp = datetime.fromtimestamp(now_us // 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"status": "online", "timestamp": stamp}


def assets_json(codes: Sequence[str]) -> dict[str, Any]:
    return {
        code: {"aclass": "currency", "altname": a.altname, "decimals": a.decimals,
               "display_decimals": a.display_decimals, "status": "enabled"}
        for code in codes
        for a in (ASSETS[code],)
    }


def asset_pair_json(pair: KrakenPair) -> dict[str, Any]:
    # Fees: the accounts' flat 0.6 % (Mt.Gox's), taker and maker alike. No margin trading: no leverage.
    fee = DEFAULT_FEE_PPM / 10_000
    return {
        "altname": pair.altname, "wsname": pair.wsname, "aclass_base": "currency", "base": pair.base.code,
        "aclass_quote": "currency", "quote": pair.quote.code, "lot": "unit", "cost_decimals": PRICE_DECIMALS,
        "pair_decimals": PRICE_DECIMALS, "lot_decimals": 8, "lot_multiplier": 1, "leverage_buy": [],
        "leverage_sell": [], "fees": [[0, fee]], "fees_maker": [[0, fee]], "fee_volume_currency": "ZUSD",
        "margin_call": 80, "margin_stop": 40, "ordermin": "0.01", "costmin": "0.5",
        "tick_size": fiat_text(1, pair.currency), "status": "online", "long_position_limit": 0,
        "short_position_limit": 0,
    }


# -- ticker ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Window:
    volume: int
    vwap: int
    count: int
    low: int
    high: int


def _window(trades: Sequence[Trade], fallback_price: int) -> _Window:
    """Volume, VWAP (rounded half up to the price unit), count, low and high; the last price when empty."""
    if not trades:
        return _Window(0, fallback_price, 0, fallback_price, fallback_price)
    volume = sum(t.amount_int for t in trades)
    turnover = sum(t.price_int * t.amount_int for t in trades)
    vwap = (turnover + volume // 2) // volume if volume else trades[-1].price_int
    return _Window(volume, vwap, len(trades), min(t.price_int for t in trades), max(t.price_int for t in trades))


def _lot(level: Level | None, cur: str) -> list[str]:
    """[price, whole lot volume, lot volume] of a best level (Kraken's `a` and `b`)."""
    if level is None:
        return ["0.00000", "0", "0.000"]
    return [fiat_text(level.price_int, cur), str(level.amount_int // 100_000_000),
            btc_text(level.amount_int, BOOK_VOLUME_DECIMALS)]


def ticker_json(market: Market, pair: KrakenPair) -> dict[str, Any]:
    """"Today" starts at midnight UTC; the second figure of each pair is the last 24 hours.

    A window without trades shows volume 0, count 0 and the last price as its VWAP, low and high; the
    opening price is today's first trade's, or the last price before any trade today.
    """
    cur, now = pair.currency, market.now_us
    feed = market.feeds[cur]
    day = feed.since_time(now - DAY_US)
    today = [t for t in day if t.time_us >= now - now % DAY_US]
    last = feed.last()
    last_price = last.price_int if last else (market.reference_price(cur) or 0)
    opening = today[0].price_int if today else last_price
    w_today, w_day = _window(today, opening), _window(day, last_price)
    book = market.book(cur)

    def price(v: int) -> str:
        return fiat_text(v, cur)

    return {pair.pair_id: {
        "a": _lot(book.best_ask(), cur),
        "b": _lot(book.best_bid(), cur),
        "c": [price(last_price), btc_text(last.amount_int if last else 0)],
        "v": [btc_text(w_today.volume), btc_text(w_day.volume)],
        "p": [price(w_today.vwap), price(w_day.vwap)],
        "t": [w_today.count, w_day.count],
        "l": [price(w_today.low), price(w_day.low)],
        "h": [price(w_today.high), price(w_day.high)],
        "o": price(opening),
    }}


# -- depth -------------------------------------------------------------------------------------------------------


def depth_json(market: Market, pair: KrakenPair, count: int) -> dict[str, Any]:
    """The best `count` levels each side: asks upward from the best ask, bids downward from the best bid."""
    cur = pair.currency
    book = market.book(cur)

    def row(level: Level) -> list[Any]:
        return [fiat_text(level.price_int, cur), btc_text(level.amount_int, BOOK_VOLUME_DECIMALS),
                level.stamp_us // 1_000_000]

    asks = book.asks.levels()[:count]
    bids = book.bids.levels()[::-1][:count]
    return {pair.pair_id: {"asks": [row(x) for x in asks], "bids": [row(x) for x in bids]}}


# -- trades ------------------------------------------------------------------------------------------------------


def since_us(since: int) -> int:
    """The µs cursor of a `since`: trades after it are served. Seconds mean "from that second on"."""
    if since < SECONDS_SINCE_BELOW:
        return since * 1_000_000 - 1
    return since // 1000  # ns: time_us × 1000 > since  ⇔  time_us > since // 1000


def trades_json(market: Market, pair: KrakenPair, since: int | None, count: int, *, step_back: int = 0,
                repeat_tail: int = 0) -> dict[str, Any]:
    """A Trades answer. `step_back` and `repeat_tail` are the overlap and repeat faults (trades re-sent)."""
    feed = market.feeds[pair.currency]
    # Without since: the most recent `count`; with it, the first `count` after it.
    start = len(feed.trades) - count if since is None else feed.after(since_us(since)) - step_back
    start = max(0, start)
    indexes = list(range(start, min(len(feed.trades), start + count)))
    if repeat_tail and indexes:
        indexes += indexes[-min(len(indexes), repeat_tail):]
    rows = [_trade_row(feed.trades[i], i + 1) for i in indexes]
    last = str(feed.trades[indexes[-1]].time_us * 1000) if indexes else str(since if since is not None else 0)
    return {pair.pair_id: rows, "last": last}


def _trade_row(t: Trade, trade_id: int) -> list[Any]:
    return [fiat_text(t.price_int, t.currency), btc_text(t.amount_int), orjson.Fragment(time_text(t.time_us)),
            "b" if t.trade_type == "bid" else "s", "m" if t.properties.startswith("market") else "l", "",
            trade_id]


# -- OHLC --------------------------------------------------------------------------------------------------------


def ohlc_json(market: Market, pair: KrakenPair, interval: int, since: int | None) -> dict[str, Any]:
    """The most recent bars (at most 720) that end after `since`; the last row is the still-open bar.

    `last` is the start of the last interval that has ended: polling with since=last re-sends that bar
    (committed now) and the open one.
    """
    width = interval * MINUTE_US
    now = market.now_us
    current = now - now % width
    first = current - (OHLC_ROWS - 1) * width
    if since is not None:
        # The bar that holds `since` and every later one (the 2024 capture's first bar starts before since).
        at_us = since * 1_000_000 if since < SECONDS_SINCE_BELOW else since // 1000
        first = max(first, at_us - at_us % width)
    trades = market.feeds[pair.currency].since_time(first, now + 1)
    bars: dict[int, list[Trade]] = {}
    for t in trades:
        bars.setdefault(t.time_us - t.time_us % width, []).append(t)
    rows = [_bar(start, bar, pair.currency) for start, bar in sorted(bars.items())][-OHLC_ROWS:]
    return {pair.pair_id: rows, "last": (current - width) // 1_000_000}


def _bar(start_us: int, trades: list[Trade], cur: str) -> list[Any]:
    w = _window(trades, trades[0].price_int)
    return [start_us // 1_000_000, fiat_text(trades[0].price_int, cur), fiat_text(w.high, cur),
            fiat_text(w.low, cur), fiat_text(trades[-1].price_int, cur), fiat_text(w.vwap, cur),
            btc_text(w.volume), w.count]
