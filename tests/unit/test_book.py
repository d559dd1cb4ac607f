"""The order book: sorted sides, level edits and taker matching."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.book import Book, Side
from emulator.model import Level


def _side(*levels: tuple[int, int]) -> Side:
    side = Side()
    for price, amount in levels:
        side.add(price, amount, 1)
    return side


def _prices(side: Side) -> list[int]:
    return [lv.price_int for lv in side.levels()]


def _volume(side: Side) -> int:
    return sum(lv.amount_int for lv in side.levels())


# --- Side ---------------------------------------------------------------------------------------


def test_a_side_stores_levels_ascending_whatever_the_insertion_order() -> None:
    side = _side((300, 1), (100, 2), (500, 3), (200, 4), (400, 5))
    assert _prices(side) == [100, 200, 300, 400, 500]
    assert len(side) == 5
    assert side.lowest() == Level(100, 2, 1)
    assert side.highest() == Level(500, 3, 1)


def test_an_empty_side_has_no_lowest_or_highest() -> None:
    side = Side()
    assert side.lowest() is None
    assert side.highest() is None
    assert side.levels() == []
    assert len(side) == 0


def test_levels_bounds_are_inclusive_and_optional() -> None:
    side = _side((100, 1), (200, 1), (300, 1), (400, 1))
    assert [lv.price_int for lv in side.levels(200, 300)] == [200, 300]
    assert [lv.price_int for lv in side.levels(150, 350)] == [200, 300]
    assert [lv.price_int for lv in side.levels(lo=300)] == [300, 400]
    assert [lv.price_int for lv in side.levels(hi=200)] == [100, 200]
    assert [lv.price_int for lv in side.levels(400, 400)] == [400]
    assert side.levels(250, 260) == []
    assert side.levels(300, 200) == []


def test_adding_at_an_existing_price_merges_into_one_level_with_the_newer_stamp() -> None:
    side = Side()
    side.add(100, 5, stamp_us=10)
    side.add(100, 7, stamp_us=20)
    assert side.levels() == [Level(100, 12, 20)]
    assert len(side) == 1


@pytest.mark.parametrize("amount", [0, -5])
def test_adding_nothing_or_a_negative_amount_changes_nothing(amount: int) -> None:
    side = _side((100, 5))
    side.add(200, amount, 2)
    side.add(100, amount, 2)
    assert side.levels() == [Level(100, 5, 1)]


def test_reduce_takes_part_of_a_level_and_restamps_it() -> None:
    side = _side((100, 10))
    assert side.reduce(100, 4, stamp_us=9) == 4
    assert side.get(100) == Level(100, 6, 9)


def test_reduce_by_the_whole_level_or_more_removes_it_and_returns_what_was_there() -> None:
    side = _side((100, 10), (200, 3))
    assert side.reduce(200, 50, 9) == 3
    assert _prices(side) == [100]
    assert side.reduce(100, 10, 9) == 10
    assert len(side) == 0


def test_reduce_at_a_missing_price_takes_nothing() -> None:
    side = _side((100, 10))
    assert side.reduce(150, 5, 9) == 0
    assert side.levels() == [Level(100, 10, 1)]


def test_discard_removes_a_level_and_ignores_a_missing_one() -> None:
    side = _side((100, 1), (200, 2), (300, 3))
    side.discard(200)
    side.discard(250)
    assert _prices(side) == [100, 300]
    assert side.get(200) is None


def test_discard_range_drops_every_level_within_inclusive_bounds() -> None:
    side = _side((100, 1), (200, 1), (300, 1), (400, 1), (500, 1))
    side.discard_range(200, 400)
    assert _prices(side) == [100, 500]
    side.discard_range(101, 499)
    assert _prices(side) == [100, 500]
    side.discard_range(0, 10**18)
    assert len(side) == 0


# --- Book.take ----------------------------------------------------------------------------------


def _book() -> Book:
    book = Book("USD")
    for price, amount in [(90, 5), (95, 3), (99, 2)]:
        book.bids.add(price, amount, 1)
    for price, amount in [(101, 2), (105, 3), (110, 5)]:
        book.asks.add(price, amount, 1)
    return book


def test_best_bid_is_the_highest_bid_and_best_ask_the_lowest_ask() -> None:
    book = _book()
    assert book.best_bid() == Level(99, 2, 1)
    assert book.best_ask() == Level(101, 2, 1)


def test_a_limit_bid_buys_up_the_asks_until_its_limit() -> None:
    book = _book()
    assert book.take("bid", 10, 105, 7) == [(101, 2), (105, 3)]
    assert book.asks.levels() == [Level(110, 5, 1)]
    assert _volume(book.bids) == 10  # the other side is untouched


def test_a_limit_ask_sells_down_the_bids_until_its_limit() -> None:
    book = _book()
    assert book.take("ask", 10, 95, 7) == [(99, 2), (95, 3)]
    assert book.bids.levels() == [Level(90, 5, 1)]
    assert _volume(book.asks) == 10


def test_a_taker_that_fits_in_the_first_level_leaves_the_rest_of_it_restamped() -> None:
    book = _book()
    assert book.take("bid", 1, None, 7) == [(101, 1)]
    assert book.best_ask() == Level(101, 1, 7)


def test_a_limit_that_does_not_reach_the_best_level_fills_nothing_and_keeps_the_version() -> None:
    book = _book()
    before = book.version
    assert book.take("bid", 5, 100, 7) == []
    assert book.take("ask", 5, 100, 7) == []
    assert book.version == before
    assert _volume(book.asks) == 10
    assert _volume(book.bids) == 10


def test_a_large_market_order_empties_the_side_and_returns_every_level_best_first() -> None:
    book = _book()
    assert book.take("bid", 1_000, None, 7) == [(101, 2), (105, 3), (110, 5)]
    assert len(book.asks) == 0
    assert book.take("ask", 1_000, None, 7) == [(99, 2), (95, 3), (90, 5)]
    assert len(book.bids) == 0
    assert book.take("bid", 1, None, 7) == []


def test_the_version_changes_when_a_take_fills() -> None:
    book = _book()
    v0 = book.version
    book.take("bid", 1, None, 7)
    v1 = book.version
    book.take("ask", 1, 99, 7)
    assert v0 != v1 != book.version


_LEVELS = st.dictionaries(st.integers(1, 200), st.integers(1, 1_000), max_size=25)


@given(
    asks=_LEVELS,
    bids=_LEVELS,
    side=st.sampled_from(["bid", "ask"]),
    amount=st.integers(0, 10_000),
    limit=st.one_of(st.none(), st.integers(1, 200)),
)
def test_take_never_fills_beyond_the_limit_and_conserves_volume(
    asks: dict[int, int], bids: dict[int, int], side: str, amount: int, limit: int | None
) -> None:
    book = Book("USD")
    for price, qty in asks.items():
        book.asks.add(price, qty, 1)
    for price, qty in bids.items():
        book.bids.add(price, qty, 1)
    opposite, levels = (book.asks, asks) if side == "bid" else (book.bids, bids)
    untouched = book.bids if side == "bid" else book.asks
    untouched_before = untouched.levels()
    before = sum(levels.values())
    version = book.version

    fills = book.take(side, amount, limit, 2)

    taken = sum(qty for _, qty in fills)
    assert taken <= amount
    assert taken + _volume(opposite) == before
    assert untouched.levels() == untouched_before
    prices = [p for p, _ in fills]
    assert prices == sorted(prices, reverse=side == "ask")  # best first
    assert len(set(prices)) == len(prices)
    assert all(0 < qty <= levels[p] for p, qty in fills)
    if limit is not None:
        assert all((p <= limit) if side == "bid" else (p >= limit) for p in prices)
    # Stops only for a reason: filled, side empty, or the next level is beyond the limit.
    if taken < amount:
        best = opposite.lowest() if side == "bid" else opposite.highest()
        assert best is None or (
            limit is not None and (best.price_int > limit if side == "bid" else best.price_int < limit)
        )
    assert (book.version != version) == bool(fills)
