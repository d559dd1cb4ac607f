"""SIGKILL collect, backfill, compact and build at random moments; each rerun completes and loses nothing.

One emulator on loopback, one data root with tiny journal segments and raw files (so rolls, ingests
and compactions happen all the time). Each trial starts one of the four commands as a real process,
kills it with SIGKILL after a random time, notes what the journal had acknowledged by then (its
segments on disk, fsynced record by record, plus what had already reached Parquet), and reruns the
interrupted command, which must complete. At the end: every acknowledged response is in the raw
store exactly once, every raw Parquet file reads, the store verifies against its manifests, nothing
is left pending, and the warehouse the interrupted builds left equals a clean `--full` rebuild.

20 trials in make test; 100 under make soak (tests/soak.py).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from collector.journal import pending_segments
from collector.rawstore import RawStore
from tests.collector_harness import exchange, journal_ids, stored_ids, write_config
from tests.pipelines_harness import MARTS, failed_checks, same_tables
from tests.soak import figure, scaled

TRIALS = scaled(20, 100)
COMMANDS = ("collect", "backfill", "compact", "build")
# How long each command runs before the kill, at most: long enough to be inside its work, not only its start-up.
KILL_AFTER_S = {"collect": (0.5, 2.5), "backfill": (0.4, 2.5), "compact": (0.3, 1.2), "build": (0.4, 2.5)}
TABLES = (*MARTS, "coverage", "gaps", "open_orders")

pytestmark = pytest.mark.slow


class Commands:
    """The four commands as the CLI runs them, against one config and data root."""

    def __init__(self, config: Path, root: Path, env: dict[str, str], since_tid: int) -> None:
        self.root, self.env = root, env
        cli = [sys.executable, "-m", "marketrec"]
        self.args = {
            "collect": [*cli, "collect", "--config", str(config)],
            "backfill": [*cli, "backfill", "trades", "--config", str(config), "--market", "BTCUSD",
                         "--since", str(since_tid)],
            "compact": [*cli, "compact", "--config", str(config)],
            "build": [*cli, "build", "--data", str(root)],
        }

    def start(self, command: str, *, full: bool = False) -> subprocess.Popen[bytes]:
        args = self.args[command] + (["--full"] if full else [])
        return subprocess.Popen(args, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def complete(self, command: str, *extra: str) -> subprocess.CompletedProcess[str]:
        # A collect that is let be still has to stop on its own: a short --duration.
        args = self.args[command] + (["--duration", "1s"] if command == "collect" else []) + list(extra)
        return subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=180)


def test_sigkill_anywhere_in_collect_backfill_compact_or_build_loses_and_doubles_nothing(
    tmp_path: Path, record_property
) -> None:
    rng = random.Random(20261203)
    root = tmp_path / "data"
    # The emulator allows twice the pace the collectors are told: a killed process restarting on a busy machine
    # must not get itself blocked for the cool-off (5 min), which would stall the trial, not fail it.
    with exchange(tmp_path, request_log=None, history_hours=24.0, min_interval_s=0.1) as ex:
        key = ex.key()
        path = write_config(
            tmp_path, ex.url, version=2, root=root,
            markets={"BTCUSD": {"ticker": "0.2s", "trades": "0.2s", "depth": "0.2s"},
                     "BTCEUR": {"ticker": "0.2s", "trades": "0.2s"}},
            account={"wallet_history": ["BTC", "USD"]},
            extra_storage='journal_fsync_records = 1\nsegment_size = "24KiB"\nsegment_age = "0.25s"\n'
                          'target_file_size = "256KiB"',
        )
        since = int((time.time() - 20 * 3600) * 1e6)
        commands = Commands(path, root, {**os.environ, "MR_KEY": key.key, "MR_SECRET": key.secret}, since)
        first = commands.complete("collect")
        assert first.returncode == 0, first.stderr

        acknowledged: set[str] = set()
        kills: Counter[str] = Counter()
        started = time.monotonic()
        # Each block of four trials kills every command once, in a random order.
        order = [c for _ in range(-(-TRIALS // len(COMMANDS))) for c in rng.sample(COMMANDS, len(COMMANDS))]
        for trial, command in enumerate(order[:TRIALS]):
            full = command == "build" and rng.random() < 0.3
            proc = commands.start(command, full=full)
            time.sleep(rng.uniform(*KILL_AFTER_S[command]))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills[command + (" --full" if full else "")] += 1
            acknowledged |= journal_ids(root / "journal") | set(stored_ids(root))
            rerun = commands.complete(command, *(["--full"] if full else []))
            assert rerun.returncode == 0, f"trial {trial}: {command} after a SIGKILL failed: {rerun.stderr}"
            acknowledged |= journal_ids(root / "journal") | set(stored_ids(root))

        # Whatever a kill left pending goes to Parquet; then the store is compacted and the warehouse caught up.
        for command in ("collect", "compact", "build"):
            done = commands.complete(command)
            assert done.returncode == 0, done.stderr
    seconds = time.monotonic() - started

    ids = Counter(stored_ids(root))
    doubled = sorted(i for i, n in ids.items() if n > 1)
    missing = sorted(acknowledged - set(ids))
    assert len(acknowledged) > 100, "the kills came too early to prove anything"
    assert doubled == [], f"{len(doubled)} responses stored twice, e.g. {doubled[:3]}"
    assert missing == [], f"{len(missing)} acknowledged responses lost, e.g. {missing[:3]}"
    unreadable = []
    for file in sorted((root / "raw").rglob("*.parquet")):
        try:
            pq.read_table(file)
        except Exception as exc:  # any failure to read is the finding
            unreadable.append(f"{file}: {exc}")
    assert unreadable == []
    assert RawStore(str(root)).verify() == []
    assert pending_segments(root / "journal") == []

    warehouse = root / "warehouse.duckdb"
    clean = tmp_path / "clean.duckdb"
    rebuilt = subprocess.run([sys.executable, "-m", "marketrec", "build", "--data", str(root), "--warehouse",
                              str(clean), "--full"], capture_output=True, text=True, timeout=180)
    assert rebuilt.returncode == 0, rebuilt.stderr
    same_tables(warehouse, clean, TABLES)
    assert failed_checks(warehouse) == []
    assert not list(root.glob("*.building*")), "an interrupted --full left its half-built warehouse behind"

    figure(record_property, "trials", TRIALS)
    figure(record_property, "kills", dict(sorted(kills.items())))
    figure(record_property, "acknowledged responses", len(acknowledged))
    figure(record_property, "stored exactly once", sum(1 for n in ids.values() if n == 1))
    figure(record_property, "lost / doubled", f"{len(missing)} / {len(doubled)}")
    figure(record_property, "raw Parquet files read back", len(list((root / "raw").rglob("*.parquet"))))
    figure(record_property, "seconds", round(seconds, 1))
