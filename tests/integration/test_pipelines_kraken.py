"""Kraken answers through the pipelines: Mt.Gox's tables, exact from the text, checked, and incremental like a rebuild.

Answers are recorded as the collector records Kraken (tests/kraken_records.py; test_collector_kraken.py records
them through the collector itself)
and built with the real DuckDB models. The synthetic answers are written here, so the file never skips whole;
the real captures of ../shared/fixtures/kraken-bitstamp/kraken/ (the spec's examples, XChange's 2013-2014 answers,
ccxt's 2024 ones) are each built into a warehouse of their own, since Kraken names no account and two
captured ledgers would share account '-'. Spreads and Assets captures are left out: no marketrec endpoint
records those methods.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from collector.record import EXCHANGE_ERROR
from pipelines.build import build
from pipelines.checks import CheckResult, check
from tests.kraken_records import KrakenResponse, dumps, loads, yaml_value
from tests.kraken_records import write_raw as write_kraken
from tests.pipelines_harness import MARTS, Response, count, rows, same_tables, us
from tests.pipelines_harness import write_raw as write_mtgox
from tests.shared import shared_path

D = Decimal
T0 = us("2024-03-13T12:00:00")
FIXTURES = "fixtures/kraken-bitstamp/kraken"
XCHANGE = f"{FIXTURES}/xchange/xchange-kraken/src/test/resources/org/knowm/xchange/kraken/dto"
SPEC = f"{FIXTURES}/krakenfx-api-specs/spot-rest/examples/responses"


# --- answers --------------------------------------------------------------------------------------------------------


def answer(result: Any, *, error: list[str] | None = None) -> bytes:
    return dumps({"error": error or [], "result": result})


def seconds(us_: int) -> Decimal:
    """µs as Kraken's float seconds, written with all their digits."""
    return D(us_).scaleb(-6)


def trades(rows_: list[list[Any]], *, last: str = "1", pair: str = "XXBTZUSD") -> bytes:
    return answer({pair: rows_, "last": last})


def ohlc(bars: list[tuple[str, str, str, str, str, str, int]], start_minute: int, *, pair: str = "XXBTZUSD") -> bytes:
    """Bars (open, high, low, close, vwap, volume, count) of consecutive minutes from `start_minute` (µs)."""
    rows_ = [[(start_minute + i * 60_000_000) // 1_000_000, *bar] for i, bar in enumerate(bars)]
    return answer({pair: rows_, "last": rows_[-1][0] if rows_ else 0})


def ledger_entries(n: int, *, start: int = T0) -> list[tuple[str, dict[str, Any]]]:
    """A consistent ledger of n entries, oldest first: a BTC deposit, then trades, each a BTC leg and a USD leg
    (the assets interleave, so a wallet's consecutive entries are two idx apart), fees on the USD legs."""
    balances = {"XXBT": D(0), "ZUSD": D("1000.00000000")}
    entries = []
    for i in range(n):
        asset = "XXBT" if i % 2 == 0 else "ZUSD"
        amount = D("0.50000000") if i == 0 else (D("-0.01000000") if asset == "XXBT" else D("375.00100000"))
        fee = D("0.60000000") if asset == "ZUSD" else D("0.00000000")
        balances[asset] += amount - fee
        entries.append((f"L{i + 1:05d}-KRAKEN", {
            "refid": f"T{(i + 1) // 2:05d}", "time": seconds(start + i * 1_000_100), "type": "deposit" if i == 0 else
            "trade", "subtype": "", "aclass": "currency", "asset": asset, "amount": f"{amount:.10f}",
            "fee": f"{fee:.10f}", "balance": f"{balances[asset]:.10f}"}))
    return entries


def ledgers(entries: list[tuple[str, dict[str, Any]]], *, count_: int) -> bytes:
    """A page of entries (oldest first in the list), most recent first as Kraken sends them."""
    return answer({"ledger": dict(reversed(entries)), "count": count_})


def kraken(endpoint: str, body: bytes, at: int, market: str = "BTCUSD", **kwargs: Any) -> KrakenResponse:
    return KrakenResponse(endpoint, market, body, at, **kwargs)


def mtgox_trades(trades_: list[tuple[int, str, str]], received: int) -> Response:
    """A Mt.Gox v1 trades page of (tid = µs, price, amount)."""
    body = [{"date": tid // 10**6, "price": price, "amount": amount, "price_int": str(int(D(price) * 10**5)),
             "amount_int": str(int(D(amount) * 10**8)), "tid": str(tid), "price_currency": "USD", "item": "BTC",
             "trade_type": "bid", "primary": "Y", "properties": "limit"} for tid, price, amount in trades_]
    return Response("trades", 1, "BTCUSD", orjson.dumps({"result": "success", "return": body}), received)


def built(tmp_path: Path, responses: list[KrakenResponse], name: str = "wh") -> Path:
    root = tmp_path / name
    write_kraken(root, responses)
    return build(root, tmp_path / f"{name}.duckdb").warehouse


def quarantined(warehouse: Path) -> list[tuple[str, str | None, str]]:
    return rows(warehouse, "SELECT endpoint, error_class, reason FROM quarantine ORDER BY received_at")


def checks(warehouse: Path) -> dict[str, CheckResult]:
    return {c.name: c for c in check(warehouse)}


def failing(warehouse: Path) -> dict[str, CheckResult]:
    return {name: c for name, c in checks(warehouse).items() if not c.ok}


# --- public market data ---------------------------------------------------------------------------------------------


def test_a_trades_page_loads_prices_and_volumes_from_their_text_and_times_to_the_exact_microsecond(
        tmp_path: Path) -> None:
    page = trades([
        # 2024 rows carry an 8th element, a string id: ignored.
        ["37500.10000", "0.01030900", D("1688671969.9931508"), "b", "m", "", 6324366, "1688671969993150842"],
        ["37499.9", "1.5", D("1688671970.0000001"), "s", "l", "", 6324367],
        ["37501.00000", "0.00000001", D("1688671971"), "s", "m", "", 6324368],
    ], last="1688671971000000000")
    wh = built(tmp_path, [kraken("trades", page, T0)])
    assert quarantined(wh) == []
    assert rows(wh, "SELECT exchange, market, tid, epoch_us(ts), price, amount, side, properties, \"primary\", "
                    "price_currency, item FROM trades ORDER BY tid") == [
        ("kraken", "BTCUSD", 6324366, 1688671969993150, D("37500.1"), D("0.010309"), "bid", "market", None, "USD",
         "BTC"),
        ("kraken", "BTCUSD", 6324367, 1688671970000000, D("37499.9"), D("1.5"), "ask", "limit", None, "USD", "BTC"),
        ("kraken", "BTCUSD", 6324368, 1688671971000000, D("37501"), D("0.00000001"), "ask", "market", None, "USD",
         "BTC"),
    ]
    # The decimals are the strings' own: "37500.10000" is 3750010000 units of 1e-5.
    assert rows(wh, "SELECT price_units, price_decimals, amount_units, amount_decimals FROM trades_stored "
                    "ORDER BY tid") == [(3750010000, 5, 1030900, 8), (374999, 1, 15, 1), (3750100000, 5, 1, 8)]
    assert rows(wh, "SELECT open, high, low, close, volume, trades FROM ohlc WHERE interval = '1d'") == [
        (D("37500.1"), D("37501"), D("37499.9"), D("37501"), D("1.51030901"), 3)]
    assert failing(wh) == {}


def test_six_element_rows_of_2013_get_tids_from_their_microsecond_and_rank_so_repeated_pages_store_each_trade_once(
        tmp_path: Path) -> None:
    t1, t2 = D("1385579841.7774"), D("1385579841.7876")
    first = [["1023.82219", "0.00435995", t1, "s", "l", ""], ["1023.80000", "0.01000000", t1, "b", "l", ""],
             ["1021.77864", "0.01500000", t2, "s", "m", ""]]
    second = [*first[2:], ["1019.73917", "0.01600000", D("1385579842"), "b", "l", ""]]  # overlaps the first page
    wh = built(tmp_path, [kraken("trades", trades(first), T0), kraken("trades", trades(second), T0 + 10**6)])
    assert quarantined(wh) == []
    got = rows(wh, "SELECT tid, epoch_us(ts), price FROM trades ORDER BY ts, tid")
    assert got == [(1385579841777400000, 1385579841777400, D("1023.82219")),
                   (1385579841777400001, 1385579841777400, D("1023.8")),
                   (1385579841787600000, 1385579841787600, D("1021.77864")),
                   (1385579842000000000, 1385579842000000, D("1019.73917"))]
    # A trade's rank counts only the trades of its own µs, which each page holds whole here: the repeated trade
    # has the same tid in both pages and is stored once.
    assert count(wh, "trades") == 4


def test_ticker_depth_and_book_top_are_exact_and_keyed_by_either_spelling_of_the_pair(tmp_path: Path) -> None:
    ticker = answer({"XBTUSD": {"a": ["73380.70000", "1", "1.000"], "b": ["73380.60000", "1", "1.000"],
                                "c": ["73380.60000", "0.00160710"], "v": ["165.16072288", "598.03698452"],
                                "p": ["72647.97204", "71501.57520"], "t": [6405, 21103],
                                "l": ["71321.80000", "68666.00000"], "h": ["73580.00000", "73580.00000"],
                                "o": "71450.70000"}})
    depth = answer({"XXBTZUSD": {"asks": [["73380.70000", "0.500", 1710327959], ["73390.0", "2.000", 1710327900]],
                                 "bids": [["73380.60000", "1.250", 1710327958]]}})
    wh = built(tmp_path, [kraken("ticker", ticker, T0), kraken("depth", depth, T0 + 1)])
    assert quarantined(wh) == []
    assert rows(wh, "SELECT exchange, market, currency, last, buy, sell, high, low, vwap, vol, avg, now "
                    "FROM ticker") == [
        ("kraken", "BTCUSD", "USD", D("73380.6"), D("73380.6"), D("73380.7"), D("73580"), D("68666"),
         D("71501.5752"), D("598.03698452"), None, None)]
    assert rows(wh, "SELECT side, price, amount, epoch_us(stamp) FROM depth_levels ORDER BY side, price") == [
        ("ask", D("73380.7"), D("0.5"), 1710327959000000), ("ask", D("73390"), D("2"), 1710327900000000),
        ("bid", D("73380.6"), D("1.25"), 1710327958000000)]
    assert rows(wh, "SELECT endpoint, currency, asks, bids FROM depth_snapshots") == [("depth", "USD", 2, 1)]
    assert rows(wh, "SELECT best_bid, best_ask, spread, ask_amount_1pct FROM book_top") == [
        (D("73380.6"), D("73380.7"), D("0.1"), D("2.5"))]


def test_kraken_and_mtgox_rows_share_one_warehouse_told_apart_by_exchange(tmp_path: Path) -> None:
    root, wh = tmp_path / "data", tmp_path / "wh.duckdb"
    noon = us("2013-04-01T12:00:00")
    write_mtgox(root, [mtgox_trades([(noon, "100.5", "1"), (noon + 5 * 10**6, "101", "2")], noon + 60 * 10**6)])
    write_kraken(root, [kraken("trades", trades([["99.00000", "3.00000000", seconds(noon + 10**6), "b", "l", "", 1]]),
                               noon + 60 * 10**6)], run_id="kraken-run")
    build(root, wh)
    assert rows(wh, "SELECT exchange, market, tid, price, amount FROM trades ORDER BY exchange, tid") == [
        ("kraken", "BTCUSD", 1, D("99"), D("3")),
        ("mtgox", "BTCUSD", noon, D("100.5"), D("1")), ("mtgox", "BTCUSD", noon + 5 * 10**6, D("101"), D("2"))]
    assert rows(wh, "SELECT exchange, open, close, volume, trades FROM ohlc WHERE interval = '1m' ORDER BY 1") == [
        ("kraken", D("99"), D("99"), D("3"), 1), ("mtgox", D("100.5"), D("101"), D("3"), 2)]
    assert failing(wh) == {}


# --- the account ----------------------------------------------------------------------------------------------------


def test_ledger_pages_number_the_whole_ledger_from_the_oldest_and_the_continuity_check_holds(tmp_path: Path) -> None:
    entries = ledger_entries(60)
    # Page 2 (offset 50) is fetched after two new entries arrived: the page holds what was 48..57 from the newest.
    later = ledger_entries(62)
    wh = built(tmp_path, [
        kraken("ledgers", ledgers(entries[10:], count_=60), T0, params={"ofs": "0"}),
        kraken("ledgers", ledgers(later[:12], count_=62), T0 + 10**6, params={"ofs": "50"}),
    ])
    assert quarantined(wh) == []
    assert rows(wh, "SELECT count(*), min(idx), max(idx), count(DISTINCT entry_id) FROM account_ledger") == [
        (60, 1, 60, 60)]
    assert rows(wh, "SELECT exchange, account, currency, idx, epoch_us(ts), type, value, delta, fee, balance, "
                    "idx_series, entry_id, ref_id FROM account_ledger WHERE idx IN (1, 2) ORDER BY idx") == [
        ("kraken", "-", "BTC", 1, T0, "deposit", D("0.5"), D("0.5"), D(0), D("0.5"), "*", "L00001-KRAKEN", "T00000"),
        ("kraken", "-", "USD", 2, T0 + 1_000_100, "trade", D("375.001"), D("374.401"), D("0.6"), D("1374.401"), "*",
         "L00002-KRAKEN", "T00001")]
    assert rows(wh, "SELECT currency, balance, idx FROM balances WHERE source = 'ledger' ORDER BY idx DESC LIMIT 2") \
        == [("USD", D("12232.03"), 60), ("BTC", D("0.21"), 59)]
    assert checks(wh)["ledger_continuity"].ok


def test_the_continuity_check_names_the_kraken_entry_whose_balance_does_not_follow(tmp_path: Path) -> None:
    entries = ledger_entries(20)
    entry_id, bad = entries[13]
    entries[13] = (entry_id, {**bad, "fee": "0.7000000000"})  # the balance says 0.6 was taken
    wh = built(tmp_path, [kraken("ledgers", ledgers(entries, count_=20), T0)])
    result = checks(wh)["ledger_continuity"]
    assert result.rows == 1
    [row] = result.sample
    assert dict(zip(result.columns, row, strict=True)) == {
        "exchange": "kraken", "account": "-", "currency": "USD", "idx": 14, "type": "trade", "value": D("375.001"),
        "delta": D("374.301"), "prev_balance": D("3246.406"), "balance": D("3620.807"), "entry_id": entry_id}


def test_a_ledger_page_never_fetched_leaves_a_hole_the_continuity_check_does_not_compare_across(
        tmp_path: Path) -> None:
    entries = ledger_entries(60)
    # Offsets 0 and 55: the entries numbered 6 to 10 were never fetched; each wallet's balance jumps across them.
    wh = built(tmp_path, [kraken("ledgers", ledgers(entries[10:], count_=60), T0, params={"ofs": "0"}),
                          kraken("ledgers", ledgers(entries[:5], count_=60), T0 + 1, params={"ofs": "55"})])
    assert rows(wh, "SELECT count(*) FROM account_ledger WHERE idx BETWEEN 6 AND 10") == [(0,)]
    assert count(wh, "account_ledger") == 55
    assert checks(wh)["ledger_continuity"].ok


def test_trades_history_fills_are_the_accounts_trades_in_the_pairs_quote_currency(tmp_path: Path) -> None:
    page = answer({"trades": {
        "TCWJEG-FL4SZ-3FKGH6": {"ordertxid": "OQCLML-BW3P3-BUCMWZ", "postxid": "TKH2SE-M7IF5-CFI7LT",
                                "pair": "XXBTZUSD", "time": D("1688667796.8802"), "type": "buy", "ordertype": "limit",
                                "price": "30010.00000", "cost": "600.20000", "fee": "0.00000", "vol": "0.02000000",
                                "margin": "0.00000", "misc": "", "trade_id": 40274859, "maker": True},
        "TCCCTY-WE2O6-P3NB37": {"ordertxid": "OMMDB2-FSB6Z-7W3HPO", "postxid": "TKH2SE-M7IF5-CFI7LT",
                                "pair": "XETHXXBT", "time": D("1688082549.3138"), "type": "sell",
                                "ordertype": "market", "price": "0.06150", "cost": "0.0615000", "fee": "0.0001599",
                                "vol": "1.00000000", "margin": "0.00000", "misc": "", "trade_id": 3, "maker": False},
    }, "count": 2})
    wh = built(tmp_path, [kraken("trades_history", page, T0), kraken("trades_history", page, T0 + 10**6)])
    assert quarantined(wh) == []
    assert rows(wh, "SELECT exchange, account, tid, epoch_us(ts), side, amount, price, price_currency, quote_amount, "
                    "fee, fee_currency, order_id FROM account_trades ORDER BY tid") == [
        ("kraken", "-", 3, 1688082549313800, "sell", D("1"), D("0.0615"), "BTC", D("0.0615"), D("0.0001599"), "BTC",
         "OMMDB2-FSB6Z-7W3HPO"),
        ("kraken", "-", 40274859, 1688667796880200, "buy", D("0.02"), D("30010"), "USD", D("600.2"), D(0), "USD",
         "OQCLML-BW3P3-BUCMWZ")]


def test_a_balance_answer_is_a_balances_snapshot_in_marketrecs_currencies(tmp_path: Path) -> None:
    wh = built(tmp_path, [kraken("balance", answer({"ZUSD": "171288.6158", "XXBT": "0.0114270000", "XETH": "0",
                                                    "USDT": "10.12300000"}), T0)])
    assert rows(wh, "SELECT exchange, account, currency, epoch_us(ts), balance, source FROM balances "
                    "ORDER BY currency") == [
        ("kraken", "-", "BTC", T0, D("0.011427"), "info"), ("kraken", "-", "ETH", T0, D(0), "info"),
        ("kraken", "-", "USD", T0, D("171288.6158"), "info"), ("kraken", "-", "USDT", T0, D("10.123"), "info")]


# --- Kraken's own bars ----------------------------------------------------------------------------------------------

NOON = us("2024-03-13T12:00:00")


def minute_trades(tids: list[int]) -> bytes:
    """Trades with consecutive trade_ids: one at 11:59:30, two in 12:00, two in 12:01, one at 12:02:30."""
    offsets = {100: -30, 101: 10, 102: 40, 103: 65, 104: 110, 105: 150}
    prices = {100: "9.90", 101: "10.00", 102: "12.00", 103: "11.00", 104: "11.50", 105: "11.20"}
    return trades([[prices[t], "0.50000000", seconds(NOON + offsets[t] * 10**6), "b", "l", "", t] for t in tids])


GOOD_BARS = [
    ("9.9", "9.9", "9.9", "9.9", "9.9", "0.50000000", 1),  # 11:59, not covered: no trade of ours before it
    ("10.0", "12.0", "10.0", "12.0", "11.0", "1.00000000", 2),  # 12:00
    ("11.0", "11.5", "11.0", "11.5", "11.25", "1.00000000", 2),  # 12:01
    ("11.2", "99", "1", "99", "50", "9.00000000", 9),  # 12:02, still open: dropped, whatever it says
]


def test_exchange_ohlc_keeps_krakens_committed_bars_and_drops_each_answers_open_one(tmp_path: Path) -> None:
    wh = built(tmp_path, [kraken("ohlc", ohlc(GOOD_BARS, NOON - 60 * 10**6), NOON + 151 * 10**6)])
    assert quarantined(wh) == []
    assert rows(wh, "SELECT exchange, market, minutes, epoch_us(bucket), open, high, low, close, vwap, volume, trades "
                    "FROM exchange_ohlc ORDER BY bucket") == [
        ("kraken", "BTCUSD", 1, NOON - 60 * 10**6, D("9.9"), D("9.9"), D("9.9"), D("9.9"), D("9.9"), D("0.5"), 1),
        ("kraken", "BTCUSD", 1, NOON, D(10), D(12), D(10), D(12), D(11), D(1), 2),
        ("kraken", "BTCUSD", 1, NOON + 60 * 10**6, D(11), D("11.5"), D(11), D("11.5"), D("11.25"), D(1), 2)]


def test_the_bar_comparison_passes_when_krakens_bars_match_our_trades(tmp_path: Path) -> None:
    wh = built(tmp_path, [kraken("trades", minute_trades(list(range(100, 106))), NOON + 151 * 10**6),
                          kraken("ohlc", ohlc(GOOD_BARS, NOON - 60 * 10**6), NOON + 151 * 10**6)])
    assert failing(wh) == {}


def test_the_bar_comparison_names_the_minute_where_krakens_committed_bar_differs(tmp_path: Path) -> None:
    bars = [*GOOD_BARS]
    bars[2] = ("11.0", "11.5", "11.0", "11.4", "11.25", "1.00000001", 2)  # 12:01: another close and volume
    bars[0] = ("1", "1", "1", "1", "1", "1.00000000", 7)  # 11:59 differs too, but our trades do not cover it
    wh = built(tmp_path, [kraken("trades", minute_trades(list(range(100, 106))), NOON + 151 * 10**6),
                          kraken("ohlc", ohlc(bars, NOON - 60 * 10**6), NOON + 151 * 10**6)])
    assert list(failing(wh)) == ["ohlc_exchange_bars"]
    result = checks(wh)["ohlc_exchange_bars"]
    assert result.rows == 1
    found = dict(zip(result.columns, result.sample[0], strict=True))
    assert (found["exchange"], found["market"], us(found["minute"].isoformat()), found["differs"]) == (
        "kraken", "BTCUSD", NOON + 60 * 10**6, "close, volume")
    assert (found["our_close"], found["their_close"], found["our_volume"], found["their_volume"]) == (
        D("11.5"), D("11.4"), D(1), D("1.00000001"))


def test_the_bar_comparison_skips_a_minute_next_to_a_missing_trade_id(tmp_path: Path) -> None:
    # Trade 102 (12:00:40) never reached us: our 12:00 bar lacks it, and 12:00 and 12:01 are not known complete.
    wh = built(tmp_path, [kraken("trades", minute_trades([100, 101, 103, 104, 105]), NOON + 151 * 10**6),
                          kraken("ohlc", ohlc(GOOD_BARS, NOON - 60 * 10**6), NOON + 151 * 10**6)])
    assert rows(wh, "SELECT trades FROM ohlc WHERE interval = '1m' AND bucket = to_timestamp(?)", [NOON // 10**6]) \
        == [(1,)]
    assert checks(wh)["ohlc_exchange_bars"].ok


# --- quarantine -----------------------------------------------------------------------------------------------------


def test_error_answers_and_bodies_that_do_not_parse_go_to_quarantine_with_the_reason(tmp_path: Path) -> None:
    good_row = ["30000.0", "1.0", D("1688671969.5"), "b", "l", "", 1]
    wh = built(tmp_path, [
        kraken("ticker", dumps({"error": ["EQuery:Unknown asset pair"]}), T0),
        kraken("ledgers", dumps({"error": ["EAPI:Invalid nonce"]}), T0 + 1),
        # A record that claims to be a good answer (an older collector, another tool) is read all the same.
        kraken("depth", dumps({"error": ["EGeneral:Internal error"]}), T0 + 2, error_class=None),
        kraken("trades", answer([good_row]), T0 + 3),
        kraken("trades", answer({"XXBTZUSD": [good_row], "XETHZUSD": [good_row], "last": "1"}), T0 + 4),
        kraken("trades", trades([good_row, ["3O000.0", "1.0", D("1688671970"), "b", "l", "", 2]]), T0 + 5),
        kraken("trades", trades([["30000.0", "1.0", D("1688671970"), "x", "l", "", 3]]), T0 + 6),
        kraken("trades", b"<html>maintenance</html>", T0 + 7, error_class=None),
        kraken("ledgers", ledgers(ledger_entries(2), count_=2), T0 + 8, params={"start": "1688671969"}),
        kraken("ledgers", ledgers([("L1", {**ledger_entries(1)[0][1], "amount": "0.0000000001"})], count_=1), T0 + 9),
        kraken("ohlc", answer({"XXBTZUSD": [[1688671920, "1", "1", "1", "1", "1", "one", 1]]}), T0 + 10),
        # Warnings alone are no error: this one loads.
        kraken("ticker", answer({"XXBTZUSD": {"c": ["30000.0", "1"]}}, error=["WGeneral:Something to note"]), T0 + 11),
    ])
    assert quarantined(wh) == [
        ("ticker", EXCHANGE_ERROR, 'error response (exchange_error): ["EQuery:Unknown asset pair"]'),
        ("ledgers", EXCHANGE_ERROR, 'error response (exchange_error): ["EAPI:Invalid nonce"]'),
        ("depth", None, "depth: Kraken answered an error: EGeneral:Internal error"),
        ("trades", None, "trades: the answer has no result object of trade lists"),
        ("trades", None, "trades: the result names 2 pairs, not one"),
        ("trades", None, 'trades: trade 2 has no valid price: "3O000.0"'),
        ("trades", None, 'trades: trade 3 has side "x", not b or s'),
        ("trades", None, "trades: the body is not a JSON object"),
        ("ledgers", None, "ledgers: a page asked with start=1688671969 counts from there, so its entries cannot be "
                          "numbered in the ledger (ask with ofs, and end if need be)"),
        ("ledgers", None, "ledgers: entry L1 has an amount, fee or balance that is no exact decimal of at most 8 "
                          "decimals (0.0000000001, 0.0000000000, 0.5000000000)"),
        ("ohlc", None, "ohlc: the bar at 1688671920 has a price, volume or count that is no exact number: "
                       "[1, 1, 1, 1, 1, one, 1]"),
    ]
    assert count(wh, "trades") == 0  # a page with one bad trade is set aside whole
    assert rows(wh, "SELECT last FROM ticker") == [(D(30000),)]


WEIRD: list[Any] = [None, True, 0, -1, 10**30, 2**63, D("1e400"), D("-0.5"), D("1.123456789012345678901"), "", "x",
                    "1e5", "12.5", "99999999999999999999.999", [], {}, [[]], {"a": 1}, "1.0000000000001", "9" * 40]


def mutated(value: Any, rng: random.Random) -> Any:
    """The value with some members deleted, repeated or replaced by values of other types and sizes."""
    if rng.random() < 0.15:
        return rng.choice(WEIRD)
    if isinstance(value, dict):
        return {k: mutated(v, rng) for k, v in value.items() if rng.random() > 0.08}
    if isinstance(value, list):
        items = [mutated(v, rng) for v in value if rng.random() > 0.05]
        return items + items[:1] if items and rng.random() < 0.05 else items
    return value


def test_mutated_kraken_answers_never_stop_a_build_and_each_bad_one_is_quarantined_with_a_one_line_reason(
        tmp_path: Path) -> None:
    rng = random.Random(20240313)
    goods = {
        "trades": minute_trades(list(range(100, 106))), "ohlc": ohlc(GOOD_BARS, NOON),
        "ledgers": ledgers(ledger_entries(6), count_=6),
        "ticker": answer({"XXBTZUSD": {"a": ["1.0", "1", "1"], "b": ["0.9", "1", "1"], "c": ["1.0", "2"],
                                       "v": ["1", "2"], "p": ["1", "1"], "l": ["1", "1"], "h": ["1", "1"]}}),
        "depth": answer({"XXBTZUSD": {"asks": [["10.1", "1", 1]], "bids": [["9.9", "2", 1]]}}),
        "trades_history": answer({"trades": {"T1": {"ordertxid": "O", "pair": "XXBTZUSD", "time": D("1688667796.88"),
                                                    "type": "buy", "price": "1.0", "cost": "1.0", "fee": "0",
                                                    "vol": "1", "trade_id": 5}}, "count": 1}),
        "balance": answer({"ZUSD": "1.5", "XXBT": "0.1"}), "time": answer({"unixtime": 1688667796, "rfc1123": "-"}),
        "asset_pairs": answer({"XXBTZUSD": {"altname": "XBTUSD", "base": "XXBT", "quote": "ZUSD"}}),
    }
    responses, untouched = [], set()
    for endpoint, body in goods.items():
        for i in range(25):
            at = NOON + len(responses)
            if i == 0:
                untouched.add(at)
                responses.append(kraken(endpoint, body, at))
                continue
            bad = dumps(mutated(loads(body), rng))
            # Half claim to be good answers whatever the body says: a build must survive what any tool wrote.
            responses.append(kraken(endpoint, bad[: rng.randint(0, len(bad))] if rng.random() < 0.05 else bad, at,
                                    **({"error_class": None} if i % 2 else {})))
    wh = built(tmp_path, responses)
    reasons = rows(wh, "SELECT epoch_us(received_at), reason FROM quarantine")
    assert reasons and all(reason.strip() and "\n" not in reason for _, reason in reasons)
    assert not untouched & {at for at, _ in reasons}
    assert rows(wh, "SELECT count(*) FROM quarantine WHERE record_id IN (SELECT record_id FROM ticker UNION ALL "
                    "SELECT snapshot_id FROM depth_levels UNION ALL SELECT record_id FROM account_ledger UNION ALL "
                    "SELECT record_id FROM exchange_ohlc)") == [(0,)]


# --- incremental ----------------------------------------------------------------------------------------------------


def test_incremental_builds_of_kraken_answers_equal_a_full_rebuild(tmp_path: Path) -> None:
    root, wh, full = tmp_path / "data", tmp_path / "wh.duckdb", tmp_path / "full.duckdb"
    ledger = ledger_entries(8)
    batches = [
        [kraken("trades", minute_trades([100, 101, 102]), NOON + 60 * 10**6),
         kraken("ohlc", ohlc(GOOD_BARS[:2], NOON - 60 * 10**6), NOON + 50 * 10**6),  # 12:00 still open here
         kraken("ledgers", ledgers(ledger[:5], count_=5), NOON),
         kraken("ticker", answer({"XXBTZUSD": {"c": ["10.00000", "1"], "a": ["10.1", "1", "1"]}}), NOON),
         kraken("depth", answer({"XXBTZUSD": {"asks": [["10.1", "1", 1]], "bids": [["9.9", "2", 1]]}}), NOON)],
        [kraken("trades", minute_trades([102, 103, 104, 105]), NOON + 160 * 10**6),  # overlaps
         kraken("ohlc", ohlc(GOOD_BARS[1:], NOON), NOON + 160 * 10**6),
         kraken("ledgers", ledgers(ledger, count_=8), NOON + 160 * 10**6),  # the five again, pushed down by three
         kraken("trades", trades([["10.0", "1", D("1385579841.7774"), "s", "l", ""]]), NOON + 161 * 10**6),
         kraken("depth", dumps({"error": ["EService:Unavailable"]}), NOON + 162 * 10**6)],
    ]
    write_mtgox(root, [mtgox_trades([(NOON + 5 * 10**6, "60000", "1")], NOON + 10 * 10**6)], run_id="mtgox")
    for i, batch in enumerate(batches):
        write_kraken(root, batch, run_id=f"kraken-{i}")
        build(root, wh)
    build(root, full, full=True)
    same_tables(wh, full, (*MARTS, "exchange_ohlc"))
    assert rows(wh, "SELECT exchange, count(*) FROM trades GROUP BY 1 ORDER BY 1") == [("kraken", 7), ("mtgox", 1)]
    assert rows(wh, "SELECT count(*), max(idx) FROM account_ledger") == [(8, 8)]
    # 12:00 came open in the first answer and committed in the second: the committed numbers are kept.
    assert rows(wh, "SELECT close, trades FROM exchange_ohlc WHERE bucket = to_timestamp(?)", [NOON // 10**6]) == [
        (D(12), 2)]
    assert failing(wh) == {}


# --- real captures (../shared) --------------------------------------------------------------------------------------


def spec_body(name: str) -> bytes:
    value = yaml_value(shared_path(f"{SPEC}/{name}"))
    return dumps(value.get("value", value))  # the error examples are OpenAPI example objects: {value: ...}


def xchange_body(name: str) -> bytes:
    return dumps(loads(shared_path(f"{XCHANGE}/{name}").read_text(encoding="utf-8")))


def test_the_specs_examples_load_and_its_error_examples_are_quarantined_naming_the_error(tmp_path: Path) -> None:
    examples = [("ticker", "public/ticker.yaml"), ("trades", "public/trades.yaml"), ("depth", "public/depth.yaml"),
                ("ohlc", "public/ohlc.yaml"), ("ledgers", "user/ledgers/info.yaml"),
                ("trades_history", "user/trades/history.yaml"), ("time", "public/time.yaml"),
                ("asset_pairs", "public/assets/pairs.yaml")]
    errors = ["invalidApiKey", "invalidApiNonce", "invalidApiSignature", "internalError"]
    wh = built(tmp_path, [kraken(endpoint, spec_body(name), T0 + i) for i, (endpoint, name) in enumerate(examples)]
               + [kraken("ledgers", spec_body(f"errors/{e}.yaml"), T0 + 100 + i) for i, e in enumerate(errors)])
    reasons = quarantined(wh)
    assert [(endpoint, error_class) for endpoint, error_class, _ in reasons] == [("ledgers", EXCHANGE_ERROR)] * 4
    for (_, _, reason), kind in zip(reasons, ["Invalid key", "Invalid nonce", "Invalid signature", "Internal Error"],
                                    strict=True):
        assert reason.startswith("error response (exchange_error): ") and f'"type":"{kind}"' in reason, reason
    assert rows(wh, "SELECT tid, epoch_us(ts), price, amount, side, properties FROM trades ORDER BY tid") == [
        (1548111751555600000, 1548111751555600, D("3535.5"), D("0.003"), "bid", "market"),
        (1548111757255800000, 1548111757255800, D("3535.4"), D("0.09670735"), "bid", "market")]
    assert rows(wh, "SELECT last, buy, sell, high, low, vwap, vol FROM ticker") == [
        (D("3537.5"), D("3537.4"), D("3537.5"), D("3565"), D("3504.2"), D("3535.79747"), D("4009.6991835"))]
    assert rows(wh, "SELECT asks, bids FROM depth_snapshots") == [(2, 2)]
    assert rows(wh, "SELECT best_bid, best_ask FROM book_top") == [(D("3538.9"), D("3539.9"))]
    # The spec's two bars are one minute twice: the second, last, is the open one.
    assert rows(wh, "SELECT epoch_us(bucket), close, volume, trades FROM exchange_ohlc") == [
        (1548115200000000, D("3539.4"), D("83.09287787"), 232)]
    assert rows(wh, "SELECT idx, entry_id, epoch_us(ts), currency, delta, balance FROM account_ledger ORDER BY idx") \
        == [(1, "LILCPJ-DKJ53-CZIG5E", 1546992921753000, "BTC", D("0.78125"), D("3.125")),
            (2, "LT2T4M-YDT75-42KGMU", 1546992921777000, "BTC", D("0.78125"), D("3.90625")),
            (3, "L3S26P-BHIOV-TTWYYI", 1546992921817200, "BTC", D("0.78125"), D("4.6875")),
            (4, "LGBRJU-SQZ4L-5HLS3C", 1546992921842600, "BTC", D("0.78125"), D("5.46875"))]
    assert rows(wh, "SELECT tid, side, amount, price, fee, fee_currency, order_id FROM account_trades ORDER BY tid") \
        == [(2260198, "sell", D("0.1"), D("9.25"), D("0.00296"), "USD", "OJTVFU-UWBXK-7AC6ML"),
            (2560488, "sell", D("0.1"), D("9.25"), D("0.00296"), "USD", "OJTVFU-UWBXK-7AC6ML")]
    assert failing(wh) == {}


def test_xchanges_2013_and_2014_answers_all_load_exactly(tmp_path: Path) -> None:
    captures = [("ticker", "BTCEUR", "marketdata/example-ticker-data.json"),
                ("trades", "BTCUSD", "marketdata/example-trades-data.json"),
                ("depth", "BTCEUR", "marketdata/example-depth-data.json"),
                ("ohlc", "BTCUSD", "marketdata/example-ohlc-data.json"),
                ("time", "-", "marketdata/example-servertime-data.json"),
                ("asset_pairs", "-", "marketdata/example-assetpairs-data.json"),
                ("ledgers", "-", "account/example-ledgerinfo-data.json"),
                ("balance", "-", "account/example-balance-data.json"),
                ("trades_history", "-", "trading/example-tradehistory-data.json")]
    wh = built(tmp_path, [kraken(ep, xchange_body(name), T0 + i, market) for i, (ep, market, name) in
                          enumerate(captures)])
    assert quarantined(wh) == []
    assert count(wh, "trades") == 14
    assert rows(wh, "SELECT tid, epoch_us(ts), price, amount, side, properties FROM trades ORDER BY tid LIMIT 1") == [
        (1385579841777400000, 1385579841777400, D("1023.82219"), D("0.00435995"), "ask", "limit")]
    assert rows(wh, "SELECT market, last, buy, sell, high, vol FROM ticker") == [
        ("BTCEUR", D("560.87711"), D("560.466"), D("562.26651"), D("591.11"), D("600.91850325"))]
    assert rows(wh, "SELECT market, asks, bids FROM depth_snapshots") == [("BTCEUR", 3, 3)]
    assert rows(wh, "SELECT count(*), min(epoch_us(bucket)), max(epoch_us(bucket)) FROM exchange_ohlc") == [
        (719, 1502402520000000, (1502402520 + 718 * 60) * 10**6)]
    assert rows(wh, "SELECT idx, currency, type, value, delta, fee, balance FROM account_ledger "
                    "WHERE entry_id = 'LWL3TV-BC7TE-EUZ5ZQ'") == [
        (6, "XLTC", "withdrawal", D("15.98573"), D("-16.00573"), D("0.02"), D(0))]
    assert rows(wh, "SELECT tid, epoch_us(ts), price_currency, fee, fee_currency FROM account_trades ORDER BY tid") \
        == [(1389071942208900000 + i, 1389071942208900, currency, D("0.03208"), currency)
            for i, currency in enumerate(["BTC", "USD", "USD"])]
    assert rows(wh, "SELECT currency, balance FROM balances WHERE source = 'info' ORDER BY currency") == [
        ("BTC", D("0.48885833")), ("EUR", D("1.0539")), ("XTSTCUR", D("10.123"))]
    assert failing(wh) == {}


def test_ccxts_2024_answers_load_with_their_8_element_trade_rows_and_string_ohlc_last(tmp_path: Path) -> None:
    recorded = loads(shared_path(f"{FIXTURES}/response/kraken.json").read_text(encoding="utf-8"))["methods"]
    calls = [("ticker", "fetchTicker", {}), ("trades", "fetchTrades", {}), ("ohlc", "fetchOHLCV", {"interval": "60"})]
    wh = built(tmp_path, [kraken(endpoint, dumps(case["httpResponse"]), T0 + i, "BTCUSDT",
                                 params={"pair": "XBTUSDT", **params})
                          for i, (endpoint, method, params) in enumerate(calls) for case in recorded[method]])
    assert quarantined(wh) == []
    assert rows(wh, "SELECT market, tid, epoch_us(ts), price, amount, side, properties, price_currency FROM trades") \
        == [("BTCUSDT", 6324366, 1710327959173346, D("73324.4"), D("0.010309"), "bid", "market", "USDT")]
    assert rows(wh, "SELECT currency, last, sell FROM ticker") == [("USDT", D("73380.6"), D("73380.7"))]
    assert rows(wh, "SELECT minutes, count(*), max(epoch_us(bucket)) FROM exchange_ohlc GROUP BY 1") == [
        (60, 5, 1706641200 * 10**6)]
    assert failing(wh) == {}


def test_a_book_level_priced_beyond_any_real_book_sets_its_answer_aside_and_the_build_goes_on(tmp_path: Path) -> None:
    # A mutated capture once made book_top's mid arithmetic overflow DECIMAL(38) and abort the build.
    huge = answer({"XXBTZUSD": {"asks": [["99999999999999999999999999999.00000000", "0.5", 1710327959]],
                                "bids": [["73380.60000", "1.250", 1710327958]]}})
    good = answer({"XXBTZUSD": {"asks": [["73380.70000", "0.500", 1710327959]],
                                "bids": [["73380.60000", "1.250", 1710327958]]}})
    wh = built(tmp_path, [kraken("depth", huge, T0), kraken("depth", good, T0 + 1)])
    [(_, _, reason)] = quarantined(wh)
    assert "beyond any real book" in reason
    assert rows(wh, "SELECT count(*) FROM book_top") == [(1,)]
