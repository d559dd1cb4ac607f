"""The collector against the emulator over real loopback HTTP, judged by the emulator's request log."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pyarrow.compute as pc
import pytest

from collector.rawstore import RawStore
from tests.collector_harness import collect, exchange, load, spacing_violations, write_config

MARKETS = {"BTCUSD": {"ticker": "0.2s", "trades": "0.2s", "depth": "0.4s"},
           "BTCEUR": {"ticker": "0.3s", "trades": "0.3s"}}


def private_nonces(requests: list[dict]) -> list[int]:
    return [int(r["params"]["nonce"]) for r in requests if "nonce" in r["params"]]


@pytest.mark.parametrize("version", [0, 1, 2])
def test_a_run_records_every_endpoint_within_the_limits_and_signs_with_increasing_nonces(
    tmp_path: Path, version: int
) -> None:
    with exchange(tmp_path) as ex:
        path = write_config(tmp_path, ex.url, version=version, markets=MARKETS, account={})
        stats = collect(load(path, ex.key()), 3.0)
        log = ex.requests()
    assert stats.requests == len(log) > 20
    assert spacing_violations(log, 0.2) == []
    assert not any(r["blocked"] for r in log) and all(r["status"] == 200 for r in log)
    nonces = private_nonces(log)
    assert len(nonces) >= 3 and nonces == sorted(set(nonces))
    table = RawStore(str(tmp_path / "data")).read_table()
    assert table.num_rows == len(log)
    endpoints = set(table.column("endpoint").to_pylist())
    assert {"ticker", "trades", "depth", "wallet_history", "info", "orders"} <= endpoints
    params = " ".join(table.column("params").to_pylist())
    assert "Rest-Sign" not in params and ex.key().secret not in params


def test_with_every_fault_switched_on_no_endpoint_is_polled_faster_than_its_limit(tmp_path: Path) -> None:
    faults = ("http502=0.05,http503=0.05,http504=0.05,mysql=0.05,html=0.05,truncate=0.05,slow:3=0.03,drop=0.03,"
              "overlap@trades=0.2,repeat@trades=0.1")
    with exchange(tmp_path, faults=faults, seed=3) as ex:
        path = write_config(tmp_path, ex.url, version=1, markets=MARKETS, account={})
        stats = collect(load(path, ex.key()), 6.0)
        log = ex.requests()
    assert spacing_violations(log, 0.2) == []
    assert not any(r["blocked"] for r in log)
    assert stats.errors > 5 and len(stats.by_error) >= 4, stats.by_error
    table = RawStore(str(tmp_path / "data")).read_table()
    errors = table.filter(pc.is_valid(table.column("error_class")))
    assert errors.num_rows == stats.errors  # failures are records too
    assert set(errors.column("error_class").to_pylist()) >= {"http_5xx", "not_json", "html_page"}


def test_an_anti_ddos_block_opens_the_circuit_and_nothing_is_sent_during_the_cool_off(tmp_path: Path) -> None:
    # The emulator is stricter than the collector believes: it blocks after one violation.
    with exchange(tmp_path, min_interval_s=0.5, violations_to_block=1, cooloff_s=1.5) as ex:
        path = write_config(tmp_path, ex.url, markets={"BTCUSD": {"ticker": "0.2s"}})
        collect(load(path), 4.0)
        log = ex.requests()
    blocked = [r for r in log if r["blocked"]]
    assert blocked, "the emulator never blocked: the test proves nothing"
    first = min(r["time"] for r in blocked)
    during = [r for r in log if first < r["time"] and not r["blocked"]]
    from tests.collector_harness import _seconds

    t0 = _seconds(first)
    assert all(_seconds(r["time"]) - t0 >= 1.5 - 0.05 for r in during)  # the circuit held for the cool-off
    assert len([r for r in log if r["blocked"]]) <= 2


def test_nonces_keep_increasing_across_a_restart_with_the_clock_set_back_an_hour(tmp_path: Path) -> None:
    with exchange(tmp_path) as ex:
        path = write_config(tmp_path, ex.url, version=2, markets={}, account={"wallet_history": ["BTC"]})
        collect(load(path, ex.key()), 2.0)
        before = len(private_nonces(ex.requests()))
        collect(load(path, ex.key()), 2.0, clock=lambda: time.time() - 3600)
        log = ex.requests()
    nonces = private_nonces(log)
    assert before >= 2 and len(nonces) >= before + 2  # both runs signed requests
    assert nonces == sorted(set(nonces))
    assert all(r["status"] == 200 for r in log)


def test_two_collector_processes_on_one_key_stay_within_the_budget_together(tmp_path: Path) -> None:
    with exchange(tmp_path) as ex:
        key = ex.key()
        # Told 0.4 s against the emulator's 0.2 s: apart, the two would break the limit most periods; the slack
        # absorbs a loaded machine's scheduling delays (tests/integration/test_concurrent_collectors.py).
        paths = [write_config(tmp_path, ex.url, min_interval="0.4s",
                              markets={"BTCUSD": {"ticker": "0.4s", "trades": "0.4s"}},
                              account={"wallet_history": ["BTC"]}, name=f"c{i}.toml") for i in range(2)]
        env = {"MR_KEY": key.key, "MR_SECRET": key.secret, "PATH": "/usr/bin:/bin"}
        procs = [subprocess.Popen([sys.executable, "-m", "marketrec", "collect", "--config", str(p),
                                   "--duration", "4s"], env=env, stderr=subprocess.PIPE, text=True)
                 for p in paths]
        for proc in procs:
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
        log = ex.requests()
    assert spacing_violations(log, 0.2) == []
    per_endpoint = {r["endpoint"] for r in log}
    assert {"ticker", "trades", "wallet_history"} <= per_endpoint
    # Every private call was accepted: none arrived behind a later nonce of the other process.
    assert [r["status"] for r in log if "nonce" in r["params"]] == [200] * len(private_nonces(log))
    nonces = private_nonces(log)
    assert nonces == sorted(set(nonces))
