"""A full disk: the collector stops asking and writing, keeps what it acknowledged, says so once, and resumes
when space returns; judged against the emulator's request log over real loopback HTTP.

Two ways to fill the disk, each run where it can be:

- tmpfs: the data root is an 8 MiB tmpfs mounted for the test (where the machine allows it: root with
  CAP_SYS_ADMIN); a filler file takes its last byte and deleting it is space returning. Every writer meets
  the full disk for real: journal, Parquet, and the SQLite state, budget and nonce files.
- injected: the journal, the raw store and the space probe write through a `writev` that refuses with
  ENOSPC (after one short write) until "space returns"; works anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from collector.disk import SpaceRetry
from collector.errors import DiskFull
from collector.journal import pending_segments
from collector.rawstore import RawStore
from collector.run import DISK_FULL, Collector
from tests.collector_harness import exchange, load, write_config
from tests.disk_harness import InjectedFull, TmpfsFiller, captured_log, events, logged_at, response_keys, tmpfs
from tests.soak import figure

MARKETS = {"BTCUSD": {"ticker": "0.2s", "trades": "0.2s", "depth": "0.4s"}}
FULL_AFTER_S = 1.2  # into the run: some records are durable and some segments are Parquet already
FULL_FOR_S = 1.5  # after the collector says the disk is full
RUN_S = 5.0


@pytest.mark.parametrize("how", ["tmpfs", "injected"])
def test_a_full_disk_pauses_requests_and_writes_loses_nothing_acknowledged_and_resumes_when_space_returns(
        tmp_path: Path, how: str, record_property: pytest.RecordProperty) -> None:
    root = tmp_path / "data"
    with contextlib.ExitStack() as stack:
        if how == "tmpfs":
            if not stack.enter_context(tmpfs(root, "8m")):
                pytest.skip("this machine does not allow mounting a tmpfs (the injected variant covers it)")
            disk: TmpfsFiller | InjectedFull = TmpfsFiller(root)
        else:
            disk = InjectedFull()
        ex = stack.enter_context(exchange(tmp_path))  # its request log is outside the full disk
        config = load(write_config(tmp_path, ex.url, version=2, root=root, markets=MARKETS, account={},
                                   extra_storage='segment_age = "0.5s"'), ex.key())
        lines = stack.enter_context(captured_log())
        collector = Collector(config, status_every_s=1.0, writev=disk.writev, space_retry=SpaceRetry(0.1, 0.3))
        acknowledged: list[str] = []
        collector.journal.on_durable = acknowledged.extend
        freed_at: list[float] = []

        def operator() -> None:
            time.sleep(FULL_AFTER_S)
            disk.fill()
            deadline = time.time() + RUN_S
            while not events(lines, "disk_full") and time.time() < deadline:
                time.sleep(0.02)
            until = time.time() + FULL_FOR_S
            while time.time() < until:  # full it stays, whatever a writer frees meanwhile (a truncated WAL)
                disk.fill()
                time.sleep(0.02)
            freed_at.append(time.time())
            disk.free()

        thread = threading.Thread(target=operator)
        thread.start()
        try:
            stats = asyncio.run(collector.run(duration_s=RUN_S))
        finally:
            thread.join()
        served = ex.requests()
        table = RawStore(str(root)).read_table().to_pylist()
        problems = RawStore(str(root)).verify()
        left = pending_segments(root / "journal")

    # One line when it fills, one when space is back; the collector neither crashed nor gave up.
    [full] = events(lines, "disk_full")
    [back] = events(lines, "disk_space_back")
    # The reason is the first writer's: "No space left on device", or SQLite's "database or disk is full".
    reasons = "No space left on device|database or disk is full"
    assert re.search(rf"data root {re.escape(str(root))} is full \(({reasons})\): pausing requests and writes", full)
    assert "nothing acknowledged is lost" in full and "resuming" in back
    assert stats.disk_full_episodes == 1 and disk.filled > 0
    paused_from, paused_to = logged_at(full), logged_at(back)
    assert paused_to >= freed_at[0] > paused_from + FULL_FOR_S - 0.1

    # Nothing was asked of the exchange while nothing could be kept (bar answers already on their way).
    asked_while_full = [r for r in served if paused_from + 0.3 < logged_at(r["time"]) < freed_at[0]]
    assert asked_while_full == []
    assert [r for r in served if logged_at(r["time"]) > paused_to], "it did not resume polling"

    # Every acknowledged record is stored exactly once, and no answer the exchange gave is stored twice.
    ids = Counter(r["record_id"] for r in table)
    assert [i for i, n in ids.items() if n > 1] == []
    assert set(acknowledged) <= set(ids) and len(acknowledged) > 20
    answers = [r for r in table if r["error_class"] != DISK_FULL]
    assert response_keys(answers) - response_keys(served) == Counter()
    # The nonce store never handed out a nonce it could not keep: every signed call was accepted, in order.
    nonces = [int(r["params"]["nonce"]) for r in served if "nonce" in r["params"]]
    assert len(nonces) >= 3 and nonces == sorted(set(nonces))
    assert all(r["status"] == 200 for r in served)

    # The pause is on record, once per task, bracketing the time it was not polled.
    gaps = [r for r in table if r["error_class"] == DISK_FULL]
    assert sorted((r["endpoint"], r["market"]) for r in gaps) == sorted(
        (t.endpoint, t.market) for t in collector.plan.tasks)
    for r in gaps:
        assert r["http_status"] is None and r["body"] == b""
        assert paused_from - 0.05 <= r["sent_at"].timestamp() <= paused_from + 0.05
        assert freed_at[0] <= r["received_at"].timestamp() <= paused_to + 0.05
    assert problems == [] and left == []
    figure(record_property, "paused_s", round(stats.disk_full_s, 2))
    figure(record_property, "acknowledged_records", len(acknowledged))
    figure(record_property, "fetched_but_not_acknowledged", collector.journal.dropped)


def test_a_collector_started_on_a_full_disk_refuses_in_one_line_that_says_so_and_keeps_no_file_open(
        tmp_path: Path) -> None:
    root = tmp_path / "data"
    with tmpfs(root, "8m") as mounted, exchange(tmp_path) as ex:
        if not mounted:
            pytest.skip("this machine does not allow mounting a tmpfs")
        config = load(write_config(tmp_path, ex.url, root=root, markets=MARKETS))
        asyncio.run(Collector(config).run(duration_s=0.5))  # the state files exist, as on any restart
        TmpfsFiller(root).fill()
        try:
            Collector(config)
        except DiskFull as e:  # the error, not its traceback, leaves the block: the tmpfs must unmount
            message = str(e)
        else:
            pytest.fail("a collector started on a full disk")
    assert "\n" not in message and str(root) in message
    assert "no space left" in message.lower() or "disk is full" in message
