"""Every writer on a full disk: the journal, the raw store, the nonce store and the collector state acknowledge or
hand out nothing they could not keep, leave nothing half-written for readers, and work again once space returns."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from collector.errors import DiskFull, StoreError
from collector.journal import CLOSED_SUFFIX, Journal, pending_segments, read_segment
from collector.nonce import NonceStore
from collector.rawstore import RawStore
from collector.state import State
from tests.unit.test_journal import FakeClock, make_record


class Disk:
    """`os.writev` that, once `room` bytes are written, writes what fits and then refuses with `error` until freed."""

    def __init__(self, room: int, error: int = errno.ENOSPC) -> None:
        self.room = room
        self.error = error

    def free(self) -> None:
        self.room = 2**62

    def __call__(self, fd: int, buffers: Sequence[Any]) -> int:
        if self.room <= 0:
            raise OSError(self.error, os.strerror(self.error))
        data = b"".join(bytes(memoryview(b).cast("B")) for b in buffers)[:self.room]
        written = os.write(fd, data)
        self.room -= written
        return written


def until_full(write: Callable[[int], object]) -> tuple[int, DiskFull]:
    """Call write(1), write(2), ... until one raises DiskFull: that n and the error."""
    for n in range(1, 10_000):
        try:
            write(n)
        except DiskFull as full:
            return n, full
    raise AssertionError("never full")


def fill_to(store: NonceStore | State, extra: int = 0) -> None:
    """No page beyond those the file has: SQLite answers SQLITE_FULL as it does on a full disk."""
    conn = store._db._connection() if isinstance(store, NonceStore) else store._db
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + extra}")


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EDQUOT])
def test_a_journal_that_runs_out_of_space_acknowledges_nothing_more_and_its_segment_still_reads(
        tmp_path: Path, error: int) -> None:
    durable: list[list[str]] = []
    disk = Disk(room=2**62, error=error)
    journal = Journal(tmp_path, run_id="run-a", fsync_records=2, clock=FakeClock(), on_durable=durable.append,
                      writev=disk)
    first = [journal.append(make_record(body=b"a" * 100)) for _ in range(2)]  # fsynced, acknowledged
    disk.room = 50  # then the disk fills up
    journal.append(make_record(body=b"b" * 300))
    segment = journal.segment_path
    with pytest.raises(DiskFull) as info:
        journal.append(make_record(body=b"c" * 300))  # the batch no longer fits: a short write, then ENOSPC
    assert info.value.reason == os.strerror(error) and info.value.path == str(segment)
    assert durable == [[r.record_id for r in first]] and journal.acknowledged_through == 2 and journal.dropped == 2
    assert segment is not None and journal.segment_path is None  # abandoned as it is, torn frame and all
    result = read_segment(segment)
    assert list(result.records) == first and result.torn_tail
    disk.free()
    after = journal.append(make_record(body=b"d"))
    journal.flush()
    assert journal.segment_path != segment and durable[-1] == [after.record_id]
    assert [p.name for p in pending_segments(tmp_path)] == [segment.name]  # for the next recovery


def test_another_write_failure_is_a_store_error_not_a_full_disk(tmp_path: Path) -> None:
    journal = Journal(tmp_path, run_id="run-a", fsync_records=1, writev=Disk(room=0, error=errno.EIO))
    with pytest.raises(StoreError) as info:
        journal.append(make_record())
    assert not isinstance(info.value, DiskFull) and "Input/output error" in str(info.value)


def test_ingesting_onto_a_full_disk_keeps_the_segment_and_shows_readers_no_partial_file(tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    writer = Journal(journal, run_id="run-a", clock=FakeClock())
    stored = [writer.append(make_record(body=os.urandom(2000))) for _ in range(5)]
    segment = writer.roll()
    assert segment is not None and segment.suffix == CLOSED_SUFFIX
    disk = Disk(room=3000)
    store = RawStore(str(tmp_path / "root"), writev=disk)
    with pytest.raises(DiskFull):
        store.ingest_segment(segment)
    assert segment.exists()
    raw = tmp_path / "root" / "raw"
    assert list(raw.rglob("*.parquet")) == [] and list(raw.rglob("*.tmp")) == []
    assert store.read_table().num_rows == 0 and store.verify() == []
    disk.free()
    assert store.recover(journal) == 5
    assert sorted(store.read_table(["record_id"]).column("record_id").to_pylist()) == sorted(
        r.record_id for r in stored)
    assert not segment.exists() and store.verify() == []


def test_the_nonce_store_never_hands_out_a_nonce_it_could_not_keep(tmp_path: Path) -> None:
    nonces = NonceStore(tmp_path / "nonces.sqlite")
    last = nonces.take("key-0", 1000)
    fill_to(nonces)
    n, full = until_full(lambda n: nonces.take(f"key-{n}", 1000 + n))  # new keys need new pages, sooner or later
    last = nonces.last(f"key-{n - 1}") or last
    refused = f"key-{n}"
    assert "database or disk is full" in str(full) and full.path == str(nonces.path)
    assert nonces.last(refused) is None  # rolled back: it was never handed out
    fill_to(nonces, extra=100)  # space returns
    assert nonces.take(refused, 5000) == 5000 and nonces.take(f"key-{n - 1}", 0) == last + 1


def test_collector_state_on_a_full_disk_moves_no_cursor_and_says_disk_full(tmp_path: Path) -> None:
    state = State(tmp_path / "collector.sqlite")
    state.add_coverage("mtgox", "BTCUSD", 0, 10, None, None, 10, "r-1", 1, cursor="trades_since")
    fill_to(state)
    n, _ = until_full(lambda n: state.add_coverage("mtgox", "BTCUSD", n * 10, n * 10 + 10, None, None, 10,
                                                   f"r-{n}" * 50, n, cursor="trades_since"))
    cursor = state.cursor("mtgox", "BTCUSD", "trades_since")
    assert cursor == n * 10  # the last range that was recorded, never the refused one
    assert state.covered("mtgox", "BTCUSD") == [(0, cursor)]
    fill_to(state, extra=100)
    state.add_coverage("mtgox", "BTCUSD", cursor, cursor + 10, None, None, 10, "r-next", 1, cursor="trades_since")
    assert state.cursor("mtgox", "BTCUSD", "trades_since") == cursor + 10
    state.close()
