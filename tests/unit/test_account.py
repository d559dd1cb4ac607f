"""Accounts: generated wallet histories, order placement and cancel, and the private payloads."""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import random
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest

from emulator.account import (
    CREDITS,
    Account,
    Entry,
    cancel_order,
    fiat_value,
    history_page,
    place_order,
    price_text,
    trade_fee,
)
from emulator.account_seed import generate_accounts
from emulator.account_views import (
    history_csv,
    history_payload,
    idkey_payload,
    info_payload,
    order_cancel_payload,
    orders_payload,
    v0_funds_payload,
    v0_orders_payload,
)
from emulator.book import Book
from emulator.errors import ApiError, OrderError
from emulator.model import Trade
from tests.shared import shared_path

START_US = 1_364_774_400 * 1_000_000  # 2013-04-01 00:00:00 UTC
NOW_US = START_US + 45 * 86_400 * 1_000_000
BTC = 100_000_000
USD = 100_000  # one dollar, scaled


def market_trades(seed: int = 3) -> list[Trade]:
    """Primary USD and EUR trades inside the window, their mixed-currency copies, and a few
    trades before the window that must not be used."""
    rng = random.Random(seed)
    out: list[Trade] = []
    for currency, count, price in (("USD", 400, 110 * USD), ("EUR", 150, 85 * USD)):
        for _ in range(count):
            t = rng.randint(START_US + 2 * 3600 * 1_000_000, NOW_US)
            trade = Trade(t, t, price + rng.randint(-2000, 2000) * 1000, rng.randint(BTC // 100, 8 * BTC),
                          currency, rng.choice(("bid", "ask")), True, rng.choice(("limit", "market")))
            out.append(trade)
            other = "EUR" if currency == "USD" else "USD"
            out.append(Trade(t, t, trade.price_int, trade.amount_int, other, trade.trade_type, False,
                             f"{trade.properties},mixed_currency"))
    for i in range(20):
        t = START_US - (i + 1) * 60_000_000
        out.append(Trade(t, t, 100 * USD, BTC, "USD", "bid", True, "limit"))
    return out


@pytest.fixture(scope="module")
def trades() -> list[Trade]:
    return market_trades()


@pytest.fixture(scope="module")
def accounts(trades: list[Trade]) -> dict[str, Account]:
    return generate_accounts(random.Random(42), ["alice", "bob", "carol"], trades, START_US, NOW_US)


def funded(usd: int = 1000 * USD, btc: int = 10 * BTC, currencies: tuple[str, ...] = ("USD",)) -> Account:
    acct = Account("tester", "123456", "423eaf9c-12b4-42f2-8ee7-b66601f7a5b2", 1_300_000_000, 1_365_000_000,
                   currencies=currencies)
    acct.post("BTC", "deposit", btc, 1_364_000_000, "1AAXCcSjgsgoTnQLqUfPh7qRsUyvbYSbGW",
              "Money_Bitcoin_Block_Tx_Out", "tx:0")
    acct.post(currencies[0], "deposit", usd, 1_364_000_000, "deposit", "Money_Bank_Deposit", "ref")
    return acct


def usd_book() -> Book:
    book = Book("USD")
    book.asks.add(100 * USD, 1 * BTC, 1)
    book.asks.add(101 * USD, 2 * BTC, 1)
    book.asks.add(105 * USD, 5 * BTC, 1)
    book.bids.add(95 * USD, 3 * BTC, 1)
    book.bids.add(98 * USD, 1 * BTC, 1)
    return book


class Counter:
    """tid and oid factories that hand out predictable values."""

    def __init__(self) -> None:
        self.n = 0

    def tid(self) -> int:
        self.n += 1
        return 1_365_000_000_000_000 + self.n

    def oid(self) -> str:
        self.n += 1
        return str(uuid.UUID(int=self.n, version=4))


def order(acct: Account, book: Book, side: str, amount: int, price: int | None, ids: Counter | None = None):
    ids = ids or Counter()
    return place_order(acct, book, currency=book.currency, side=side, amount_int=amount, price_int=price,
                       now_us=1_365_100_000_000_000, new_tid=ids.tid, new_oid=ids.oid)


# --------------------------------------------------------------------------------------------
# Generated histories


def test_generated_histories_chain_from_zero_with_contiguous_indexes_in_every_wallet(accounts):
    for acct in accounts.values():
        assert set(acct.history) == {"BTC", "USD", "EUR"}
        for currency, rows in acct.history.items():
            balance = 0
            for expected_index, entry in enumerate(rows, start=1):
                assert entry.index == expected_index
                assert entry.currency == currency
                assert entry.value_int > 0
                balance += entry.value_int if entry.type in CREDITS else -entry.value_int
                assert entry.balance_int == balance, (acct.login, currency, entry)
                assert balance >= 0
            assert acct.balance(currency) == balance
            assert [e.date for e in rows] == sorted(e.date for e in rows)


def test_generation_is_deterministic_for_a_seed(trades, accounts):
    again = generate_accounts(random.Random(42), ["alice", "bob", "carol"], trades, START_US, NOW_US)
    other = generate_accounts(random.Random(43), ["alice", "bob", "carol"], trades, START_US, NOW_US)
    assert again == accounts
    assert other["alice"].history != accounts["alice"].history


def test_every_account_has_several_history_pages_in_btc_and_usd(accounts):
    for acct in accounts.values():
        assert len(acct.history["BTC"]) > 50
        assert len(acct.history["USD"]) > 50
        assert acct.history["BTC"][0].type == "deposit"
        assert acct.history["USD"][0].type == "deposit"


def test_fee_rows_follow_their_trade_with_six_tenths_of_a_percent(accounts):
    fee_rows = 0
    for acct in accounts.values():
        for currency, rows in acct.history.items():
            for before, entry in itertools.pairwise(rows):
                if entry.type != "fee" or entry.link[1] != "Money_Trade":
                    continue
                fee_rows += 1
                assert before.type == ("in" if currency == "BTC" else "earned")
                assert before.link[2] == entry.link[2] == str(entry.trade.tid)
                assert before.trade == entry.trade
                assert entry.value_int == (before.value_int * 6 + 500) // 1000
                assert entry.info == before.info + " (0.6% fee)"
            for entry, after in itertools.pairwise(rows):
                if entry.type == "in":
                    assert after.type == "fee"
    assert fee_rows > 100


def test_fee_rounding_reproduces_the_captured_fee_rows():
    # (BTC bought, fee charged) pairs from the 2013 wallet history capture.
    for amount, fee in ((10789, 65), (10691, 64), (10199, 61), (10423, 63), (83768, 503), (50656, 304)):
        assert trade_fee(amount, 6000) == fee


def test_trade_entries_use_primary_market_trades_with_their_tid_price_and_date(trades, accounts):
    primary = {t.tid: t for t in trades if t.primary}
    used = set()
    for acct in accounts.values():
        for currency, rows in acct.history.items():
            for entry in rows:
                if entry.trade is None:
                    continue
                market = primary[entry.trade.tid]
                used.add(market.tid)
                assert entry.date == market.date
                assert entry.trade.amount_int <= market.amount_int
                assert market.time_us > START_US  # none from before the window
                if currency != "BTC":
                    assert currency == market.currency
                    if entry.type in ("spent", "earned"):
                        assert entry.value_int == fiat_value(market.price_int, entry.trade.amount_int)
                verb = "bought" if entry.type in ("in", "spent") else "sold"
                if entry.type != "fee":
                    amount = f"{entry.trade.amount_int // BTC}.{entry.trade.amount_int % BTC:08d}"
                    price = price_text(market.price_int, market.currency)
                    assert entry.info == f"BTC {verb}: [tid:{market.tid}] {amount} BTC at {price}"
    assert len(used) > 150


def test_info_strings_have_mt_gox_format(accounts):
    rows = accounts["alice"].history["BTC"]
    bought = re.compile(r"^BTC bought: \[tid:\d{16}\] \d+\.\d{8} BTC at (\$[\d,]+\.\d{5}|[\d,]+\.\d{5} €)$")
    sold = re.compile(r"^BTC sold: \[tid:\d{16}\] \d+\.\d{8} BTC at (\$[\d,]+\.\d{5}|[\d,]+\.\d{5} €)$")
    assert all(bought.match(e.info) for e in rows if e.type == "in")
    assert all(sold.match(e.info) for e in rows if e.type == "out")
    withdrawals = [(e, rows[e.index]) for e in rows if e.type == "withdraw"]
    assert withdrawals
    for withdraw, fee in withdrawals:
        address = withdraw.info.removeprefix("Bitcoin withdraw to ")
        assert re.fullmatch(r"1[1-9A-HJ-NP-Za-km-z]{25,33}", address)
        assert (fee.type, fee.info) == ("fee", f"Fees for Bitcoin withdraw to {address}")
        assert withdraw.link[1:] == fee.link[1:]
        assert withdraw.link[1] == "Money_Bitcoin_Block_Tx"
    deposit = rows[0]
    assert deposit.link[1] == "Money_Bitcoin_Block_Tx_Out"
    assert re.fullmatch(r"1[1-9A-HJ-NP-Za-km-z]{25,33}", deposit.info)


def test_without_market_trades_the_history_is_synthesized_at_plausible_prices():
    accts = generate_accounts(random.Random(5), ["solo"], [], START_US, NOW_US, currencies=("USD",))
    rows = accts["solo"].history["USD"]
    assert len(rows) > 50
    prices = [int(re.search(r"at \$([\d,.]+)", e.info).group(1).replace(",", "").split(".")[0])
              for e in rows if e.trade is not None]
    assert all(20 <= p <= 400 for p in prices)  # 2013: around $100


# --------------------------------------------------------------------------------------------
# Pages


def test_history_pages_hold_fifty_entries_newest_first(accounts):
    acct = accounts["bob"]
    total = len(acct.history["BTC"])
    records, entries, current, max_page = history_page(acct, "BTC", 1)
    assert (records, current, max_page) == (total, 1, -(-total // 50))
    assert [e.index for e in entries] == list(range(total, total - 50, -1))
    last = history_page(acct, "BTC", max_page)[1]
    assert [e.index for e in last] == list(range(total - 50 * (max_page - 1), 0, -1))
    assert history_page(acct, "BTC", max_page + 1)[1] == []
    with pytest.raises(ApiError) as err:
        history_page(acct, "BTC", 0)
    assert (err.value.message, err.value.token) == ('Invalid parameter "page"', "invalid_parameter")


# --------------------------------------------------------------------------------------------
# Orders


def test_market_bid_consumes_the_asks_and_books_trades_rows_and_balances():
    acct, book = funded(), usd_book()
    resting, fills = order(acct, book, "bid", 250_000_000, None)
    assert resting is None
    assert [(t.price_int, t.amount_int) for t in fills] == [(100 * USD, BTC), (101 * USD, 150_000_000)]
    assert all(t.trade_type == "bid" and t.properties == "market" and t.primary for t in fills)
    assert [(lv.price_int, lv.amount_int) for lv in book.asks.levels()] == [(101 * USD, 50_000_000),
                                                                            (105 * USD, 5 * BTC)]
    cost = 100 * USD + 15_150_000  # $100 + $151.50
    assert acct.balance("USD") == 1000 * USD - cost
    assert acct.balance("BTC") == 10 * BTC + 250_000_000 - 600_000 - 900_000
    btc_rows = acct.history["BTC"][1:]
    assert [(e.type, e.value_int) for e in btc_rows] == [("in", BTC), ("fee", 600_000),
                                                        ("in", 150_000_000), ("fee", 900_000)]
    usd_rows = acct.history["USD"][1:]
    assert [(e.type, e.value_int) for e in usd_rows] == [("spent", 100 * USD), ("spent", 15_150_000)]
    assert {e.trade.oid for e in btc_rows + usd_rows} == {btc_rows[0].trade.oid}
    assert [e.trade.tid for e in usd_rows] == [t.tid for t in fills]
    assert usd_rows[1].info == f"BTC bought: [tid:{fills[1].tid}] 1.50000000 BTC at $101.00000"
    assert acct.monthly_volume_int == 250_000_000


def test_market_order_remainder_is_dropped_when_the_book_runs_out():
    acct, book = funded(usd=2000 * USD), usd_book()
    resting, fills = order(acct, book, "bid", 10 * BTC, None)
    assert resting is None
    assert sum(t.amount_int for t in fills) == 8 * BTC
    assert book.asks.levels() == []
    assert acct.orders == {}
    assert acct.balance("USD") == 2000 * USD - (100 + 202 + 525) * USD


def test_market_ask_sells_into_the_bids_and_pays_the_fee_in_fiat():
    acct, book = funded(), usd_book()
    _, fills = order(acct, book, "ask", 2 * BTC, None)
    assert [(t.price_int, t.amount_int, t.trade_type) for t in fills] == [(98 * USD, BTC, "ask"),
                                                                          (95 * USD, BTC, "ask")]
    assert [(e.type, e.value_int) for e in acct.history["USD"][1:]] == [
        ("earned", 98 * USD), ("fee", 58_800), ("earned", 95 * USD), ("fee", 57_000)]
    assert acct.balance("BTC") == 8 * BTC


def test_limit_bid_rests_reserves_funds_and_cancel_removes_it_everywhere():
    acct, book = funded(), usd_book()
    resting, fills = order(acct, book, "bid", 2 * BTC, 99 * USD)
    assert fills == []
    assert resting is not None
    assert (resting.status, resting.amount_int) == ("open", 2 * BTC)
    assert book.bids.get(99 * USD).amount_int == 2 * BTC
    assert acct.open_orders_int("USD") == 198 * USD
    assert acct.available("USD") == 802 * USD
    listed = orders_payload(acct)
    assert [(o["oid"], o["type"], o["amount"]["value_int"], o["price"]["value_int"], o["status"])
            for o in listed] == [(resting.oid, "bid", str(2 * BTC), str(99 * USD), "open")]
    wallet = info_payload(acct, ["get_info"])["Wallets"]["USD"]
    assert wallet["Open_Orders"]["value_int"] == str(198 * USD)
    assert wallet["Balance"]["value_int"] == str(1000 * USD)

    version = book.version
    cancelled = cancel_order(acct, book, resting.oid, 1_365_100_001_000_000)
    assert cancelled.oid == resting.oid
    assert acct.orders == {}
    assert book.bids.get(99 * USD) is None
    assert book.version > version
    assert info_payload(acct, ["get_info"])["Wallets"]["USD"]["Open_Orders"]["value_int"] == "0"
    assert orders_payload(acct) == []


def test_limit_order_fills_what_crosses_and_rests_the_remainder():
    acct, book = funded(), usd_book()
    resting, fills = order(acct, book, "bid", 4 * BTC, 101 * USD)
    assert [(t.price_int, t.amount_int, t.properties) for t in fills] == [(100 * USD, BTC, "limit"),
                                                                          (101 * USD, 2 * BTC, "limit")]
    assert (resting.amount_int, resting.price_int) == (BTC, 101 * USD)
    assert (book.best_bid().price_int, book.best_ask().price_int) == (101 * USD, 105 * USD)
    assert acct.available("USD") == 1000 * USD - 302 * USD - 101 * USD
    assert {e.trade.oid for e in acct.history["BTC"][1:]} == {resting.oid}


def test_resting_ask_holds_its_bitcoins():
    acct, book, ids = funded(btc=3 * BTC), usd_book(), Counter()
    order(acct, book, "ask", 2 * BTC, 120 * USD, ids)
    assert acct.open_orders_int("BTC") == 2 * BTC
    with pytest.raises(OrderError, match="Insufficient funds"):
        order(acct, book, "ask", 2 * BTC, 120 * USD, ids)


def test_insufficient_funds_are_refused_before_the_book_changes():
    acct, book = funded(usd=150 * USD), usd_book()
    asks = book.asks.levels()
    for side, amount, price in (("bid", 2 * BTC, 100 * USD), ("bid", 2 * BTC, None), ("ask", 11 * BTC, None)):
        with pytest.raises(OrderError) as err:
            order(acct, book, side, amount, price)
        assert (err.value.message, err.value.token) == ("Insufficient funds", "trade_error_insufficient_funds")
    assert book.asks.levels() == asks
    assert len(acct.history["USD"]) == 1


def test_bad_type_and_too_small_amount_are_refused_with_mt_gox_messages():
    acct, book = funded(), usd_book()
    with pytest.raises(OrderError) as err:
        order(acct, book, "buy", BTC, None)
    assert err.value.message == 'Invalid parameter "type" (should be ask or bid)'
    assert err.value.token is None
    with pytest.raises(OrderError, match=r"^Order amount is too low$"):
        order(acct, book, "bid", 999_999, 100 * USD)
    with pytest.raises(OrderError):
        order(acct, book, "bid", BTC, 0)


def test_cancel_of_an_unknown_oid_is_order_not_found():
    acct, book = funded(), usd_book()
    with pytest.raises(OrderError) as err:
        cancel_order(acct, book, "fda8917a-63d3-4415-b827-758408013690", 1)
    assert (err.value.message, err.value.token) == ("Order not found", "unknown_error")


# --------------------------------------------------------------------------------------------
# Payload shapes against the captures


def json_kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_same_shape(mine: Any, theirs: Any, where: str = "$") -> None:
    """Same keys in the same order and the same JSON types, recursively (lists by first item)."""
    if theirs is None:  # null in the capture, e.g. BTC's Monthly_Withdraw_Limit
        assert mine is None, where
        return
    assert json_kind(mine) == json_kind(theirs), where
    if isinstance(theirs, dict):
        assert list(mine) == list(theirs), where
        for key in theirs:
            assert_same_shape(mine[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list) and theirs and mine:
        assert_same_shape(mine[0], theirs[0], f"{where}[0]")


def load(relative: str) -> Any:
    return json.loads(shared_path(f"fixtures/mtgox/{relative}").read_text(encoding="utf-8"))


def test_info_payload_has_the_captured_key_order_and_types():
    capture = load("sferik__mtgox/info.json")
    acct = funded(usd=23 * USD, currencies=("EUR",))
    mine = info_payload(acct, ["deposit", "get_info", "trade", "withdraw"])
    assert_same_shape(mine, capture)
    assert mine["Trade_Fee"] == 0.6
    assert mine["Wallets"]["EUR"]["Daily_Withdraw_Limit"] == capture["Wallets"]["EUR"]["Daily_Withdraw_Limit"]
    assert mine["Wallets"]["BTC"]["Operations"] == 1


def test_orders_payload_has_the_captured_key_order_and_types():
    capture = load("sferik__mtgox/orders.json")["return"]
    acct, book = funded(), usd_book()
    order(acct, book, "bid", 20_000_000, 7 * USD)
    mine = orders_payload(acct)
    assert_same_shape(mine, capture)
    assert mine[0]["price"] == capture[0]["price"]  # $7.00000 both ways
    assert mine[0]["amount"] == capture[0]["amount"]


def test_history_payload_has_the_captured_key_order_and_types():
    capture = load("knowm__XChange/v2/account/example-wallethistory-response.json")["data"]
    acct, book = funded(), usd_book()
    order(acct, book, "bid", BTC, None)
    records, entries, current, max_page = history_page(acct, "BTC", 1)
    mine = history_payload(records, entries, current, max_page)
    assert_same_shape(mine, capture)  # newest first: the fee row with its Trade, as in the capture
    assert mine["result"][0]["Type"] == "fee"
    assert "Trade" in mine["result"][0]
    deposit = load("sferik__mtgox/history.json")["result"][0]
    assert_same_shape(mine["result"][-1], deposit)  # no Trade member on a deposit


def test_v0_orders_payload_has_the_captured_order_keys():
    capture = load("knowm__XChange/v0/trade/example-cancel-order-response.json")["orders"][0]
    acct, book, ids = funded(), usd_book(), Counter()
    order(acct, book, "ask", BTC, 120 * USD, ids)
    order(acct, book, "bid", BTC, 90 * USD, ids)
    mine = v0_orders_payload(acct)
    assert list(mine) == ["usds", "btcs", "orders"]
    assert [list(o) for o in mine["orders"]] == [list(capture)] * 2
    assert [o["type"] for o in mine["orders"]] == [2, 1]  # bids first, as in the 2011 capture
    assert (mine["orders"][1]["price"], mine["orders"][1]["amount_int"]) == ("120.00000", str(BTC))
    assert (mine["usds"], mine["btcs"]) == ("1000", "10")


def test_v0_funds_are_unpadded_decimal_strings():
    acct = funded(usd=199_995_900, btc=85_900_000)
    assert v0_funds_payload(acct) == {"usds": "1999.959", "btcs": "0.859"}


def test_small_answers_have_their_captured_shapes():
    assert list(order_cancel_payload("o", "q")) == ["oid", "qid"]
    acct = funded()
    key = idkey_payload(acct)
    assert key == idkey_payload(acct)
    raw = base64.b64decode(key + "=" * (-len(key) % 4))
    assert (len(key), len(raw)) == (75, 56)
    assert raw[:20] == uuid.UUID(acct.id).bytes + b"\0\0\0\0"


# --------------------------------------------------------------------------------------------
# CSV


def test_history_csv_parses_and_its_balances_chain(accounts):
    acct = accounts["carol"]
    text = history_csv(acct, "USD")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Index", "Date", "Type", "Info", "Value", "Balance"]
    body = rows[1:]
    assert [int(r[0]) for r in body] == list(range(1, len(acct.history["USD"]) + 1))
    balance = Decimal(0)
    for index, date, kind, info, value, after in body:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", date)
        balance += Decimal(value) if kind in CREDITS else -Decimal(value)
        assert Decimal(after) == balance, index
        assert info == acct.history["USD"][int(index) - 1].info
    assert balance == Decimal(acct.balance("USD")) / USD
    second = text.splitlines()[2]
    assert re.match(r'^2,"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",\w+,"BTC (bought|sold): ', second)


def test_entries_are_frozen():
    entry = funded().history["BTC"][0]
    assert isinstance(entry, Entry)
    with pytest.raises(AttributeError):
        entry.value_int = 1  # type: ignore[misc]
