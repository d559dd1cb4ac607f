"""The Kraken face's formats and derived records, pure: exact decimals and times, ids, pair names, trades
pages, OHLC bars, and ledgers made from the Mt.Gox-style accounts."""

from __future__ import annotations

import random
import re
from collections import defaultdict
from decimal import Decimal

import pytest

from emulator.config import EXCHANGES, EmulatorConfig
from emulator.errors import StartupError
from emulator.faces import FACES
from emulator.kraken_account_views import account_book
from emulator.kraken_model import PAIRS, decimal_text, find_pair, kraken_id, time_text
from emulator.kraken_views import ohlc_json, trades_json
from emulator.market import Market
from emulator.model import Trade
from emulator.world import World

USD = PAIRS["XXBTZUSD"]
T0 = 1_699_999_800_000_000  # µs, a five-minute boundary


def test_decimals_are_exact_with_at_least_the_asked_digits_and_more_only_when_needed() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        units, scale, least = rng.randrange(-10**12, 10**12), rng.choice([3, 5, 8]), rng.randrange(0, 11)
        text = decimal_text(units, scale, least)
        assert Decimal(text) == Decimal(units).scaleb(-scale)
        decimals = len(text.partition(".")[2])
        assert decimals >= least and (decimals == least or not text.endswith("0"))
    assert decimal_text(9498000, 5, 5) == "94.98000" and decimal_text(9498000, 5, 1) == "94.98"
    assert decimal_text(150_000_000, 8, 10) == "1.5000000000" and decimal_text(-12345, 5, 1) == "-0.12345"


def test_times_are_the_exact_microsecond_as_a_json_number() -> None:
    rng = random.Random(4)
    for _ in range(2000):
        us = rng.randrange(10**15, 2 * 10**15)
        text = time_text(us)
        assert Decimal(text).scaleb(6) == us and float(text) == us / 1e6
    assert time_text(1_548_111_751_555_600) == "1548111751.5556" and time_text(T0) == "1699999800.0"


def test_ids_look_like_kraken_s_and_are_the_same_for_the_same_parts() -> None:
    assert re.fullmatch(r"L[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}", kraken_id("L", "acct", 1))
    assert re.fullmatch(r"Q[A-Z2-7]{6}-[A-Z2-7]{6}-[A-Z2-7]{6}", kraken_id("Q", "x", lengths=(6, 6, 6)))
    assert kraken_id("T", "a", 1) == kraken_id("T", "a", 1) != kraken_id("T", "a", 2)


@pytest.mark.parametrize("name", ["XBTUSD", "XXBTZUSD", "XBT/USD", "xbtusd", "BTCUSD", "BTC/USD"])
def test_a_pair_is_found_by_any_of_its_spellings(name: str) -> None:
    assert find_pair(name) is USD


def test_an_unknown_pair_is_not_found() -> None:
    assert find_pair("XBTJPY") is None and find_pair("") is None


def market_of(trades: list[Trade]) -> Market:
    """A market whose history is exactly `trades` (market time: a second after the last one)."""
    return Market.replay(trades, now_wall_us=T0, seed=1, book_levels=60)


def tape(times_us: list[int]) -> list[Trade]:
    return [Trade(t, t, 10_000_000 + 137 * i, 1_000_000 + 7 * i, "USD", "bid" if i % 2 else "ask", True,
                  "market" if i % 3 == 0 else "limit") for i, t in enumerate(times_us)]


def test_trade_ids_count_one_by_one_and_since_is_nanoseconds_after_or_seconds_from() -> None:
    times = [T0 + 1, T0 + 2, T0 + 1_000_000, T0 + 1_000_001, T0 + 2_500_000]
    m = market_of(tape(times))
    page = trades_json(m, USD, None, 1000)
    assert [r[6] for r in page["XXBTZUSD"]] == [1, 2, 3, 4, 5]
    assert page["last"] == str((T0 + 2_500_000) * 1000)
    after = trades_json(m, USD, (T0 + 2) * 1000, 1000)  # strictly after that nanosecond
    assert [r[6] for r in after["XXBTZUSD"]] == [3, 4, 5]
    from_second = trades_json(m, USD, (T0 + 1_000_000) // 1_000_000, 1000)  # seconds: that second on
    assert [r[6] for r in from_second["XXBTZUSD"]] == [3, 4, 5]
    assert trades_json(m, USD, None, 2)["XXBTZUSD"][0][6] == 4  # without since: the most recent
    assert trades_json(m, USD, (T0 + 2_500_000) * 1000, 1000) == {"XXBTZUSD": [], "last": str((T0 + 2_500_000) * 1000)}


def test_the_overlap_and_repeat_faults_re_send_trades_already_served() -> None:
    m = market_of(tape([T0 + i for i in range(1, 11)]))
    stepped = trades_json(m, USD, (T0 + 6) * 1000, 1000, step_back=3)
    assert [r[6] for r in stepped["XXBTZUSD"]] == [4, 5, 6, 7, 8, 9, 10]
    repeated = trades_json(m, USD, (T0 + 6) * 1000, 1000, repeat_tail=3)
    assert [r[6] for r in repeated["XXBTZUSD"]] == [7, 8, 9, 10, 8, 9, 10]


def test_ohlc_bars_are_made_from_the_trades_with_gaps_for_empty_minutes_and_the_open_bar_last() -> None:
    minute = 60_000_000
    times = [T0 + 5, T0 + 30_000_000, T0 + 59_999_999, T0 + 2 * minute + 1, T0 + 3 * minute + 10]
    trades = tape(times)
    m = market_of(trades)  # now: a second after the last trade, inside minute 3
    result = ohlc_json(m, USD, 1, None)
    rows = result["XXBTZUSD"]
    assert [r[0] for r in rows] == [T0 // 10**6, (T0 + 2 * minute) // 10**6, (T0 + 3 * minute) // 10**6]
    first = trades[:3]
    prices = [first[0].price_int, max(t.price_int for t in first), min(t.price_int for t in first), first[-1].price_int]
    assert rows[0][1:5] == [decimal_text(p, 5, 5) for p in prices]
    assert rows[0][6] == decimal_text(sum(t.amount_int for t in first), 8, 8) and rows[0][7] == 3
    assert result["last"] == (T0 + 2 * minute) // 10**6  # the last interval that has ended
    assert [r[0] for r in ohlc_json(m, USD, 1, result["last"])["XXBTZUSD"]] == [r[0] for r in rows[1:]]
    assert [r[7] for r in ohlc_json(m, USD, 5, None)["XXBTZUSD"]] == [5]


@pytest.fixture(scope="module")
def world() -> World:
    return World(EmulatorConfig(exchange="kraken", seed=11, history_hours=4, epoch=1_800_000_000.0,
                                wall_clock=lambda: 1_800_000_000.0))


def test_every_ledger_entry_s_balance_is_its_asset_s_previous_balance_plus_amount_minus_fee(world: World) -> None:
    for account in world.accounts.values():
        book = account_book(account, world.market)
        balances: dict[str, int] = defaultdict(int)
        for e in reversed(book.ledger):
            assert e.balance == balances[e.asset.code] + e.amount - e.fee
            balances[e.asset.code] = e.balance
        assert {c: account.balance(a) for c, a in (("XXBT", "BTC"), ("ZUSD", "USD"), ("ZEUR", "EUR"))} == dict(balances)


def test_the_ledger_is_newest_first_and_every_wallet_row_is_in_exactly_one_entry(world: World) -> None:
    for account in world.accounts.values():
        book = account_book(account, world.market)
        times = [e.time_us for e in book.ledger]
        assert times == sorted(times, reverse=True)
        assert len({e.ledger_id for e in book.ledger}) == len(book.ledger)
        moved = defaultdict(int)
        for e in book.ledger:
            moved[e.asset.currency] += abs(e.amount) + e.fee
        assert dict(moved) == {c: sum(r.value_int for r in rows) for c, rows in account.history.items()}
        assert {e.type for e in book.ledger} <= {"trade", "deposit", "withdrawal"}


def test_each_fill_is_one_fill_and_two_ledger_entries_sharing_its_txid(world: World) -> None:
    account = world.accounts["alice"]
    book = account_book(account, world.market)
    by_ref = defaultdict(list)
    for e in book.ledger:
        by_ref[e.refid].append(e)
    assert book.fills
    for f in book.fills:
        entries = by_ref[f.txid]
        assert sorted(e.asset.code for e in entries) == ["XXBT", "Z" + f.currency]
        btc = next(e for e in entries if e.asset.code == "XXBT")
        assert abs(btc.amount) == f.vol and (btc.amount > 0) == (f.side == "buy")
        assert f.trade_id is None or world.market.feeds[f.currency].trades[f.trade_id - 1].price_int == f.price


def test_every_exchange_the_config_accepts_has_a_face() -> None:
    assert set(FACES) == set(EXCHANGES) == {"mtgox", "kraken"}


def test_the_public_interval_is_each_exchange_s_documented_one_unless_set() -> None:
    assert EmulatorConfig().public_interval_s == 10.0
    assert EmulatorConfig(exchange="kraken").public_interval_s == 1.0
    assert EmulatorConfig(exchange="kraken", min_interval_s=0).public_interval_s == 0


@pytest.mark.parametrize(("settings", "needle"), [
    ({"exchange": "bitstamp"}, "--exchange"),
    ({"exchange": "kraken", "kraken_tier": "gold"}, "--tier"),
    ({"exchange": "kraken", "kraken_cooloff_s": -1}, "cool-off"),
    ({"exchange": "kraken", "replay": "trades.csv"}, "--replay"),
])
def test_bad_kraken_settings_are_one_line_startup_errors(settings: dict, needle: str) -> None:
    with pytest.raises(StartupError, match=needle) as caught:
        EmulatorConfig(**settings)
    assert "\n" not in str(caught.value)
