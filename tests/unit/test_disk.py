"""The disk module: telling a full disk, the retry schedule and its messages, writing through the seam, the checks."""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from collector import disk
from collector.disk import Paused, SpaceRetry
from collector.errors import DiskFull, StoreError


def test_enospc_edquot_and_sqlite_full_mean_a_full_disk_and_other_errors_do_not(tmp_path: Path) -> None:
    assert disk.is_full(OSError(errno.ENOSPC, "No space left on device"))
    assert disk.is_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not disk.is_full(OSError(errno.EIO, "Input/output error"))
    assert not disk.is_full(OSError(errno.EROFS, "Read-only file system"))
    conn = sqlite3.connect(tmp_path / "x.sqlite")
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(sqlite3.OperationalError) as info:
        conn.execute("INSERT INTO t VALUES (?)", (os.urandom(10_000),))
    assert disk.is_full(info.value)
    assert not disk.is_full(sqlite3.OperationalError("database is locked"))


def test_full_reason_gives_the_systems_words_only_for_a_full_disk(tmp_path: Path) -> None:
    assert disk.full_reason(OSError(errno.ENOSPC, "No space left on device")) == "No space left on device"
    assert disk.full_reason(OSError(errno.EIO, "Input/output error")) is None
    io_error = sqlite3.OperationalError("disk I/O error")
    io_error.sqlite_errorcode = sqlite3.SQLITE_IOERR_WRITE  # type: ignore[attr-defined]
    assert disk.full_reason(io_error, tmp_path) is None  # this disk has room: a real I/O error
    assert not disk.no_free_block(tmp_path / "not" / "yet")


def test_store_error_is_a_disk_full_naming_the_path_only_when_there_is_no_space() -> None:
    full = disk.store_error("x: cannot write", "/d/x", OSError(errno.ENOSPC, "No space left on device"))
    assert isinstance(full, DiskFull) and (full.path, full.reason) == ("/d/x", "No space left on device")
    other = disk.store_error("x: cannot write", "/d/x", OSError(errno.EIO, "Input/output error"))
    assert type(other) is StoreError and str(other) == "x: cannot write"


def test_probes_start_at_first_s_double_and_never_come_more_than_cap_s_apart() -> None:
    retry = SpaceRetry(first_s=0.5, cap_s=5.0)
    assert [retry.delay(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert retry.delay(10_000) == 5.0
    with pytest.raises(ValueError, match="inconsistent"):
        SpaceRetry(first_s=2.0, cap_s=1.0)


def test_a_pause_schedules_its_probes_on_the_clock_it_is_given() -> None:
    retry = SpaceRetry(first_s=1.0, cap_s=3.0)
    paused = disk.pause("data root /d", "No space left on device", 100.0, 1_700_000_000_000_000, retry)
    assert paused == Paused("data root /d", "No space left on device", 100.0, 1_700_000_000_000_000, 101.0)
    once = disk.probe_failed(paused, 101.0, retry)
    twice = disk.probe_failed(once, 103.0, retry)
    thrice = disk.probe_failed(twice, 106.0, retry)
    assert [(p.probes, p.next_probe_s) for p in (once, twice, thrice)] == [(1, 103.0), (2, 106.0), (3, 109.0)]
    assert thrice.since_s == 100.0 and not thrice.gap_recorded


def test_the_lines_say_what_is_full_why_what_happens_and_that_nothing_acknowledged_is_lost() -> None:
    retry = SpaceRetry(first_s=0.5, cap_s=5.0)
    paused = disk.pause("data root /x", "No space left on device", 10.0, 0, retry)
    assert disk.full_message(paused, retry) == (
        "data root /x is full (No space left on device): pausing requests and writes, checking for space again "
        "every 5 s at most; nothing acknowledged is lost")
    assert disk.back_message(paused, 22.34) == "data root /x has space again after 12.3 s: resuming"
    assert disk.full_message(paused, None) == (
        "data root /x is full (No space left on device): stopping; what the journal holds is stored by the next "
        "run's recovery; nothing acknowledged is lost")


def test_where_full_names_the_first_place_holding_the_file() -> None:
    places = [("data root", Path("/srv/mr")), ("journal directory", Path("/fast/journal"))]
    assert disk.where_full("/srv/mr/state/budget.sqlite", places) == "data root /srv/mr"
    assert disk.where_full("/fast/journal/x.journal", places) == "journal directory /fast/journal"
    assert disk.where_full("/srv/mr", places) == "data root /srv/mr"
    assert disk.where_full("/srv/mrx/y", places) == "/srv/mrx/y"


def test_write_all_finishes_after_short_writes_and_over_more_buffers_than_one_call_takes(tmp_path: Path) -> None:
    calls: list[int] = []

    def one_byte_at_a_time(fd: int, buffers: Sequence[Any]) -> int:
        calls.append(len(buffers))
        return os.write(fd, bytes(memoryview(buffers[0]).cast("B")[:1]))

    parts = [b"ab", b"", memoryview(b"cde"), bytearray(b"f")] + [b"g"] * 600
    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT)
    try:
        disk.write_all(fd, parts, one_byte_at_a_time)
    finally:
        os.close(fd)
    assert (tmp_path / "out").read_bytes() == b"abcdef" + b"g" * 600
    assert max(calls) <= 512


def test_a_probe_through_a_full_writev_raises_disk_full_and_leaves_no_file(tmp_path: Path) -> None:
    def full(fd: int, buffers: Sequence[Any]) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(DiskFull) as info:
        disk.probe([tmp_path], full)
    assert info.value.path == str(tmp_path) and info.value.reason == os.strerror(errno.ENOSPC)
    disk.probe([tmp_path, tmp_path / "."])
    assert list(tmp_path.iterdir()) == []


def test_check_writable_makes_missing_directories_and_leaves_nothing_behind(tmp_path: Path) -> None:
    disk.check_writable(tmp_path / "a" / "b", "data root")
    assert [p.name for p in (tmp_path / "a" / "b").iterdir()] == []


def test_check_writable_refuses_in_one_line_naming_the_directory_and_the_reason(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_bytes(b"")
    with pytest.raises(StoreError) as info:
        disk.check_writable(tmp_path / "a-file" / "root", "data root")
    assert str(info.value) == f"data root {tmp_path / 'a-file' / 'root'} is not writable (Not a directory)"
