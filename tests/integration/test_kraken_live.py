"""Against the real Kraken API: only with credentials and a network (skipped otherwise).

    MARKETREC_KRAKEN_KEY=... MARKETREC_KRAKEN_SECRET_FILE=~/.kraken.secret .venv/bin/python -m pytest -m live

Use a key with query rights only ("Query Funds" and "Query Ledger Entries", "Query Closed Orders & Trades"): the
recorder never trades, and a key that cannot trade cannot lose money if it leaks. The public test needs only a
network. Both stay far inside Kraken's limits: a few public calls a second at most, two private pages.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from collector.config import load_config
from collector.rawstore import RawStore
from tests.collector_harness import collect

pytestmark = pytest.mark.live
HOST = "api.kraken.com"


def network() -> None:
    try:
        socket.create_connection((HOST, 443), timeout=3).close()
    except OSError as exc:
        pytest.skip(f"no network to {HOST} ({exc.strerror or exc})")


def config(tmp_path: Path, *, account: bool) -> Path:
    lines = ['[exchange]', 'name = "kraken"', f'base_url = "https://{HOST}"', 'tier = "starter"',
             '[[market]]', 'pair = "BTCUSD"', 'ticker = "2s"', 'trades = "2s"', 'depth = "5s"']
    if account:
        lines += ['[credentials]', 'key_env = "MARKETREC_KRAKEN_KEY"',
                  f'secret_file = "{os.environ["MARKETREC_KRAKEN_SECRET_FILE"]}"',
                  '[account]', 'ledgers = "1m"', 'trades_history = "1m"']
    lines += ['[storage]', f'root = "{tmp_path / "data"}"']
    path = tmp_path / "kraken.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_real_public_api_is_recorded_and_every_answer_is_good(tmp_path: Path) -> None:
    network()
    stats = collect(load_config(config(tmp_path, account=False), os.environ), 6.0)
    assert stats.requests >= 3 and stats.errors == 0, stats
    endpoints = set(RawStore(str(tmp_path / "data")).read_table(columns=["endpoint"]).column("endpoint").to_pylist())
    assert {"ticker", "trades", "depth"} <= endpoints


def test_the_real_ledger_and_trade_history_are_recorded_with_a_query_only_key(tmp_path: Path) -> None:
    if not (os.environ.get("MARKETREC_KRAKEN_KEY") and os.environ.get("MARKETREC_KRAKEN_SECRET_FILE")):
        pytest.skip("set MARKETREC_KRAKEN_KEY and MARKETREC_KRAKEN_SECRET_FILE (a query-only key) to run")
    network()
    stats = collect(load_config(config(tmp_path, account=True), os.environ), 8.0)
    assert stats.errors == 0, stats
    endpoints = set(RawStore(str(tmp_path / "data")).read_table(columns=["endpoint"]).column("endpoint").to_pylist())
    assert {"ledgers", "trades_history"} <= endpoints
