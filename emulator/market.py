"""The market the emulator serves: one trade feed and one book per currency, and a clock.

Two sources fill it: the seeded synthetic tape (`synthetic.py`), which keeps growing as market
time passes, and a replay of real trades (`replay.py`), which is all history. Market time runs
at `speed` times the wall clock from a chosen origin; every query first `advance`s to it.

Feeds are kept sorted by tid because `since` is a tid cursor. Pre-relaunch tids do not follow
time exactly, so windows by time search a running maximum of times instead of assuming order.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import takewhile

from .book import Book
from .model import MICRO_TID_MIN, Trade
from .synthetic import MINUTE_US, SyntheticConfig, SyntheticMarket, build_book, convert, refresh_near

DAY_US = 86_400_000_000


@dataclass(frozen=True, slots=True)
class Clock:
    """Market time as a function of wall time: origin + elapsed × speed."""

    origin_market_us: int
    origin_wall_us: int
    speed: float = 1.0

    def market_us(self, wall_us: int) -> int:
        return self.origin_market_us + int((wall_us - self.origin_wall_us) * self.speed)


class Feed:
    """The trades of one currency, ascending tid, with a running max of times for windows."""

    __slots__ = ("_max_time", "tids", "trades")

    def __init__(self) -> None:
        self.trades: list[Trade] = []
        self.tids: list[int] = []
        self._max_time: list[int] = []

    def append(self, trade: Trade) -> None:
        if self.tids and trade.tid <= self.tids[-1]:
            raise ValueError(f"tid {trade.tid} does not follow {self.tids[-1]}")
        self.trades.append(trade)
        self.tids.append(trade.tid)
        self._max_time.append(max(trade.time_us, self._max_time[-1] if self._max_time else trade.time_us))

    def after(self, since_tid: int) -> int:
        """Index of the first trade with tid > since_tid."""
        return bisect_right(self.tids, since_tid)

    def since_time(self, from_us: int, to_us: int | None = None) -> list[Trade]:
        """Trades with from_us <= time < to_us, in tid order."""
        i = bisect_left(self._max_time, from_us)
        return [t for t in self.trades[i:] if t.time_us >= from_us and (to_us is None or t.time_us < to_us)]

    def last(self) -> Trade | None:
        return self.trades[-1] if self.trades else None


class Market:
    """Feeds and books of every currency the emulator serves, advanced lazily to market time."""

    def __init__(
        self,
        *,
        clock: Clock,
        seed: int,
        currencies: Iterable[str],
        book_levels: int,
        generator: SyntheticMarket | None = None,
        history: Iterable[Trade] = (),
    ) -> None:
        self.clock = clock
        self.seed = seed
        self.book_levels = book_levels
        self.generator = generator
        self.feeds: dict[str, Feed] = {c: Feed() for c in currencies}
        self._pending: deque[Trade] = deque()
        self._last_any: Trade | None = None
        self.last_tid = 0
        self.now_us = clock.origin_market_us
        self._minute = -1
        self.books: dict[str, Book] = {}
        # Told which ranges a refresh replaced, so resting client orders can be put back.
        self.on_book_refresh: Callable[[Book, int, int], None] | None = None
        for t in history:
            self._publish(t)
        self.advance(clock.origin_market_us)

    @classmethod
    def synthetic(
        cls, config: SyntheticConfig, *, now_wall_us: int, history_us: int, speed: float = 1.0
    ) -> Market:
        start_minute = (now_wall_us - history_us) // MINUTE_US
        gen = SyntheticMarket(config, minute=start_minute)
        clock = Clock(now_wall_us, now_wall_us, speed)
        return cls(clock=clock, seed=config.seed, currencies=config.currencies,
                   book_levels=config.book_levels, generator=gen)

    @classmethod
    def replay(
        cls, trades: list[Trade], *, now_wall_us: int, seed: int, book_levels: int, speed: float = 1.0
    ) -> Market:
        """All of the file is history: market time starts one second after its last trade."""
        end = max(t.time_us for t in trades) + 1_000_000
        currencies = sorted({t.currency for t in trades})
        return cls(clock=Clock(end, now_wall_us, speed), seed=seed, currencies=currencies,
                   book_levels=book_levels, history=trades)

    # -- time ----------------------------------------------------------------------------------

    def advance(self, now_us: int) -> None:
        """Bring trades and books up to market time `now_us` (never backwards)."""
        if now_us < self.now_us:
            return
        self.now_us = now_us
        if self.generator is not None:
            self._pending.extend(self.generator.generate_until(now_us + 1))
        while self._pending and self._pending[0].time_us <= now_us:
            self._publish(self._pending.popleft())
        minute = now_us // MINUTE_US
        if minute != self._minute:
            self._minute = minute
            self._refresh_books(minute)

    def advance_wall(self, wall_us: int) -> int:
        now = self.clock.market_us(wall_us)
        self.advance(now)
        return self.now_us

    def _publish(self, trade: Trade) -> None:
        feed = self.feeds.get(trade.currency)
        if feed is None:
            feed = self.feeds[trade.currency] = Feed()
        if feed.tids and trade.tid <= feed.tids[-1]:
            return  # a generated trade that an order's fill overtook in the same microsecond
        feed.append(trade)
        if trade.primary:
            self._last_any = trade
        self.last_tid = max(self.last_tid, trade.tid)

    def _refresh_books(self, minute: int) -> None:
        for cur in self.feeds:
            mid = self.reference_price(cur)
            if mid is None:
                continue
            book = self.books.get(cur)
            if book is None:
                self.books[cur] = build_book(self.seed, cur, mid, self._levels_for(cur), self.now_us, minute)
                continue
            floor, ceiling = refresh_near(book, self.seed, mid, self._levels_for(cur) // 3, self.now_us, minute)
            if self.on_book_refresh is not None:
                self.on_book_refresh(book, floor, ceiling)

    def _levels_for(self, cur: str) -> int:
        busiest = max(self.feeds, key=lambda c: len(self.feeds[c].trades))
        return self.book_levels if cur == busiest else max(60, self.book_levels // 8)

    # -- queries -------------------------------------------------------------------------------

    def currencies(self) -> list[str]:
        return sorted(self.feeds)

    def reference_price(self, cur: str) -> int | None:
        """The last price in `cur`, or the last price anywhere converted, or None."""
        last = self.feeds[cur].last() if cur in self.feeds else None
        if last is not None:
            return last.price_int
        if self._last_any is not None:
            return convert(self._last_any.price_int, self._last_any.currency, cur)
        return None

    def last_any(self) -> Trade | None:
        """The last primary trade in any currency (Mt.Gox's `last_orig`)."""
        return self._last_any

    def book(self, cur: str) -> Book:
        book = self.books.get(cur)
        if book is None:
            # A currency nobody traded yet still has a book, quoted at the converted price.
            mid = self.reference_price(cur) or 1
            book = self.books[cur] = build_book(self.seed, cur, mid, self._levels_for(cur), self.now_us, 0)
        return book

    def trades_page(
        self, cur: str, since: int | None, *, limit: int | None, window_us: int | None
    ) -> list[Trade]:
        """What `trades?since=` returns in one answer.

        Without `since`: the last 24 hours. With it: trades with tid > since, at most `limit` of
        them, or those within `window_us` of the first one. A page never crosses the June 2011
        relaunch: in a feed that has pre-relaunch trades, a pre-relaunch `since` gives only
        pre-relaunch trades, so past the last of them the answer is empty and a client has to
        jump its cursor to the first microsecond tid, as real clients did.
        """
        feed = self.feeds.get(cur)
        if feed is None:
            return []
        if since is None:
            return feed.since_time(self.now_us - DAY_US)
        i = feed.after(since)
        end = len(feed.trades)
        if since < MICRO_TID_MIN and feed.tids and feed.tids[0] < MICRO_TID_MIN:
            end = bisect_left(feed.tids, MICRO_TID_MIN)
        if limit is not None:
            end = min(end, i + limit)
        page = feed.trades[i:end]
        if window_us is not None and page:
            # Cut at the first trade past the window, never filter: pre-relaunch tids are not in
            # time order, and a trade skipped inside a page would be behind the next cursor.
            stop = page[0].time_us + window_us
            page = list(takewhile(lambda t: t.time_us < stop, page))
        return page

    def new_tid(self) -> int:
        """A tid for a fill made now: the microsecond clock, kept strictly increasing."""
        self.last_tid = max(self.now_us, self.last_tid + 1)
        return self.last_tid

    def record(self, trades: Iterable[Trade]) -> None:
        """Publish fills made by order/add."""
        for t in trades:
            self._publish(t)
