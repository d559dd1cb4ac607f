"""Real Mt.Gox answers, recorded as the collector records them, built into the warehouse: exact values, or quarantine.

Each capture of tests/fixture_catalog.py goes into its own raw store (journal, then Parquet) and is built
with the real DuckDB pipelines. Expected values are read from the file itself: `*_int` scaled by the
currency, or the literal number text where the answer had only JSON numbers.
"""

from __future__ import annotations

import glob
import gzip
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from collector.exchanges.mtgox import classify
from collector.record import RawRecord
from pipelines.build import build
from tests.fixture_catalog import CAPTURES, CATALOGUED_DIRS, ERRORS, RECORDED, Capture
from tests.pipelines_harness import count, failed_checks, rows, us, write_raw
from tests.shared import SHARED, shared_path

DATA_TABLES = ("trades", "ticker", "depth_snapshots", "depth_levels", "book_top", "account_ledger", "account_trades",
               "balances", "open_orders", "ohlc")
TICKER_FIELDS = ("high", "low", "avg", "vwap", "vol", "last", "last_local", "last_orig", "last_all", "buy", "sell")
DIGITS = {"BTC": 8, "JPY": 3, "SEK": 3}  # every other fiat: 5 (reference §3)
COLUMN_DIGITS = 8  # money columns are DECIMAL(_, 8)


# --- what the file says ---------------------------------------------------------------------------------------------


def decoded(capture: Capture) -> Any:
    """The body as JSON with every number exact (Decimal from its literal text)."""
    return json.loads(capture.body().decode("utf-8"), parse_float=Decimal, parse_int=Decimal)


def payload(capture: Capture) -> Any:
    data = decoded(capture)
    if enveloped(data):
        data = data["data" if capture.api_version >= 2 else "return"]
    return data


def enveloped(data: Any) -> bool:
    """{"result": "success", "return"|"data": ...}; a bare wallet-history page has a "result" list instead."""
    return isinstance(data, dict) and isinstance(data.get("result"), str)


def scaled(value_int: str, currency: str) -> Decimal:
    return Decimal(int(value_int)).scaleb(-DIGITS.get(currency, 5))


def literal(number: Decimal | str) -> Decimal:
    """A JSON number as Mt.Gox sent it. Some authors re-printed floats with 17 digits (16.666599999999999): the
    shortest decimal that reads back as the same double (16.6666) is the value on the wire."""
    exact = Decimal(str(number))
    shortest = Decimal(repr(float(exact)))
    return exact if exact == shortest else shortest


def money(obj: dict[str, Any], key: str, currency: str) -> Decimal:
    """`key` of a trade or level: from `key_int` when the answer has it, else the literal number."""
    if f"{key}_int" in obj:
        return scaled(obj[f"{key}_int"], currency)
    return literal(obj[key])


def money_object(obj: dict[str, Any]) -> Decimal:
    return scaled(obj["value_int"], obj["currency"])


def same_money(got: Decimal | None, want: Decimal) -> bool:
    """Exact, unless the file has more decimals than a DECIMAL(_, 8) column holds (9-digit v0 avg/vwap)."""
    if got is None:
        return False
    if -want.normalize().as_tuple().exponent <= COLUMN_DIGITS:  # type: ignore[operator]
        return got == want
    return abs(got - want) <= Decimal("5e-9")


def file_rows(capture: Capture) -> dict[str, int]:
    """What the file holds, counted in it, per table the catalogue names."""
    data = payload(capture)
    if capture.endpoint == "trades":
        return {"trades": len(data)}
    if capture.endpoint in ("depth", "full_depth"):
        return {"depth_snapshots": 1, "depth_levels": len(data["asks"]) + len(data["bids"]), "book_top": 1}
    if capture.endpoint == "ticker":
        return {"ticker": 1}
    if capture.endpoint == "wallet_history":
        return {"account_ledger": len(data["result"])}
    if capture.endpoint == "info":
        return {"balances": len(data["Wallets"])}
    if capture.endpoint == "orders":
        return {"open_orders": len(data if isinstance(data, list) else data["orders"])}
    return {}


def has_ints(node: Any) -> bool:
    if isinstance(node, dict):
        return any(k.endswith("_int") for k in node) or any(has_ints(v) for v in node.values())
    if isinstance(node, list):
        return any(has_ints(v) for v in node)
    return False


# --- running it -----------------------------------------------------------------------------------------------------


def built(tmp_path: Path, captures: Sequence[Capture]) -> tuple[Path, list[RawRecord], Any]:
    root = tmp_path / "data"
    stored = write_raw(root, [c.response() for c in captures])
    result = build(root)
    return Path(result.warehouse), stored, result


def quarantined(warehouse: Path) -> list[tuple[Any, ...]]:
    return rows(warehouse, "SELECT record_id, exchange, endpoint, market, api_version, http_status, error_class, "
                           "reason, file FROM quarantine ORDER BY record_id")


# --- the catalogue is the files ---------------------------------------------------------------------------------------


def test_the_catalogue_names_every_real_mtgox_capture_exactly_once() -> None:
    shared_path("fixtures/mtgox/SOURCES.md")
    on_disk = {str(Path(p).relative_to(SHARED)) for d in CATALOGUED_DIRS
               for p in glob.glob(str(SHARED / d / "**" / "*"), recursive=True)
               if Path(p).is_file() and Path(p).name != "SOURCES.md"}
    listed = [c.file for c in CAPTURES]
    assert len(listed) == len(set(listed)), "a file is catalogued twice"
    assert sorted(on_disk - set(listed)) == [], "real captures missing from tests/fixture_catalog.py"
    assert sorted(set(listed) - on_disk) == [], "catalogued files that do not exist"


@pytest.mark.parametrize("capture", RECORDED, ids=lambda c: c.id)
def test_the_catalogue_describes_each_recorded_capture_as_the_file_is(capture: Capture) -> None:
    body = capture.body()
    error, _ = classify(capture.http_status, capture.content_type, body, private=capture.market == "-")
    assert error == capture.quarantine, f"classify says {error}"
    if capture.quarantine is not None:
        return
    assert enveloped(orjson.loads(body)) == capture.envelope
    assert has_ints(payload(capture)) == capture.ints
    assert file_rows(capture) == dict(capture.rows)


# --- one capture, one build -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda c: c.id)
def test_a_real_capture_loads_exactly_or_lands_in_quarantine(tmp_path: Path, capture: Capture) -> None:
    if not capture.recorded:
        pytest.skip(f"not recorded by the collector: {capture.why}")
    warehouse, [record], _ = built(tmp_path, [capture])
    if capture.quarantine is not None:
        assert_quarantined(warehouse, capture, record)
        return
    assert quarantined(warehouse) == []
    for table, n in capture.rows.items():
        assert count(warehouse, table) == n, f"{table}: {n} rows expected"
    verify = {"trades": check_trades, "depth": check_depth, "full_depth": check_depth, "ticker": check_ticker,
              "wallet_history": check_ledger, "info": check_info, "orders": check_orders}[capture.endpoint or ""]
    verify(warehouse, capture, record)


def assert_quarantined(warehouse: Path, capture: Capture, record: RawRecord) -> None:
    [(record_id, exchange, endpoint, market, version, status, error_class, reason, file)] = quarantined(warehouse)
    assert (record_id, exchange, endpoint, market, version, status, error_class) == (
        record.record_id, "mtgox", capture.endpoint, record.market, capture.api_version, capture.http_status,
        capture.quarantine)
    assert reason and any(word.casefold() in reason.casefold() for word in capture.reason), (
        f"quarantine reason {reason!r} names none of {capture.reason}")
    assert file, "quarantine names no raw file"
    assert {t: count(warehouse, t) for t in DATA_TABLES} == dict.fromkeys(DATA_TABLES, 0)


def check_trades(warehouse: Path, capture: Capture, record: RawRecord) -> None:
    want = {int(t["tid"]): t for t in payload(capture)}
    got = rows(warehouse, 'SELECT tid, market, price, amount, epoch_us(ts), side, "primary", properties, '
                          "price_currency, item FROM trades WHERE exchange = 'mtgox' ORDER BY tid")
    assert [g[0] for g in got] == sorted(want)
    wrong = []
    for tid, market, price, amount, ts, side, primary, properties, price_currency, item in got:
        t = want[tid]
        cur = t.get("price_currency", capture.market[3:])
        date = int(t["date"])
        expected = (capture.market, money(t, "price", cur), money(t, "amount", "BTC"), t.get("trade_type"),
                    {"Y": True, "N": False}.get(t.get("primary")), t.get("properties"), cur, t.get("item", "BTC"))
        if (market, price, amount, side, primary, properties, price_currency, item) != expected:
            wrong.append(f"tid {tid}: {(market, price, amount, side, primary, properties, price_currency, item)} "
                         f"!= {expected}")
        # The µs tid is the trade's time since June 2011; before, the date's second is all there is.
        want_ts = tid if tid >= 10**12 and tid // 10**6 == date else date * 10**6
        if ts != want_ts:
            wrong.append(f"tid {tid}: ts {ts} != {want_ts}")
    assert wrong == [], f"{len(wrong)} trades differ, e.g. {wrong[:5]}"
    # Every trade is in one daily bar of its market (primary Y and N alike).
    [(n, volume)] = rows(warehouse, "SELECT sum(trades), sum(volume) FROM ohlc WHERE interval = '1d' AND market = ?",
                         [capture.market])
    assert (n, volume) == (len(want), sum(money(t, "amount", "BTC") for t in want.values()))


def check_depth(warehouse: Path, capture: Capture, record: RawRecord) -> None:
    data = payload(capture)
    cur = capture.market[3:]
    want = []
    for side, key in (("ask", "asks"), ("bid", "bids")):
        for level in data[key]:
            if isinstance(level, list):  # v0: [price, amount] floats, no stamp
                want.append((side, literal(level[0]), literal(level[1]), None))
            else:
                want.append((side, money(level, "price", cur), money(level, "amount", "BTC"), int(level["stamp"])))
    got = rows(warehouse, "SELECT side, price, amount, epoch_us(stamp) FROM depth_levels WHERE snapshot_id = ?",
               [record.record_id])

    def key(level: tuple[Any, ...]) -> tuple[Any, ...]:
        return level[0], level[1], level[2], level[3] or 0

    assert sorted(got, key=key) == sorted(want, key=key)
    [snap] = rows(warehouse, "SELECT snapshot_id, exchange, market, endpoint, api_version, epoch_us(received_at), "
                             "epoch_us(now), currency, asks, bids, filter_min_price, filter_max_price "
                             "FROM depth_snapshots")
    filters = tuple(money_object(data[f]) if f in data else None for f in ("filter_min_price", "filter_max_price"))
    now = int(data["now"]) if "now" in data else None
    assert snap == (record.record_id, "mtgox", capture.market, capture.endpoint, capture.api_version,
                    us(capture.received), now, cur, len(data["asks"]), len(data["bids"]), *filters)
    best_bid = max(p for s, p, _, _ in want if s == "bid")
    best_ask = min(p for s, p, _, _ in want if s == "ask")
    [top] = rows(warehouse, "SELECT snapshot_id, best_bid, best_ask, spread, mid FROM book_top")
    assert top == (record.record_id, best_bid, best_ask, best_ask - best_bid, (best_ask + best_bid) / 2)


def check_ticker(warehouse: Path, capture: Capture, record: RawRecord) -> None:
    data = payload(capture)
    fields = data["ticker"] if capture.api_version == 0 else data
    want: dict[str, Decimal | None] = {}
    for name in TICKER_FIELDS:
        value = fields.get(name)
        want[name] = None if value is None else money_object(value) if isinstance(value, dict) else literal(value)
    columns = ", ".join(TICKER_FIELDS)
    [row] = rows(warehouse, f"SELECT record_id, market, api_version, epoch_us(received_at), epoch_us(now), currency, "
                            f"{columns} FROM ticker")
    now = int(data["now"]) if "now" in data else None
    assert row[:6] == (record.record_id, capture.market, capture.api_version, us(capture.received), now,
                       capture.market[3:])
    got = dict(zip(TICKER_FIELDS, row[6:], strict=True))
    wrong = {n: (got[n], w) for n, w in want.items() if not (got[n] is None if w is None else same_money(got[n], w))}
    assert wrong == {}, f"ticker fields (got, file): {wrong}"


def check_ledger(warehouse: Path, capture: Capture, record: RawRecord) -> None:
    entries = payload(capture)["result"]
    want = []
    for e in entries:
        trade = e.get("Trade")
        link = e.get("Link") or []
        tid = int(trade["tid"]) if trade else int(link[2]) if len(link) > 2 and link[1] == "Money_Trade" else None
        want.append((int(e["Index"]), e["Value"]["currency"], int(e["Date"]) * 10**6, e["Type"],
                     money_object(e["Value"]), money_object(e["Balance"]), e["Info"], tid,
                     trade["oid"] if trade else None))
    got = rows(warehouse, "SELECT idx, currency, epoch_us(ts), type, value, balance, info, tid, order_id "
                          "FROM account_ledger ORDER BY idx")
    assert got == sorted(want)
    # The balance after each entry, in time.
    balances = set(rows(warehouse, "SELECT currency, epoch_us(ts), balance FROM balances WHERE source = 'ledger'"))
    assert balances == {(w[1], w[2], w[5]) for w in want}
    # A fill of a BTC wallet: `in` (bought) or `out` (sold) with its Trade, the price in Info, fees under its tid.
    fills = {int(e["Trade"]["tid"]): e for e in entries if e["Type"] in ("in", "out") and "Trade" in e}
    fees: dict[int, Decimal] = {}
    for e in entries:
        if e["Type"] == "fee" and "Trade" in e:
            fees[int(e["Trade"]["tid"])] = fees.get(int(e["Trade"]["tid"]), Decimal(0)) + money_object(e["Value"])
    want_fills = sorted(
        (tid, int(e["Date"]) * 10**6, "buy" if e["Type"] == "in" else "sell", money_object(e["Trade"]["Amount"]),
         Decimal(re.search(r" at \$([0-9.]+)", e["Info"])[1]), fees.get(tid, Decimal(0)), e["Trade"]["oid"])
        for tid, e in fills.items())
    got_fills = rows(warehouse, "SELECT tid, epoch_us(ts), side, amount, price, fee, order_id FROM account_trades "
                                "ORDER BY tid")
    assert got_fills == want_fills


def check_info(warehouse: Path, capture: Capture, record: RawRecord) -> None:
    wallets = payload(capture)["Wallets"]
    want = sorted((cur, money_object(w["Balance"]), us(capture.received)) for cur, w in wallets.items())
    got = rows(warehouse, "SELECT currency, balance, epoch_us(ts) FROM balances WHERE source = 'info' "
                          "ORDER BY currency")
    assert got == want


def check_orders(warehouse: Path, capture: Capture, record: RawRecord) -> None:
    data = payload(capture)
    want = []
    for o in data if isinstance(data, list) else data["orders"]:  # v0: {usds, btcs, orders}, type 1 ask / 2 bid
        cur = o.get("currency", "USD")
        side = {1: "ask", 2: "bid"}.get(int(o["type"])) if capture.api_version == 0 else o["type"]
        amount, price = ((money_object(o["amount"]), money_object(o["price"])) if isinstance(o["amount"], dict)
                         else (literal(o["amount"]), literal(o["price"])))
        want.append((record.record_id, str(o["oid"]), o.get("item", "BTC") + cur, side, int(o["date"]) * 10**6, amount,
                     price))
    got = rows(warehouse, "SELECT record_id, order_id, market, side, epoch_us(placed_at), amount, price "
                          "FROM open_orders ORDER BY order_id")
    assert got == sorted(want, key=lambda o: o[1])
    others = [t for t in DATA_TABLES if t != "open_orders"]
    assert {t: count(warehouse, t) for t in others} == dict.fromkeys(others, 0)


# --- all of them at once ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_recorded_real_capture_builds_in_one_store_and_only_the_errors_are_quarantined(tmp_path: Path) -> None:
    warehouse, stored, result = built(tmp_path, RECORDED)
    file_of = {r.record_id: c.file for c, r in zip(RECORDED, stored, strict=True)}
    reasons = {file_of[q[0]]: q[7] for q in quarantined(warehouse)}
    errors = {c.file for c in ERRORS}
    assert {f: why for f, why in reasons.items() if f not in errors} == {}, "good answers quarantined"
    assert set(reasons) == errors
    assert result.quarantined == len(ERRORS)
    loading = [c for c in RECORDED if c.quarantine is None]
    trades = {(c.market, int(t["tid"])) for c in loading if c.endpoint == "trades" for t in payload(c)}
    assert count(warehouse, "trades") == len(trades)  # the same trade in two captures is one row
    assert count(warehouse, "depth_snapshots") == sum(c.endpoint in ("depth", "full_depth") for c in loading)
    assert count(warehouse, "depth_levels") == sum(c.rows.get("depth_levels", 0) for c in loading)
    assert count(warehouse, "ticker") == sum(c.endpoint == "ticker" for c in loading)
    assert count(warehouse, "account_ledger") == sum(c.rows.get("account_ledger", 0) for c in loading)
    assert count(warehouse, "open_orders") == sum(c.rows.get("open_orders", 0) for c in loading)
    [(info_balances,)] = rows(warehouse, "SELECT count(*) FROM balances WHERE source = 'info'")
    assert info_balances == sum(c.rows.get("balances", 0) for c in loading)
    assert failed_checks(warehouse) == []


def test_gzip_is_only_how_this_project_stores_the_full_depth_not_what_mtgox_sent() -> None:
    [gz] = [c for c in CAPTURES if c.file.endswith(".gz")]
    twin = next(c for c in CAPTURES if c is not gz and c.file.endswith("example-fulldepth-data.json"))
    assert gz.body() == twin.body() == gzip.decompress(shared_path(gz.file).read_bytes())
