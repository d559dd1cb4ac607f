"""Kraken's account answers (Balance, Ledgers, TradesHistory, QueryLedgers, QueryTrades) from the
emulator's Mt.Gox-style accounts. Pure.

An `Account` keeps one history per wallet, Mt.Gox's rows: a buy posts BTC in, BTC fee, fiat spent; a
sell BTC out, fiat earned, fiat fee; a BTC withdrawal its amount and its fee. Kraken books one ledger
entry per asset and event: a row and the fee rows after it with the same link become one entry with
the signed amount, that asset's fee in `fee` and the balance after both, so every entry's balance is
the previous balance of its asset + amount - fee, exactly (the integers are the wallet's own). Both
entries of a fill carry the trade's txid as `refid`.

Wallet rows carry whole seconds; a fill's entries get the public trade's microsecond time (its tid),
and a wallet's entries are kept in posting order by never letting a time go back (a withdrawal in the
same second as an earlier fill takes the fill's time). The ledger is the wallets merged by time, each
wallet in its own order, newest first. Buys pay their fee in BTC, as on Mt.Gox (Kraken's `fcib`):
TradesHistory's `fee` is in the quote currency, so it shows that fee's value at the fill price,
rounded half up to 1e-5; the ledger keeps the exact BTC fee.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from .account import CREDITS, LINK_TRADE, Account, Entry
from .errors import ApiError
from .kraken_model import (
    BY_CURRENCY,
    PAIR_BY_CURRENCY,
    KrakenAsset,
    asset_text,
    btc_text,
    fiat_text,
    find_asset,
    kraken_id,
    time_text,
)
from .market import Market
from .money import CURRENCIES

PAGE = 50  # "50 results are returned at a time, the most recent by default"
QUERY_MAX = 20  # QueryLedgers and QueryTrades take at most 20 ids
# Real Kraken sends this postxid for every spot fill (no position); kept for the shape.
NO_POSITION = "TKH2SE-M7IF5-CFI7LT"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    ledger_id: str
    refid: str
    time_us: int
    type: str  # trade | deposit | withdrawal | adjustment
    asset: KrakenAsset
    amount: int  # signed, in the wallet's integer units
    fee: int
    balance: int
    head: Entry  # the wallet row it starts with (its text and trade reference)
    fill_key: tuple[int, str] | None = None  # (tid, oid) of a trade entry


@dataclass(frozen=True, slots=True)
class Fill:
    txid: str
    ordertxid: str
    pair_id: str
    currency: str
    time_us: int
    side: str  # buy | sell
    ordertype: str  # market | limit
    price: int
    cost: int
    fee: int  # in the quote currency
    vol: int
    trade_id: int | None  # the public trade's id in Trades; None for a fill the feed does not hold
    maker: bool
    ledger_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AccountBook:
    """An account as Kraken shows it: ledger entries and fills, newest first."""

    ledger: tuple[LedgerEntry, ...]
    fills: tuple[Fill, ...]


def txid(account: Account, tid: int, oid: str) -> str:
    return kraken_id("T", account.id, tid, oid)


def _groups(rows: Sequence[Entry]) -> list[list[Entry]]:
    """A row and the fee rows right after it that share its link: one Kraken entry each."""
    groups: list[list[Entry]] = []
    for e in rows:
        prev = groups[-1][0] if groups else None
        if e.type == "fee" and prev is not None and prev.link[1:] == e.link[1:] and prev.trade == e.trade:
            groups[-1].append(e)
        else:
            groups.append([e])
    return groups


def _entry_type(head: Entry) -> str:
    if head.link[1] == LINK_TRADE:
        return "trade"
    return {"deposit": "deposit", "withdraw": "withdrawal"}.get(head.type, "adjustment")


def _wallet_entries(account: Account, currency: str) -> list[LedgerEntry]:
    asset = BY_CURRENCY[currency]
    out: list[LedgerEntry] = []
    floor_us = 0
    for group in _groups(account.history.get(currency, [])):
        head = group[0]
        value = 0 if head.type == "fee" else head.value_int
        amount = value if head.type in CREDITS else -value
        fee = sum(e.value_int for e in group if e.type == "fee")
        time_us = head.date * 1_000_000
        if head.trade is not None and time_us <= head.trade.tid < time_us + 1_000_000:
            time_us = head.trade.tid  # a tid is the fill's µs time
        floor_us = time_us = max(time_us, floor_us)
        fill_key = (head.trade.tid, head.trade.oid) if head.trade is not None else None
        if fill_key is not None:
            refid = txid(account, *fill_key)
        else:
            refid = kraken_id("A" if amount < 0 else "Q", account.id, head.link[2], lengths=(6, 6, 6))
        out.append(LedgerEntry(kraken_id("L", account.id, currency, head.index), refid, time_us,
                               _entry_type(head), asset, amount, fee, group[-1].balance_int, head, fill_key))
    return out


def _public_trade(market: Market, currency: str, tid: int) -> tuple[int, Any] | None:
    """(trade_id, trade) of the public trade with this tid, or None."""
    feed = market.feeds.get(currency)
    if feed is None:
        return None
    i = bisect_left(feed.tids, tid)
    return (i + 1, feed.trades[i]) if i < len(feed.tids) and feed.tids[i] == tid else None


def _price_from_info(info: str, currency: str) -> int:
    """The fill price from the row's text ('… BTC at $97.96898'), for fills the feed does not hold."""
    text = "".join(c for c in info.rsplit(" at ", 1)[-1] if c.isdigit() or c == ".")
    return int(Decimal(text).scaleb(CURRENCIES[currency].decimals))


def _fills(account: Account, market: Market, by_asset: dict[str, list[LedgerEntry]]) -> list[Fill]:
    fiat = {e.fill_key: e for code, entries in by_asset.items() if code != "BTC" for e in entries if e.fill_key}
    fills: list[Fill] = []
    for entry in by_asset.get("BTC", []):
        quote = fiat.get(entry.fill_key)
        if entry.fill_key is None or quote is None:
            continue
        tid, oid = entry.fill_key
        currency = quote.asset.currency
        head = entry.head
        bought = entry.amount > 0
        found = _public_trade(market, currency, tid)
        price = found[1].price_int if found else _price_from_info(head.info, currency)
        if found:
            maker = found[1].trade_type not in ("", "bid" if bought else "ask")
        else:
            maker = head.trade is not None and head.trade.properties == "limit"
        fee = quote.fee if not bought else (entry.fee * price + 50_000_000) // 100_000_000
        fills.append(Fill(
            txid(account, tid, oid), kraken_id("O", account.id, oid), PAIR_BY_CURRENCY[currency].pair_id, currency,
            entry.time_us, "buy" if bought else "sell", head.trade.properties if head.trade else "limit", price,
            abs(quote.amount), fee, abs(entry.amount), found[0] if found else None, maker,
            (entry.ledger_id, quote.ledger_id)))
    return fills


def account_book(account: Account, market: Market) -> AccountBook:
    by_asset = {code: _wallet_entries(account, code) for code in account.wallets() if code in BY_CURRENCY}
    merged = list(heapq.merge(*by_asset.values(), key=lambda e: e.time_us))
    fills = sorted(_fills(account, market, by_asset), key=lambda f: f.time_us)
    return AccountBook(tuple(reversed(merged)), tuple(reversed(fills)))


# -- answers -----------------------------------------------------------------------------------------------------


def balance_json(account: Account) -> dict[str, str]:
    return {BY_CURRENCY[c].code: asset_text(account.balance(c), BY_CURRENCY[c])
            for c in account.wallets() if c in BY_CURRENCY}


def ledger_entry_json(e: LedgerEntry) -> dict[str, Any]:
    return {"refid": e.refid, "time": orjson.Fragment(time_text(e.time_us)), "type": e.type, "subtype": "",
            "aclass": "currency", "asset": e.asset.code, "amount": asset_text(e.amount, e.asset),
            "fee": asset_text(e.fee, e.asset), "balance": asset_text(e.balance, e.asset)}


def fill_json(f: Fill, *, ledgers: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ordertxid": f.ordertxid, "postxid": NO_POSITION, "pair": f.pair_id,
        "time": orjson.Fragment(time_text(f.time_us)), "type": f.side, "ordertype": f.ordertype,
        "price": fiat_text(f.price, f.currency), "cost": fiat_text(f.cost, f.currency),
        "fee": fiat_text(f.fee, f.currency), "vol": btc_text(f.vol), "margin": fiat_text(0, f.currency),
        "leverage": "0", "misc": "",
    }
    if f.trade_id is not None:
        out["trade_id"] = f.trade_id
    out["maker"] = f.maker
    if ledgers:
        out["ledgers"] = list(f.ledger_ids)
    return out


def ledgers_json(book: AccountBook, params: dict[str, str]) -> dict[str, Any]:
    entries: Iterable[LedgerEntry] = book.ledger
    assets = _csv(params.get("asset", "all"))
    if assets and assets != ["all"]:
        wanted = {a.code for a in (find_asset(x) for x in assets) if a is not None}
        if len(wanted) < len(assets):
            raise ApiError("EQuery:Unknown asset")
        entries = [e for e in entries if e.asset.code in wanted]
    kind = params.get("type", "all") or "all"
    if kind != "all":
        entries = [e for e in entries if e.type == kind]
    if params.get("aclass", "currency") != "currency":
        entries = []
    chosen = _window([(e.ledger_id, e.time_us, e) for e in entries], params)
    page = chosen[_ofs(params): _ofs(params) + PAGE]
    out: dict[str, Any] = {"ledger": {e.ledger_id: ledger_entry_json(e) for e in page}}
    if not _true(params.get("without_count")):
        out["count"] = len(chosen)
    return out


def trades_history_json(book: AccountBook, params: dict[str, str]) -> dict[str, Any]:
    chosen = _window([(f.txid, f.time_us, f) for f in book.fills], params)
    page = chosen[_ofs(params): _ofs(params) + PAGE]
    ledgers = _true(params.get("ledgers"))
    return {"trades": {f.txid: fill_json(f, ledgers=ledgers) for f in page}, "count": len(chosen)}


def query_ledgers_json(book: AccountBook, params: dict[str, str]) -> dict[str, Any]:
    ids = _ids(params, "id")
    by_id = {e.ledger_id: e for e in book.ledger}
    return {i: ledger_entry_json(by_id[i]) for i in ids if i in by_id}


def query_trades_json(book: AccountBook, params: dict[str, str]) -> dict[str, Any]:
    ids = _ids(params, "txid")
    by_id = {f.txid: f for f in book.fills}
    ledgers = _true(params.get("ledgers"))
    return {i: fill_json(by_id[i], ledgers=ledgers) for i in ids if i in by_id}


# -- parameters --------------------------------------------------------------------------------------------------


def _csv(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _true(text: str | None) -> bool:
    return (text or "").lower() in ("true", "1")


def _ids(params: dict[str, str], name: str) -> list[str]:
    ids = _csv(params.get(name, ""))
    if not ids or len(ids) > QUERY_MAX:
        raise ApiError(f"EGeneral:Invalid arguments:{name}")
    return ids


def _ofs(params: dict[str, str]) -> int:
    text = params.get("ofs", "0") or "0"
    if not text.isdigit():
        raise ApiError("EGeneral:Invalid arguments:ofs")
    return int(text)


def _window(items: list[tuple[str, int, Any]], params: dict[str, str]) -> list[Any]:
    """Items (newest first) after `start` (exclusive) and up to `end` (inclusive): unix times or ids."""
    start, end = params.get("start"), params.get("end")
    lo, hi = 0, len(items)  # a slice of the newest-first list: hi cuts the older side, lo the newer side
    if start:
        hi = _bound(items, start, "start")
    if end:
        lo = _bound(items, end, "end")
    return [item for _, _, item in items[lo:hi]]


def _bound(items: list[tuple[str, int, Any]], text: str, name: str) -> int:
    """Where a bound cuts the newest-first list: at the entry it names, or before the first entry at or
    before its time. `start` keeps what comes before the cut (newer), `end` the cut and what follows."""
    for k, (item_id, _, _) in enumerate(items):
        if item_id == text:
            return k
    try:
        us = int(Decimal(text).scaleb(6))
    except InvalidOperation:
        raise ApiError(f"EGeneral:Invalid arguments:{name}") from None
    return next((k for k, (_, t, _) in enumerate(items) if t <= us), len(items))
