"""The journal: every RawRecord appended to a local segment file, made durable in small batches.

A segment is one file, `<segment_id>.journal` while it is written and `<segment_id>.closed`
once rolled. The raw store turns segments into Parquet and deletes them; a `.journal` that a
crash left behind is ingested the same way (`pending_segments`). The journal is always on a
local disk: its promise is an fsync.

Frame (one per record, little-endian):

    magic  b"MRJ1"      4 bytes
    meta_len  uint32    4 bytes   length of the orjson metadata array
    body_len  uint32    4 bytes   length of the body, stored raw (no base64, no copy into JSON)
    crc32     uint32    4 bytes   over meta_len, body_len, meta and body
    meta, then body

A crash can leave the last frame short or half-written; that frame was never acknowledged
(acknowledgement follows the fsync of whole frames), so `read_segment` drops it. A bad frame
followed by any good one is not a torn tail but damage, and raises CorruptFileError.

Damage does not stop ingestion. `examine_segment` finds every intact frame of a file however
damaged (`scan_frames` resynchronises on the next frame whose checksum holds) and what is not one:
damage in the middle, a truncated `.closed` segment (rolled only after its fsync, so any torn tail
there is damage), an empty `.closed` one, a file that is no journal at all. `set_aside` then keeps
every byte of the original under `corrupt/` beside the segments, and leaves the intact frames,
byte for byte, as the segment to ingest: record ids do not change, so ingestion stays exactly once.
A torn tail of a `.journal` (what a crash leaves) is still dropped silently, as it always was.

A full disk is not damage: a write or fsync refused with ENOSPC or EDQUOT raises DiskFull (other
failures StoreError); what was not fsynced is not acknowledged, and the segment is abandoned as it
is, so its last frame may be torn, which reading tolerates. All bytes go through `writev`
(`os.writev` unless a test injects a full disk, see `collector.disk`).

Segment ids are `<UTC time to the µs>Z-<run_id>-<token>-<n>`, e.g.
`20261125T063512.123456Z-host-4242-9f3ab2c1-e07d-0001`: they sort by creation time (the time is
strictly increasing within a Journal), and are unique across processes and restarts by the time,
the run id, and a random token per Journal, so that even a restart under the same run id with a
clock that stepped back cannot reuse an id whose segment was ingested and deleted meanwhile (its
Parquet file would be overwritten). An id whose file still exists is never reused either.
Record ids are `<segment_id>-<seq>`, seq zero-padded to 10 digits and counted over the Journal's
life, so record ids of one Journal sort in append order too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import os
import re
import secrets
import shutil
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from .disk import Writev, reason, store_error, write_all, write_file
from .errors import CorruptFileError, StoreError
from .record import RawRecord, record_problem

MAGIC = b"MRJ1"
HEADER = struct.Struct("<4sIII")  # magic, meta_len, body_len, crc32
OPEN_SUFFIX = ".journal"
CLOSED_SUFFIX = ".closed"
SEQ_DIGITS = 10
_MAX_LEN = 2**32 - 1
CORRUPT_DIR = "corrupt"  # beside the segments: damaged files, kept whole
_RUN_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_WRITE_BYTES = 256 * 1024
_TORN = ("short header", "short frame", "crc mismatch")  # what a write cut short leaves at the end
_fdatasync = getattr(os, "fdatasync", os.fsync)  # the size is flushed too, which is all an append needs


@dataclass(frozen=True, slots=True)
class SegmentReadResult:
    path: Path
    records: tuple[RawRecord, ...]
    torn_tail: bool  # a short or damaged last frame was dropped (a crash, never acknowledged)
    valid_bytes: int  # where the last good frame ends

    @property
    def segment_id(self) -> str:
        return segment_id_of(self.path)


# --- framing ----------------------------------------------------------------------------------------------------------


def _meta(record: RawRecord) -> bytes:
    # A positional array in RawRecord's field order, without the body: smaller and faster than an object.
    return orjson.dumps([record.record_id, record.exchange, record.endpoint, record.market, record.api_version,
                         record.method, record.path, record.params, record.sent_at, record.received_at,
                         record.http_status, record.error_class, record.collector_run])


def frame_parts(record: RawRecord) -> tuple[bytes, bytes, bytes]:
    """Header, metadata and body of a record's frame; written one after the other so a large body is never copied."""
    meta, body = _meta(record), record.body
    if len(meta) > _MAX_LEN or len(body) > _MAX_LEN:
        raise ValueError("a record larger than 4 GiB cannot be framed")
    lengths = struct.pack("<II", len(meta), len(body))
    crc = zlib.crc32(body, zlib.crc32(meta, zlib.crc32(lengths)))
    return MAGIC + lengths + struct.pack("<I", crc), meta, body


def encode_frame(record: RawRecord) -> bytes:
    return b"".join(frame_parts(record))


def _decode_at(data: memoryview, offset: int) -> tuple[int, list[object], bytes] | str:
    """(end, meta, body) of the frame at `offset`, or why there is no intact frame there."""
    if len(data) - offset < HEADER.size:
        return "short header"
    magic, meta_len, body_len, crc = HEADER.unpack_from(data, offset)
    if magic != MAGIC:
        return "bad magic"
    start = offset + HEADER.size
    end = start + meta_len + body_len
    if end > len(data):
        return "short frame"
    lengths, meta, body = data[offset + 4:offset + 12], data[start:start + meta_len], data[start + meta_len:end]
    if zlib.crc32(body, zlib.crc32(meta, zlib.crc32(lengths))) != crc:
        return "crc mismatch"
    try:
        fields = orjson.loads(meta)
    except orjson.JSONDecodeError:
        fields = None
    if not isinstance(fields, list) or len(fields) != 13:
        # The checksum holds, so these are the bytes that were written: a bug or a foreign format, not a crash.
        return "undecodable metadata"
    return end, fields, bytes(body)


def decode_frames(data: bytes, *, name: str) -> tuple[list[RawRecord], bool, int]:
    """Records of a segment's bytes, whether a torn tail was dropped, and where the good frames end."""
    view = memoryview(data)
    records: list[RawRecord] = []
    offset = 0
    while offset < len(view):
        got = _decode_at(view, offset)
        if isinstance(got, str):
            if got == "undecodable metadata" or _intact_frame_after(data, view, offset):
                raise CorruptFileError(f"{name}: corrupt journal frame at offset {offset} ({got})")
            return records, True, offset
        end, fields, body = got
        try:
            records.append(RawRecord(*fields[:12], body, fields[12]))  # type: ignore[arg-type]
        except TypeError as exc:
            raise CorruptFileError(f"{name}: corrupt journal frame at offset {offset} ({exc})") from exc
        offset = end
    return records, False, offset


def _intact_frame_after(data: bytes, view: memoryview, offset: int) -> bool:
    # A crash damages only the end of an append-only file: a good frame after a bad one means the bad one
    # is damage in the middle (a flipped bit, a corrupted length), which must not be dropped silently.
    position = data.find(MAGIC, offset + 1)
    while position != -1:
        if not isinstance(_decode_at(view, position), str):
            return True
        position = data.find(MAGIC, position + 1)
    return False


def read_segment(path: Path) -> SegmentReadResult:
    """The records of a segment file, closed or left open by a crash."""
    records, torn, valid = decode_frames(_read(path), name=str(path))
    return SegmentReadResult(path, tuple(records), torn, valid)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StoreError(f"{path}: cannot read journal segment: {exc.strerror or exc}") from exc


# --- damage -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Damage:
    start: int  # bytes [start, end) of the file are not an intact frame
    end: int
    why: str  # "crc mismatch", "bad magic", "short frame", "empty segment", ...


@dataclass(frozen=True, slots=True)
class FrameScan:
    records: tuple[RawRecord, ...]
    frames: tuple[tuple[int, int], ...]  # where each record's frame lies, [start, end)
    damage: tuple[Damage, ...]  # what is not an intact frame, except the torn tail a crash leaves on an open segment


def scan_frames(data: bytes, *, closed: bool) -> FrameScan:
    """Every intact frame of a segment's bytes, and the damage between and after them.

    `closed`: the bytes of a `.closed` segment, fsynced whole before it was renamed, where a torn
    tail (or no bytes at all) is damage too; in a `.journal` a crash's torn tail is not.
    """
    view = memoryview(data)
    records: list[RawRecord] = []
    frames: list[tuple[int, int]] = []
    damage: list[Damage] = []
    offset = 0
    while offset < len(data):
        got = _decode_at(view, offset)
        if not isinstance(got, str):
            end, fields, body = got
            record = _record(fields, body)
            if record is not None:
                records.append(record)
                frames.append((offset, end))
                offset = end
                continue
            got = "undecodable metadata"
        resume = _next_intact_frame(data, view, offset)
        end = len(data) if resume is None else resume
        if not (resume is None and not closed and _torn_write(got, data[offset:])):
            damage.append(Damage(offset, end, got))
        offset = end
    if closed and not data:
        damage.append(Damage(0, 0, "empty segment"))
    return FrameScan(tuple(records), tuple(frames), tuple(damage))


def _record(fields: list[object], body: bytes) -> RawRecord | None:
    # The checksum holds but the fields may still not make a record the store can hold (a bug, a foreign writer).
    try:
        record = RawRecord(*fields[:12], body, fields[12])  # type: ignore[arg-type]
    except TypeError:
        return None
    return record if isinstance(record.record_id, str) and record_problem(record) is None else None


def _next_intact_frame(data: bytes, view: memoryview, offset: int) -> int | None:
    position = data.find(MAGIC, offset + 1)
    while position != -1:
        if not isinstance(_decode_at(view, position), str):
            return position
        position = data.find(MAGIC, position + 1)
    return None


def _torn_write(why: str, tail: bytes) -> bool:
    # An append cut short leaves a prefix of a frame, or (after a power cut, on some file systems) zeros.
    return not tail.strip(b"\0") or (why in _TORN and MAGIC.startswith(tail[:len(MAGIC)]))


@dataclass(frozen=True, slots=True)
class SegmentCheck:
    path: Path
    data: bytes
    scan: FrameScan

    @property
    def records(self) -> tuple[RawRecord, ...]:
        return self.scan.records

    @property
    def damaged(self) -> bool:
        return bool(self.scan.damage)


def examine_segment(path: Path) -> SegmentCheck:
    """A segment's intact records and its damage (see `scan_frames`), for ingestion that damage must not stop."""
    data = _read(path)
    return SegmentCheck(path, data, scan_frames(data, closed=path.suffix == CLOSED_SUFFIX))


@dataclass(frozen=True, slots=True)
class SetAside:
    original: Path  # where the damaged file was
    moved_to: Path  # every byte of it, unchanged
    kept: Path | None  # its intact frames, as the `.closed` segment to ingest; None when there were none
    records: int  # intact records kept
    damage: tuple[Damage, ...]

    @property
    def message(self) -> str:
        """One line naming the file, what was set aside, where, and what was kept."""
        total = sum(d.end - d.start for d in self.damage)
        if not self.records and self.damage and self.damage[0].why == "empty segment":
            what = "an empty closed segment (truncated to nothing)"
        elif not self.records:
            what = f"not a journal segment: no intact frame in {total} bytes ({self.damage[0].why} at offset 0)"
        else:
            ranges = ", ".join(f"{d.start}..{d.end} ({d.why})" for d in self.damage[:3])
            more = f" and {len(self.damage) - 3} more ranges" if len(self.damage) > 3 else ""
            what = f"{total} damaged bytes at offsets {ranges}{more}"
        kept = f"{self.records} intact records kept for ingestion" if self.records else "nothing to ingest"
        return f"journal segment {self.original}: {what}; set aside whole as {self.moved_to}; {kept}"


def set_aside(check: SegmentCheck, *, writev: Writev = os.writev) -> SetAside:
    """Keep the damaged segment whole under `corrupt/` and leave its intact frames as the segment to ingest.

    Every step can be interrupted and repeated: the original keeps a name (its own, or in `corrupt/`)
    until the intact frames are durable under the segment's `.closed` name, and those frames keep
    their record ids, so a second attempt, or an ingestion of both, stores each record once.
    """
    path = check.path
    directory = path.parent
    corrupt = directory / CORRUPT_DIR
    intact = [memoryview(check.data)[start:end] for start, end in check.scan.frames]
    kept = directory / (segment_id_of(path) + CLOSED_SUFFIX) if intact else None
    try:
        if not corrupt.is_dir():
            corrupt.mkdir(exist_ok=True)
            fsync_directory(directory)
        moved_to = _keep_whole(path, corrupt)
        fsync_directory(corrupt)
        if kept is not None:
            tmp = directory / f".{kept.name}.salvaged.tmp"
            try:
                write_file(tmp, intact, writev)
                os.rename(tmp, kept)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        if kept != path:
            os.unlink(path)
        fsync_directory(directory)
    except OSError as exc:
        raise store_error(f"{path}: cannot set the damaged segment aside: {reason(exc)}", directory, exc) from exc
    return SetAside(path, moved_to, kept, len(intact), check.scan.damage)


def _keep_whole(path: Path, corrupt: Path) -> Path:
    # A hard link keeps the bytes without copying them (a full disk has no room for a copy) and is atomic.
    for n in range(1000):
        target = corrupt / (path.name if n == 0 else f"{path.name}.{n}")
        try:
            os.link(path, target)
            return target
        except FileExistsError:
            if os.path.samefile(path, target):  # an interrupted earlier attempt got this far
                return target
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            tmp = target.with_name(f".{target.name}.tmp")  # a file system without hard links: copy instead
            shutil.copyfile(path, tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.rename(tmp, target)
            return target
    raise StoreError(f"{path}: too many damaged copies of it in {corrupt}")


# --- segments on disk -------------------------------------------------------------------------------------------------


def segment_id_of(path: Path) -> str:
    if path.suffix not in (OPEN_SUFFIX, CLOSED_SUFFIX):
        raise StoreError(f"{path}: not a journal segment (expected *{OPEN_SUFFIX} or *{CLOSED_SUFFIX})")
    return path.name[: -len(path.suffix)]


def is_being_written(path: Path) -> bool:
    """True when a live Journal (in any process) holds `path` open for appending."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases the probe's lock
    return False


def pending_segments(directory: Path) -> list[Path]:
    """Segments not yet ingested, oldest first: closed ones and those a crashed writer left open.

    A `.journal` a live Journal is still appending to is left out (the writer holds a lock on it).
    """
    try:
        entries = list(directory.iterdir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StoreError(f"{directory}: cannot list journal segments: {exc.strerror or exc}") from exc
    found = [p for p in entries if p.suffix == CLOSED_SUFFIX
             or (p.suffix == OPEN_SUFFIX and not is_being_written(p))]
    return sorted(found, key=lambda p: (segment_id_of(p), p.suffix))


def fsync_directory(directory: Path) -> None:
    """Make renames, creations and deletions in `directory` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stamp(us: int) -> str:
    seconds, micros = divmod(us, 1_000_000)
    when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)
    return f"{when:%Y%m%dT%H%M%S}.{micros:06d}Z"


# --- the writer -------------------------------------------------------------------------------------------------------


class Journal:
    """Appends records to segment files and fsyncs them in batches; not thread-safe (one writer, one thread).

    `fsync_records` records or `fsync_interval_s` seconds after the first unflushed one, whichever
    comes first, are made durable together (checked on each append; call `due(now)` and `flush()`
    from a timer when appends are sparse). `on_durable` receives the record ids each fsync made durable.
    Appending never rolls: the caller asks `should_roll(now)` and rolls, then hands the closed path
    to `RawStore.ingest_segment`.
    After a StoreError or DiskFull the open segment is abandoned as it is; `pending_segments` hands
    it to the next recovery and the next append starts a new one. `writev` is the seam through which
    every byte reaches the disk (see `collector.disk`).
    """

    def __init__(
        self,
        directory: Path,
        *,
        run_id: str,
        fsync_records: int = 100,
        fsync_interval_s: float = 0.1,
        segment_max_bytes: int = 64 * 2**20,
        segment_max_age_s: float = 3600.0,
        clock: Callable[[], float] = time.time,
        on_durable: Callable[[list[str]], None] | None = None,
        writev: Writev = os.writev,
    ) -> None:
        if fsync_records < 1 or fsync_interval_s < 0 or segment_max_bytes < 1 or segment_max_age_s <= 0:
            raise ValueError("fsync_records and segment_max_bytes must be >= 1, the intervals positive")
        run = _RUN_ID_UNSAFE.sub("_", run_id)[:64]
        if not run.strip("_.-"):
            raise StoreError(f"journal {directory}: run id {run_id!r} cannot name a segment")
        self.directory = Path(directory)
        self.run_id = run
        self.fsync_records = fsync_records
        self.fsync_interval_s = fsync_interval_s
        self.segment_max_bytes = segment_max_bytes
        self.segment_max_age_s = segment_max_age_s
        self.on_durable = on_durable
        self._clock = clock
        self._writev = writev
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.directory}: cannot create journal directory: {exc.strerror or exc}") from exc
        self._fd: int | None = None
        self._path: Path | None = None
        self._pending: list[bytes] = []  # framed bytes not yet handed to the kernel
        self._pending_bytes = 0
        self._segment_id = ""
        self._opened_at = 0.0
        self._size = 0
        self._segments = 0
        self._token = secrets.token_hex(2)
        self._last_stamp_us = 0
        self._seq = 0
        self._acknowledged = 0
        self._unflushed: list[str] = []
        self._first_unflushed_at = 0.0
        self._closed = False
        self._dropped = 0

    # -- state -------------------------------------------------------------------------------------------------------

    @property
    def acknowledged_through(self) -> int:
        """The seq of the last record fsynced (0: none yet); every earlier one was too, but for `dropped`."""
        return self._acknowledged

    @property
    def dropped(self) -> int:
        """Records appended but never acknowledged, because a write or fsync failed before they were durable."""
        return self._dropped

    @property
    def segment_path(self) -> Path | None:
        """The segment being written, if one is open."""
        return self._path

    @property
    def segment_bytes(self) -> int:
        return self._size

    def due(self, now: float) -> bool:
        """True when unflushed records have waited long enough, or are numerous enough, to fsync."""
        return bool(self._unflushed) and (len(self._unflushed) >= self.fsync_records
                                          or now - self._first_unflushed_at >= self.fsync_interval_s)

    def should_roll(self, now: float) -> bool:
        """True when the open segment is big or old enough to be closed and ingested."""
        return self._fd is not None and (self._size >= self.segment_max_bytes
                                           or now - self._opened_at >= self.segment_max_age_s)

    # -- writing -----------------------------------------------------------------------------------------------------

    def append(self, record: RawRecord) -> RawRecord:
        """Frame `record` under a new record id into the open segment; returns the record as stored."""
        if self._closed:
            raise StoreError(f"journal {self.directory}: append after close")
        problem = record_problem(record)
        if problem is not None:
            raise StoreError(f"journal {self.directory}: refusing record: {problem}")
        now = self._clock()
        if self._fd is None:
            self._open_segment(now)
        seq = self._seq + 1
        stored = RawRecord(f"{self._segment_id}-{seq:0{SEQ_DIGITS}d}", record.exchange, record.endpoint,
                           record.market, record.api_version, record.method, record.path, record.params,
                           record.sent_at, record.received_at, record.http_status, record.error_class,
                           record.body, record.collector_run)
        try:
            header, meta, body = frame_parts(stored)
        except (TypeError, ValueError) as exc:  # orjson: a str that is not valid Unicode (a lone surrogate)
            raise StoreError(f"journal {self._path}: refusing record: {exc}") from exc
        self._pending += (header, meta, body)
        self._pending_bytes += len(header) + len(meta) + len(body)
        self._seq = seq
        self._size += len(header) + len(meta) + len(body)
        if not self._unflushed:
            self._first_unflushed_at = now
        self._unflushed.append(stored.record_id)
        if self.due(now):
            self.flush()
        elif self._pending_bytes >= _WRITE_BYTES:
            self._write_pending()
        return stored

    def flush(self) -> None:
        """Fsync every record appended so far, then report them to `on_durable`."""
        if not self._unflushed or self._fd is None:
            return
        self._write_pending()
        try:
            _fdatasync(self._fd)
        except OSError as exc:
            path = self._path
            self._abandon()
            raise store_error(f"{path}: cannot fsync journal: {exc.strerror or exc}", str(path), exc) from exc
        durable, self._unflushed = self._unflushed, []
        self._acknowledged = self._seq
        if self.on_durable is not None:
            self.on_durable(durable)

    def roll(self) -> Path | None:
        """Close the open segment (fsynced) and rename it `*.closed`; the next append opens a new one."""
        if self._fd is None or self._path is None:
            return None
        self.flush()
        fd, path = self._fd, self._path
        self._fd = self._path = None
        closed = path.with_name(self._segment_id + CLOSED_SUFFIX)
        try:
            os.close(fd)  # releases the writer's lock
            os.rename(path, closed)
            fsync_directory(self.directory)
        except OSError as exc:
            raise StoreError(f"{path}: cannot close journal segment: {exc.strerror or exc}") from exc
        return closed

    def close(self) -> Path | None:
        """Roll the open segment, if any, and refuse further appends."""
        try:
            return self.roll()
        finally:
            self._closed = True

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------------------------------

    def _open_segment(self, now: float) -> None:
        stamp_us = max(round(now * 1_000_000), self._last_stamp_us + 1)
        while True:
            self._segments += 1
            segment_id = f"{_stamp(stamp_us)}-{self.run_id}-{self._token}-{self._segments:04d}"
            path = self.directory / (segment_id + OPEN_SUFFIX)
            if (self.directory / (segment_id + CLOSED_SUFFIX)).exists():
                continue
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, 0o644)
            except FileExistsError:
                continue
            except OSError as exc:
                raise store_error(f"{path}: cannot create journal segment: {exc.strerror or exc}", str(path),
                                  exc) from exc
            break
        try:
            # The lock tells recovery in another process that this `.journal` is alive, not a crash's leftover.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The new name must survive a power cut before any record in it is acknowledged.
            fsync_directory(self.directory)
        except OSError as exc:
            os.close(fd)
            raise store_error(f"{path}: cannot open journal segment: {exc.strerror or exc}", str(path), exc) from exc
        self._fd = fd
        self._path = path
        self._segment_id = segment_id
        self._opened_at = now
        self._size = 0
        self._last_stamp_us = stamp_us

    def _write_pending(self) -> None:
        # Frames are kept in memory until a batch is due or 256 KiB have gathered, then written with writev:
        # one system call per batch, and no library buffer that could later write a stale tail after a failure.
        if not self._pending or self._fd is None:
            return
        parts, self._pending, self._pending_bytes = self._pending, [], 0
        try:
            write_all(self._fd, parts, self._writev)
        except OSError as exc:
            path = self._path
            self._abandon()
            raise store_error(f"{path}: cannot append to journal: {exc.strerror or exc}", str(path), exc) from exc

    def _abandon(self) -> None:
        # The segment may now end in a partial frame: never append after it (that would put damage in the
        # middle). Unflushed records were not acknowledged; whatever of them reached the disk is replayed.
        fd, self._fd, self._path = self._fd, None, None
        self._dropped += len(self._unflushed)
        self._unflushed, self._pending, self._pending_bytes = [], [], 0
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
