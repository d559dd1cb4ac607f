"""What the collector needs to know about an exchange, as data plus pure functions.

Shared code asks an `ExchangeAdapter` how to build a request, how to read an answer and what
the limits are; it never branches on an exchange's name. Adding an exchange is a new module
that builds one of these and registers it in `collector.exchanges.REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..budget import CallCounter

# Priorities: when requests compete, lower goes first.
LIVE = 0  # ticker, trades
BOOK = 1  # depth, full depth
ACCOUNT = 2  # wallet history, info, orders
BACKFILL = 3


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    """One method of the exchange, in every API version that has it."""

    name: str  # canonical: ticker, depth, full_depth, trades, wallet_history, info, orders
    priority: int
    private: bool = False
    heavy: bool = False  # counts against an hourly cap (full depth)
    paths: Mapping[int, str] = field(default_factory=dict)  # api version -> path template ({pair}, {cur})
    per_market: bool = True
    # How its answers page: "since" (a trade feed with a cursor), "pages" (account history, newest first), None.
    paging: str | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """A request ready to send: no secrets yet (signing happens at the edge, in fetch)."""

    endpoint: str
    market: str  # "BTCUSD", or "-" for account calls
    api_version: int
    method: str
    path: str  # after the base URL's /api/, e.g. "1/BTCUSD/trades"
    sign_path: str  # the part v2 signs: after /api/<version>/
    params: Mapping[str, str]  # query (GET) or form fields (POST), without the nonce
    private: bool


@dataclass(frozen=True, slots=True)
class TradesPage:
    """What a trades answer says, for the cursor: tids and their times, in answer order."""

    tids: tuple[int, ...]
    times_us: tuple[int, ...]
    full: bool  # the page hit the version's cap, so more trades are waiting
    cursor: int | None = None  # the next `since` when the answer names it (Kraken's `last`); else from the tids
    # Where the page starts in cursor space, for its coverage when it was asked without `since`: a cursor no
    # later than the page's first trade and after every trade before it. None: the cursor is the tid (min - 1).
    floor: int | None = None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    indexes: tuple[int, ...]  # wallet history Index values on this page
    current_page: int
    max_page: int


@dataclass(frozen=True, slots=True)
class Limits:
    min_interval_s: float  # per endpoint, documented
    heavy_per_hour: int  # full depth
    trades_page_cap: Mapping[int, int | None]  # per version: rows per `since` page (None: paged by time)
    # How long a rate-limit answer keeps every call of the key waiting (unless the answer says how long)
    cooloff_s: float = 300.0


@dataclass(frozen=True)
class ExchangeRules:
    """What an exchange documents about itself and a configuration must respect."""

    name: str
    documented_min_interval_s: float  # per endpoint; shorter only against an emulator on loopback
    full_depth_per_hour: int
    pairs: frozenset[str]
    currencies: tuple[str, ...]  # every currency a wallet can hold, in the order messages list them
    api_versions: frozenset[int]
    pair_hint: str  # how the exchange spells a pair, for the message about one it does not list
    market_endpoints: tuple[str, ...] = ("ticker", "depth", "full_depth", "trades")  # what a [[market]] may poll
    account_polls: tuple[str, ...] = ("info", "orders")  # [account] keys: an endpoint polled every <duration>
    per_currency_history: str | None = "wallet_history"  # [account] list of currencies, paged every `every`
    tiers: tuple[str, ...] = ()  # [exchange].tier values (the first is the default): the account's rate tier


@dataclass(frozen=True, slots=True)
class ExchangeAdapter:
    name: str
    rules: ExchangeRules
    endpoints: Mapping[str, EndpointSpec]
    pairs: frozenset[str]
    limits: Limits
    build: Callable[..., Request]  # (spec, version, market, since=None, page=None, currency=None)
    # (status, content_type, body, private) -> (error class or None, decoded answer or None)
    classify: Callable[[int | None, str, bytes, bool], tuple[str | None, Any]]
    trades_page: Callable[[Any, int], TradesPage]  # (decoded JSON, version)
    history_page: Callable[..., HistoryPage]  # (decoded JSON, version, raw body, params as sent)
    next_since: Callable[[int | None, TradesPage], int | None]  # cursor after a page; None: caught up
    payload: Callable[[Any, int], Any]  # unwrap the version's envelope
    # (key, secret, request, params as sent, body) -> the headers that authenticate a private call
    sign: Callable[[str, str, Request, Mapping[str, str], bytes], dict[str, str]]
    # The trades cursor (`since`) for a UTC time in µs, for backfills given a date; and back, for showing where a
    # crawl is (None: a cursor that is no time, like Mt.Gox's tids before June 2011)
    cursor_at: Callable[[int], int] = int
    time_at: Callable[[int], int | None] = int
    # A call counter private calls count against, by the account's tier (Kraken); empty: none
    counters: Mapping[str, CallCounter] = field(default_factory=dict)
