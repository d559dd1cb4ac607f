"""SIGKILL the journal and raw store at random moments: every acknowledged record survives, exactly once.

`tests/crash_driver.py` runs as a real process, journaling, rolling 200 KB segments, ingesting and
compacting; it prints `ACK <record_id>` after each fsync and `PHASE ...` markers. Each trial kills
it with SIGKILL (after a random time, or just after a marker: while rolling, ingesting, compacting,
or recovering at start-up), then recovers, here or in the next driver, and checks the store.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest

from collector.journal import pending_segments
from collector.rawstore import RawStore
from tests.crash_driver import body_for

PROJECT = Path(__file__).resolve().parents[2]
DRIVER = PROJECT / "tests" / "crash_driver.py"
TRIALS = 24
MASTER_SEED = 20131125
TARGET_BYTES = 1_000_000
# Where each trial's kill lands: the marker to wait for, which occurrence of it, and the spread of the delay after it
# (None: as long as the compactions seen so far took, so the kill lands anywhere inside one).
MODES: dict[str, tuple[str, tuple[int, int], float | None]] = {
    "time": ("PHASE run", (1, 1), 0.8),
    "roll": ("PHASE roll", (1, 6), 0.002),
    "ingest": ("PHASE ingest ", (1, 6), 0.006),
    "compact": ("PHASE compact", (1, 2), None),
    "compact-step": ("PHASE compact-step 1/", (1, 2), 0.015),
    "recover": ("PHASE recover", (1, 1), 0.02),
}

pytestmark = pytest.mark.slow


class Driver:
    """One crash_driver process; a thread collects its ACKs and hands PHASE lines to the test."""

    def __init__(self, root: Path, journal: Path, seed: int, fsync_records: int) -> None:
        args = [sys.executable, str(DRIVER), "--root", str(root), "--journal", str(journal), "--seed", str(seed),
                "--fsync-records", str(fsync_records), "--target-bytes", str(TARGET_BYTES), "--max-seconds", "20"]
        env = {**os.environ, "PYTHONPATH": str(PROJECT)}
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PROJECT, env=env)
        self.acked: list[str] = []
        self.phases: list[str] = []
        self.times: list[float] = []  # when each phase line arrived
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            if not raw.endswith(b"\n"):
                break  # the kill cut this line short: it proves nothing
            line = raw.decode().rstrip("\n")
            with self._changed:
                if line.startswith("ACK "):
                    self.acked.append(line[4:])
                else:
                    self.phases.append(line)
                    self.times.append(time.monotonic())
                    self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, prefix: str, occurrence: int, timeout: float = 15.0) -> None:
        def seen() -> bool:
            return sum(p.startswith(prefix) for p in self.phases) >= occurrence or self.proc.poll() is not None

        with self._changed:
            if not self._changed.wait_for(seen, timeout):
                self.kill()
                pytest.fail(f"driver never printed {prefix!r} x{occurrence}; phases: {self.phases[-5:]}")
        if self.proc.poll() is not None:
            stderr = self.proc.stderr.read().decode() if self.proc.stderr else ""
            pytest.fail(f"driver exited {self.proc.returncode} before {prefix!r}: {stderr[-2000:]}")

    def compaction_seconds(self) -> list[float]:
        """How long each complete compaction took, from its start and end markers."""
        started = None
        took = []
        for line, when in zip(self.phases, self.times, strict=True):
            if line == "PHASE compact":
                started = when
            elif line.startswith("PHASE compacted") and started is not None:
                took.append(when - started)
        return took

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._reader.join()
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def record_ids(store: RawStore) -> collections.Counter[str]:
    return collections.Counter(store.read_table(["record_id"]).column("record_id").to_pylist())


def check_store(store: RawStore, acked: set[str], *, full: bool) -> None:
    stored = record_ids(store)
    twice = [i for i, count in stored.items() if count > 1]
    assert not twice, f"{len(twice)} records stored twice, e.g. {twice[:3]}"
    missing = acked - set(stored)
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {sorted(missing)[:3]}"
    if full:
        assert store.verify() == []


def test_every_acknowledged_record_survives_sigkill_exactly_once(tmp_path: Path) -> None:
    root, journal = tmp_path / "root", tmp_path / "journal"
    master = random.Random(MASTER_SEED)
    modes = [name for _ in range(TRIALS // len(MODES)) for name in MODES]
    master.shuffle(modes)
    acked: set[str] = set()
    seen: collections.Counter[str] = collections.Counter()  # what the kills left behind, for coverage
    compactions = [0.05]

    def trial(number: int, mode: str, recover_here: bool) -> None:
        rng = random.Random(MASTER_SEED + number)
        marker, (low, high), spread = MODES[mode]
        driver = Driver(root, journal, seed=number, fsync_records=rng.choice([1, 5, 20]))
        driver.wait_for(marker, rng.randint(low, high))
        time.sleep(rng.uniform(0, spread if spread is not None else statistics.median(compactions)))
        driver.kill()
        compactions.extend(driver.compaction_seconds())
        assert driver.proc.returncode == -signal.SIGKILL, f"trial {number} ({mode}) ended before the kill"
        assert len(set(driver.acked)) == len(driver.acked)
        acked.update(driver.acked)
        if not recover_here:
            return  # the next driver recovers at start-up (and may be killed while doing it)
        seen["intent"] += any(root.rglob("_compaction.json"))
        seen["temporary file"] += any(root.rglob("*.tmp"))
        seen["pending segment"] += bool(pending_segments(journal))
        with RawStore(str(root), target_file_bytes=TARGET_BYTES) as store:
            store.recover(journal)
            check_store(store, acked, full=number % 4 == 0)
        assert pending_segments(journal) == []
        assert not any(root.rglob("_compaction.json"))

    schedule: list[tuple[int, str]] = list(enumerate(modes))
    for index, (number, mode) in enumerate(schedule):
        following = schedule[index + 1][1] if index + 1 < len(schedule) else None
        trial(number, mode, recover_here=following != "recover")
    # Timing decides where a kill lands; a few more kills during compaction until one interrupted it midway.
    extra = 0
    while seen["intent"] == 0 and extra < 12:
        trial(TRIALS + extra, "compact", recover_here=True)
        extra += 1

    with RawStore(str(root), target_file_bytes=TARGET_BYTES) as store:
        store.recover(journal)
        check_store(store, acked, full=True)
        table = store.read_table(["params", "body"])
        keys = collections.Counter()
        for params, body in zip(table.column("params").to_pylist(), table.column("body").to_pylist(), strict=True):
            p = orjson.loads(params)
            keys[(p["seed"], p["n"])] += 1
            assert body == body_for(p["seed"], p["n"])
        assert max(keys.values()) == 1  # no record appended once is stored twice, under any id
    print(f"\n{len(acked)} acknowledged records over {TRIALS + extra} kills; states met at recovery: {dict(seen)}")
    assert len(acked) > 1000
    assert seen["pending segment"] > 0
    assert seen["intent"] > 0, "no kill landed inside a compaction"


def test_a_driver_that_is_not_killed_leaves_nothing_pending(tmp_path: Path) -> None:
    root, journal = tmp_path / "root", tmp_path / "journal"
    args = [sys.executable, str(DRIVER), "--root", str(root), "--journal", str(journal), "--seed", "1",
            "--max-seconds", "0.5"]
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    done = subprocess.run(args, capture_output=True, cwd=PROJECT, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    acked = {line[4:] for line in done.stdout.decode().splitlines() if line.startswith("ACK ")}
    assert pending_segments(journal) == []
    with RawStore(str(root)) as store:
        check_store(store, acked, full=True)
        assert sum(record_ids(store).values()) == len(acked)
