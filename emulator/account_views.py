"""Account records -> JSON-ready payloads of the private endpoints, in Mt.Gox's key order. Pure.

Key orders and member types follow the captures (sferik info.json and orders.json, XChange
wallet history, the v0 getOrders/cancelOrder captures). Money objects use the full `display`.
The payloads go inside the version's envelope (`return`/`data`), which the app adds.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

from .account import Account, Entry, Order, format_time
from .money import BTC, CURRENCIES, money, to_decimal, value_str

MAX_RESULTS = 50


def _trade_fee_number(fee_ppm: int) -> int | float:
    """0.6, 0.53 or 0: a percentage, so a float is exact enough and prints as Mt.Gox's did."""
    whole, frac = divmod(fee_ppm, 10_000)
    return whole if frac == 0 else fee_ppm / 10_000


def _wallet(account: Account, code: str) -> dict[str, Any]:
    monthly = account.monthly_withdraw_limit(code)
    daily = account.daily_withdraw_limit(code)
    return {
        "Balance": money(account.balance(code), code),
        "Operations": account.operations(code),
        "Daily_Withdraw_Limit": money(daily, code),
        "Monthly_Withdraw_Limit": None if monthly is None else money(monthly, code),
        # Both captures show Max_Withdraw equal to the daily limit whatever the balance.
        "Max_Withdraw": money(daily, code),
        "Open_Orders": money(account.open_orders_int(code), code),
    }


def info_payload(account: Account, rights: Sequence[str]) -> dict[str, Any]:
    """v1 `generic/info`, v2 `money/info`."""
    return {
        "Login": account.login,
        "Index": account.index,
        "Id": account.id,
        "Rights": list(rights),
        "Language": "en_US",
        "Created": account.created,
        "Last_Login": account.last_login,
        "Wallets": {code: _wallet(account, code) for code in account.wallets()},
        "Monthly_Volume": money(account.monthly_volume_int, "BTC"),
        "Trade_Fee": _trade_fee_number(account.trade_fee_ppm),
    }


def _sorted_orders(account: Account) -> list[Order]:
    return sorted(account.orders.values(), key=lambda o: (o.priority, o.oid))


def order_payload(order: Order) -> dict[str, Any]:
    return {
        "oid": order.oid,
        "currency": order.currency,
        "item": "BTC",
        "type": order.type,
        "amount": money(order.amount_int, "BTC"),
        "effective_amount": money(order.effective_amount_int, "BTC"),
        "price": money(order.price_int, order.currency),
        "status": order.status,
        "date": order.date,
        "priority": str(order.priority),
        "actions": [],
    }


def orders_payload(account: Account) -> list[dict[str, Any]]:
    """v1 `generic/orders`, v2 `money/orders`: oldest priority first, as in the capture."""
    return [order_payload(o) for o in _sorted_orders(account)]


def entry_payload(entry: Entry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Index": str(entry.index),
        "Date": entry.date,
        "Type": entry.type,
        "Value": money(entry.value_int, entry.currency),
        "Balance": money(entry.balance_int, entry.currency),
        "Info": entry.info,
        "Link": list(entry.link),
    }
    if entry.trade is not None:
        out["Trade"] = {
            "oid": entry.trade.oid,
            "app": None,
            "tid": str(entry.trade.tid),
            "Amount": money(entry.trade.amount_int, "BTC"),
            "Properties": entry.trade.properties,
        }
    return out


def history_payload(
    records: int, entries: Sequence[Entry], current_page: int, max_page: int
) -> dict[str, Any]:
    """v1 `generic/wallet/history`, v2 `money/wallet/history`; takes `history_page`'s result."""
    return {
        "records": str(records),
        "result": [entry_payload(e) for e in entries],
        "current_page": current_page,
        "max_page": max_page,
        "max_results": MAX_RESULTS,
    }


# --------------------------------------------------------------------------------------------
# v0


def _plain(value_int: int, code: str) -> str:
    """'0', '0.07099989', '199.9959': v0 funds were unpadded decimals (XChange cancel capture)."""
    return format(to_decimal(value_int, CURRENCIES[code]).normalize(), "f")


def v0_funds_payload(account: Account) -> dict[str, str]:
    """`getFunds.php`. Decimal strings as in 2013; the 2011 capture had JSON numbers instead."""
    return {"usds": _plain(account.balance("USD"), "USD"), "btcs": _plain(account.balance("BTC"), "BTC")}


def _v0_order(order: Order) -> dict[str, Any]:
    cur = CURRENCIES[order.currency]
    return {
        "oid": order.oid,
        "currency": order.currency,
        "item": "BTC",
        "type": 2 if order.type == "bid" else 1,
        "amount": value_str(order.amount_int, BTC),
        "amount_int": str(order.amount_int),
        "price": value_str(order.price_int, cur),
        "price_int": str(order.price_int),
        "status": 1,  # active (2 was "not enough funds"; reserved funds rule it out here)
        "real_status": order.status,
        "dark": 0,
        "date": order.date,
        "priority": str(order.priority),
    }


def v0_orders_payload(account: Account) -> dict[str, Any]:
    """`getOrders.php` (also the body of buyBTC/sellBTC/cancelOrder). Bids first, each side by
    ascending price, as in the 2011 capture."""
    ordered = sorted(account.orders.values(), key=lambda o: (o.type != "bid", o.price_int, o.priority, o.oid))
    return {**v0_funds_payload(account), "orders": [_v0_order(o) for o in ordered]}


def _csv_text(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def history_csv(account: Account, currency: str) -> str:
    """`history_<CUR>.csv`: oldest first, Date and Info quoted, Value/Balance plain decimals."""
    cur = CURRENCIES[currency]
    lines = ["Index,Date,Type,Info,Value,Balance"]
    for e in account.history.get(currency, []):
        lines.append(
            f"{e.index},{_csv_text(format_time(e.date))},{e.type},{_csv_text(e.info)},"
            f"{value_str(e.value_int, cur)},{value_str(e.balance_int, cur)}"
        )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Small answers


def order_add_payload(oid: str) -> str:
    """order/add answers with the bare oid."""
    return oid


def order_cancel_payload(oid: str, qid: str) -> dict[str, str]:
    # sferik's cancel.json lists qid first, but that file also puts "return" before "result",
    # unlike every other capture, so its key order looks hand-written; oid first here.
    return {"oid": oid, "qid": qid}


def idkey_payload(account: Account) -> str:
    """A key for the streaming API, laid out like the captured one: 16 bytes of uuid, 4 zero
    bytes, a big-endian unix time, 32 bytes of digest; base64 without padding (75 chars)."""
    raw = (
        uuid.UUID(account.id).bytes
        + b"\x00" * 4
        + account.last_login_s.to_bytes(4, "big")
        + hashlib.sha256(f"{account.id}/{account.login}/{account.index}".encode()).digest()
    )
    return base64.b64encode(raw).decode().rstrip("=")

