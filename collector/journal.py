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
import fcntl
import os
import re
import secrets
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from .errors import CorruptFileError, StoreError
from .record import RawRecord, record_problem

MAGIC = b"MRJ1"
HEADER = struct.Struct("<4sIII")  # magic, meta_len, body_len, crc32
OPEN_SUFFIX = ".journal"
CLOSED_SUFFIX = ".closed"
SEQ_DIGITS = 10
_MAX_LEN = 2**32 - 1
_RUN_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_WRITE_BYTES = 256 * 1024
_IOV_MAX = 512
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
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StoreError(f"{path}: cannot read journal segment: {exc.strerror or exc}") from exc
    records, torn, valid = decode_frames(data, name=str(path))
    return SegmentReadResult(path, tuple(records), torn, valid)


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
    After a StoreError the open segment is abandoned as it is; `pending_segments` hands it to the
    next recovery and the next append starts a new one.
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

    # -- state -------------------------------------------------------------------------------------------------------

    @property
    def acknowledged_through(self) -> int:
        """Every record with a seq up to this one is fsynced (0: none yet)."""
        return self._acknowledged

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
            raise StoreError(f"{path}: cannot fsync journal: {exc.strerror or exc}") from exc
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
                raise StoreError(f"{path}: cannot create journal segment: {exc.strerror or exc}") from exc
            break
        try:
            # The lock tells recovery in another process that this `.journal` is alive, not a crash's leftover.
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The new name must survive a power cut before any record in it is acknowledged.
            fsync_directory(self.directory)
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"{path}: cannot open journal segment: {exc.strerror or exc}") from exc
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
            for start in range(0, len(parts), _IOV_MAX):
                chunk = parts[start:start + _IOV_MAX]
                left = sum(len(p) for p in chunk)
                while left:
                    written = os.writev(self._fd, chunk)
                    left -= written
                    if left:  # a short write: continue from the first byte not written
                        chunk = _drop_prefix(chunk, written)
        except OSError as exc:
            path = self._path
            self._abandon()
            raise StoreError(f"{path}: cannot append to journal: {exc.strerror or exc}") from exc

    def _abandon(self) -> None:
        # The segment may now end in a partial frame: never append after it (that would put damage in the
        # middle). Unflushed records were not acknowledged; whatever of them reached the disk is replayed.
        fd, self._fd, self._path = self._fd, None, None
        self._unflushed, self._pending, self._pending_bytes = [], [], 0
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def _drop_prefix(parts: list[bytes], count: int) -> list[bytes]:
    for index, part in enumerate(parts):
        if count < len(part):
            return [part[count:], *parts[index + 1:]]
        count -= len(part)
    return []
