"""The collector's commands as a user runs them: init, collect (stopped by a signal), status, errors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from collector.journal import pending_segments
from collector.rawstore import RawStore
from tests.collector_harness import exchange, write_config

CLI = [sys.executable, "-m", "marketrec"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=env)


def test_init_writes_an_example_that_loads_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "marketrec.toml"
    assert run("init", str(target)).returncode == 0
    from collector.config import load_config

    config = load_config(target, {"MARKETREC_KEY": "k", "MARKETREC_SECRET": "c2VjcmV0"})
    assert config.exchange.name == "mtgox" and config.markets[0].pair == "BTCUSD"
    again = run("init", str(target))
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_lets_the_collector_flush_into_parquet_and_exit_0_with_no_secret_in_its_logs(
    tmp_path: Path, sig: signal.Signals
) -> None:
    with exchange(tmp_path) as ex:
        key = ex.key()
        path = write_config(tmp_path, ex.url, markets={"BTCUSD": {"ticker": "0.2s", "trades": "0.2s"}},
                            account={"wallet_history": ["BTC"]})
        env = {**os.environ, "MR_KEY": key.key, "MR_SECRET": key.secret}
        proc = subprocess.Popen([*CLI, "collect", "--config", str(path), "--status-every", "0.5"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2.5)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        served = len(ex.requests())
    assert proc.returncode == 0, err
    events = [line.split()[1] for line in err.splitlines() if re.match(r"\d{4}-\d\d-\d\dT", line)]
    assert events[0] == "start" and events[-1] == "stop" and "status" in events and "rolled" in events
    assert key.secret not in out + err and "Rest-Sign" not in err
    store = RawStore(str(tmp_path / "data"))
    assert store.read_table(columns=["record_id"]).num_rows == served  # everything flushed, nothing pending
    assert pending_segments(tmp_path / "data" / "journal") == []


def test_status_shows_last_polls_gaps_nonces_and_disk_use(tmp_path: Path) -> None:
    with exchange(tmp_path) as ex:
        key = ex.key()
        path = write_config(tmp_path, ex.url, markets={"BTCUSD": {"ticker": "0.2s"}},
                            account={"wallet_history": ["USD"]})
        env = {**os.environ, "MR_KEY": key.key, "MR_SECRET": key.secret}
        assert run("collect", "--config", str(path), "--duration", "1.5s", env=env).returncode == 0
        r = run("status", "--config", str(path), env=env)
    assert r.returncode == 0, r.stderr
    assert re.search(r"mtgox ticker BTCUSD: ok \d{4}-\d\d-\d\d .*requests, 0 errors", r.stdout)
    assert "mtgox wallet_history USD: ok" in r.stdout
    assert "open gaps: 0" in r.stdout and re.search(r"nonces: key [0-9a-f]{16}: \d{16}", r.stdout)
    assert re.search(r"disk: journal [\d,]+ bytes, raw store [\d,]+ bytes", r.stdout)
    assert key.key not in r.stdout  # the nonce state names a fingerprint, not the key


@pytest.mark.parametrize(("edit", "needle"), [
    (lambda t: t.replace('ticker = "0.2s"', 'tickr = "0.2s"'), "tickr"),
    (lambda t: t.replace('pair = "BTCUSD"', 'pair = "BTCXYZ"'), "BTCXYZ"),
    (lambda t: t.replace('min_interval = "0.2s"', 'min_interval = "10s"'), "below"),
    (lambda t: t + "[", "invalid TOML"),
])
def test_configuration_problems_are_one_line_and_exit_2(
    tmp_path: Path, edit: Callable[[str], str], needle: str
) -> None:
    path = write_config(tmp_path, "http://127.0.0.1:9", markets={"BTCUSD": {"ticker": "0.2s"}})
    path.write_text(edit(path.read_text()))
    r = run("collect", "--config", str(path), "--duration", "1s")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr and str(path.name) in r.stderr


def test_a_secret_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw==\n")
    secret.chmod(0o644)
    path = write_config(tmp_path, "http://127.0.0.1:9", markets={"BTCUSD": {"ticker": "0.2s"}}, account={})
    path.write_text(path.read_text().replace('secret_env = "MR_SECRET"', f'secret_file = "{secret}"'))
    r = run("collect", "--config", str(path), env={**os.environ, "MR_KEY": "k"})
    assert r.returncode == 2 and "readable by others" in r.stderr
    assert "c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw" not in r.stderr
