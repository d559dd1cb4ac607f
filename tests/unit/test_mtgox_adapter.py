"""The Mt.Gox adapter against real captured answers: requests, classification, cursors."""

from __future__ import annotations

import json

import orjson
import pytest

from collector import record as rc
from collector.exchanges.mtgox import ENDPOINTS, FIRST_MICRO_TID, MTGOX, build, classify, next_since, trades_page
from tests.shared import shared_path

FX = "fixtures/mtgox/"


def test_requests_use_each_versions_paths_and_parameters() -> None:
    t = ENDPOINTS["trades"]
    assert build(t, 0, "BTCEUR", since=5).path == "0/data/getTrades.php"
    assert dict(build(t, 0, "BTCEUR", since=5).params) == {"Currency": "EUR", "since": "5"}
    assert build(t, 1, "BTCUSD").path == "1/BTCUSD/trades" and build(t, 1, "BTCUSD").method == "GET"
    v2 = build(ENDPOINTS["wallet_history"], 2, currency="BTC", page=3)
    assert (v2.path, v2.sign_path, v2.method, v2.market) == ("2/money/wallet/history", "money/wallet/history",
                                                             "POST", "-")
    assert dict(v2.params) == {"currency": "BTC", "page": "3"}
    assert build(ENDPOINTS["wallet_history"], 0, currency="USD").path == "0/history_USD.csv"
    with pytest.raises(ValueError, match=r"full_depth is not available in Mt\.Gox API v0"):
        build(ENDPOINTS["full_depth"], 0, "BTCUSD")


@pytest.mark.parametrize(("capture", "status", "ctype", "private", "expected"), [
    (FX + "sferik__mtgox/ticker.json", 200, "application/json", False, None),
    (FX + "sferik__mtgox/mysql_error", 200, "text/html", False, rc.NOT_JSON),
    (FX + "sferik__mtgox/error.json", 403, "application/json", True, rc.AUTH_FAILED),
    (FX + "sferik__mtgox/unknown_error.json", 200, "application/json", False, rc.EXCHANGE_ERROR),
    (FX + "knowm__XChange/v2/trade/polling/example-failure-response-data.json", 200, "application/json", True,
     rc.EXCHANGE_ERROR),
    (FX + "sferik__mtgox/historical/2011-06-18_c5e2283e/error.json", 200, "application/json", True,
     rc.EXCHANGE_ERROR),
    (FX + "mattcarrier__mtgox4j-client/TickerFast.json", 200, "application/json", False, None),
    (FX + "sferik__mtgox/history.json", 200, "application/json", True, None),
])
def test_real_answers_are_classified(
    capture: str, status: int, ctype: str, private: bool, expected: str | None
) -> None:
    error, decoded = classify(status, ctype, shared_path(capture).read_bytes(), private)
    assert error == expected
    if expected is None:
        assert decoded is not None


def test_faults_the_exchange_sent_are_classified() -> None:
    good = orjson.dumps({"result": "success", "return": {"a": 1}})
    assert classify(200, "application/json", good[:-3], False)[0] == rc.NOT_JSON
    assert classify(503, "text/html", b"<!DOCTYPE html><html>DDoS protection</html>", False)[0] == rc.RATE_LIMITED
    assert classify(429, "application/json", b'{"result":"error"}', False)[0] == rc.RATE_LIMITED
    assert classify(502, "text/html", b"<html>Bad gateway</html>", False)[0] == rc.HTML_PAGE
    assert classify(502, "application/json", b'{"result":"error","error":"x"}', False)[0] == rc.HTTP_5XX
    assert classify(404, "application/json", b'{"result":"error","error":"x"}', False)[0] == rc.HTTP_4XX
    assert classify(None, "", b"", False)[0] == rc.CONNECTION
    assert classify(200, "text/csv", b"Index,Date,Type,Info,Value,Balance\n", True) == (None, None)


def test_trade_pages_of_every_era_give_tids_and_microsecond_times() -> None:
    old = json.loads(shared_path("data/real/mtgox-api-sferik/2011-06-07_3bf489a/trades.json").read_bytes())
    page = trades_page(old, 0)
    assert len(page.tids) == 11_214 and page.tids[0] == 118393 and page.times_us[0] == 1307353946 * 10**6
    new = json.loads(shared_path("data/real/mtgox-api-sferik/2013-04-13_1acffb3/trades.json").read_bytes())
    page = trades_page(new, 1)
    assert page.tids[0] == 1365779997854917 and page.times_us[0] == 1365779997854917 and not page.full


def test_the_cursor_moves_to_the_highest_tid_and_jumps_the_june_2011_gap() -> None:
    page = trades_page([{"tid": "7", "date": 1}, {"tid": "9", "date": 2}, {"tid": "8", "date": 2}], 0)
    assert next_since(3, page) == 9
    empty = trades_page([], 0)
    assert next_since(218868, empty) == FIRST_MICRO_TID - 1
    assert next_since(FIRST_MICRO_TID + 5, empty) is None  # caught up: keep the cursor


def test_the_adapter_is_registered_under_its_name() -> None:
    from collector.exchanges import REGISTRY

    assert REGISTRY["mtgox"] is MTGOX
