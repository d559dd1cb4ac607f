"""A small warehouse built the way a user builds one: the emulator over real HTTP, the collector, the build.

`make_warehouse(directory)` runs the emulator on a loopback port with short limits and a day of
synthetic past, records about ten seconds with API v2 (BTCUSD and BTCEUR: ticker, trades, depth and
full depth; the account's BTC, USD and EUR wallet history, info and open orders, signed with a key
the emulator made), then builds `<directory>/data/warehouse.duckdb` with `pipelines.build.build`
and checks that the tables the notebooks and the README use have rows.

`session_warehouse` (the `demo_warehouse` fixture of tests/conftest.py) makes it once per test run:
under pytest-xdist the workers agree through a lock file in the run's temporary directory, so the
first worker to ask builds and the others wait for it and reuse the result.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import duckdb
import pytest

from pipelines.build import build
from tests.collector_harness import collect, exchange, load

SECONDS = 10.0
SEED = 5
MARKETS = {
    "BTCUSD": {"ticker": "0.5s", "trades": "0.5s", "depth": "1s", "full_depth": "4s"},
    "BTCEUR": {"ticker": "0.5s", "trades": "0.5s", "depth": "1s", "full_depth": "4s"},
}
WALLETS = ["BTC", "USD", "EUR"]
DONE = "warehouse.ready"  # written last: a directory without it holds a build that did not finish
FAILED = "warehouse.failed"  # a build that raised: the other workers fail at once instead of building again
# What the notebooks and the README's examples need: every one of these must have rows.
NEEDED = ("trades", "ticker", "ohlc", "depth_snapshots", "depth_levels", "book_top", "account_ledger",
          "account_trades", "balances")


def write_config(directory: Path, url: str, root: Path) -> Path:
    """A v2 configuration with loopback limits (the collector accepts them only for a loopback base_url)."""
    lines = [
        "[exchange]", 'name = "mtgox"', f'base_url = "{url}/api"', "api_version = 2", 'min_interval = "0.5s"',
        "full_depth_per_hour = 3600", "max_requests_per_second = 40", 'timeout = "5s"',
        "[credentials]", 'key_env = "MR_KEY"', 'secret_env = "MR_SECRET"',
    ]
    for pair, endpoints in MARKETS.items():
        lines += ["[[market]]", f'pair = "{pair}"'] + [f'{k} = "{v}"' for k, v in endpoints.items()]
    lines += ["[account]", f"wallet_history = {json.dumps(WALLETS)}", 'every = "1s"', 'info = "1s"', 'orders = "1s"',
              "[storage]", f'root = "{root}"', f'journal = "{root}/journal"', 'journal_fsync = "50ms"']
    path = directory / "marketrec.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def make_warehouse(directory: Path, seconds: float = SECONDS) -> Path:
    """Record `seconds` from a fresh emulator into `directory`/data and build its warehouse; the warehouse's path."""
    directory.mkdir(parents=True, exist_ok=True)
    root = directory / "data"
    # The emulator's synthetic past: a day of trades (hourly candles, a day of hour-of-day volume) and
    # the seeded accounts' fills, which are taken from that tape.
    with exchange(directory, seed=SEED, min_interval_s=0.5, history_hours=24.0, heavy_per_hour=3600,
                  book_levels=1500) as ex:
        config = write_config(directory, ex.url, root)
        collect(load(config, ex.key()), seconds)
    warehouse = root / "warehouse.duckdb"
    result = build(root, warehouse)
    empty = [t for t in NEEDED if _rows(warehouse, t) == 0]
    if empty or result.files_set_aside:
        raise AssertionError(f"the demo warehouse {warehouse} is incomplete: no rows in {', '.join(empty) or '-'}; "
                             f"raw files set aside: {list(result.files_set_aside)}")
    return warehouse


def _rows(warehouse: Path, table: str) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        [(n,)] = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()
        return int(n)
    finally:
        con.close()


def shared_warehouse(directory: Path) -> Path:
    """The warehouse under `directory`, built by whichever process asks first; the others wait and reuse it."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "warehouse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, even if the build fails
        done, failed = directory / DONE, directory / FAILED
        if done.exists():
            return Path(done.read_text().strip())
        if failed.exists():
            raise RuntimeError(f"the demo warehouse failed to build in another test worker: {failed.read_text()}")
        try:
            warehouse = make_warehouse(directory / "build")
        except BaseException as exc:
            failed.write_text(f"{type(exc).__name__}: {exc}\n")
            raise
        done.write_text(f"{warehouse}\n")
        return warehouse


def session_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's demo warehouse: one per `pytest` run, shared by its xdist workers."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # each worker's basetemp is popen-gwN inside the run's own directory
    return shared_warehouse(base / "demo-warehouse")
