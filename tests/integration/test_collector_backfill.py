"""Backfill over real HTTP: the real 100,000 Mt.Gox trades, every tid once, no gap; gaps recorded and closed."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from collector import service
from collector.exchanges.mtgox import FIRST_MICRO_TID, MTGOX
from collector.rawstore import RawStore
from collector.run import state_dir
from collector.state import State
from tests.collector_harness import exchange, load, write_config
from tests.shared import shared_path

REAL_100K = "data/real/mtgox-bitcoincharts-first100k/mtgox.csv.gz"


def stored_tids(root: Path, version: int) -> list[int]:
    table = RawStore(str(root)).read_table(columns=["endpoint", "body", "error_class"])
    tids: list[int] = []
    for endpoint, body, error in zip(*(table.column(c).to_pylist() for c in ("endpoint", "body", "error_class")),
                                     strict=True):
        if endpoint == "trades" and error is None:
            tids += MTGOX.trades_page(orjson.loads(body), version).tids
    return tids


@pytest.mark.parametrize("version", [0, 1, 2])
def test_a_backfill_of_the_real_100k_trades_records_every_tid_exactly_once(tmp_path: Path, version: int) -> None:
    real = shared_path(REAL_100K)
    with exchange(tmp_path, replay=real, min_interval_s=0.0, request_log=None) as ex:
        path = write_config(tmp_path, ex.url, version=version, min_interval="1ms", max_rps=100_000,
                            markets={"BTCUSD": {"trades": "10s"}})
        config = load(path)
        [result] = asyncio.run(service.backfill(config, "BTCUSD", 0, None))
    tids = stored_tids(tmp_path / "data", version)
    assert len(tids) == 100_000 and sorted(tids) == list(range(1, 100_001))
    assert result.trades == 100_000 and result.gap is None
    state = State(state_dir(config) / "collector.sqlite")
    # One unbroken range from the first trade, through the June 2011 jump the crawl made at the end.
    assert state.covered("mtgox", "BTCUSD") == [(0, FIRST_MICRO_TID - 1)]
    assert state.gaps() == []


def test_a_range_that_keeps_failing_becomes_a_gap_and_a_later_backfill_closes_it(tmp_path: Path) -> None:
    csv = tmp_path / "trades.csv"
    csv.write_text("".join(f"{1308000000 + i},17.{i % 10},1\n" for i in range(50)))
    with exchange(tmp_path, replay=csv, min_interval_s=0.0, faults="http503@trades=1") as ex:
        path = write_config(tmp_path, ex.url, version=0, min_interval="1ms", max_rps=100_000,
                            markets={"BTCUSD": {"trades": "10s"}})
        [failed] = asyncio.run(service.backfill(load(path), "BTCUSD", 0, 50))
    assert failed.gap is not None and "http_5xx" in failed.gap
    [gap] = service.open_gaps(load(path))
    assert (gap.market, gap.after_tid, gap.through_tid) == ("BTCUSD", 0, 50)
    cli = subprocess.run([sys.executable, "-m", "marketrec", "gaps", "--config", str(path)], capture_output=True,
                         text=True, timeout=60)
    assert "tids after 0 through 50: http_5xx" in cli.stdout
    with exchange(tmp_path, replay=csv, min_interval_s=0.0) as ex:  # the exchange recovered
        path = write_config(tmp_path, ex.url, version=0, min_interval="1ms", max_rps=100_000,
                            markets={"BTCUSD": {"trades": "10s"}})
        results = asyncio.run(service.backfill(load(path), "BTCUSD", None, None))
    assert [r.trades for r in results] == [50]
    assert service.open_gaps(load(path)) == []
    assert sorted(stored_tids(tmp_path / "data", 0)) == list(range(1, 51))


def test_the_backfill_command_reports_what_it_fetched(tmp_path: Path) -> None:
    csv = tmp_path / "trades.csv"
    csv.write_text("".join(f"{1400000000 + i},500.{i},0.5\n" for i in range(30)))
    with exchange(tmp_path, replay=csv, min_interval_s=0.0) as ex:
        path = write_config(tmp_path, ex.url, version=1, min_interval="1ms", max_rps=1000,
                            markets={"BTCUSD": {"trades": "10s"}})
        r = subprocess.run([sys.executable, "-m", "marketrec", "backfill", "trades", "--config", str(path),
                            "--market", "BTCUSD", "--since", "2014-05-13"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "BTCUSD: " in r.stdout and " 30 trades" in r.stdout
