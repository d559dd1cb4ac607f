"""Damaged journal segments: every intact frame found, the damage named, the file kept whole, on real files."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.journal import (
    CLOSED_SUFFIX,
    CORRUPT_DIR,
    OPEN_SUFFIX,
    Damage,
    encode_frame,
    examine_segment,
    scan_frames,
    set_aside,
)
from collector.rawstore import RawStore
from tests.unit.test_journal import make_record, write_segment

FRAMES = [encode_frame(make_record(record_id=f"seg-{n:010d}", body=b"body %d " % n * 20)) for n in range(5)]
DATA = b"".join(FRAMES)
ENDS = [sum(len(f) for f in FRAMES[:n + 1]) for n in range(5)]


def ids(scan_records: tuple) -> list[str]:
    return [r.record_id for r in scan_records]


def test_a_clean_segment_has_every_record_and_no_damage() -> None:
    scan = scan_frames(DATA, closed=True)
    assert ids(scan.records) == [f"seg-{n:010d}" for n in range(5)]
    assert scan.frames == tuple(zip([0, *ENDS[:-1]], ENDS, strict=True)) and scan.damage == ()


def test_garbage_over_the_middle_costs_only_the_frames_it_touches() -> None:
    data = bytearray(DATA)
    data[ENDS[0] + 20:ENDS[2] - 5] = os.urandom(ENDS[2] - 5 - ENDS[0] - 20)
    scan = scan_frames(bytes(data), closed=False)
    assert ids(scan.records) == ["seg-0000000000", "seg-0000000003", "seg-0000000004"]
    assert scan.damage == (Damage(ENDS[0], ENDS[2], "crc mismatch"),)


@settings(max_examples=60, deadline=None)
@given(start=st.integers(0, len(DATA) - 1), length=st.integers(1, 400), seed=st.binary(min_size=400, max_size=400))
def test_any_overwrite_loses_no_frame_it_does_not_touch(start: int, length: int, seed: bytes) -> None:
    end = min(len(DATA), start + length)
    data = bytearray(DATA)
    data[start:end] = bytes((b ^ 0x5A ^ i) & 0xFF for i, b in enumerate(seed[:end - start]))
    scan = scan_frames(bytes(data), closed=True)
    untouched = [n for n in range(5) if ENDS[n] <= start or (ENDS[n - 1] if n else 0) >= end]
    assert set(ids(scan.records)) >= {f"seg-{n:010d}" for n in untouched}
    covered = sorted([*scan.frames, *((d.start, d.end) for d in scan.damage)])
    assert covered[0][0] == 0 and covered[-1][1] == len(data)  # every byte is a frame or named damage
    assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))


def test_a_cut_short_closed_segment_is_damage_and_the_same_bytes_open_are_a_torn_tail() -> None:
    cut = DATA[:ENDS[3] + 30]
    closed = scan_frames(cut, closed=True)
    assert len(closed.records) == 4 and closed.damage == (Damage(ENDS[3], len(cut), "short frame"),)
    crashed = scan_frames(cut, closed=False)
    assert len(crashed.records) == 4 and crashed.damage == ()


def test_a_zero_filled_tail_is_a_power_cut_on_an_open_segment_and_damage_on_a_closed_one() -> None:
    data = DATA + bytes(300)
    assert scan_frames(data, closed=False).damage == ()
    assert scan_frames(data, closed=True).damage == (Damage(len(DATA), len(data), "bad magic"),)


def test_a_foreign_tail_is_damage_even_on_an_open_segment() -> None:
    data = DATA + b"this line was appended by an editor\n"
    assert scan_frames(data, closed=False).damage == (Damage(len(DATA), len(data), "bad magic"),)


def test_an_empty_closed_segment_is_damage_and_an_empty_open_one_a_crash_before_the_first_write() -> None:
    assert scan_frames(b"", closed=True).damage == (Damage(0, 0, "empty segment"),)
    assert scan_frames(b"", closed=False).damage == ()


def test_a_file_that_is_not_a_journal_is_all_damage() -> None:
    data = b"%PDF-1.4\n" + os.urandom(2000)
    scan = scan_frames(data, closed=False)
    assert scan.records == () and scan.damage == (Damage(0, len(data), "bad magic"),)


def test_a_frame_whose_checksum_holds_but_whose_record_is_invalid_is_damage() -> None:
    bad = encode_frame(make_record(record_id="seg-x", market="no/slashes"))
    scan = scan_frames(FRAMES[0] + bad + FRAMES[1], closed=True)
    assert len(scan.records) == 2
    assert scan.damage == (Damage(len(FRAMES[0]), len(FRAMES[0]) + len(bad), "undecodable metadata"),)


@pytest.mark.parametrize("suffix", [OPEN_SUFFIX, CLOSED_SUFFIX])
def test_set_aside_keeps_every_byte_and_leaves_the_intact_frames_under_the_closed_name(
        tmp_path: Path, suffix: str) -> None:
    closed, stored = write_segment(tmp_path, [make_record(body=b"%d" % n * 50) for n in range(4)])
    path = closed.with_suffix(suffix)
    closed.rename(path)
    data = bytearray(path.read_bytes())
    size = len(encode_frame(stored[0]))
    data[size + 30] ^= 0xFF
    path.write_bytes(bytes(data))
    aside = set_aside(examine_segment(path))
    assert aside.moved_to == tmp_path / CORRUPT_DIR / path.name and aside.moved_to.read_bytes() == bytes(data)
    assert aside.kept == closed and not (suffix == OPEN_SUFFIX and path.exists())
    assert examine_segment(closed).records == (stored[0], *stored[2:])
    assert not examine_segment(closed).damaged
    assert "\n" not in aside.message and f"journal segment {path}:" in aside.message
    assert "3 intact records kept" in aside.message and f"set aside whole as {aside.moved_to}" in aside.message
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_set_aside_interrupted_before_the_open_segment_was_removed_still_stores_each_record_once(
        tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    closed, stored = write_segment(journal, [make_record(body=b"%d" % n * 50) for n in range(3)])
    path = closed.with_suffix(OPEN_SUFFIX)
    closed.rename(path)
    data = path.read_bytes()
    path.write_bytes(data[:10] + b"garbage" + data[17:])
    aside = set_aside(examine_segment(path))
    os.link(aside.moved_to, path)  # the state a crash leaves after the rename, before the unlink
    store = RawStore(str(tmp_path / "root"))
    lines: list[str] = []
    store.on_set_aside = lines.append
    assert store.recover(journal) == 2 + 2  # the salvaged segment, then the original salvaged again
    ids_stored = store.read_table(["record_id"]).column("record_id").to_pylist()
    assert sorted(ids_stored) == sorted(r.record_id for r in stored[1:])
    assert [p.name for p in (journal / CORRUPT_DIR).iterdir()] == [path.name]
    assert len(lines) == 1 and store.verify() == []
