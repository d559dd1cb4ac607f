"""Replay of real trades: paging `since` from 0 returns every trade of the file exactly once."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from emulator.config import EmulatorConfig
from emulator.model import MICRO_TID_MIN
from tests.emulator_client import Emulator, running_emulator
from tests.shared import shared_path

MTGOX_100K = "data/real/mtgox-bitcoincharts-first100k/mtgox.csv.gz"


def trades_of(emu: Emulator, version: int, since: int) -> list[dict]:
    path = {0: "0/data/getTrades.php", 1: "1/BTCUSD/trades", 2: "2/BTCUSD/money/trades/fetch"}[version]
    params = {"since": since, **({"Currency": "USD"} if version == 0 else {})}
    r = emu.get(path, **params)
    assert r.status_code == 200, r.text
    body = r.json()
    return body if version == 0 else body["return" if version == 1 else "data"]


def crawl(emu: Emulator, version: int, on_page: Callable[[list[dict]], None] | None = None) -> list[dict]:
    """Follow `since=<last tid>` from 0, jumping the June 2011 gap as real clients did."""
    since, out = 0, []
    while True:
        page = trades_of(emu, version, since)
        if on_page:
            on_page(page)
        if not page:
            if since >= MICRO_TID_MIN:
                return out
            since = MICRO_TID_MIN  # nothing left before the relaunch: jump to microsecond tids
            continue
        out += page
        since = int(page[-1]["tid"])


@pytest.fixture(scope="module")
def real_100k() -> Path:
    return shared_path(MTGOX_100K)


@pytest.mark.parametrize(("version", "page_cap"), [(0, 100), (1, 1000), (2, None)])
def test_paging_since_from_zero_returns_every_real_trade_exactly_once(
    real_100k: Path, version: int, page_cap: int | None
) -> None:
    rows = gzip.decompress(real_100k.read_bytes()).decode().splitlines()
    sizes: list[int] = []
    with running_emulator(EmulatorConfig(replay=real_100k, min_interval_s=0, cache_s=0)) as emu:
        trades = crawl(emu, version, lambda page: sizes.append(len(page)))
    assert len(trades) == len(rows) == 100_000
    assert [int(t["tid"]) for t in trades] == list(range(1, 100_001))
    # Same prices, amounts and seconds as the file, row for row (exact integers, no floats).
    for row, t in zip(rows, trades, strict=True):
        unix, price, amount = row.split(",")
        assert t["date"] == int(unix)
        assert int(t["price_int"]) == round(float(price) * 1e5) and int(t["amount_int"]) == round(float(amount) * 1e8)
    if page_cap is not None:
        assert max(sizes) == page_cap
    else:  # v2 pages hold up to 24 h of trades from the first one
        assert max(sizes) < 100_000
        page_spans = []
        since = 0
        with running_emulator(EmulatorConfig(replay=real_100k, min_interval_s=0, cache_s=0)) as emu:
            for _ in range(5):
                page = trades_of(emu, 2, since)
                page_spans.append(page[-1]["date"] - page[0]["date"])
                since = int(page[-1]["tid"])
        assert all(span < 86_400 for span in page_spans)


def test_a_replay_crossing_the_relaunch_returns_nothing_after_the_last_small_tid(tmp_path: Path) -> None:
    # Three trades before the June 2011 hack, two after the relaunch (bitcoincharts format).
    csv = tmp_path / "cross.csv"
    csv.write_text("1308503000,17.5,1\n1308503001,17.51,2\n1308503626,17.52,3\n"
                   "1309108565,15,0.5\n1309108565,15.1,0.25\n")
    with running_emulator(EmulatorConfig(replay=csv, min_interval_s=0, cache_s=0)) as emu:
        assert [t["tid"] for t in trades_of(emu, 1, 0)] == ["1", "2", "3"]
        assert trades_of(emu, 1, 3) == []  # the gap real clients had to jump
        after = trades_of(emu, 1, MICRO_TID_MIN)
        assert [int(t["tid"]) // 1_000_000 for t in after] == [1309108565, 1309108565]
        assert len(crawl(emu, 1)) == 5


def test_replay_without_since_serves_the_last_24_hours_of_the_file(real_100k: Path) -> None:
    with running_emulator(EmulatorConfig(replay=real_100k, min_interval_s=0, cache_s=0)) as emu:
        recent = emu.get("1/BTCUSD/trades").json()["return"]
        ticker = emu.get("1/BTCUSD/ticker").json()["return"]
    last = recent[-1]
    assert last["tid"] == "100000" and last["price"] == "18.003"
    assert recent[-1]["date"] - recent[0]["date"] < 86_400
    assert ticker["last_local"]["value"] == "18.00300"
    assert int(ticker["high"]["value_int"]) == max(int(t["price_int"]) for t in recent)
