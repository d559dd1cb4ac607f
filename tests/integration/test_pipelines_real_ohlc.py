"""Daily bars built from real Mt.Gox trades equal the published Mt.Gox daily history (Quandl BCHARTS/MTGOXUSD).

The trades go the whole way: the emulator replays the real file over HTTP on loopback, the collector
backfills it into the raw store, the pipelines build the warehouse. Expected values come only from the
published CSV (and, for which trade may open or close a day, from the trades file itself):
../shared/reference/real-data.md §3 explains why open and close are a same-second choice and why the
2013-01-01 primary-only volume is 237.2995 BTC short.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import gzip
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from collector import service
from collector.backfill import parse_point
from pipelines.build import build
from tests.collector_harness import exchange, load, write_config
from tests.fixture_catalog import CAPTURES
from tests.pipelines_harness import failed_checks, rows, write_raw
from tests.shared import shared_path

REAL_100K = "data/real/mtgox-bitcoincharts-first100k/mtgox.csv.gz"
PUBLISHED = "data/real/mtgox-quandl-bcharts-daily/BCHARTS-MTGOXUSD.csv"
V0_2011_06_07 = "data/real/mtgox-api-sferik/2011-06-07_3bf489a/trades.json"
PYALGOTRADE_2013_01_01 = "data/real/mtgox-api-pyalgotrade-2013-01-01/trades-mgtox-usd-2013-01-01.csv"
FIRST_DAY, LAST_COMPLETE_DAY = dt.date(2010, 7, 17), dt.date(2011, 6, 5)
RELATIVE = Decimal("1e-9")  # the published quote volume and VWAP are printed to ~12 significant digits
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Bar:
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    vwap: Decimal
    trades: int = 0


def published() -> dict[dt.date, Bar]:
    with shared_path(PUBLISHED).open(newline="") as f:
        return {dt.date.fromisoformat(r["Date"]): Bar(*(Decimal(r[k]) for k in (
            "Open", "High", "Low", "Close", "Volume (BTC)", "Volume (Currency)", "Weighted Price")))
            for r in csv.DictReader(f)}


def daily_bars(warehouse: Path) -> dict[dt.date, Bar]:
    got = rows(warehouse, "SELECT epoch_us(bucket), open, high, low, close, volume, quote_volume, vwap, trades "
                          "FROM ohlc WHERE exchange = 'mtgox' AND market = 'BTCUSD' AND interval = '1d'")
    bars = {}
    for bucket, *values in got:
        start = EPOCH + dt.timedelta(microseconds=bucket)
        assert start.time() == dt.time(0), f"a daily bar starting at {start}"
        bars[start.date()] = Bar(*values)
    return bars


def close_to(got: Decimal, want: Decimal) -> bool:
    return abs(got - want) <= abs(want) * RELATIVE


@dataclass
class Edges:
    """A day's trades as the file has them: how many, and the prices of its first and last second."""

    trades: int
    first_second: int
    first_prices: set[Decimal]
    last_second: int
    last_prices: set[Decimal]


def edges_of_days(path: Path) -> dict[dt.date, Edges]:
    days: dict[dt.date, Edges] = {}
    with gzip.open(path, "rt") as f:
        for line in f:
            second, price_text, _ = line.split(",")
            t, price = int(second), Decimal(price_text)
            day = (EPOCH + dt.timedelta(seconds=t)).date()
            e = days.get(day)
            if e is None:
                days[day] = Edges(1, t, {price}, t, {price})
                continue
            e.trades += 1
            if t < e.first_second:
                e.first_second, e.first_prices = t, {price}
            elif t == e.first_second:
                e.first_prices.add(price)
            if t > e.last_second:
                e.last_second, e.last_prices = t, {price}
            elif t == e.last_second:
                e.last_prices.add(price)
    return days


def backfilled(tmp_path: Path, replay: Path, since: int) -> Path:
    """The replayed file served over HTTP, backfilled with API v1 from tid `since`, then built."""
    with exchange(tmp_path, replay=replay, min_interval_s=0.0, request_log=None) as ex:
        config = write_config(tmp_path, ex.url, version=1, min_interval="1ms", max_rps=100_000,
                              markets={"BTCUSD": {"trades": "10s"}})
        [result] = asyncio.run(service.backfill(load(config), "BTCUSD", since, None))
    assert result.gap is None
    return Path(build(tmp_path / "data").warehouse)


# --- the first 100,000 trades: 324 complete days ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def first_100k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return backfilled(tmp_path_factory.mktemp("first-100k"), shared_path(REAL_100K), 0)


def complete_days() -> list[dt.date]:
    return [FIRST_DAY + dt.timedelta(days=i) for i in range((LAST_COMPLETE_DAY - FIRST_DAY).days + 1)]


@pytest.mark.slow
def test_the_first_100k_real_trades_give_a_daily_bar_for_each_of_the_324_complete_days(first_100k: Path) -> None:
    # Every page the collector fetched is a good answer of real trades: nothing is set aside.
    assert rows(first_100k, "SELECT endpoint, reason FROM quarantine") == []
    days = complete_days()
    assert len(days) == 324
    bars = daily_bars(first_100k)
    assert sorted(d for d in bars if d <= LAST_COMPLETE_DAY) == days
    assert sum(b.trades for b in bars.values()) == 100_000
    assert failed_checks(first_100k) == []


def mismatches(bars: dict[dt.date, Bar], same: Callable[[Bar, Bar], bool], show: Callable[[Bar], str]) -> list[str]:
    """The complete days whose bar is missing or not `same` as the published one."""
    pub = published()
    wrong = []
    for d in complete_days():
        bar = bars.get(d)
        if bar is None:
            wrong.append(f"{d}: no bar")
        elif not same(bar, pub[d]):
            wrong.append(f"{d}: {show(bar)}, published {show(pub[d])}")
    return wrong


@pytest.mark.slow
def test_daily_high_low_and_volume_equal_the_published_ones_exactly(first_100k: Path) -> None:
    wrong = mismatches(daily_bars(first_100k), lambda b, p: (b.high, b.low, b.volume) == (p.high, p.low, p.volume),
                       lambda b: f"H/L/V {b.high}/{b.low}/{b.volume}")
    assert wrong == [], f"{len(wrong)} of 324 days differ: {wrong[:10]}"


@pytest.mark.slow
def test_daily_quote_volume_and_vwap_equal_the_published_ones_to_a_billionth(first_100k: Path) -> None:
    wrong = mismatches(daily_bars(first_100k),
                       lambda b, p: close_to(b.quote_volume, p.quote_volume) and close_to(b.vwap, p.vwap),
                       lambda b: f"VC/VWAP {b.quote_volume}/{b.vwap}")
    assert wrong == [], f"{len(wrong)} of 324 days differ: {wrong[:10]}"


@pytest.mark.slow
def test_daily_open_and_close_are_trades_of_the_first_and_last_second_of_the_day(first_100k: Path) -> None:
    bars, pub, edges = daily_bars(first_100k), published(), edges_of_days(shared_path(REAL_100K))
    wrong = []
    for d in complete_days():
        b, p, e = bars.get(d), pub[d], edges[d]
        # The published values are such trades too: bitcoincharts' order within a second is arbitrary.
        assert p.open in e.first_prices and p.close in e.last_prices, f"{d}: the published file disagrees"
        if b is None:
            wrong.append(f"{d}: no bar")
            continue
        if b.trades != e.trades:
            wrong.append(f"{d}: {b.trades} trades, the file has {e.trades}")
        if b.open not in e.first_prices:
            wrong.append(f"{d}: open {b.open} not among the first second's {sorted(e.first_prices)}")
        if b.close not in e.last_prices:
            wrong.append(f"{d}: close {b.close} not among the last second's {sorted(e.last_prices)}")
    assert wrong == [], f"{len(wrong)} problems: {wrong[:10]}"


# --- two API captures: one day each --------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_v0_capture_of_2011_06_07_gives_the_published_daily_bar_of_that_day(tmp_path: Path) -> None:
    [capture] = [c for c in CAPTURES if c.file == V0_2011_06_07]
    write_raw(tmp_path / "data", [capture.response()])  # one v0 getTrades answer: 48 h, 11,214 trades
    warehouse = Path(build(tmp_path / "data").warehouse)
    bar = daily_bars(warehouse)[dt.date(2011, 6, 7)]
    p = published()[dt.date(2011, 6, 7)]
    assert bar.trades == 4851
    # The day's first and last seconds hold one trade each, so open and close are exact too.
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (p.open, p.high, p.low, p.close, p.volume)
    assert close_to(bar.quote_volume, p.quote_volume) and close_to(bar.vwap, p.vwap)
    assert failed_checks(warehouse) == []


@pytest.mark.slow
def test_the_primary_only_trades_of_2013_01_01_give_the_published_prices_and_the_documented_volume_gap(
        tmp_path: Path) -> None:
    warehouse = backfilled(tmp_path, shared_path(PYALGOTRADE_2013_01_01), parse_point("2013-01-01"))
    bar = daily_bars(warehouse)[dt.date(2013, 1, 1)]
    p = published()[dt.date(2013, 1, 1)]
    assert bar.trades == 2331
    assert (bar.open, bar.high, bar.low, bar.close) == (p.open, p.high, p.low, p.close)
    # pyalgotrade kept primary == "Y" only; bitcoincharts also counted the mixed-currency USD fills.
    assert (p.volume - bar.volume).quantize(Decimal("0.0001")) == Decimal("237.2995")
    assert failed_checks(warehouse) == []
