"""An order book of one currency: two sides of price levels, kept sorted. Pure (no I/O, no clock).

Both sides are stored ascending by price, the order Mt.Gox served them in (bids end with the
best bid). Matching walks the opposite side from its best level.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort

from .model import Level


class Side:
    """Levels of one side, ascending by price, one level per price."""

    __slots__ = ("_levels", "_prices")

    def __init__(self) -> None:
        self._prices: list[int] = []
        self._levels: dict[int, Level] = {}

    def __len__(self) -> int:
        return len(self._prices)

    def levels(self, lo: int | None = None, hi: int | None = None) -> list[Level]:
        """Levels with lo <= price <= hi (either bound optional), ascending."""
        i = 0 if lo is None else bisect_left(self._prices, lo)
        j = len(self._prices) if hi is None else bisect_right(self._prices, hi)
        return [self._levels[p] for p in self._prices[i:j]]

    def get(self, price_int: int) -> Level | None:
        return self._levels.get(price_int)

    def lowest(self) -> Level | None:
        return self._levels[self._prices[0]] if self._prices else None

    def highest(self) -> Level | None:
        return self._levels[self._prices[-1]] if self._prices else None

    def add(self, price_int: int, amount_int: int, stamp_us: int) -> None:
        """Add volume at a price; the level's stamp becomes the newest change."""
        if amount_int <= 0:
            return
        old = self._levels.get(price_int)
        if old is None:
            insort(self._prices, price_int)
            self._levels[price_int] = Level(price_int, amount_int, stamp_us)
        else:
            self._levels[price_int] = Level(price_int, old.amount_int + amount_int, stamp_us)

    def reduce(self, price_int: int, amount_int: int, stamp_us: int) -> int:
        """Take up to `amount_int` from a level; returns what was taken."""
        old = self._levels.get(price_int)
        if old is None:
            return 0
        taken = min(amount_int, old.amount_int)
        if taken == old.amount_int:
            self.discard(price_int)
        else:
            self._levels[price_int] = Level(price_int, old.amount_int - taken, stamp_us)
        return taken

    def discard(self, price_int: int) -> None:
        if self._levels.pop(price_int, None) is not None:
            del self._prices[bisect_left(self._prices, price_int)]

    def discard_range(self, lo: int, hi: int) -> None:
        """Drop every level with lo <= price <= hi."""
        i, j = bisect_left(self._prices, lo), bisect_right(self._prices, hi)
        for p in self._prices[i:j]:
            del self._levels[p]
        del self._prices[i:j]


class Book:
    """Asks and bids of one currency. `version` changes whenever the book does."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.asks = Side()
        self.bids = Side()
        self.version = 0

    def touched(self) -> None:
        self.version += 1

    def best_bid(self) -> Level | None:
        return self.bids.highest()

    def best_ask(self) -> Level | None:
        return self.asks.lowest()

    def take(
        self, side: str, amount_int: int, limit_int: int | None, stamp_us: int
    ) -> list[tuple[int, int]]:
        """Match a taker order against the book; returns the fills as (price_int, amount_int).

        `side` is the taker's: "bid" buys from the asks upward, "ask" sells into the bids
        downward; `limit_int` None is a market order. The book is changed in place.
        """
        fills: list[tuple[int, int]] = []
        remaining = amount_int
        book_side = self.asks if side == "bid" else self.bids
        while remaining > 0:
            best = book_side.lowest() if side == "bid" else book_side.highest()
            if best is None:
                break
            if limit_int is not None and (best.price_int - limit_int) * (1 if side == "bid" else -1) > 0:
                break  # the best level is worse than the taker's limit
            got = book_side.reduce(best.price_int, remaining, stamp_us)
            fills.append((best.price_int, got))
            remaining -= got
        if fills:
            self.touched()
        return fills
