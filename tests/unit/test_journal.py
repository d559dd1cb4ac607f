"""The journal: binary frames, torn tails, batched fsync, segment roll and ids, on real files."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import CorruptFileError, StoreError
from collector.journal import (
    CLOSED_SUFFIX,
    OPEN_SUFFIX,
    Journal,
    decode_frames,
    encode_frame,
    pending_segments,
    read_segment,
)
from collector.record import RawRecord

T0 = 1_364_774_400_000_000  # 2013-04-01T00:00:00Z in µs


def make_record(**changes: object) -> RawRecord:
    base = RawRecord(
        record_id="ignored", exchange="mtgox", endpoint="ticker", market="BTCUSD", api_version=2, method="GET",
        path="/api/2/BTCUSD/money/ticker", params='{"nonce":1364774400000000}', sent_at=T0 - 150_000,
        received_at=T0, http_status=200, error_class=None, body=b'{"result":"success","data":{}}',
        collector_run="run-a",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def same_except_id(stored: RawRecord, original: RawRecord) -> bool:
    return dataclasses.replace(stored, record_id=original.record_id) == original


def write_segment(directory: Path, records: list[RawRecord], **options: object) -> tuple[Path, list[RawRecord]]:
    journal = Journal(directory, run_id="run-a", **options)  # type: ignore[arg-type]
    stored = [journal.append(r) for r in records]
    path = journal.roll()
    assert path is not None
    return path, stored


records_strategy = st.builds(
    RawRecord,
    record_id=st.text(max_size=5),
    exchange=st.sampled_from(["mtgox", "bitstamp"]),
    endpoint=st.sampled_from(["ticker", "fulldepth", "wallet_history"]),
    market=st.sampled_from(["BTCUSD", "BTCJPY", "-"]),
    api_version=st.integers(0, 2),
    method=st.sampled_from(["GET", "POST"]),
    path=st.text(max_size=40),
    params=st.text(max_size=80),
    sent_at=st.integers(0, 2**62),
    received_at=st.integers(0, 2**62),
    http_status=st.none() | st.integers(-(2**15), 2**15 - 1),
    error_class=st.none() | st.text(max_size=12),
    body=st.binary(max_size=4096),
    collector_run=st.text(max_size=20),
)


# --- framing ------------------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(records_strategy, max_size=8))
def test_frames_round_trip_any_metadata_and_arbitrary_body_bytes(records: list[RawRecord]) -> None:
    data = b"".join(encode_frame(r) for r in records)
    decoded, torn, valid = decode_frames(data, name="segment")
    assert decoded == records
    assert not torn
    assert valid == len(data)


def test_empty_and_six_megabyte_bodies_round_trip_through_a_segment_file(tmp_path: Path) -> None:
    big = os.urandom(6 * 2**20)
    originals = [make_record(body=b""), make_record(body=big), make_record(body=b"\x00\xff" * 3)]
    path, stored = write_segment(tmp_path, originals)
    result = read_segment(path)
    assert list(result.records) == stored
    assert all(same_except_id(s, o) for s, o in zip(stored, originals, strict=True))
    assert result.records[1].body == big
    assert not result.torn_tail
    assert result.valid_bytes == path.stat().st_size


def test_the_body_is_stored_raw_not_as_base64_or_json(tmp_path: Path) -> None:
    body = os.urandom(100_000)
    path, _ = write_segment(tmp_path, [make_record(body=body)])
    data = path.read_bytes()
    assert body in data
    assert len(data) < len(body) + 400  # header and metadata only


# --- torn tails and damage -----------------------------------------------------------------------------------------


def test_a_torn_tail_at_every_byte_of_the_last_record_is_dropped_silently(tmp_path: Path) -> None:
    path, stored = write_segment(tmp_path, [make_record(), make_record(body=b"second"), make_record(body=b"last")])
    data = path.read_bytes()
    last_start = len(data) - len(encode_frame(stored[2]))
    torn = tmp_path / "torn.closed"
    for cut in range(last_start, len(data)):
        torn.write_bytes(data[:cut])
        result = read_segment(torn)
        assert list(result.records) == stored[:2], cut
        assert result.torn_tail == (cut > last_start), cut
        assert result.valid_bytes == last_start


def test_a_last_record_that_fails_its_checksum_is_dropped_as_a_torn_tail(tmp_path: Path) -> None:
    path, stored = write_segment(tmp_path, [make_record(), make_record(body=b"last record")])
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x40  # a flipped bit in the last body: a write the crash cut short
    path.write_bytes(bytes(data))
    result = read_segment(path)
    assert list(result.records) == stored[:1]
    assert result.torn_tail


def test_a_zero_filled_tail_left_by_a_power_cut_is_a_torn_tail(tmp_path: Path) -> None:
    path, stored = write_segment(tmp_path, [make_record(), make_record()])
    path.write_bytes(path.read_bytes() + bytes(4096))
    result = read_segment(path)
    assert list(result.records) == stored
    assert result.torn_tail


@pytest.mark.parametrize("where", ["body", "length", "magic"])
def test_damage_before_the_last_record_raises_corrupt_file_error_naming_the_file_and_offset(
        tmp_path: Path, where: str) -> None:
    path, stored = write_segment(tmp_path, [make_record(body=b"first body"), make_record(), make_record()])
    first = len(encode_frame(stored[0]))
    data = bytearray(path.read_bytes())
    position = {"body": first - 2, "length": first + 5, "magic": first}[where]
    data[position] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError) as info:
        read_segment(path)
    message = str(info.value)
    assert str(path) in message
    assert "\n" not in message
    offset = 0 if where == "body" else first
    assert f"offset {offset}" in message


def test_an_empty_segment_left_by_a_crash_reads_as_no_records(tmp_path: Path) -> None:
    path = tmp_path / ("20130401T000000.000000Z-run-a-0001" + OPEN_SUFFIX)
    path.write_bytes(b"")
    result = read_segment(path)
    assert result.records == ()
    assert not result.torn_tail


def test_a_missing_segment_is_a_one_line_store_error(tmp_path: Path) -> None:
    path = tmp_path / "gone.closed"
    with pytest.raises(StoreError, match=r"gone\.closed: cannot read journal segment") as info:
        read_segment(path)
    assert "\n" not in str(info.value)


# --- batched fsync -------------------------------------------------------------------------------------------------


def test_records_become_durable_in_batches_of_fsync_records(tmp_path: Path) -> None:
    durable: list[list[str]] = []
    journal = Journal(tmp_path, run_id="run-a", fsync_records=3, fsync_interval_s=3600,
                      clock=FakeClock(), on_durable=durable.append)
    ids = [journal.append(make_record()).record_id for _ in range(2)]
    assert journal.acknowledged_through == 0
    assert durable == []
    ids.append(journal.append(make_record()).record_id)
    assert journal.acknowledged_through == 3
    assert durable == [ids]
    journal.append(make_record())
    assert journal.acknowledged_through == 3


def test_records_become_durable_once_the_first_unflushed_one_is_fsync_interval_old(tmp_path: Path) -> None:
    clock = FakeClock()
    durable: list[list[str]] = []
    journal = Journal(tmp_path, run_id="run-a", fsync_records=100, fsync_interval_s=0.1, clock=clock,
                      on_durable=durable.append)
    first = journal.append(make_record())
    clock.now += 0.05
    second = journal.append(make_record())
    assert durable == []
    assert not journal.due(clock.now)
    assert journal.due(clock.now + 0.051)
    clock.now += 0.06  # 0.11 s after the first unflushed record
    third = journal.append(make_record())
    assert durable == [[first.record_id, second.record_id, third.record_id]]
    assert not journal.due(clock.now + 10)  # nothing left to flush


def test_flush_makes_everything_durable_now_and_a_quiet_journal_is_flushed_by_due(tmp_path: Path) -> None:
    clock = FakeClock()
    durable: list[list[str]] = []
    journal = Journal(tmp_path, run_id="run-a", fsync_records=100, fsync_interval_s=0.1, clock=clock,
                      on_durable=durable.append)
    stored = journal.append(make_record())
    # Sparse traffic: no further append arrives, so a timer asks due() and flushes.
    assert journal.due(clock.now + 0.11)
    journal.flush()
    assert durable == [[stored.record_id]]
    assert journal.acknowledged_through == 1
    journal.flush()  # nothing pending: no second callback
    assert len(durable) == 1


def test_fsync_records_one_makes_every_append_durable_before_it_returns(tmp_path: Path) -> None:
    durable: list[list[str]] = []
    journal = Journal(tmp_path, run_id="run-a", fsync_records=1, on_durable=durable.append)
    for n in range(1, 4):
        stored = journal.append(make_record())
        assert journal.acknowledged_through == n
        assert durable[-1] == [stored.record_id]
        # Durable means on disk: a reader of the open file already sees it whole.
        assert read_segment(journal.segment_path).records[-1] == stored  # type: ignore[arg-type]


def test_a_fsync_interval_of_zero_fsyncs_every_record(tmp_path: Path) -> None:
    journal = Journal(tmp_path, run_id="run-a", fsync_records=100, fsync_interval_s=0.0, clock=FakeClock())
    journal.append(make_record())
    journal.append(make_record())
    assert journal.acknowledged_through == 2


def test_rolling_flushes_and_reports_the_last_batch(tmp_path: Path) -> None:
    durable: list[list[str]] = []
    journal = Journal(tmp_path, run_id="run-a", fsync_records=100, clock=FakeClock(), on_durable=durable.append)
    ids = [journal.append(make_record()).record_id for _ in range(5)]
    journal.roll()
    assert durable == [ids]
    assert journal.acknowledged_through == 5


# --- segments ------------------------------------------------------------------------------------------------------


def test_a_segment_rolls_when_it_reaches_segment_max_bytes(tmp_path: Path) -> None:
    clock = FakeClock()
    journal = Journal(tmp_path, run_id="run-a", segment_max_bytes=1000, clock=clock)
    assert not journal.should_roll(clock.now)  # nothing open yet
    journal.append(make_record(body=b"x" * 500))
    assert not journal.should_roll(clock.now)
    journal.append(make_record(body=b"x" * 500))
    assert journal.should_roll(clock.now)
    closed = journal.roll()
    assert closed is not None
    assert closed.suffix == CLOSED_SUFFIX
    assert [p.name for p in tmp_path.iterdir()] == [closed.name]
    assert len(read_segment(closed).records) == 2
    assert journal.roll() is None  # the next segment opens only with the next append
    assert not journal.should_roll(clock.now)
    nxt = journal.append(make_record())
    assert not nxt.record_id.startswith(closed.stem)
    assert journal.segment_path is not None
    assert journal.segment_path.suffix == OPEN_SUFFIX


def test_a_segment_rolls_when_it_reaches_segment_max_age(tmp_path: Path) -> None:
    clock = FakeClock()
    journal = Journal(tmp_path, run_id="run-a", segment_max_age_s=60, clock=clock)
    journal.append(make_record())
    assert not journal.should_roll(clock.now + 59.9)
    assert journal.should_roll(clock.now + 60)


def test_segment_and_record_ids_are_unique_and_sort_by_creation_across_restarts(tmp_path: Path) -> None:
    frozen = FakeClock(1_700_000_000.0)  # even a clock that never moves
    ids: list[str] = []
    segments: list[str] = []
    for _restart in range(3):
        journal = Journal(tmp_path, run_id="run-a", clock=frozen)
        for _ in range(3):
            ids += [journal.append(make_record()).record_id for _ in range(12)]
            closed = journal.roll()
            assert closed is not None
            segments.append(closed.stem)
    other = Journal(tmp_path, run_id="run-b", clock=FakeClock(1_700_000_001.0))  # another process, later
    ids.append(other.append(make_record()).record_id)
    assert len(set(ids)) == len(ids)
    assert len(set(segments)) == len(segments)
    assert segments[:3] == sorted(segments[:3])  # one process: strictly in creation order
    assert ids[-1] == max(ids)
    one_segment = ids[:12]
    assert one_segment == sorted(one_segment)  # seq is zero-padded: record ids sort in append order
    assert segments[0].startswith("20231114T221320.000000Z-run-a-")


def test_pending_segments_lists_closed_and_crash_left_segments_oldest_first_but_not_a_live_one(
        tmp_path: Path) -> None:
    clock = FakeClock()
    older, _ = write_segment(tmp_path, [make_record()], clock=clock)
    clock.now += 1
    crashed = tmp_path / ("20231114T221321.000000Z-run-c-0001" + OPEN_SUFFIX)
    shutil.copy(older, crashed)  # a `.journal` nobody holds: what a killed writer leaves
    clock.now += 1
    live = Journal(tmp_path, run_id="run-a", clock=clock)
    live.append(make_record())
    assert live.segment_path is not None
    assert pending_segments(tmp_path) == [older, crashed]
    closed = live.roll()
    assert pending_segments(tmp_path) == [older, crashed, closed]
    assert pending_segments(tmp_path / "missing") == []


def test_close_rolls_the_open_segment_and_refuses_later_appends(tmp_path: Path) -> None:
    with Journal(tmp_path, run_id="run-a") as journal:
        journal.append(make_record())
    assert [p.suffix for p in tmp_path.iterdir()] == [CLOSED_SUFFIX]
    with pytest.raises(StoreError, match="append after close"):
        journal.append(make_record())


# --- refusals ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "reason"), [
    ({"market": "BTC/USD"}, "market 'BTC/USD' is not a partition value"),
    ({"exchange": ""}, "exchange '' is not a partition value"),
    ({"api_version": 300}, "api_version 300 is not an integer"),
    ({"http_status": 70000}, "http_status 70000"),
    ({"received_at": -1}, "received_at -1"),
    ({"body": "text"}, "body must be bytes"),
    ({"params": "\udc80"}, "refusing record"),
])
def test_a_record_the_store_could_not_hold_is_refused_with_a_one_line_store_error(
        tmp_path: Path, change: dict[str, object], reason: str) -> None:
    journal = Journal(tmp_path, run_id="run-a", fsync_records=1)
    good = journal.append(make_record())
    with pytest.raises(StoreError) as info:
        journal.append(make_record(**change))
    assert reason in str(info.value)
    assert "\n" not in str(info.value)
    # The refusal leaves the segment intact and the sequence unbroken.
    after = journal.append(make_record())
    closed = journal.roll()
    assert closed is not None
    assert list(read_segment(closed).records) == [good, after]


def test_the_input_record_id_is_ignored_and_the_stored_record_returned(tmp_path: Path) -> None:
    journal = Journal(tmp_path, run_id="run-a")
    stored = journal.append(make_record(record_id="from-the-caller"))
    segment = journal.segment_path
    assert segment is not None
    assert stored.record_id == f"{segment.stem}-{1:010d}"
    assert same_except_id(stored, make_record(record_id="from-the-caller"))

