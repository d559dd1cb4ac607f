"""Which endpoint a Mt.Gox URL names. Pure: a table of spellings and one resolver.

Every spelling Mt.Gox accepted over the years maps to one canonical endpoint, so limits,
caching and the request log count `1/BTCUSD/public/ticker` and `1/BTCUSD/ticker` as the same
method (reference section 4: v1's early `public/`/`private/` segments, the later `depth/fetch`
forms, v2's deprecated aliases).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .money import CURRENCIES, pair_currency

PUBLIC = None  # the right a public endpoint needs


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str  # canonical: ticker, depth, fulldepth, trades, info, wallet_history, order_add...
    right: str | None  # the API-key right a private call needs; None for public calls
    heavy: bool = False  # counts against the full-depth hourly allowance
    trades: bool = False  # a trade feed (page faults apply)

    @property
    def private(self) -> bool:
        return self.right is not None


TICKER = Endpoint("ticker", PUBLIC)
TICKER_FAST = Endpoint("ticker_fast", PUBLIC)
DEPTH = Endpoint("depth", PUBLIC)
FULLDEPTH = Endpoint("fulldepth", PUBLIC, heavy=True)
TRADES = Endpoint("trades", PUBLIC, trades=True)
CANCELLED = Endpoint("cancelledtrades", PUBLIC)
LAG = Endpoint("lag", PUBLIC)
CURRENCY = Endpoint("currency", PUBLIC)
INFO = Endpoint("info", "get_info")
IDKEY = Endpoint("idkey", "get_info")
ORDERS = Endpoint("orders", "get_info")
HISTORY = Endpoint("wallet_history", "get_info")
ORDER_ADD = Endpoint("order_add", "trade")
ORDER_CANCEL = Endpoint("order_cancel", "trade")
FUNDS = Endpoint("funds", "get_info")
HISTORY_CSV = Endpoint("history_csv", "get_info")

# (version, pattern, endpoint). `{pair}` is BTC<CUR>; `{cur}` a currency code; `[pair/]` optional.
_TABLE: list[tuple[int, str, Endpoint]] = [
    (0, "data/ticker.php", TICKER), (0, "ticker.php", TICKER),
    (0, "data/getDepth.php", DEPTH), (0, "getDepth.php", DEPTH),
    (0, "data/getTrades.php", TRADES), (0, "getTrades.php", TRADES),
    (0, "getFunds.php", FUNDS), (0, "info.php", INFO), (0, "getOrders.php", ORDERS),
    (0, "history_{cur}.csv", HISTORY_CSV),
    (1, "{pair}/ticker", TICKER), (1, "{pair}/public/ticker", TICKER),
    (1, "{pair}/ticker_fast", TICKER_FAST), (1, "{pair}/public/ticker_fast", TICKER_FAST),
    (1, "{pair}/depth", DEPTH), (1, "{pair}/public/depth", DEPTH), (1, "{pair}/depth/fetch", DEPTH),
    (1, "{pair}/fulldepth", FULLDEPTH), (1, "{pair}/public/fulldepth", FULLDEPTH),
    (1, "{pair}/depth/full", FULLDEPTH),
    (1, "{pair}/trades", TRADES), (1, "{pair}/public/trades", TRADES), (1, "{pair}/trades/fetch", TRADES),
    (1, "{pair}/cancelledtrades", CANCELLED), (1, "{pair}/public/cancelledtrades", CANCELLED),
    (1, "{pair}/trades/cancelled", CANCELLED),
    (1, "generic/order/lag", LAG), (1, "generic/public/order/lag", LAG),
    (1, "generic/currency", CURRENCY), (1, "generic/public/currency", CURRENCY),
    (1, "generic/private/info", INFO), (1, "generic/info", INFO),
    (1, "generic/private/idkey", IDKEY), (1, "generic/idkey", IDKEY),
    (1, "generic/private/orders", ORDERS), (1, "generic/orders", ORDERS),
    (1, "generic/private/wallet/history", HISTORY), (1, "generic/wallet/history", HISTORY),
    (1, "{pair}/private/order/add", ORDER_ADD), (1, "{pair}/order/add", ORDER_ADD),
    (1, "{pair}/private/order/cancel", ORDER_CANCEL), (1, "{pair}/order/cancel", ORDER_CANCEL),
    (2, "{pair}/money/ticker", TICKER), (2, "{pair}/money/ticker_fast", TICKER_FAST),
    (2, "{pair}/money/depth/fetch", DEPTH), (2, "{pair}/money/depth", DEPTH),
    (2, "{pair}/money/depth/full", FULLDEPTH), (2, "{pair}/money/fulldepth", FULLDEPTH),
    (2, "{pair}/money/trades/fetch", TRADES), (2, "{pair}/money/trades", TRADES),
    (2, "{pair}/money/trades/cancelled", CANCELLED), (2, "{pair}/money/cancelledtrades", CANCELLED),
    (2, "{pair}/money/currency", CURRENCY),
    (2, "[pair/]money/order/lag", LAG),
    (2, "[pair/]money/info", INFO), (2, "[pair/]money/idkey", IDKEY), (2, "[pair/]money/orders", ORDERS),
    (2, "[pair/]money/wallet/history", HISTORY),
    (2, "{pair}/money/order/add", ORDER_ADD), (2, "{pair}/money/order/cancel", ORDER_CANCEL),
]


def _compile(pattern: str) -> re.Pattern[str]:
    rx = re.escape(pattern)
    rx = rx.replace(re.escape("[pair/]"), r"(?:(?P<pair>BTC[A-Z]{3})/)?")
    rx = rx.replace(re.escape("{pair}"), r"(?P<pair>BTC[A-Z]{3})")
    rx = rx.replace(re.escape("{cur}"), r"(?P<cur>[A-Z]{3})")
    return re.compile(rx + r"\Z")


_COMPILED = [(v, _compile(p), e) for v, p, e in _TABLE]


@dataclass(frozen=True, slots=True)
class Route:
    version: int
    endpoint: Endpoint
    currency: str | None  # from the pair (v1/v2), the CSV name (v0), or None (resolved later)


class UnknownRoute(LookupError):
    """No Mt.Gox method has this path."""


class UnknownPair(LookupError):
    """The path names a pair Mt.Gox did not list."""


def resolve(version: int, path: str) -> Route:
    """`(1, 'BTCUSD/public/ticker')` -> Route(1, TICKER, 'USD'). Raises UnknownRoute/UnknownPair."""
    for v, rx, endpoint in _COMPILED:
        if v != version:
            continue
        match = rx.match(path)
        if match is None:
            continue
        groups = match.groupdict()
        pair, cur = groups.get("pair"), groups.get("cur")
        if pair is not None:
            cur = pair_currency(pair)
            if cur is None:
                raise UnknownPair(pair)
        elif cur is not None and cur not in CURRENCIES:
            raise UnknownPair(cur)
        return Route(version, endpoint, cur)
    raise UnknownRoute(path)


def all_spellings() -> list[tuple[int, str, Endpoint]]:
    """The table, for tests and docs: every (version, pattern, endpoint)."""
    return list(_TABLE)
