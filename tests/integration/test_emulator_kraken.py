"""The emulator's Kraken mode over real HTTP on loopback: every answer against Kraken's own captures and
spec examples, read by the collector's Kraken adapter, and its auth, limits and faults.

Captures (../shared): ccxt's 2024 `response/kraken.json` (real httpResponse bodies), the official OpenAPI
spec's YAML examples, and XChange's 2014 json files. Kraken keys answers by the pair's id, which in the
captures is another pair (XBTUSDT, XETHXXBT), so pair keys are compared as one `PAIR`.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from collector import record as rc
from collector.exchanges import kraken
from emulator.auth import ApiKey
from emulator.config import EmulatorConfig
from tests.emulator_client import Emulator, next_nonce, running_emulator
from tests.kraken_records import yaml_value
from tests.shared import shared_path
from tests.typetree import conform

KR = "fixtures/kraken-bitstamp/kraken/"
SPEC = KR + "krakenfx-api-specs/spot-rest/"
XC = KR + "xchange/xchange-kraken/src/test/resources/org/knowm/xchange/kraken/dto/"
# Fields of a fill that opened a margin position; the emulator has no margin trading.
POSITION_FIELDS = ("posstatus", "cprice", "ccost", "cfee", "cvol", "cmargin", "net", "trades")


class Clock:
    """A wall clock the test moves: the emulator's market, limits and counter all run on it."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    """A patient client: its clock moves ten seconds before each request, so the call counter never refuses."""
    clock = Clock()
    with running_emulator(EmulatorConfig(exchange="kraken", seed=5, min_interval_s=0, history_hours=3,
                                         wall_clock=clock)) as emu:
        emu.http.event_hooks["request"].append(lambda _: setattr(clock, "now", clock.now + 10))
        yield emu


# -- captures ----------------------------------------------------------------------------------------------------


def floats(value: Any) -> Any:
    """A YAML value with its Decimals as floats, the JSON types the type trees know."""
    if isinstance(value, dict):
        return {k: floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [floats(v) for v in value]
    return float(value) if isinstance(value, Decimal) else value


def spec(relative: str) -> Any:
    return floats(yaml_value(shared_path(SPEC + relative)))


def xchange(relative: str) -> Any:
    return json.loads(shared_path(XC + relative).read_text())


def ccxt(method: str) -> list[Any]:
    doc = json.loads(shared_path(KR + "response/kraken.json").read_text())
    return [case["httpResponse"] for case in doc["methods"][method]]


def system_status_example() -> Any:
    text = shared_path(SPEC + "openapi_v3.yaml").read_text()
    return {"error": [], "result": json.loads(re.search(r'\{ "status": "online", "timestamp": "[^"]+" \}', text)[0])}


def by_pair(doc: Any) -> Any:
    return {**doc, "result": {("last" if k == "last" else "PAIR"): v for k, v in doc["result"].items()}}


def values(doc: Any) -> Any:
    return {**doc, "result": list(doc["result"].values())}


def same(doc: Any) -> Any:
    return doc


def entries(name: str, *drop: str) -> Callable[[Any], Any]:
    """The entries of a Ledgers or TradesHistory answer, without `drop` (fields some captures lack)."""
    return lambda doc: [{k: v for k, v in e.items() if k not in drop} for e in doc["result"][name].values()]


PUBLIC = [
    ("Trades", {"pair": "XBTUSD"}, lambda: [*ccxt("fetchTrades"), spec("examples/responses/public/trades.yaml")],
     by_pair),
    ("Ticker", {"pair": "XBTUSD"}, lambda: [*ccxt("fetchTicker"), spec("examples/responses/public/ticker.yaml"),
                                            xchange("marketdata/example-ticker-data.json")], by_pair),
    ("OHLC", {"pair": "XBTUSD", "interval": "60"},
     lambda: [*ccxt("fetchOHLCV"), spec("examples/responses/public/ohlc.yaml"),
              xchange("marketdata/example-ohlc-data.json")], by_pair),
    ("Depth", {"pair": "XBTEUR", "count": "10"},
     lambda: [spec("examples/responses/public/depth.yaml"), xchange("marketdata/example-depth-data.json")], by_pair),
    ("AssetPairs", {}, lambda: [spec("examples/responses/public/assets/pairs.yaml")], values),
    ("Assets", {}, lambda: [spec("examples/responses/public/assets/info.yaml"),
                            xchange("marketdata/example-assets-data.json")], values),
    ("Time", {}, lambda: [spec("examples/responses/public/time.yaml"),
                          xchange("marketdata/example-servertime-data.json")], same),
    ("SystemStatus", {}, lambda: [system_status_example()], same),
]

PRIVATE = [
    # Keyed by asset: the captures' accounts hold other assets, so the balances are compared as values.
    ("Balance", {}, lambda: [spec("responses/user/account/balance.yaml"),
                             xchange("account/example-balance-data.json")], values),
    # `subtype` is in today's answers and the schema, not in these older examples.
    ("Ledgers", {}, lambda: [spec("examples/responses/user/ledgers/info.yaml"),
                             xchange("account/example-ledgerinfo-data.json")], entries("ledger", "subtype")),
    # `maker` is in the schema, not in the examples.
    ("TradesHistory", {}, lambda: [spec("examples/responses/user/trades/history.yaml")],
     entries("trades", "maker", *POSITION_FIELDS)),
]


@pytest.mark.parametrize(("method", "params", "captured", "normal"), PUBLIC, ids=[c[0] for c in PUBLIC])
def test_every_public_answer_conforms_to_kraken_s_captures(
    emu: Emulator, method: str, params: dict[str, str], captured: Callable[[], list[Any]],
    normal: Callable[[Any], Any],
) -> None:
    r = emu.kraken_public(method, **params)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert conform(normal(r.json()), *map(normal, captured()), ordered=True) == []


@pytest.mark.parametrize(("method", "params", "captured", "normal"), PRIVATE, ids=[c[0] for c in PRIVATE])
def test_every_private_answer_conforms_to_kraken_s_captures(
    emu: Emulator, method: str, params: dict[str, str], captured: Callable[[], list[Any]],
    normal: Callable[[Any], Any],
) -> None:
    r = emu.kraken_private(method, emu.key("alice", "get_info"), params)
    assert r.status_code == 200 and r.json()["error"] == []
    assert conform(normal(r.json()), *map(normal, captured()), ordered=True) == []


def test_balances_are_keyed_by_kraken_s_asset_codes(emu: Emulator) -> None:
    codes = set(spec("responses/user/account/balance.yaml")["result"])
    balance = emu.kraken_private("Balance", emu.key("alice", "get_info")).json()["result"]
    assert set(balance) == {"XXBT", "ZUSD", "ZEUR"} <= codes


def test_fills_say_whether_the_account_made_them_as_the_schema_types_it(emu: Emulator) -> None:
    fills = emu.kraken_private("TradesHistory", emu.key("alice", "get_info")).json()["result"]["trades"]
    assert fills and all(isinstance(f["maker"], bool) and isinstance(f["trade_id"], int) for f in fills.values())


def test_error_bodies_are_kraken_s_error_array() -> None:
    example = floats(yaml_value(shared_path(SPEC + "schemas/objects/errors/error.yaml")))["items"]["example"]
    with running_emulator(EmulatorConfig(exchange="kraken", min_interval_s=0, history_hours=1)) as emu:
        for r in (emu.kraken_public("Trades", pair="XBTJPY"), emu.kraken_public("Nothing"),
                  emu.kraken_private("Balance", ApiKey("nobody", "c2VjcmV0", frozenset(), "x"))):
            assert conform(r.json(), {"error": [example]}, ordered=True) == []


# -- names, pairs, errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["XBTUSD", "XXBTZUSD", "XBT/USD"])
def test_answers_are_keyed_by_the_legacy_pair_id_whatever_spelling_was_asked(emu: Emulator, spelling: str) -> None:
    for method in ("Ticker", "Depth", "Trades", "OHLC"):
        result = emu.kraken_public(method, pair=spelling).json()["result"]
        assert set(result) - {"last"} == {"XXBTZUSD"}


def test_an_unknown_pair_and_an_unknown_method_get_kraken_s_errors(emu: Emulator) -> None:
    r = emu.kraken_public("Ticker", pair="XBTJPY")
    assert r.status_code == 200 and r.json() == {"error": ["EQuery:Unknown asset pair"]}
    for path in ("/0/public/Spreads", "/0/private/AddOrder", "/1/public/Time", "/nothing"):
        r = emu.http.get(path)
        assert r.status_code == 404 and r.json() == {"error": ["EGeneral:Unknown method"]}


def test_bad_arguments_are_invalid_arguments(emu: Emulator) -> None:
    for method, params in [("OHLC", {"pair": "XBTUSD", "interval": "7"}), ("Trades", {"pair": "XBTUSD", "since": "x"}),
                           ("Depth", {"pair": "XBTUSD", "count": "0"}), ("Depth", {})]:
        errors = emu.kraken_public(method, **params).json()["error"]
        assert len(errors) == 1 and errors[0].startswith("EGeneral:Invalid arguments")


def test_depth_gives_count_levels_best_first(emu: Emulator) -> None:
    book = emu.kraken_public("Depth", pair="XBTUSD", count="7").json()["result"]["XXBTZUSD"]
    asks, bids = ([Decimal(level[0]) for level in book[side]] for side in ("asks", "bids"))
    assert len(asks) == len(bids) == 7 and asks == sorted(asks) and bids == sorted(bids, reverse=True)
    assert bids[0] < asks[0]
    assert len(emu.kraken_public("Depth", pair="XBTUSD", count="9999").json()["result"]["XXBTZUSD"]["asks"]) == 500


# -- the collector's adapter reads the answers ------------------------------------------------------------------


def collector_get(emu: Emulator, req: kraken.Request) -> tuple[str | None, Any]:
    r = emu.http.get(f"/{req.path}", params=dict(req.params))
    return kraken.classify(r.status_code, r.headers.get("content-type", ""), r.content, False)


def collector_post(emu: Emulator, req: kraken.Request, key: ApiKey, nonce: int | None = None) -> tuple[
        str | None, Any, bytes]:
    """A private call exactly as the collector signs it (its own api_sign)."""
    fields = {"nonce": str(nonce or next_nonce()), **req.params}
    body = urlencode(fields).encode()
    headers = kraken.sign(key.key, key.secret, req, fields, body)
    r = emu.http.post(f"/{req.path}", content=body, headers=headers)
    error, decoded = kraken.classify(r.status_code, r.headers.get("content-type", ""), r.content, True)
    return error, decoded, body


def walk_trades(emu: Emulator, market: str = "BTCUSD") -> list[list[Any]]:
    """Every trade of the feed, paging with since = the previous answer's `last` from the very start."""
    rows: list[list[Any]] = []
    since: int | None = 0
    while since is not None:
        error, decoded = collector_get(emu, kraken.build(kraken.ENDPOINTS["trades"], 0, market, since=since))
        assert error is None, decoded
        page = kraken.trades_page(decoded, 0)
        rows += decoded["result"]["XXBTZUSD" if market == "BTCUSD" else "XXBTZEUR"]
        since = kraken.next_since(since, page)
    return rows


def test_a_walk_with_since_last_returns_every_trade_once_with_ids_counting_one_by_one(emu: Emulator) -> None:
    rows = walk_trades(emu)
    ids = [r[6] for r in rows]
    assert len(ids) > kraken.TRADES_PAGE  # more than one page
    assert ids == list(range(1, len(ids) + 1))
    tids = kraken.trades_page({"error": [], "result": {"XXBTZUSD": rows, "last": "0"}}, 0).tids
    assert list(tids) == ids
    feed = emu.exchange.market.feeds["USD"].trades
    assert len(feed) >= len(ids) and [Decimal(r[0]) * 100_000 for r in rows[:50]] == [t.price_int for t in feed[:50]]


def test_committed_one_minute_bars_equal_the_bars_recomputed_from_the_trades_answers(emu: Emulator) -> None:
    error, decoded = collector_get(emu, kraken.build(kraken.ENDPOINTS["ohlc"], 0, "BTCUSD"))
    assert error is None
    bars = decoded["result"]["XXBTZUSD"]
    committed = bars[:-1]
    by_minute: dict[int, list[list[Any]]] = defaultdict(list)
    for row in walk_trades(emu):  # fetched after the bars: every committed minute is whole in it
        by_minute[kraken.time_us(row[2]) // 60_000_000 * 60].append(row)
    assert len(committed) == 719 or committed[0][0] == min(by_minute)
    for start, o, h, lo, c, _vwap, volume, count in committed:
        trades = by_minute[start]
        prices = [Decimal(t[0]) for t in trades]
        assert (Decimal(o), Decimal(h), Decimal(lo), Decimal(c)) == (prices[0], max(prices), min(prices), prices[-1])
        assert Decimal(volume) == sum(Decimal(t[1]) for t in trades) and count == len(trades)
    covered = {b[0] for b in committed}
    assert {m for m in by_minute if committed[0][0] <= m <= committed[-1][0]} == covered  # no bar missing


def test_paging_ledgers_by_ofs_returns_every_entry_once_and_balances_chain(emu: Emulator) -> None:
    key = emu.key("alice", "get_info")
    ledger: dict[str, Any] = {}
    page, max_page = 1, 1
    while page <= max_page:
        req = kraken.build(kraken.ENDPOINTS["ledgers"], 0, page=page)
        error, decoded, body = collector_post(emu, req, key)
        assert error is None, decoded
        info = kraken.history_page(decoded, 0, body, req.params)
        assert info.current_page == page and len(info.indexes) <= kraken.HISTORY_PAGE
        for entry_id, entry in decoded["result"]["ledger"].items():
            assert entry_id not in ledger
            ledger[entry_id] = entry
        max_page, page = info.max_page, page + 1
    assert len(ledger) == decoded["result"]["count"] and max_page >= 3
    balances: dict[str, Decimal] = defaultdict(Decimal)
    for e in reversed(list(ledger.values())):  # oldest first
        assert Decimal(e["balance"]) == balances[e["asset"]] + Decimal(e["amount"]) - Decimal(e["fee"])
        balances[e["asset"]] = Decimal(e["balance"])
    error, decoded, _ = collector_post(emu, kraken.build(kraken.ENDPOINTS["balance"], 0), key)
    assert {a: Decimal(v) for a, v in decoded["result"].items()} == dict(balances)
    refs = defaultdict(list)
    for e in ledger.values():
        refs[e["refid"]].append(e)
    fills = [group for group in refs.values() if group[0]["type"] == "trade"]
    assert fills and all(sorted(e["asset"] for e in g)[0] == "XXBT" and len(g) == 2 for g in fills)


def test_paging_trades_history_by_ofs_returns_every_fill_once_matching_the_ledger(emu: Emulator) -> None:
    key = emu.key("alice", "get_info")
    fills: dict[str, Any] = {}
    page, max_page = 1, 1
    while page <= max_page:
        req = kraken.build(kraken.ENDPOINTS["trades_history"], 0, page=page)
        error, decoded, body = collector_post(emu, req, key)
        assert error is None
        fills.update(decoded["result"]["trades"])
        max_page, page = kraken.history_page(decoded, 0, body, req.params).max_page, page + 1
    assert len(fills) == decoded["result"]["count"] > kraken.HISTORY_PAGE
    times = [f["time"] for f in fills.values()]
    assert times == sorted(times, reverse=True)
    newest_trade_entry = next(iter(emu.kraken_private("Ledgers", key, {"type": "trade"}).json()["result"]["ledger"]))
    (entry,) = emu.kraken_private("QueryLedgers", key, {"id": newest_trade_entry}).json()["result"].values()
    assert entry["refid"] in fills
    one = emu.kraken_private("QueryTrades", key, {"txid": entry["refid"]}).json()["result"]
    assert one == {entry["refid"]: fills[entry["refid"]]}


def test_ledger_filters_and_bounds_select_entries(emu: Emulator) -> None:
    key = emu.key("alice", "get_info")

    def ledger(**params: str) -> dict[str, Any]:
        return emu.kraken_private("Ledgers", key, params).json()["result"]

    btc = ledger(asset="XBT")
    assert {e["asset"] for e in btc["ledger"].values()} == {"XXBT"}
    deposits = ledger(type="deposit")
    assert deposits["count"] >= 3 and {e["type"] for e in deposits["ledger"].values()} == {"deposit"}
    newest = list(ledger()["ledger"].values())
    cut = newest[10]["time"]
    assert all(e["time"] > cut for e in ledger(start=str(cut))["ledger"].values())
    assert all(e["time"] <= cut for e in ledger(end=str(cut))["ledger"].values())
    assert "count" not in ledger(without_count="true")


# -- auth --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator with a keys file: a query key and a trade-only key (no query right) of one account."""
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    path.write_text(json.dumps({"keys": [
        {"key": "query-key", "secret": "cXVlcnktc2VjcmV0", "rights": ["get_info"], "account": "carol"},
        {"key": "trade-key", "secret": "dHJhZGUtc2VjcmV0", "rights": ["trade"], "account": "carol"},
    ]}))
    with running_emulator(EmulatorConfig(exchange="kraken", seed=2, min_interval_s=0, history_hours=1,
                                         keys=path)) as emu:
        yield emu


def test_signatures_made_by_the_collector_are_accepted(keyed: Emulator) -> None:
    key = keyed.key("carol", "get_info")
    error, decoded, _ = collector_post(keyed, kraken.build(kraken.ENDPOINTS["balance"], 0), key)
    assert error is None and set(decoded["result"]) == {"XXBT", "ZUSD", "ZEUR"}


def test_each_refused_credential_gets_its_error_and_leaves_the_nonce_where_it_was(keyed: Emulator) -> None:
    key, trade_only = keyed.key("carol", "get_info"), keyed.key("carol", "trade")
    auth = keyed.exchange.auth
    base = next_nonce()
    assert keyed.kraken_private("Balance", key, nonce=base).json()["error"] == []
    assert auth.last_nonce(key.key) == base
    stranger = ApiKey("unknown-key", key.secret, key.rights, "carol")
    refused = [
        (keyed.kraken_private("Balance", key, nonce=base), "EAPI:Invalid nonce"),  # not greater
        (keyed.kraken_private("Balance", key, nonce=base + 10**6, secret="d3Jvbmc="), "EAPI:Invalid signature"),
        (keyed.kraken_private("Balance", stranger, nonce=base + 10**6), "EAPI:Invalid key"),
        (keyed.kraken_private("Ledgers", trade_only, nonce=base + 10**6), "EGeneral:Permission denied"),
    ]
    for r, error in refused:
        assert r.status_code == 200 and r.json() == {"error": [error]}
        assert kraken.classify(200, "application/json", r.content, True)[0] == rc.AUTH_FAILED
    assert auth.last_nonce(key.key) == base and auth.last_nonce(trade_only.key) is None
    # The refused calls' big nonces were not recorded: a nonce just above the accepted one still works.
    assert keyed.kraken_private("Balance", key, nonce=base + 1).json()["error"] == []
    assert keyed.kraken_private("Ledgers", trade_only, nonce=base + 1).json() == {
        "error": ["EGeneral:Permission denied"]}


# -- limits ------------------------------------------------------------------------------------------------------


def log_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_starter_burst_of_ledgers_calls_is_refused_after_seven_flagged_and_taken_again_after_decay(
    tmp_path: Path,
) -> None:
    clock, log = Clock(), tmp_path / "requests.jsonl"
    config = EmulatorConfig(exchange="kraken", seed=3, history_hours=1, kraken_tier="starter", kraken_cooloff_s=5.0,
                            request_log=log, wall_clock=clock)
    with running_emulator(config) as emu:
        key = emu.key("alice", "get_info")
        answers = [collector_post(emu, kraken.build(kraken.ENDPOINTS["ledgers"], 0), key)[:2] for _ in range(8)]
        assert [a[0] for a in answers] == [None] * 7 + [rc.RATE_LIMITED]
        assert answers[-1][1] == {"error": ["EAPI:Rate limit exceeded"]}
        clock.now += 3  # still restricted: the cool-off is 5 s
        assert emu.kraken_private("Balance", key).json() == {"error": ["EAPI:Rate limit exceeded"]}
        clock.now += 7  # 10 s of decay at 0.33/s: 14 - 3.3 + 2 fits under 15
        assert emu.kraken_private("Ledgers", key).json()["error"] == []
    flags = [(line["endpoint"], line["violation"]) for line in log_lines(log)]
    assert flags == [("ledgers", False)] * 7 + [("ledgers", True), ("balance", True), ("ledgers", False)]


def test_public_calls_faster_than_one_a_second_are_flagged_then_blocked_with_too_many_requests(
    tmp_path: Path,
) -> None:
    clock, log = Clock(), tmp_path / "requests.jsonl"
    config = EmulatorConfig(exchange="kraken", seed=3, history_hours=1, violations_to_block=3, cooloff_s=60,
                            request_log=log, wall_clock=clock)
    with running_emulator(config) as emu:
        for _ in range(5):  # once a second: never flagged
            assert emu.kraken_public("Ticker", pair="XBTUSD").json()["error"] == []
            clock.now += 1.0
        # Trades are limited per pair: both pairs at once is fine, two spellings of one pair are one budget.
        assert emu.kraken_public("Trades", pair="XBTUSD").json()["error"] == []
        assert emu.kraken_public("Trades", pair="XBTEUR").json()["error"] == []
        answers = []
        for _ in range(3):
            answers.append(emu.kraken_public("Trades", pair="XXBTZUSD"))
            clock.now += 0.4
        assert [a.json()["error"] for a in answers] == [[], [], ["EGeneral:Too many requests"]]
        assert kraken.classify(200, "application/json", answers[-1].content, False)[0] == rc.RATE_LIMITED
        assert emu.kraken_public("Time").json() == {"error": ["EGeneral:Too many requests"]}  # the whole IP
        clock.now += 61
        assert emu.kraken_public("Time").json()["error"] == []
    lines = log_lines(log)
    assert [line["violation"] for line in lines] == [False] * 7 + [True, True, True, False, False]
    assert [line["blocked"] for line in lines][-3:] == [True, True, False]


# -- faults ------------------------------------------------------------------------------------------------------


def test_faults_produce_kraken_looking_failures(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    spec_text = ("mysql@ticker=1,http503@depth=1,http502@time=1,html@assets=1,http504@system_status=1,"
                 "truncate@ohlc=1,slow:0.3@balance=1")
    with running_emulator(EmulatorConfig(exchange="kraken", seed=3, min_interval_s=0, history_hours=1,
                                         faults=spec_text, request_log=log)) as emu:
        def answer(method: str, **params: str) -> tuple[int, str | None, bytes]:
            r = emu.kraken_public(method, **params)
            return r.status_code, kraken.classify(r.status_code, r.headers["content-type"], r.content, False)[0], \
                r.content

        assert answer("Ticker", pair="XBTUSD") == (200, rc.EXCHANGE_ERROR, b'{"error":["EService:Unavailable"]}')
        assert answer("Depth", pair="XBTUSD") == (503, rc.HTTP_5XX, b'{"error":["EService:Unavailable"]}')
        for method, status in (("Time", 502), ("Assets", 502), ("SystemStatus", 504)):
            got = answer(method)
            assert got[:2] == (status, rc.HTML_PAGE) and b"cloudflare" in got[2].lower()
        assert answer("OHLC", pair="XBTUSD")[:2] == (200, rc.NOT_JSON)
        started = time.monotonic()
        assert emu.kraken_private("Balance", emu.key("alice", "get_info")).json()["error"] == []
        assert time.monotonic() - started >= 0.3

        first = emu.kraken_public("Trades", pair="XBTUSD", since="0", count="20").json()["result"]
        emu.exchange.inject_faults("overlap:3@trades=1")
        stepped = emu.kraken_public("Trades", pair="XBTUSD", since=first["last"]).json()["result"]["XXBTZUSD"]
        assert [r[6] for r in stepped[:4]] == [18, 19, 20, 21]
        emu.exchange.inject_faults("repeat@trades=1")
        repeated = emu.kraken_public("Trades", pair="XBTUSD", since="0", count="5").json()["result"]["XXBTZUSD"]
        assert [r[6] for r in repeated] == [1, 2, 3, 4, 5, 3, 4, 5]
        emu.exchange.inject_faults("drop@ticker=1")
        with pytest.raises(httpx.RemoteProtocolError):
            emu.kraken_public("Ticker", pair="XBTUSD")
    faults = [line["fault"] for line in log_lines(log)]
    assert faults[:8] == ["mysql", "http503", "http502", "html", "http504", "truncate", "slow:0.3", None]
    assert faults[8:] == ["overlap:3", "repeat", "drop"]


# -- the same world as the Mt.Gox face ---------------------------------------------------------------------------


def test_the_same_seed_serves_the_same_trades_and_accounts_as_the_mtgox_face() -> None:
    epoch = float(int(time.time()) - 120)
    settings = {"seed": 21, "history_hours": 1.0, "epoch": epoch, "min_interval_s": 0, "cache_s": 0}
    with running_emulator(EmulatorConfig(**settings)) as gox, \
            running_emulator(EmulatorConfig(exchange="kraken", **settings)) as krk:
        mtgox = gox.get("1/BTCUSD/trades", since=0, raw="").json()
        rows = krk.kraken_public("Trades", pair="XBTUSD", since="0").json()["result"]["XXBTZUSD"]
        before = [t for t in mtgox if t["date"] < epoch]
        assert len(before) > 50
        assert [(t["price"], t["amount"], int(t["tid"])) for t in before] == [
            (r[0].rstrip("0").rstrip("."), r[1].rstrip("0").rstrip("."), kraken.time_us(r[2]))
            for r in rows[: len(before)]]
        for account in ("alice", "bob"):
            info = gox.private(1, "generic/info", gox.key(account, "get_info")).json()["return"]["Wallets"]
            balance = krk.kraken_private("Balance", krk.key(account, "get_info")).json()["result"]
            assert {code: Decimal(w["Balance"]["value"]) for code, w in info.items()} == {
                {"XXBT": "BTC", "ZUSD": "USD", "ZEUR": "EUR"}[a]: Decimal(v) for a, v in balance.items()}


# -- the command line --------------------------------------------------------------------------------------------


def test_marketrec_emulator_exchange_kraken_announces_kraken_and_serves_its_api() -> None:
    cli = [sys.executable, "-m", "marketrec", "emulator", "--exchange", "kraken", "--tier", "pro", "--port", "0",
           "--history-hours", "1"]
    proc = subprocess.Popen(cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = [proc.stdout.readline() for _ in range(3)]
        assert banner[0].startswith("Kraken emulator on http://127.0.0.1:") and "/0/public/" in banner[0]
        assert "pro (max 20, -1/s" in banner[1] and "one call every 1 s" in banner[1]
        url = re.search(r"http://127\.0\.0\.1:\d+", banner[0])[0]
        assert httpx.get(f"{url}/0/public/Time", timeout=10).json()["error"] == []
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
    assert proc.returncode == 0


@pytest.mark.parametrize(("args", "needle"), [(["--exchange", "bitstamp"], "--exchange"),
                                              (["--exchange", "kraken", "--tier", "gold"], "--tier")])
def test_a_bad_exchange_or_tier_is_one_clear_line_and_exit_2(args: list[str], needle: str) -> None:
    r = subprocess.run([sys.executable, "-m", "marketrec", "emulator", "--port", "0", *args], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr
