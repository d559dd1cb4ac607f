"""The Kraken adapter: the official signature vector, requests, answer classes and pages (real captures too)."""

from __future__ import annotations

import json
from decimal import Decimal

import orjson
import pytest

from collector import record as rc
from collector.exchanges import REGISTRY
from collector.exchanges.kraken import (
    COUNTERS,
    ENDPOINTS,
    KRAKEN,
    api_sign,
    build,
    classify,
    history_page,
    next_since,
    sign,
    time_us,
    trades_page,
)
from tests.shared import shared_path

XCHANGE = "fixtures/kraken-bitstamp/kraken/xchange/xchange-kraken/src/test/resources/org/knowm/xchange/kraken/dto"


def test_the_official_api_sign_example_is_reproduced() -> None:
    # docs.kraken.com spot-rest-auth "Examples" (reference §0.1).
    secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
    body = b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
    assert api_sign(secret, "/0/private/AddOrder", "1616492376594", body) == (
        "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==")


def test_a_private_request_is_signed_over_its_path_nonce_and_exact_body() -> None:
    req = build(ENDPOINTS["ledgers"], 0, page=3)
    assert (req.method, req.path, req.sign_path, dict(req.params)) == (
        "POST", "0/private/Ledgers", "/0/private/Ledgers", {"ofs": "100"})
    params = {"nonce": "1700000000000000", **req.params}
    body = b"nonce=1700000000000000&ofs=100"
    headers = sign("my-key", "c2VjcmV0", req, params, body)
    assert headers["API-Key"] == "my-key"
    assert headers["API-Sign"] == api_sign("c2VjcmV0", "/0/private/Ledgers", "1700000000000000", body)


def test_public_requests_name_the_pair_as_kraken_spells_it() -> None:
    trades = build(ENDPOINTS["trades"], 0, "BTCUSD", since=1688671969993150842)
    assert (trades.method, trades.path, dict(trades.params)) == (
        "GET", "0/public/Trades", {"pair": "XBTUSD", "since": "1688671969993150842"})
    assert dict(build(ENDPOINTS["depth"], 0, "ETHBTC").params) == {"pair": "ETHXBT", "count": "100"}
    assert build(ENDPOINTS["ticker"], 0, "BTCEUR").market == "BTCEUR"


def test_kraken_is_registered_with_a_counter_for_every_tier() -> None:
    assert REGISTRY["kraken"] is KRAKEN
    assert {t: (c.limit, c.decay_per_s, c.cost("ledgers:-")) for t, c in COUNTERS.items()} == {
        "starter": (14.0, 0.33, 2.0), "intermediate": (19.0, 0.5, 2.0), "pro": (19.0, 1.0, 2.0)}


@pytest.mark.parametrize(("status", "body", "expected"), [
    (200, b'{"error":[],"result":{"unixtime":1}}', None),
    (200, b'{"error":["WGeneral:Deprecated"],"result":{"unixtime":1}}', None),
    (200, b'{"error":["EAPI:Rate limit exceeded"]}', rc.RATE_LIMITED),
    (200, b'{"error":["EGeneral:Too many requests"]}', rc.RATE_LIMITED),
    (200, b'{"error":["EService: Throttled: 1700000000"]}', rc.RATE_LIMITED),
    (200, b'{"error":["EAPI:Invalid nonce"]}', rc.AUTH_FAILED),
    (200, b'{"error":["EAPI:Invalid signature"]}', rc.AUTH_FAILED),
    (200, b'{"errors":[{"field":"Kraken-Nonce","type":"Invalid nonce","severity":"E","errorClass":"API"}]}',
     rc.AUTH_FAILED),
    (200, b'{"error":["EQuery:Unknown asset pair"]}', rc.EXCHANGE_ERROR),
    (200, b'{"error":["EService:Unavailable"]}', rc.EXCHANGE_ERROR),
    (200, b'{"error":[],"result":{"unixt', rc.NOT_JSON),
    (200, b"[1, 2]", rc.EXCHANGE_ERROR),
    (520, b'{"error":["EService:Unavailable"]}', rc.HTTP_5XX),
    (404, b"not found", rc.HTTP_4XX),
    (503, b"<html>Cloudflare</html>", rc.RATE_LIMITED),
    (502, b"<html>bad gateway</html>", rc.HTML_PAGE),
    (None, b"", rc.CONNECTION),
])
def test_every_kind_of_answer_gets_its_class(status: int | None, body: bytes, expected: str | None) -> None:
    assert classify(status, "application/json", body, True)[0] == expected


def test_a_trades_page_takes_trade_ids_exact_times_and_last_as_the_cursor() -> None:
    # The ccxt 2024 capture's shape: 8 elements, the 7th the trade id, `last` a string, keyed by the new pair id.
    body = {"error": [], "result": {"XBTUSDT": [["73324.40000", "0.01030900", 1710327959.1733468, "b", "m", "",
                                                  6324366, "1710327959173746878"]], "last": "1710327959173746878"}}
    page = trades_page(orjson.loads(orjson.dumps(body)), 0)
    assert page.tids == (6324366,) and page.times_us == (1710327959173346,) and not page.full
    assert next_since(1710327000000000000, page) == 1710327959173746878


def test_an_empty_page_means_caught_up() -> None:
    page = trades_page({"error": [], "result": {"XXBTZUSD": [], "last": "1710327959173746878"}}, 0)
    assert next_since(1710327959173746878, page) is None


def test_times_become_microseconds_from_the_digits_not_through_a_float() -> None:
    assert time_us(1688671969.9931508) == 1688671969993150
    assert time_us(Decimal("1385579841.7774")) == 1385579841777400


def test_ledger_pages_count_from_ofs_and_count() -> None:
    result = {"error": [], "result": {"ledger": {f"L{i}": {"time": 1546992921.8 + i} for i in range(50)},
                                      "count": 120}}
    page = history_page(result, 0, b"", {"ofs": "50"})
    assert (page.current_page, page.max_page, len(page.indexes)) == (2, 3, 50)


def test_the_real_2013_trades_capture_parses_with_six_element_rows() -> None:
    data = json.loads(shared_path(f"{XCHANGE}/marketdata/example-trades-data.json").read_text())
    page = trades_page(data, 0)
    # No trade id in 2013: the time in µs x 1000, plus a rank among rows of the same µs.
    assert page.tids and all(tid // 1000 == t for tid, t in zip(page.tids, page.times_us, strict=True))
    assert len(set(page.tids)) == len(page.tids)
    assert page.times_us[0] == 1385579841777400


def test_the_real_ccxt_captures_classify_as_good_answers_and_parse() -> None:
    fixture = json.loads(shared_path("fixtures/kraken-bitstamp/kraken/response/kraken.json").read_text())
    for method in ("fetchTrades", "fetchTicker", "fetchOHLCV"):
        for case in fixture["methods"][method]:
            error, _ = classify(200, "application/json", orjson.dumps(case["httpResponse"]), False)
            assert error is None, (method, case["description"])
    [trades] = fixture["methods"]["fetchTrades"]
    assert trades_page(trades["httpResponse"], 0).tids == (6324366,)


def test_a_backfill_date_becomes_each_exchanges_cursor() -> None:
    from collector.backfill import parse_point
    from collector.exchanges.kraken import cursor_at as kraken_cursor_at

    assert parse_point("2024-03-13T10:25:59Z", kraken_cursor_at) == 1710325559_000_000_000
    assert parse_point("2013-01-01") == 1356998400_000_000  # Mt.Gox: µs tids
    assert parse_point("2011-01-01") == 0  # before Mt.Gox's µs tids: from the first trade
    assert parse_point("1710327959173746878", kraken_cursor_at) == 1710327959173746878
