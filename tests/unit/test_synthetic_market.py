"""The seeded synthetic market and Market's trade paging (reference sections 1 and 8)."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from itertools import pairwise

import pytest

from emulator.market import DAY_US, Clock, Market
from emulator.model import RELAUNCH_TID, RELAUNCH_US, Trade
from emulator.money import FIAT
from emulator.synthetic import MINUTE_US, SyntheticConfig

NOW_US = 1_365_000_000 * 1_000_000  # 2013-04-03 14:40 UTC, on a minute boundary
HOUR_US = 3_600_000_000
HISTORY_US = 48 * HOUR_US


def _synthetic(seed: int, history_us: int = HISTORY_US) -> Market:
    return Market.synthetic(SyntheticConfig(seed=seed), now_wall_us=NOW_US, history_us=history_us)


def _tape(market: Market) -> dict[str, list[tuple[int, int, int]]]:
    return {cur: [(t.tid, t.price_int, t.amount_int) for t in feed.trades] for cur, feed in market.feeds.items()}


@pytest.fixture(scope="module")
def market() -> Market:
    return _synthetic(seed=1)


# --- the synthetic tape -------------------------------------------------------------------------


def test_the_same_seed_gives_identical_feeds() -> None:
    a, b = _synthetic(seed=5, history_us=6 * HOUR_US), _synthetic(seed=5, history_us=6 * HOUR_US)
    assert _tape(a) == _tape(b)
    assert sum(len(v) for v in _tape(a).values()) > 1_000


def test_a_different_seed_gives_different_feeds() -> None:
    a, b = _synthetic(seed=5, history_us=6 * HOUR_US), _synthetic(seed=6, history_us=6 * HOUR_US)
    assert _tape(a)["USD"] != _tape(b)["USD"]
    assert {t[0] for t in _tape(a)["USD"]} != {t[0] for t in _tape(b)["USD"]}


def test_every_feed_has_strictly_increasing_tids_equal_to_the_trade_time(market: Market) -> None:
    for cur, feed in market.feeds.items():
        tids = [t.tid for t in feed.trades]
        assert all(a < b for a, b in pairwise(tids)), cur
        assert all(t.tid == t.time_us for t in feed.trades), cur
        assert feed.tids == tids


def test_the_history_spans_the_requested_hours_and_nothing_lies_in_the_future(market: Market) -> None:
    all_trades = [t for feed in market.feeds.values() for t in feed.trades]
    assert min(t.time_us for t in all_trades) >= NOW_US - HISTORY_US
    assert min(t.time_us for t in all_trades) < NOW_US - HISTORY_US + HOUR_US
    assert max(t.time_us for t in all_trades) <= NOW_US
    assert market.now_us == NOW_US


def test_every_currency_trades_and_usd_trades_most(market: Market) -> None:
    counts = {cur: len(feed.trades) for cur, feed in market.feeds.items()}
    assert set(counts) == set(FIAT)
    assert all(n > 0 for n in counts.values()), counts
    assert max(counts, key=counts.__getitem__) == "USD"
    assert counts["USD"] > 2 * counts["EUR"] > 0


def test_trade_fields_are_well_formed(market: Market) -> None:
    trades = [t for feed in market.feeds.values() for t in feed.trades]
    assert {t.trade_type for t in trades} == {"bid", "ask"}
    assert {t.properties for t in trades} == {"limit", "market", "limit,mixed_currency", "market,mixed_currency"}
    assert all(t.price_int > 0 and t.amount_int > 0 for t in trades)
    assert all(t.currency == cur for cur, feed in market.feeds.items() for t in feed.trades)


def test_a_cross_currency_fill_appears_in_two_feeds_under_one_tid_with_exactly_one_primary_copy(
    market: Market,
) -> None:
    copies: dict[int, list[Trade]] = defaultdict(list)
    for feed in market.feeds.values():
        for t in feed.trades:
            copies[t.tid].append(t)
    crossed = {tid: ts for tid, ts in copies.items() if len(ts) > 1}
    assert len(crossed) > 100
    assert max(len(ts) for ts in copies.values()) == 2
    for ts in crossed.values():
        assert len({t.currency for t in ts}) == 2
        assert sum(t.primary for t in ts) == 1
        assert all("mixed_currency" in t.properties.split(",") for t in ts)
        assert len({t.amount_int for t in ts}) == 1
        assert len({t.time_us for t in ts}) == 1
    for ts in copies.values():
        if len(ts) == 1:
            assert ts[0].primary
            assert "mixed_currency" not in ts[0].properties


@pytest.mark.parametrize(
    ("cur", "scale", "per_usd"), [("JPY", 1_000, 98.5), ("EUR", 100_000, 0.76), ("SEK", 1_000, 6.55)]
)
def test_prices_are_scaled_per_currency_at_the_exchange_rate(
    market: Market, cur: str, scale: int, per_usd: float
) -> None:
    usd, other = market.feeds["USD"].last(), market.feeds[cur].last()
    assert usd is not None
    assert other is not None
    ratio = (other.price_int / scale) / (usd.price_int / 100_000)
    assert ratio == pytest.approx(per_usd, rel=0.15)


def test_volatility_clusters_absolute_minute_returns_are_autocorrelated(market: Market) -> None:
    by_minute: dict[int, list[int]] = defaultdict(list)
    for t in market.feeds["USD"].trades:
        by_minute[t.time_us // MINUTE_US].append(t.price_int)
    minutes = sorted(by_minute)
    closes = [statistics.median(by_minute[m]) for m in minutes]
    assert len(closes) > 0.9 * HISTORY_US / MINUTE_US  # almost every minute has USD trades
    returns = [abs(math.log(b / a)) for a, b in pairwise(closes)]
    mean = statistics.fmean(returns)
    dev = [r - mean for r in returns]
    lag1 = sum(a * b for a, b in pairwise(dev)) / sum(d * d for d in dev)
    # A constant-variance walk gives about 0.05-0.12 here (median noise); GARCH gives about 0.2.
    assert lag1 > 0.15


def test_arrivals_are_bursty_trades_per_minute_are_overdispersed(market: Market) -> None:
    first = (NOW_US - HISTORY_US) // MINUTE_US
    counts = Counter(t.time_us // MINUTE_US for t in market.feeds["USD"].trades)
    per_minute = [counts.get(first + i, 0) for i in range(HISTORY_US // MINUTE_US)]
    mean = statistics.fmean(per_minute)
    assert mean > 1
    assert statistics.pvariance(per_minute) > 1.5 * mean  # Poisson would have variance == mean


def test_the_usd_full_book_is_thousands_of_levels_with_absurd_far_levels(market: Market) -> None:
    book = market.book("USD")
    assert len(book.bids) + len(book.asks) > 2_000
    assert book.bids.lowest() is not None
    assert book.bids.lowest().price_int == 1
    assert book.asks.highest() is not None
    assert book.asks.highest().price_int > 10**11
    assert len(market.book("EUR").bids) + len(market.book("EUR").asks) < len(book.bids) + len(book.asks)


@pytest.mark.parametrize("cur", FIAT)
def test_best_bid_is_below_best_ask_and_both_sides_straddle_the_last_price(market: Market, cur: str) -> None:
    book = market.book(cur)
    bid, ask = book.best_bid(), book.best_ask()
    assert bid is not None
    assert ask is not None
    assert bid.price_int < ask.price_int
    last = market.feeds[cur].last()
    assert last is not None
    assert bid.price_int < last.price_int < ask.price_int
    assert ask.price_int < last.price_int * 1.01
    assert bid.price_int > last.price_int * 0.99


def test_advancing_the_clock_adds_trades_and_never_changes_earlier_ones() -> None:
    market = _synthetic(seed=3, history_us=2 * HOUR_US)
    before = {cur: list(feed.trades) for cur, feed in market.feeds.items()}
    market.advance(NOW_US + 10 * MINUTE_US)
    assert market.now_us == NOW_US + 10 * MINUTE_US
    added = 0
    for cur, feed in market.feeds.items():
        assert feed.trades[: len(before[cur])] == before[cur], cur
        new = feed.trades[len(before[cur]) :]
        assert all(NOW_US < t.time_us <= NOW_US + 10 * MINUTE_US for t in new), cur
        added += len(new)
    assert added > 10


def test_advancing_backwards_is_ignored() -> None:
    market = _synthetic(seed=3, history_us=HOUR_US)
    before = _tape(market)
    market.advance(NOW_US - 30 * MINUTE_US)
    assert market.now_us == NOW_US
    assert _tape(market) == before


def test_the_clock_runs_market_time_at_speed_times_wall_time() -> None:
    clock = Clock(origin_market_us=1_000_000_000, origin_wall_us=5_000_000, speed=60.0)
    assert clock.market_us(5_000_000) == 1_000_000_000
    assert clock.market_us(6_000_000) == 1_060_000_000
    assert Clock(100, 0).market_us(50) == 150


def test_advance_wall_moves_the_synthetic_market_by_the_clock() -> None:
    market = Market.synthetic(SyntheticConfig(seed=2), now_wall_us=NOW_US, history_us=HOUR_US, speed=10.0)
    assert market.advance_wall(NOW_US + 30_000_000) == NOW_US + 300_000_000
    assert market.now_us == NOW_US + 300_000_000


# --- Market.trades_page -------------------------------------------------------------------------

T_END = 1_365_000_000 * 1_000_000  # the last hand-made trade; market time is one second later


def _micro_trades(times: list[int], cur: str = "USD") -> list[Trade]:
    return [Trade(t, t, 10_000_000 + i, 100_000_000, cur) for i, t in enumerate(times)]


def _replay(trades: list[Trade]) -> Market:
    return Market.replay(trades, now_wall_us=NOW_US, seed=1, book_levels=100)


@pytest.fixture(scope="module")
def paged() -> Market:
    # One trade an hour for three days, ending at T_END.
    times = [T_END - k * HOUR_US for k in range(72, -1, -1)]
    return _replay(_micro_trades(times))


def test_a_replay_market_starts_one_second_after_its_last_trade(paged: Market) -> None:
    assert paged.now_us == T_END + 1_000_000


def test_without_since_the_page_is_the_last_24_hours_only(paged: Market) -> None:
    page = paged.trades_page("USD", None, limit=None, window_us=None)
    now = T_END + 1_000_000
    expected = [t for t in paged.feeds["USD"].trades if t.time_us >= now - DAY_US]
    assert page == expected
    assert len(page) == 24  # hourly trades in (now - 24 h, now]: T_END - 23 h .. T_END
    assert page[0].time_us == T_END - 23 * HOUR_US
    assert page[-1].time_us == T_END


def test_without_since_the_limit_does_not_apply(paged: Market) -> None:
    assert len(paged.trades_page("USD", None, limit=5, window_us=None)) == 24


def test_since_is_exclusive_and_the_limit_caps_the_page(paged: Market) -> None:
    tids = paged.feeds["USD"].tids
    page = paged.trades_page("USD", tids[10], limit=5, window_us=None)
    assert [t.tid for t in page] == tids[11:16]
    between = paged.trades_page("USD", tids[10] + 1, limit=5, window_us=None)
    assert [t.tid for t in between] == tids[11:16]


def test_since_zero_starts_from_the_first_trade(paged: Market) -> None:
    page = paged.trades_page("USD", 0, limit=1000, window_us=None)
    assert page == paged.feeds["USD"].trades
    assert len(page) == 73


def test_a_window_caps_the_page_by_time_from_its_first_trade(paged: Market) -> None:
    tids = paged.feeds["USD"].tids
    page = paged.trades_page("USD", tids[0], limit=None, window_us=DAY_US)
    # The first trade is tids[1]; a day later is tids[25], which is not strictly within the window.
    assert [t.tid for t in page] == tids[1:25]
    assert paged.trades_page("USD", tids[0], limit=3, window_us=DAY_US) == page[:3]


def test_since_at_the_last_tid_and_an_unknown_currency_give_empty_pages(paged: Market) -> None:
    assert paged.trades_page("USD", paged.feeds["USD"].tids[-1], limit=1000, window_us=None) == []
    assert paged.trades_page("EUR", 0, limit=1000, window_us=None) == []
    assert paged.trades_page("EUR", None, limit=None, window_us=None) == []


def _relaunch_feed() -> tuple[Market, list[int], list[int]]:
    small = list(range(218_860, 218_869))  # the last sequential tids, June 2011
    small_trades = [
        Trade(tid, RELAUNCH_US - 7 * DAY_US + i * MINUTE_US, 1_700_000, 100_000_000, "USD")
        for i, tid in enumerate(small)
    ]
    micro = [RELAUNCH_TID + k * MINUTE_US for k in range(10)]  # tids are microsecond times from here on
    return _replay(small_trades + _micro_trades(micro)), small, micro


@pytest.mark.parametrize("window_us", [None, 30 * DAY_US])
def test_a_page_never_mixes_sequential_and_microsecond_tids(window_us: int | None) -> None:
    market, small, _ = _relaunch_feed()
    page = market.trades_page("USD", 0, limit=1000, window_us=window_us)
    assert [t.tid for t in page] == small
    page = market.trades_page("USD", small[3], limit=1000, window_us=window_us)
    assert [t.tid for t in page] == small[4:]


def test_since_the_last_sequential_tid_gives_an_empty_page_until_the_cursor_jumps() -> None:
    market, small, micro = _relaunch_feed()
    assert market.trades_page("USD", small[-1], limit=1000, window_us=None) == []
    assert market.trades_page("USD", small[-1] + 1, limit=1000, window_us=None) == []
    jumped = market.trades_page("USD", 1_309_100_000_000_000, limit=1000, window_us=None)  # BTCX's jump
    assert [t.tid for t in jumped] == micro
    assert [t.tid for t in market.trades_page("USD", micro[4], limit=1000, window_us=None)] == micro[5:]


def test_following_the_cursor_through_windowed_pages_delivers_every_trade_once() -> None:
    # Pre-relaunch tids do not follow time exactly (the 2011-06-07 capture steps back by tens of seconds 29 times).
    t0 = RELAUNCH_US - 10 * DAY_US
    times = [t0, t0 + DAY_US + 5_000_000, t0 + DAY_US - 10_000_000, t0 + DAY_US + 20_000_000]
    trades = [Trade(tid, t, 1_700_000, 100_000_000, "USD") for tid, t in enumerate(times, start=1)]
    market = _replay(trades)
    seen: list[int] = []
    since = 0
    for _ in range(10):
        page = market.trades_page("USD", since, limit=None, window_us=DAY_US)
        if not page:
            break
        seen.extend(t.tid for t in page)
        since = page[-1].tid
    assert seen == [1, 2, 3, 4]
