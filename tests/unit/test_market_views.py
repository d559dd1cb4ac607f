"""Public market payloads: trades, ticker and depth in Mt.Gox's shapes (reference sections 5.1-5.4)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from emulator.market import DAY_US, Market
from emulator.market_views import (
    depth_json,
    plain_decimal,
    ticker_json,
    trade_json,
    trades_json,
    v0_depth_json,
)
from emulator.model import Trade

NBSP = "\u00a0"
HOUR_US = 3_600_000_000
T_END = 1_365_779_998_000_000  # the last trade; market time is one second later
NOW_US = T_END + 1_000_000
TRADE_KEYS = ["date", "price", "amount", "price_int", "amount_int", "tid", "price_currency", "item", "trade_type"]


# --- plain_decimal and trades -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value_int", "code", "expected"),
    [
        (7298274, "USD", "72.98274"),
        (10650000, "BTC", "0.1065"),
        (1500000000, "BTC", "15"),
        (1, "BTC", "0.00000001"),
        (9498000, "USD", "94.98"),
        (12345600, "JPY", "12345.6"),
        (2245520, "SEK", "2245.52"),
        (0, "USD", "0"),
        (100000, "EUR", "1"),
    ],
)
def test_plain_decimal_prints_trade_numbers_without_trailing_zeros(value_int: int, code: str, expected: str) -> None:
    assert plain_decimal(value_int, code) == expected


def test_a_trade_has_the_captured_keys_in_order_with_string_numbers_and_an_integer_date() -> None:
    t = Trade(1365779998558564, 1365779998558564, 7298274, 1390000, "USD", "bid", True, "limit")
    row = trade_json(t, version=1)
    assert list(row) == [*TRADE_KEYS, "primary", "properties"]
    assert row == {
        "date": 1365779998,
        "price": "72.98274",
        "amount": "0.0139",
        "price_int": "7298274",
        "amount_int": "1390000",
        "tid": "1365779998558564",
        "price_currency": "USD",
        "item": "BTC",
        "trade_type": "bid",
        "primary": "Y",
        "properties": "limit",
    }
    assert type(row["date"]) is int


def test_a_non_primary_cross_currency_copy_says_n_and_keeps_its_properties() -> None:
    t = Trade(1365779998558565, 1365779998558565, 5546000, 1500000000, "EUR", "ask", False, "limit,mixed_currency")
    row = trade_json(t, version=2)
    assert row["primary"] == "N"
    assert row["properties"] == "limit,mixed_currency"
    assert row["price"] == "55.46"
    assert row["amount"] == "15"
    assert row["price_currency"] == "EUR"
    assert row["trade_type"] == "ask"


def test_v0_trades_have_no_primary_or_properties() -> None:
    t = Trade(1365779998558564, 1365779998558564, 7298274, 1390000, "USD", "bid", False, "market")
    row = trade_json(t, version=0)
    assert list(row) == TRADE_KEYS
    assert "primary" not in row
    assert "properties" not in row


def test_a_2010_trade_keeps_its_empty_trade_type_and_second_resolution_date() -> None:
    t = Trade(1, 1279408157_000_000, 4951, 2_000_000_000, "USD", "", True, "limit")
    row = trade_json(t, version=1)
    assert row["trade_type"] == ""
    assert row["date"] == 1279408157
    assert row["tid"] == "1"
    assert row["price"] == "0.04951"
    assert row["amount"] == "20"


def test_trades_json_keeps_the_order_of_the_page() -> None:
    trades = [Trade(tid, tid, 100000 * tid, 100_000_000, "USD") for tid in (3, 1, 2)]
    assert [row["tid"] for row in trades_json(trades, version=1)] == ["3", "1", "2"]


# --- a hand-made market -------------------------------------------------------------------------

# (hours before T_END, price_int USD, amount_int BTC); the first two lie outside the 24 h window.
USD_TAPE = [
    (30, 20000000, 900_000_000),  # $200, older than a day: must not count
    (24.5, 5000000, 800_000_000),  # $50, older than a day
    (23, 11000000, 150_000_000),
    (20, 12345678, 33_000_000),
    (12, 10999999, 1_000_000),
    (6, 11800001, 250_000_000),
    (1, 11250006, 77_777_777),  # makes the exact VWAP end in .73 of a unit, so rounding shows
    (0, 11400000, 200_000_000),  # the last USD trade: $114.00000
]


def _tape() -> list[Trade]:
    trades = [
        Trade(T_END - int(h * HOUR_US), T_END - int(h * HOUR_US), price, amount, "USD", "bid", True, "limit")
        for h, price, amount in USD_TAPE
    ]
    # One EUR trade a millisecond before the last USD trade, so the newest trade anywhere is still in USD.
    trades.append(Trade(T_END - 1_000, T_END - 1_000, 7600000, 10_000_000, "EUR", "ask", True, "market"))
    return sorted(trades, key=lambda t: t.tid)


@pytest.fixture(scope="module")
def market() -> Market:
    return Market.replay(_tape(), now_wall_us=1, seed=1, book_levels=300)


def test_the_hand_made_market_is_where_the_tests_expect_it(market: Market) -> None:
    assert market.now_us == NOW_US
    assert market.last_any() is not None
    assert market.last_any().currency == "USD"  # the USD trade at T_END is the newest by tid


def _money(value: str, value_int: int, display: str, code: str = "USD") -> dict[str, str]:
    return {"value": value, "value_int": str(value_int), "display": display, "display_short": display, "currency": code}


def test_ticker_statistics_come_from_the_last_24_hours_only(market: Market) -> None:
    window = [(p, a) for h, p, a in USD_TAPE if h * HOUR_US <= DAY_US - 1_000_000]
    assert len(window) == 6
    vol = sum(a for _, a in window)
    vwap_exact = Fraction(sum(p * a for p, a in window), vol)
    vwap = int(vwap_exact + Fraction(1, 2))  # half up
    avg = round(Fraction(sum(p for p, _ in window), len(window)))

    ticker = ticker_json(market, "USD", version=2)

    assert ticker["high"] == _money("123.45678", 12345678, "$123.46")
    assert ticker["low"] == _money("109.99999", 10999999, "$110.00")
    assert ticker["vol"] == _money("7.11777777", 711777777, f"7.12{NBSP}BTC", "BTC")
    assert vol == 150_000_000 + 33_000_000 + 1_000_000 + 250_000_000 + 77_777_777 + 200_000_000
    assert int(ticker["vwap"]["value_int"]) == vwap
    assert vwap == int(vwap_exact) + 1  # rounded up, not truncated
    assert abs(Fraction(int(ticker["vwap"]["value_int"])) - vwap_exact) <= Fraction(1, 2)
    assert int(ticker["avg"]["value_int"]) == avg
    assert Decimal(ticker["vwap"]["value"]) == Decimal(vwap) / 100_000


def test_ticker_lasts_and_touch_come_from_the_feeds_and_the_book(market: Market) -> None:
    ticker = ticker_json(market, "USD", version=1)
    assert ticker["last_local"] == _money("114.00000", 11400000, "$114.00")
    assert ticker["last_orig"] == _money("114.00000", 11400000, "$114.00")
    assert ticker["last_all"] == ticker["last"] == ticker["last_local"]
    book = market.book("USD")
    best_bid = max(lv.price_int for lv in book.bids.levels())
    best_ask = min(lv.price_int for lv in book.asks.levels())
    assert ticker["buy"]["value_int"] == str(best_bid)
    assert ticker["sell"]["value_int"] == str(best_ask)
    assert best_bid < 11400000 < best_ask


def test_the_eur_ticker_converts_the_last_usd_trade_for_last_all_and_keeps_its_own_last_local(market: Market) -> None:
    ticker = ticker_json(market, "EUR", version=2)
    assert ticker["last_local"] == _money("76.00000", 7600000, f"76.00{NBSP}€", "EUR")
    assert ticker["last_orig"]["currency"] == "USD"
    assert ticker["last_orig"]["value_int"] == "11400000"
    # 114 USD * 0.76 = 86.64 EUR exactly
    assert ticker["last_all"] == _money("86.64000", 8664000, f"86.64{NBSP}€", "EUR")
    assert ticker["vol"]["value_int"] == "10000000"


def test_ticker_v2_has_item_and_now_and_v1_has_now_but_no_item(market: Market) -> None:
    head = ["high", "low", "avg", "vwap", "vol", "last_local", "last_orig", "last_all", "last", "buy", "sell"]
    v2 = ticker_json(market, "USD", version=2)
    v1 = ticker_json(market, "USD", version=1)
    assert list(v2) == [*head, "item", "now"]
    assert list(v1) == [*head, "now"]
    assert v2["item"] == "BTC"
    assert v1["now"] == v2["now"] == str(NOW_US)


def test_every_ticker_money_object_shows_the_short_display(market: Market) -> None:
    ticker = ticker_json(market, "USD", version=2)
    for key, value in ticker.items():
        if isinstance(value, dict):
            assert value["display"] == value["display_short"], key
            assert all(isinstance(v, str) for v in value.values()), key


# --- depth --------------------------------------------------------------------------------------

LOW, HIGH = 10260000, 12540000  # 0.9 and 1.1 times the last price $114.00000


def _pairs(levels: list[dict[str, object]]) -> list[tuple[int, int]]:
    return [(int(str(lv["price_int"])), int(str(lv["amount_int"]))) for lv in levels]


def test_depth_fetch_keeps_only_levels_within_ten_percent_of_the_last_price(market: Market) -> None:
    assert Decimal(LOW) == Decimal("0.9") * 11400000
    assert Decimal(HIGH) == Decimal("1.1") * 11400000
    fetch = depth_json(market, "USD", full=False)
    full = depth_json(market, "USD", full=True)
    for side in ("asks", "bids"):
        got = _pairs(fetch[side])
        assert got, side
        assert all(LOW <= p <= HIGH for p, _ in got), side
        assert got == [(p, a) for p, a in _pairs(full[side]) if LOW <= p <= HIGH], side
    assert len(fetch["asks"]) + len(fetch["bids"]) < len(full["asks"]) + len(full["bids"])


def test_depth_fetch_names_its_window_in_filter_money_objects(market: Market) -> None:
    fetch = depth_json(market, "USD", full=False)
    assert list(fetch) == ["asks", "bids", "filter_min_price", "filter_max_price"]
    assert fetch["filter_min_price"] == _money("102.60000", LOW, "$102.60")
    assert fetch["filter_max_price"] == _money("125.40000", HIGH, "$125.40")


def test_full_depth_includes_every_level_of_the_book_down_to_the_absurd_ones(market: Market) -> None:
    full = depth_json(market, "USD", full=True)
    book = market.book("USD")
    assert list(full) == ["asks", "bids"]
    assert _pairs(full["asks"]) == [(lv.price_int, lv.amount_int) for lv in book.asks.levels()]
    assert _pairs(full["bids"]) == [(lv.price_int, lv.amount_int) for lv in book.bids.levels()]
    assert full["bids"][0]["price_int"] == "1"
    assert full["bids"][0]["price"] == 1e-05
    assert int(str(full["asks"][-1]["price_int"])) > 10**11
    assert len(full["asks"]) + len(full["bids"]) > 250


@pytest.mark.parametrize("full", [False, True])
def test_both_depth_sides_are_ascending_by_price(market: Market, full: bool) -> None:
    depth = depth_json(market, "USD", full=full)
    for side in ("asks", "bids"):
        prices = [p for p, _ in _pairs(depth[side])]
        assert prices == sorted(prices), side
        assert len(set(prices)) == len(prices), side
    assert max(p for p, _ in _pairs(depth["bids"])) < min(p for p, _ in _pairs(depth["asks"]))


def test_a_depth_level_has_number_price_and_amount_and_string_ints_and_stamp(market: Market) -> None:
    level = depth_json(market, "USD", full=False)["asks"][0]
    assert list(level) == ["price", "amount", "price_int", "amount_int", "stamp"]
    assert isinstance(level["price"], int | float)
    assert isinstance(level["amount"], int | float)
    assert all(isinstance(level[k], str) for k in ("price_int", "amount_int", "stamp"))
    assert Decimal(repr(level["price"])) == Decimal(int(level["price_int"])) / 100_000
    assert Decimal(repr(level["amount"])) == Decimal(int(level["amount_int"])) / 100_000_000
    assert int(level["stamp"]) <= NOW_US


def test_v0_depth_is_price_amount_pairs_of_the_fetch_window(market: Market) -> None:
    v0 = v0_depth_json(market, "USD")
    fetch = depth_json(market, "USD", full=False)
    assert list(v0) == ["asks", "bids"]
    for side in ("asks", "bids"):
        assert all(isinstance(pair, list) and len(pair) == 2 for pair in v0[side])
        assert [[Decimal(repr(p)), Decimal(repr(a))] for p, a in v0[side]] == [
            [Decimal(p) / 100_000, Decimal(a) / 100_000_000] for p, a in _pairs(fetch[side])
        ]
