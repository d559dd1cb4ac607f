"""The records the emulated exchange is made of. Frozen, integer-only (no float money)."""

from __future__ import annotations

from dataclasses import dataclass

# The first tid after the June 2011 relaunch; before it tids were small sequential integers,
# after it they are microsecond timestamps (reference section 1).
RELAUNCH_TID = 1309108565842636
RELAUNCH_US = 1309046400 * 1_000_000  # 2011-06-26 00:00:00 UTC
# Sequential tids stayed below a million; microsecond tids are above 1.3e15. Anything under this
# bound is a pre-relaunch sequential tid.
MICRO_TID_MIN = 10**12


@dataclass(frozen=True, slots=True)
class Trade:
    """One fill as it appears in one currency's trade feed.

    A fill between two currencies appears in both feeds under the same tid: the copy in the
    taker's currency is `primary`, the other carries `mixed_currency` in its properties.
    """

    tid: int
    time_us: int
    price_int: int  # scaled by `currency`
    amount_int: int  # BTC, scaled by 1e8
    currency: str
    trade_type: str = "bid"  # "bid" (taker bought), "ask" (taker sold), "" for 2010 trades
    primary: bool = True
    properties: str = "limit"

    @property
    def date(self) -> int:
        return self.time_us // 1_000_000


@dataclass(frozen=True, slots=True)
class Level:
    """One price level of a book side."""

    price_int: int
    amount_int: int
    stamp_us: int
