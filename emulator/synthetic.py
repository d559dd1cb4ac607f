"""A seeded synthetic market that looks real. Pure: randomness comes from seeded generators.

Prices follow a random walk in log space whose volatility clusters (GARCH(1,1) on one-minute
returns). Trade arrivals are Poisson with a rate that rises with volatility and jumps in bursts
(a two-state calm/burst chain), so trades bunch the way real tapes do. A share of fills cross
two currencies: they appear in both feeds under one tid, the taker's copy `primary`.

Books are deep: thousands of levels that thin out away from the mid, standing far orders with
old stamps, and the absurd levels real full depth had (a bid at 0.00001 for 25 million BTC, an
ask at 179 billion).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from .book import Book, Side
from .model import Trade
from .money import CURRENCIES, FIAT

MINUTE_US = 60_000_000

# BTC price in each currency relative to USD, and each currency's share of trading, roughly as
# on Mt.Gox in 2013 (USD dominated; EUR, JPY, GBP, PLN next).
FX: dict[str, Decimal] = {
    "USD": Decimal(1), "AUD": Decimal("1.06"), "CAD": Decimal("1.04"), "CHF": Decimal("0.93"),
    "CNY": Decimal("6.14"), "DKK": Decimal("5.64"), "EUR": Decimal("0.76"), "GBP": Decimal("0.65"),
    "HKD": Decimal("7.76"), "JPY": Decimal("98.5"), "NZD": Decimal("1.25"), "PLN": Decimal("3.18"),
    "RUB": Decimal("32.5"), "SEK": Decimal("6.55"), "SGD": Decimal("1.26"), "THB": Decimal("31.2"),
    "NOK": Decimal("6.02"), "CZK": Decimal("19.6"),
}
ACTIVITY: dict[str, float] = {"USD": 1.0, "EUR": 0.18, "JPY": 0.1, "GBP": 0.08, "PLN": 0.06, "AUD": 0.05,
                              "CAD": 0.05, "CNY": 0.04, "RUB": 0.03, "CHF": 0.03, "SEK": 0.02}


def derive_rng(seed: int, *names: object) -> random.Random:
    """An independent, reproducible generator per purpose, so one stream never shifts another."""
    digest = hashlib.blake2b(repr((seed, *names)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def convert(price_int: int, src: str, dst: str) -> int:
    """A price scaled in `src` converted to `dst`'s scale at the synthetic exchange rates."""
    if src == dst:
        return price_int
    s, d = CURRENCIES[src], CURRENCIES[dst]
    value = Decimal(price_int).scaleb(-s.decimals) / FX[src] * FX[dst]
    return max(1, int(value.scaleb(d.decimals).to_integral_value()))


@dataclass(frozen=True, slots=True)
class SyntheticConfig:
    seed: int = 1
    start_price_usd: Decimal = Decimal("120")
    trades_per_minute_usd: float = 4.0  # mean; bursts go far above it
    cross_currency_share: float = 0.15
    currencies: tuple[str, ...] = FIAT
    book_levels: int = 4000  # USD full depth, both sides; other currencies get fewer


@dataclass(slots=True)
class _PriceState:
    log_price: float
    variance: float
    burst: bool = False


@dataclass(slots=True)
class SyntheticMarket:
    """Generates the tape minute by minute, in order, so the result depends only on the seed."""

    config: SyntheticConfig
    minute: int  # index of the next minute to generate (minutes since the epoch)
    last_tid: int = 0
    _rng: random.Random = field(init=False)
    _state: _PriceState = field(init=False)

    def __post_init__(self) -> None:
        self._rng = derive_rng(self.config.seed, "tape")
        base_var = 0.0012**2  # per-minute variance: about 5 % a day
        self._state = _PriceState(math.log(float(self.config.start_price_usd)), base_var)

    @property
    def usd_price_int(self) -> int:
        return max(1, round(math.exp(self._state.log_price) * 100_000))

    def generate_until(self, end_us: int) -> Iterator[Trade]:
        """Yield every trade of the whole minutes that start before `end_us`, in tid order."""
        while self.minute * MINUTE_US < end_us:
            yield from self._one_minute()
            self.minute += 1

    def _one_minute(self) -> list[Trade]:
        rng, st, cfg = self._rng, self._state, self.config
        base_var = 0.0012**2
        # GARCH(1,1): today's shock raises tomorrow's variance; persistence 0.97 gives clusters.
        shock = rng.gauss(0.0, 1.0) * math.sqrt(st.variance)
        st.variance = base_var * 0.02 + 0.09 * shock * shock + 0.89 * st.variance
        start_log = st.log_price
        st.log_price += shock
        # Bursts start rarely and end soon; while on, the arrival rate is several times higher.
        st.burst = rng.random() < (0.75 if st.burst else 0.02)
        intensity = cfg.trades_per_minute_usd * math.sqrt(st.variance / base_var)
        intensity *= 5.0 if st.burst else 1.0
        minute_us = self.minute * MINUTE_US
        fills: list[tuple[int, str, float]] = []
        for cur in cfg.currencies:
            rate = intensity * ACTIVITY.get(cur, 0.01)
            for _ in range(_poisson(rng, rate)):
                fills.append((minute_us + rng.randrange(MINUTE_US), cur, rng.random()))
        fills.sort()
        out: list[Trade] = []
        for time_us, cur, frac in fills:
            # A Brownian bridge between the minute's open and close, plus a little noise.
            log_p = start_log + frac * shock + rng.gauss(0.0, 0.25) * math.sqrt(st.variance)
            out.extend(self._fill(rng, time_us, cur, log_p))
        return out

    def _fill(self, rng: random.Random, time_us: int, cur: str, log_p: float) -> list[Trade]:
        tid = max(time_us, self.last_tid + 1)
        self.last_tid = tid
        usd_int = max(1, round(math.exp(log_p) * 100_000))
        side = "bid" if rng.random() < 0.5 else "ask"
        props = "market" if rng.random() < 0.3 else "limit"
        amount = _amount(rng)
        price = _nice_price(rng, convert(usd_int, "USD", cur), cur)
        other = None
        if rng.random() < self.config.cross_currency_share:
            choices = [c for c in self.config.currencies if c != cur and ACTIVITY.get(c, 0) >= 0.05]
            other = "USD" if cur != "USD" else (rng.choice(choices) if choices else None)
        if other is None:
            return [Trade(tid, tid, price, amount, cur, side, True, props)]
        mixed = props + ",mixed_currency"
        return [
            Trade(tid, tid, price, amount, cur, side, True, mixed),
            Trade(tid, tid, convert(price, cur, other), amount, other, side, False, "limit,mixed_currency"),
        ]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # normal approximation keeps bursts cheap
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _amount(rng: random.Random) -> int:
    """BTC amounts: many small fills, some round lots, a few whales."""
    r = rng.random()
    if r < 0.15:
        return rng.choice([1, 2, 5, 10, 20, 50]) * 10_000_000 * rng.choice([1, 10])
    btc = math.exp(rng.gauss(-0.5, 1.6))
    return max(1_000_000, round(btc * 100_000_000))


def _nice_price(rng: random.Random, price_int: int, cur: str) -> int:
    """Most limit prices have all five decimals; some are round to the cent or the unit."""
    scale = CURRENCIES[cur].scale
    r = rng.random()
    step = scale // 100 if r < 0.25 and scale >= 100 else (scale if r < 0.3 else 1)
    return max(step, round(price_int / step) * step)


def build_book(seed: int, cur: str, mid_int: int, levels: int, now_us: int, minute: int) -> Book:
    """A full book of `levels` distinct prices around `mid_int` (plus the absurd ones): standing
    orders away from the mid with old stamps, and the live part within 5 % of it."""
    book = Book(cur)
    rng = derive_rng(seed, "far-book", cur)
    far = max(20, levels * 2 // 3)
    old = 180 * 86_400_000_000

    def far_bid() -> int:  # down to a hundredth of the mid, denser near it
        return _round_level(rng, int(mid_int * (0.95 - 0.94 * rng.random() ** 2.2)), cur)

    def far_ask() -> int:  # up to twenty times the mid
        return _round_level(rng, int(mid_int * (1.05 + 20 * rng.random() ** 2.2)), cur)

    def far_stamp() -> int:
        return now_us - rng.randrange(1, old)

    _fill(book.bids, far // 2, far_bid, lambda: _level_amount(rng, far=True), far_stamp)
    _fill(book.asks, far - far // 2, far_ask, lambda: _level_amount(rng, far=True), far_stamp)
    for price_int, amount_int in _absurd_levels(cur):
        side = book.bids if price_int < mid_int else book.asks
        side.add(price_int, amount_int, now_us - 400 * 86_400_000_000)
    refresh_near(book, seed, mid_int, levels - far, now_us, minute)
    return book


def refresh_near(book: Book, seed: int, mid_int: int, levels: int, now_us: int, minute: int) -> tuple[int, int]:
    """Replace the levels within 5 % of the mid by `levels` fresh quotes around the new mid.

    Keyed by the minute, so asking twice in one minute gives the same book. Returns the bid
    floor and ask ceiling of what was replaced: every bid at or above the floor and every ask
    at or below the ceiling is new.
    """
    cur = book.currency
    rng = derive_rng(seed, "near-book", cur, minute)
    half_spread = max(1, int(mid_int * (0.0005 + rng.random() * 0.002)))
    best_bid, best_ask = mid_int - half_spread, mid_int + half_spread
    bid_floor, ask_ceiling = mid_int * 95 // 100, mid_int * 105 // 100
    book.bids.discard_range(bid_floor, 10**18)
    book.asks.discard_range(0, ask_ceiling)
    book.bids.add(best_bid, _level_amount(rng, far=False), now_us - rng.randrange(1, 30_000_000))
    book.asks.add(best_ask, _level_amount(rng, far=False), now_us - rng.randrange(1, 30_000_000))

    def near_bid() -> int:
        return max(bid_floor, _round_level(rng, int(best_bid * (1 - rng.random() ** 1.5 * 0.05)), cur))

    def near_ask() -> int:
        return min(ask_ceiling, _round_level(rng, int(best_ask * (1 + rng.random() ** 1.5 * 0.05)), cur))

    def near_stamp() -> int:
        return now_us - rng.randrange(1, 3_600_000_000)

    rest = max(0, levels - 2)
    _fill(book.bids, rest // 2, near_bid, lambda: _level_amount(rng, far=False), near_stamp, floor=bid_floor)
    _fill(book.asks, rest - rest // 2, near_ask, lambda: _level_amount(rng, far=False), near_stamp, ceiling=ask_ceiling)
    book.touched()
    return bid_floor, ask_ceiling


def _fill(
    side: Side, count: int, price: Callable[[], int], amount: Callable[[], int], stamp: Callable[[], int],
    *, floor: int = 0, ceiling: int = 10**18,
) -> None:
    """Add `count` levels at prices the side does not have yet (within floor..ceiling)."""
    target = len(side) + count
    for _ in range(count * 20):  # bounded: a narrow range may hold fewer distinct prices
        if len(side) >= target:
            return
        p = price()
        if floor <= p <= ceiling and side.get(p) is None:
            side.add(p, amount(), stamp())


def _round_level(rng: random.Random, price_int: int, cur: str) -> int:
    scale = CURRENCIES[cur].scale
    if rng.random() < 0.3 and price_int > scale:
        step = scale // 100 if scale >= 100 else 1
        price_int = round(price_int / step) * step
    return max(1, price_int)


def _level_amount(rng: random.Random, *, far: bool) -> int:
    if rng.random() < 0.2:
        return rng.choice([1, 2, 5, 10, 25, 100]) * 100_000_000
    return max(10_000, round(math.exp(rng.gauss(1.0 if far else -0.2, 1.5)) * 100_000_000))


def _absurd_levels(cur: str) -> list[tuple[int, int]]:
    """The junk real full depth carried: a bid at the smallest price for 25 million BTC, asks at
    prices no one would pay (reference 5.3, real-data 2.5)."""
    scale = CURRENCIES[cur].scale
    return [
        (1, 2_556_052_903_000_000),
        (scale // 100 or 1, 1_000 * 100_000_000),
        (1_000_000 * scale, 100_000_000),
        (179_330_000_000 * scale, 10_000_000),
    ]
