"""Seeded accounts that look real: deposits, fills taken from the public tape, fees, withdrawals.

Pure: a `random.Random` and the market's trades go in, `Account`s come out, the same for the
same seed. Every balance change goes through `Account.post`, so histories chain exactly.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .account import (
    BTC_SCALE,
    LINK_DEPOSIT,
    LINK_FIAT_DEPOSIT,
    LINK_FIAT_WITHDRAW,
    LINK_WITHDRAW,
    MIN_ORDER_INT,
    Account,
    fiat_value,
    record_fill,
)
from .model import Trade
from .money import CURRENCIES, FIAT
from .synthetic import convert

_DAY_S = 86_400
_MONTH_US = 30 * _DAY_S * 1_000_000
_MIN_FILL_INT = 100_000  # 0.001 BTC: smaller fills would round their fiat value to nothing
_BTC_WITHDRAW_FEE_INT = 50_000  # 0.0005 BTC, the usual network fee of 2013
# Approximate BTC price in USD (scaled 1e5) by year, for synthesized trades only.
_USD_PRICE_BY_YEAR = {2010: 10_000, 2011: 1_000_000, 2012: 800_000, 2013: 10_000_000}
_USD_PRICE_LATER = 80_000_000
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _rand_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _rand_hex(rng: random.Random, nbytes: int) -> str:
    return f"{rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"


def random_address(rng: random.Random) -> str:
    """A pay-to-pubkey-hash address with a valid checksum (so clients that verify accept it)."""
    payload = b"\x00" + rng.getrandbits(160).to_bytes(20, "big")
    check = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    raw = payload + check
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    zeros = len(raw) - len(raw.lstrip(b"\x00"))
    return "1" * zeros + out


def _base_price(currency: str, at_us: int) -> int:
    year = datetime.fromtimestamp(at_us // 1_000_000, UTC).year
    usd = _USD_PRICE_BY_YEAR.get(year, _USD_PRICE_LATER if year > 2013 else 10_000)
    return convert(usd, "USD", currency)


def _synthesize(rng: random.Random, currency: str, count: int, lo_us: int, hi_us: int,
                base_price: int, taken: set[int]) -> list[Trade]:
    """Plausible primary trades: a bounded random walk around `base_price`, tid = time in µs."""
    times: list[int] = []
    while len(times) < count:
        t = rng.randint(lo_us, hi_us)
        if t not in taken:
            taken.add(t)
            times.append(t)
    times.sort()
    out, price = [], base_price
    for t in times:
        price = min(2 * base_price, max(base_price // 2, price * rng.randint(970, 1030) // 1000))
        amount = rng.randint(_MIN_FILL_INT, 20 * BTC_SCALE)
        out.append(Trade(t, t, max(1, price), amount, currency, rng.choice(("bid", "ask")), True,
                         rng.choice(("limit", "market"))))
    return out


def _pick_trades(rng: random.Random, pool: Sequence[Trade], currency: str, count: int,
                 lo_us: int, hi_us: int, taken: set[int]) -> list[Trade]:
    """`count` distinct market trades of the pool; synthesized ones fill any shortfall."""
    picked = rng.sample(list(pool), min(count, len(pool)))
    for t in picked:
        taken.add(t.tid)
    if len(picked) < count:
        # The pool's median price keeps synthesized fills near the market's level.
        base = sorted(t.price_int for t in pool)[len(pool) // 2] if pool else _base_price(currency, lo_us)
        picked += _synthesize(rng, currency, count - len(picked), lo_us, hi_us, base, taken)
    return picked


def _trade_pools(market_trades: Sequence[Trade], currencies: Sequence[str], lo_us: int,
                 hi_us: int) -> dict[str, list[Trade]]:
    pools: dict[str, list[Trade]] = {c: [] for c in currencies}
    for t in market_trades:
        usable = t.primary and lo_us <= t.time_us <= hi_us and t.amount_int >= _MIN_FILL_INT
        if usable and t.currency in pools:
            pools[t.currency].append(t)
    for pool in pools.values():
        pool.sort(key=lambda t: (t.time_us, t.tid))
    return pools


@dataclass(frozen=True, slots=True)
class _Event:
    """One planned step of a generated history, ordered by time."""

    time_us: int
    kind: str  # "trade", "btc_withdraw", "fiat_withdraw"
    trade: Trade | None = None
    currency: str = "BTC"


def _deposit_opening_funds(rng: random.Random, account: Account, start_s: int, lead_s: int) -> None:
    btc_amount = rng.randint(5, 40) * BTC_SCALE + rng.randrange(BTC_SCALE)
    address = random_address(rng)
    account.post("BTC", "deposit", btc_amount, start_s + rng.randint(0, lead_s // 2), address,
                 LINK_DEPOSIT, f"{_rand_hex(rng, 32)}:{rng.randint(0, 3)}")
    for i, code in enumerate(account.currencies):
        units = rng.randint(2_000, 15_000) if i == 0 else rng.randint(300, 3_000)
        value = units * CURRENCIES[code].scale
        _fiat_deposit(rng, account, code, value, start_s + rng.randint(0, lead_s))


def _fiat_deposit(rng: random.Random, account: Account, code: str, value: int, date: int) -> None:
    ref = _rand_uuid(rng)
    account.post(code, "deposit", value, date, f"Bank transfer deposit ({ref[:8].upper()})",
                 LINK_FIAT_DEPOSIT, ref)


def _plan(rng: random.Random, account: Account, pools: dict[str, list[Trade]], lo_us: int,
          hi_us: int) -> list[_Event]:
    taken: set[int] = set()
    events: list[_Event] = []
    for i, code in enumerate(account.currencies):
        # The home wallet gets enough trades for several history pages in BTC and in fiat.
        count = rng.randint(55, 110) if i == 0 else rng.randint(5, 40)
        for t in _pick_trades(rng, pools.get(code, []), code, count, lo_us, hi_us, taken):
            events.append(_Event(t.time_us, "trade", t, code))
    for _ in range(rng.randint(2, 4)):
        events.append(_Event(rng.randint(lo_us, hi_us), "btc_withdraw"))
    if account.currencies and rng.random() < 0.35:
        events.append(_Event(rng.randint(lo_us, hi_us), "fiat_withdraw", None, account.currencies[0]))
    events.sort(key=lambda e: (e.time_us, e.kind, e.trade.tid if e.trade else 0))
    return events


def _apply_trade(rng: random.Random, account: Account, trade: Trade, now_us: int) -> None:
    """Let the account take part in a market trade, on whichever side its balances allow."""
    code, price = trade.currency, trade.price_int
    # Trading a fraction of what is available keeps balances healthy over a hundred fills.
    buy_cap = account.available(code) * BTC_SCALE // price * rng.randint(5, 35) // 100
    sell_cap = account.available("BTC") * rng.randint(5, 35) // 100
    caps = {"bid": min(trade.amount_int, buy_cap), "ask": min(trade.amount_int, sell_cap)}
    side = rng.choice(("bid", "ask"))
    if caps[side] < _MIN_FILL_INT:
        side = "ask" if side == "bid" else "bid"
    if caps[side] < _MIN_FILL_INT:
        # Both wallets ran dry: the owner tops up fiat, as real users did between trades.
        top_up = 1_000 * CURRENCIES[code].scale + fiat_value(price, trade.amount_int)
        _fiat_deposit(rng, account, code, top_up, trade.date)
        side = "bid"
        caps["bid"] = min(trade.amount_int, account.available(code) * BTC_SCALE // price)
    hi = caps[side]
    amount = rng.randint(max(_MIN_FILL_INT, hi // 3), hi)
    # The account is the taker when it is on the trade's aggressive side, else its limit order made it.
    taker = trade.trade_type in ("", side)
    properties = trade.properties.split(",")[0] if taker else "limit"
    record_fill(account, bought=side == "bid", tid=trade.tid, oid=_rand_uuid(rng), price_int=price,
                amount_int=amount, currency=code, date=trade.date, properties=properties)
    if trade.time_us >= now_us - _MONTH_US:
        account.monthly_volume_int += amount


def _apply_btc_withdraw(rng: random.Random, account: Account, date: int) -> None:
    # People withdraw round-ish amounts: whole milli-bitcoins.
    amount = account.available("BTC") * rng.randint(5, 30) // 100 // 100_000 * 100_000
    if amount < MIN_ORDER_INT or amount + _BTC_WITHDRAW_FEE_INT > account.available("BTC"):
        return
    address, tx = random_address(rng), _rand_hex(rng, 32)
    account.post("BTC", "withdraw", amount, date, f"Bitcoin withdraw to {address}", LINK_WITHDRAW, tx)
    account.post("BTC", "fee", _BTC_WITHDRAW_FEE_INT, date, f"Fees for Bitcoin withdraw to {address}",
                 LINK_WITHDRAW, tx)


def _apply_fiat_withdraw(rng: random.Random, account: Account, code: str, date: int) -> None:
    scale = CURRENCIES[code].scale
    amount = account.available(code) * rng.randint(10, 40) // 100 // scale * scale
    if amount < 10 * scale:
        return
    ref = _rand_uuid(rng)
    account.post(code, "withdraw", amount, date, f"Bank transfer withdraw ({ref[:8].upper()})",
                 LINK_FIAT_WITHDRAW, ref)


def _lead_us(start_us: int, now_us: int) -> int:
    """Time kept for the opening deposits before the first trade: an hour, less for short spans."""
    return min(3600 * 1_000_000, (now_us - start_us) // 4)


def _generate_account(rng: random.Random, login: str, index: str, pools: dict[str, list[Trade]],
                      start_us: int, now_us: int, currencies: tuple[str, ...]) -> Account:
    start_s, now_s = start_us // 1_000_000, now_us // 1_000_000
    account = Account(
        login=login,
        index=index,
        id=_rand_uuid(rng),
        created_s=start_s - rng.randint(1, 120) * _DAY_S - rng.randrange(_DAY_S),
        last_login_s=max(start_s, now_s - rng.randint(60, 6 * 3600)),
        currencies=currencies,
    )
    lead_us = _lead_us(start_us, now_us)
    _deposit_opening_funds(rng, account, start_s, lead_us // 1_000_000)
    for event in _plan(rng, account, pools, start_us + lead_us, now_us):
        date = event.time_us // 1_000_000
        if event.kind == "trade" and event.trade is not None:
            _apply_trade(rng, account, event.trade, now_us)
        elif event.kind == "btc_withdraw":
            _apply_btc_withdraw(rng, account, date)
        else:
            _apply_fiat_withdraw(rng, account, event.currency, date)
    return account


def generate_accounts(
    rng: random.Random,
    names: Sequence[str],
    market_trades: Sequence[Trade],
    start_us: int,
    now_us: int,
    currencies: Sequence[str] = ("USD", "EUR"),
) -> dict[str, Account]:
    """Accounts with a history that looks real, keyed by login.

    Each account deposits BTC and fiat just after `start_us`, then takes part in 60-150 primary
    market trades of its currencies (same tid, price and date, an amount up to the trade's), with
    their fee rows, and makes a few BTC withdrawals and maybe one fiat withdrawal. Market trades
    in the first hour (the deposits' time) or after `now_us` are not used; synthesized trades
    make up for too few. The same seed and inputs give the same accounts.
    """
    if now_us - start_us < 10_000_000:
        raise ValueError("generate_accounts needs at least ten seconds between start_us and now_us")
    codes = tuple(currencies)
    for code in codes:
        if code not in FIAT:
            raise ValueError(f"not a fiat currency: {code!r}")
    pools = _trade_pools(market_trades, codes, start_us + _lead_us(start_us, now_us), now_us)
    accounts: dict[str, Account] = {}
    used_indexes: set[str] = set()
    for login in names:
        index = str(rng.randint(100_000, 999_999))
        while index in used_indexes:
            index = str(rng.randint(100_000, 999_999))
        used_indexes.add(index)
        accounts[login] = _generate_account(rng, login, index, pools, start_us, now_us, codes)
    return accounts
