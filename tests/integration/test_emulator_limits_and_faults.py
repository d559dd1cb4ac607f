"""Limits, the URL cache, injected faults and the request log, over real HTTP on loopback.

The emulator's wall clock is injected, so ten seconds pass when the test says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from emulator.config import EmulatorConfig
from tests.emulator_client import running_emulator


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def limited(clock: Clock, **overrides: object) -> EmulatorConfig:
    settings: dict = {"min_interval_s": 10.0, "violations_to_block": 3, "cooloff_s": 60.0, "cache_s": 0.0,
                      "history_hours": 2.0, "wall_clock": clock}
    settings.update(overrides)
    return EmulatorConfig(**settings)


def test_a_client_polling_every_ten_seconds_is_never_blocked() -> None:
    clock = Clock()
    with running_emulator(limited(clock)) as emu:
        for _ in range(20):
            assert emu.get("1/BTCUSD/ticker").status_code == 200
            clock.now += 10


def test_a_client_polling_too_fast_is_blocked_with_an_anti_ddos_page_then_let_back_after_the_cool_off() -> None:
    clock = Clock()
    with running_emulator(limited(clock)) as emu:
        statuses = []
        for _ in range(4):
            statuses.append(emu.get("1/BTCUSD/ticker").status_code)
            clock.now += 1
        assert statuses == [200, 200, 200, 503]  # the third too-early call is the last straw
        blocked = emu.get("2/BTCEUR/money/depth/fetch")  # every endpoint, not just the abused one
        assert blocked.status_code == 503 and blocked.text.lstrip().startswith("<")
        assert 0 < int(blocked.headers["Retry-After"]) <= 60
        clock.now += 61
        assert emu.get("1/BTCUSD/ticker").status_code == 200


def test_the_429_style_answers_json_with_retry_after() -> None:
    clock = Clock()
    with running_emulator(limited(clock, block_style="429", violations_to_block=1)) as emu:
        assert emu.get("1/BTCUSD/trades").status_code == 200
        r = emu.get("1/BTCUSD/trades")
        assert r.status_code == 429 and r.json()["result"] == "error" and "Retry-After" in r.headers


def test_full_depth_is_allowed_five_times_an_hour() -> None:
    clock = Clock()
    with running_emulator(limited(clock, min_interval_s=0.0, violations_to_block=1)) as emu:
        for _ in range(5):
            assert emu.get("2/BTCUSD/money/depth/full").status_code == 200
            clock.now += 60
        assert emu.get("2/BTCUSD/money/depth/full").status_code == 503
        clock.now += 3600
        assert emu.get("2/BTCUSD/money/depth/full").status_code == 200


def test_clients_on_different_addresses_have_separate_budgets() -> None:
    clock = Clock()
    with running_emulator(limited(clock, violations_to_block=1)) as emu:
        other = httpx.Client(base_url=emu.url, transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        assert emu.get("1/BTCUSD/ticker").status_code == 200
        assert emu.get("1/BTCUSD/ticker").status_code == 503
        assert other.get("/api/1/BTCUSD/ticker").status_code == 200
        other.close()


def test_public_answers_are_cached_for_ten_seconds_per_url(tmp_path: Path) -> None:
    clock = Clock()
    log = tmp_path / "requests.jsonl"
    with running_emulator(limited(clock, min_interval_s=0.0, cache_s=10.0, speed=100.0, request_log=log)) as emu:
        first = emu.get("1/BTCUSD/ticker").content
        clock.now += 5  # 500 market seconds pass at speed 100, but the answer is the cached one
        assert emu.get("1/BTCUSD/ticker").content == first
        clock.now += 6
        assert emu.get("1/BTCUSD/ticker").content != first
    hits = [json.loads(line)["cache_hit"] for line in log.read_text().splitlines()]
    assert hits == [False, True, False]


FAULT_CASES = [
    ("http502", 502), ("http503", 503), ("http504", 504),
]


@pytest.mark.parametrize(("kind", "status"), FAULT_CASES)
def test_5xx_faults_answer_with_a_json_error_body(kind: str, status: int) -> None:
    with running_emulator(EmulatorConfig(faults=f"{kind}@ticker=1", min_interval_s=0, cache_s=0)) as emu:
        r = emu.get("1/BTCUSD/ticker")
        assert r.status_code == status and r.json()["result"] == "error"
        assert emu.get("1/BTCUSD/depth").status_code == 200  # only the named endpoint is faulty


def test_the_mysql_fault_is_plain_text_with_http_200_like_the_capture() -> None:
    from tests.shared import shared_path

    real = shared_path("fixtures/mtgox/sferik__mtgox/mysql_error").read_bytes()
    with running_emulator(EmulatorConfig(faults="mysql=1", min_interval_s=0, cache_s=0)) as emu:
        r = emu.get("1/BTCUSD/ticker")
    assert r.status_code == 200 and r.content.strip() == real.strip()


def test_the_html_fault_is_an_error_page() -> None:
    with running_emulator(EmulatorConfig(faults="html=1", min_interval_s=0, cache_s=0)) as emu:
        r = emu.get("2/BTCUSD/money/ticker")
    assert r.status_code == 502 and r.text.lstrip().startswith("<") and "text/html" in r.headers["content-type"]


def test_a_truncated_answer_is_json_cut_short() -> None:
    with running_emulator(EmulatorConfig(faults="truncate=1", min_interval_s=0, cache_s=0)) as emu:
        r = emu.get("1/BTCUSD/ticker")
    assert r.status_code == 200 and r.content.startswith(b'{"result":"success"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)


def test_a_slow_answer_outlasts_the_client_timeout() -> None:
    config = EmulatorConfig(faults="slow:2=1", min_interval_s=0, cache_s=0)
    with running_emulator(config) as emu, pytest.raises(httpx.ReadTimeout):
        emu.http.get("/api/1/BTCUSD/ticker", timeout=0.3)


def test_a_dropped_connection_ends_the_answer_midway() -> None:
    with running_emulator(EmulatorConfig(faults="drop@trades=1", min_interval_s=0, cache_s=0)) as emu:
        with pytest.raises(httpx.RemoteProtocolError):
            emu.get("1/BTCUSD/trades")
        assert emu.get("1/BTCUSD/ticker").status_code == 200


def test_overlapping_trade_pages_repeat_trades_before_since() -> None:
    with running_emulator(EmulatorConfig(faults="overlap:4@trades=1", min_interval_s=0, cache_s=0)) as emu:
        tids = [int(t["tid"]) for t in emu.get("1/BTCUSD/trades").json()["return"]]
        since = tids[len(tids) // 2]
        page = [int(t["tid"]) for t in emu.get("1/BTCUSD/trades", since=since).json()["return"]]
    assert sum(1 for tid in page if tid <= since) == 4
    assert page == sorted(set(page))


def test_repeating_trade_pages_hold_some_trades_twice() -> None:
    with running_emulator(EmulatorConfig(faults="repeat@trades=1", min_interval_s=0, cache_s=0)) as emu:
        page = [t["tid"] for t in emu.get("2/BTCUSD/money/trades/fetch").json()["data"]]
    assert len(page) > len(set(page))


def test_faults_are_reproducible_for_a_seed_and_differ_between_seeds() -> None:
    def statuses(seed: int) -> list[int]:
        spec = "http502=0.2,http503=0.1,mysql=0.1,truncate=0.1"
        with running_emulator(EmulatorConfig(seed=seed, faults=spec, min_interval_s=0, cache_s=0)) as emu:
            return [emu.get("1/BTCUSD/ticker").status_code * (2 if emu.get("1/BTCUSD/depth").is_success else 1)
                    for _ in range(40)]

    assert statuses(11) == statuses(11)
    assert statuses(11) != statuses(12)


def test_the_request_log_records_every_call_without_signatures(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    with running_emulator(EmulatorConfig(min_interval_s=0, cache_s=0, request_log=log)) as emu:
        key = emu.key("alice", "get_info")
        emu.get("1/BTCUSD/ticker")
        emu.private(2, "money/info", key)
        emu.get("1/BTCNOPE/ticker")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["method"], e["path"], e["status"]) for e in lines] == [
        ("GET", "/api/1/BTCUSD/ticker", 200), ("POST", "/api/2/money/info", 200), ("GET", "/api/1/BTCNOPE/ticker", 404),
    ]
    private = lines[1]
    assert private["key"] == key.key and "nonce" in private["params"] and private["endpoint"] == "info"
    assert private["bytes"] > 100 and private["time"].endswith("Z") and len(private["time"]) == 27
    text = log.read_text()
    assert key.secret not in text and "Rest-Sign" not in text


def test_every_call_faster_than_a_limit_is_flagged_in_the_request_log_before_and_while_blocked(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    clock = Clock()
    with running_emulator(limited(clock, request_log=log)) as emu:
        for step in (10, 10, 1, 1, 1, 0, 61, 0):
            emu.get("1/BTCUSD/ticker")
            clock.now += step
    flags = [(e["status"], e["violation"], e["blocked"]) for e in map(json.loads, log.read_text().splitlines())]
    # 20 s of polite polling, two early calls answered but flagged, the third blocked, one refused while blocked
    # (not a violation of its own: the block answers it), and a polite one after the cool-off.
    assert flags == [(200, False, False), (200, False, False), (200, False, False), (200, True, False),
                     (200, True, False), (503, True, True), (503, False, True), (200, False, False)]
