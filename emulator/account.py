"""Private accounts: wallets, wallet history, open orders and the rules that change them. Pure.

Everything here takes time (`now_us`) and randomness (a `random.Random`, or id factories) as
arguments, so a seed and the same inputs give the same accounts byte for byte.

Money is integers throughout (BTC scaled by 1e8, fiat by its currency's scale, see `money`):

* the fiat value of a fill is `price_int * amount_int // 10**8`, i.e. rounded down to the
  currency's smallest unit; the same integer is the entry's Value and its Balance change, so a
  history always chains exactly;
* the trade fee is `value * ppm / 10**6` rounded half up, which reproduces every fee row of the
  captured wallet history (10789 -> 65, 10691 -> 64, 83768 -> 503 at 0.6 %);
* a buy pays its fee in BTC, a sell in fiat, so the fee never needs funds the fill did not bring.

A wallet's history is append-only and each entry stores the balance after it, computed from the
previous one, so `balance = previous ± value` holds by construction and a debit that would take
a balance below zero is refused.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from .book import Book
from .errors import ApiError, OrderError
from .model import Trade
from .money import BTC, CURRENCIES, FIAT, NBSP, format_display, value_str

BTC_SCALE = 10**8
MIN_ORDER_INT = 1_000_000  # 0.01 BTC, Mt.Gox's smallest order
DEFAULT_FEE_PPM = 6000  # 0.6 %, the fee in the captures
PER_PAGE = 50

CREDITS = frozenset({"in", "deposit", "earned"})
DEBITS = frozenset({"out", "spent", "fee", "withdraw"})

LINK_TRADE = "Money_Trade"
LINK_WITHDRAW = "Money_Bitcoin_Block_Tx"
LINK_DEPOSIT = "Money_Bitcoin_Block_Tx_Out"
# No capture shows a fiat deposit or withdrawal; these class names and Info texts are guesses.
LINK_FIAT_DEPOSIT = "Money_Bank_Deposit"
LINK_FIAT_WITHDRAW = "Money_Bank_Withdraw"

INSUFFICIENT_FUNDS = ("Insufficient funds", "trade_error_insufficient_funds")

# Withdraw limits as captured in 2013 (sferik info.json); fiat limits are in whole units.
BTC_DAILY_WITHDRAW_INT = 100 * BTC_SCALE
FIAT_DAILY_WITHDRAW_UNITS = 1_000
FIAT_MONTHLY_WITHDRAW_UNITS = 10_000


# --------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True)
class TradeRef:
    """The `Trade` member of a history entry: which order and fill the entry belongs to."""

    oid: str
    tid: int
    amount_int: int  # BTC
    properties: str  # "market" or "limit"


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of a wallet history. `value_int` is always positive; the type gives the sign."""

    index: int
    date: int
    type: str
    currency: str
    value_int: int
    balance_int: int
    info: str
    link: tuple[str, str, str]
    trade: TradeRef | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """An open order of the account; replaced, never mutated, when it changes."""

    oid: str
    currency: str
    type: str  # "bid" | "ask"
    amount_int: int  # remaining BTC
    price_int: int
    status: str
    date: int
    priority: int  # µs
    effective_amount_int: int

    @property
    def reserved_int(self) -> int:
        """What the order holds back: fiat for a bid (at its limit, rounded down), BTC for an ask."""
        if self.type == "bid":
            return fiat_value(self.price_int, self.amount_int)
        return self.amount_int

    @property
    def reserved_currency(self) -> str:
        return self.currency if self.type == "bid" else "BTC"


# --------------------------------------------------------------------------------------------
# Arithmetic shared by matching and history generation


def fiat_value(price_int: int, amount_int: int) -> int:
    """The fiat value of `amount_int` BTC at `price_int`, rounded down to the currency's unit."""
    return price_int * amount_int // BTC_SCALE


def trade_fee(value_int: int, fee_ppm: int) -> int:
    """The fee on a value, rounded half up (matches every fee row in the captured history)."""
    return (value_int * fee_ppm + 500_000) // 1_000_000


def fee_percent_text(fee_ppm: int) -> str:
    """6000 -> '0.6', 5300 -> '0.53', 0 -> '0': the percentage as Mt.Gox printed it."""
    return format((Decimal(fee_ppm) / 10_000).normalize(), "f")


def price_text(price_int: int, currency: str) -> str:
    """'$97.96898' as in Info strings; Info is plain text, so a plain space replaces the NBSP."""
    cur = CURRENCIES[currency]
    return format_display(price_int, cur, cur.decimals).replace(NBSP, " ")


def trade_info(bought: bool, tid: int, amount_int: int, price_int: int, currency: str) -> str:
    verb = "bought" if bought else "sold"
    return f"BTC {verb}: [tid:{tid}] {value_str(amount_int, BTC)} BTC at {price_text(price_int, currency)}"


def fee_info(base_info: str, fee_ppm: int) -> str:
    return f"{base_info} ({fee_percent_text(fee_ppm)}% fee)"


def format_time(unix_s: int) -> str:
    return datetime.fromtimestamp(unix_s, UTC).strftime("%Y-%m-%d %H:%M:%S")


# --------------------------------------------------------------------------------------------
# Account


@dataclass(slots=True)
class Account:
    """One private account. Balances change only through `post`, which keeps history consistent."""

    login: str
    index: str  # numeric string, as Mt.Gox sent it
    id: str  # uuid
    created_s: int
    last_login_s: int
    currencies: tuple[str, ...] = ("USD",)  # fiat wallets, first one is the home currency
    trade_fee_ppm: int = DEFAULT_FEE_PPM
    balances: dict[str, int] = field(default_factory=dict)
    history: dict[str, list[Entry]] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    monthly_volume_int: int = 0

    @property
    def created(self) -> str:
        return format_time(self.created_s)

    @property
    def last_login(self) -> str:
        return format_time(self.last_login_s)

    @property
    def trade_fee(self) -> Decimal:
        """The fee in percent (0.6), exact."""
        return Decimal(self.trade_fee_ppm) / 10_000

    def wallets(self) -> tuple[str, ...]:
        """BTC first, then the fiat wallets alphabetically (both captures list them so)."""
        fiat = set(self.currencies) | {c for c in self.history if c != "BTC"}
        return ("BTC", *sorted(fiat))

    def balance(self, currency: str) -> int:
        return self.balances.get(currency, 0)

    def operations(self, currency: str) -> int:
        return len(self.history.get(currency, ()))

    def open_orders_int(self, currency: str) -> int:
        """Funds held by open orders in this wallet; shown as Open_Orders, not spendable."""
        return sum(o.reserved_int for o in self.orders.values() if o.reserved_currency == currency)

    def available(self, currency: str) -> int:
        return self.balance(currency) - self.open_orders_int(currency)

    def daily_withdraw_limit(self, currency: str) -> int:
        if currency == "BTC":
            return BTC_DAILY_WITHDRAW_INT
        return FIAT_DAILY_WITHDRAW_UNITS * CURRENCIES[currency].scale

    def monthly_withdraw_limit(self, currency: str) -> int | None:
        if currency == "BTC":
            return None  # null in every capture
        return FIAT_MONTHLY_WITHDRAW_UNITS * CURRENCIES[currency].scale

    def post(
        self,
        currency: str,
        type_: str,
        value_int: int,
        date: int,
        info: str,
        link_class: str,
        link_ref: str,
        trade: TradeRef | None = None,
    ) -> Entry | None:
        """Append one history entry and move the balance; None (no row) for a zero value.

        A zero value happens for fees that round to nothing; Mt.Gox rows are always positive.
        """
        if value_int < 0:
            raise ValueError(f"negative value {value_int} for a {type_} entry")
        if type_ not in CREDITS and type_ not in DEBITS:
            raise ValueError(f"unknown entry type {type_!r}")
        if value_int == 0:
            return None
        old = self.balance(currency)
        new = old + value_int if type_ in CREDITS else old - value_int
        if new < 0:
            raise OrderError(*INSUFFICIENT_FUNDS)
        rows = self.history.setdefault(currency, [])
        index = len(rows) + 1
        link = (_entry_uuid(self.id, currency, index), link_class, link_ref)
        entry = Entry(index, date, type_, currency, value_int, new, info, link, trade)
        rows.append(entry)
        self.balances[currency] = new
        return entry


def _entry_uuid(account_id: str, currency: str, index: int) -> str:
    """A stable uuid per wallet row, so posting needs no randomness of its own."""
    digest = hashlib.sha256(f"{account_id}/{currency}/{index}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def record_fill(
    account: Account,
    *,
    bought: bool,
    tid: int,
    oid: str,
    price_int: int,
    amount_int: int,
    currency: str,
    date: int,
    properties: str,
) -> list[Entry]:
    """The history rows of one fill, in Mt.Gox's order: buy = BTC in, BTC fee, fiat spent;
    sell = BTC out, fiat earned, fiat fee. All rows carry the tid and the oid."""
    ref = TradeRef(oid, tid, amount_int, properties)
    info = trade_info(bought, tid, amount_int, price_int, currency)
    value = fiat_value(price_int, amount_int)
    tid_s = str(tid)
    ppm = account.trade_fee_ppm
    rows: list[Entry | None]
    if bought:
        rows = [
            account.post("BTC", "in", amount_int, date, info, LINK_TRADE, tid_s, ref),
            account.post("BTC", "fee", trade_fee(amount_int, ppm), date, fee_info(info, ppm),
                         LINK_TRADE, tid_s, ref),
            account.post(currency, "spent", value, date, info, LINK_TRADE, tid_s, ref),
        ]
    else:
        rows = [
            account.post("BTC", "out", amount_int, date, info, LINK_TRADE, tid_s, ref),
            account.post(currency, "earned", value, date, info, LINK_TRADE, tid_s, ref),
            account.post(currency, "fee", trade_fee(value, ppm), date, fee_info(info, ppm),
                         LINK_TRADE, tid_s, ref),
        ]
    return [r for r in rows if r is not None]


# --------------------------------------------------------------------------------------------
# Orders


def _validate_order(currency: str, side: str, amount_int: int, price_int: int | None) -> None:
    if side not in ("bid", "ask"):
        raise OrderError('Invalid parameter "type" (should be ask or bid)', None)
    if amount_int < MIN_ORDER_INT:
        raise OrderError("Order amount is too low", None)
    if price_int is not None and price_int <= 0:
        # No capture shows this refusal; the wording follows the "type" error.
        raise OrderError('Invalid parameter "price_int"', None)
    if currency not in FIAT:
        raise OrderError('Invalid parameter "currency"', None)


def _market_bid_cost(book: Book, amount_int: int) -> int:
    """What a market bid will pay, fill by fill with the same rounding as the history rows."""
    cost, remaining = 0, amount_int
    for level in book.asks.levels():
        if remaining <= 0:
            break
        got = min(remaining, level.amount_int)
        cost += fiat_value(level.price_int, got)
        remaining -= got
    return cost


def _check_funds(account: Account, book: Book, currency: str, side: str, amount_int: int,
                 price_int: int | None) -> None:
    if side == "ask":
        needed, wallet = amount_int, "BTC"
    elif price_int is None:
        needed, wallet = _market_bid_cost(book, amount_int), currency
    else:
        # Fills happen at or below the limit and each rounds down, so this also covers them.
        needed, wallet = fiat_value(price_int, amount_int), currency
    if needed > account.available(wallet):
        raise OrderError(*INSUFFICIENT_FUNDS)


def place_order(
    account: Account,
    book: Book,
    *,
    currency: str,
    side: str,
    amount_int: int,
    price_int: int | None,
    now_us: int,
    new_tid: Callable[[], int],
    new_oid: Callable[[], str],
) -> tuple[Order | None, list[Trade]]:
    """Match an order against `book`; a limit order's remainder rests, a market order's is dropped.

    Returns the resting order (None when nothing rests) and the public trades of the fills.
    """
    _validate_order(currency, side, amount_int, price_int)
    if book.currency != currency:
        raise ValueError(f"order in {currency} against the {book.currency} book")
    _check_funds(account, book, currency, side, amount_int, price_int)

    oid = new_oid()
    if oid in account.orders:
        raise ValueError(f"new_oid returned {oid}, already an open order")
    properties = "market" if price_int is None else "limit"
    date = now_us // 1_000_000
    trades: list[Trade] = []
    filled = 0
    for fill_price, fill_amount in book.take(side, amount_int, price_int, now_us):
        trade = Trade(new_tid(), now_us, fill_price, fill_amount, currency, side, True, properties)
        record_fill(account, bought=side == "bid", tid=trade.tid, oid=oid, price_int=fill_price,
                    amount_int=fill_amount, currency=currency, date=date, properties=properties)
        account.monthly_volume_int += fill_amount
        trades.append(trade)
        filled += fill_amount

    remaining = amount_int - filled
    if price_int is None or remaining <= 0:
        return None, trades
    order = Order(oid, currency, side, remaining, price_int, "open", date, now_us, remaining)
    account.orders[oid] = order
    (book.bids if side == "bid" else book.asks).add(price_int, remaining, now_us)
    book.touched()
    return order, trades


def cancel_order(account: Account, book: Book, oid: str, now_us: int) -> Order:
    """Remove an open order from the account and its remaining volume from `book`."""
    order = account.orders.get(oid)
    # An oid of another currency's market is not an order of this one.
    if order is None or order.currency != book.currency:
        raise OrderError("Order not found", "unknown_error")
    del account.orders[oid]
    (book.bids if order.type == "bid" else book.asks).reduce(order.price_int, order.amount_int, now_us)
    book.touched()
    return order


def history_page(
    account: Account, currency: str, page: int, per_page: int = PER_PAGE
) -> tuple[int, list[Entry], int, int]:
    """(records, entries newest first, current_page, max_page) of one wallet's history.

    Pages are 1-based; a page past the end is empty. max_page is at least 1, as for the one-row
    capture (an empty wallet's max_page is not captured).
    """
    if page < 1:
        raise ApiError('Invalid parameter "page"', "invalid_parameter")
    rows = account.history.get(currency, [])
    records = len(rows)
    max_page = max(1, math.ceil(records / per_page))
    hi = records - (page - 1) * per_page
    lo = max(0, hi - per_page)
    entries = rows[lo:hi][::-1] if hi > 0 else []
    return records, entries, page, max_page
