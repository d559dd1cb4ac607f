"""The local disk: telling a full one, writing through one seam, probing for space, refusing a read-only one.

A full disk is a condition, not a fault: writes fail with ENOSPC (EDQUOT under a quota, SQLITE_FULL in the
state files) until someone frees space. The journal and the raw store then raise DiskFull and acknowledge
nothing of what they were writing; the collector pauses, with no requests sent (there is no point asking
the exchange for data it cannot keep), probes with a small write on the `SpaceRetry` schedule and resumes
when a probe succeeds. `Paused` and the functions on it are the pure part; `probe` is the I/O.

`writev` is the one seam: the journal, the raw store and the probe put every byte they write on the disk
through a callable with `os.writev`'s signature (`os.writev` by default), so a test can pass one that fails
as a full disk does where no small file system can be mounted.

A directory that cannot be written at all (a read-only mount, no permission) never heals by itself, so it
is refused at start (`check_writable`). That is tested by creating a file: `os.access` judges by permission
bits, which root passes whatever they say, and misses root-squashed NFS and immutable directories.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import CollectorError, DiskFull, StoreError

Writev = Callable[[int, Sequence[Any]], int]  # os.writev: (fd, buffers) -> bytes written
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
PROBE_BYTES = 64 * 1024
_IOV_MAX = 512


def is_full(exc: BaseException, path: str | Path | None = None) -> bool:
    """True when `exc` says there is no space: ENOSPC or EDQUOT (pyarrow keeps the errno too), or SQLITE_FULL.

    With `path`, also a SQLite I/O error while the file system holding `path` has no free block: SQLite
    says "disk I/O error", not "full", when it cannot grow its shared-memory or WAL file.
    """
    if isinstance(exc, sqlite3.Error):
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        return code == sqlite3.SQLITE_FULL or (code == sqlite3.SQLITE_IOERR and path is not None
                                               and no_free_block(path))
    return isinstance(exc, OSError) and exc.errno in NO_SPACE


def full_reason(exc: BaseException, path: str | Path | None = None) -> str | None:
    """Why `exc` means no space, in the system's words (see `is_full`); None when it does not."""
    if not is_full(exc, path):
        return None
    return reason(exc) if is_full(exc) else f"{reason(exc)}, with no space left on its file system"


def no_free_block(path: str | Path) -> bool:
    """True when the file system holding `path` (or its nearest existing parent) has no block left for us."""
    where = Path(path)
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        st = os.statvfs(where)
    except OSError:
        return False
    return (st.f_bfree if os.geteuid() == 0 else st.f_bavail) == 0  # root may use the reserved blocks


def reason(exc: BaseException) -> str:
    """The system's words for `exc`, one line."""
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return " ".join(text.split()) or type(exc).__name__


def store_error(message: str, path: str | Path, exc: BaseException) -> CollectorError:
    """`message` as a DiskFull when `exc` means no space, else as a StoreError."""
    return DiskFull(message, str(path), reason(exc)) if is_full(exc) else StoreError(message)


# --- writing ----------------------------------------------------------------------------------------------------------


def write_all(fd: int, parts: Sequence[Any], writev: Writev = os.writev) -> None:
    """Write every byte of `parts` to `fd`, in as few system calls as the kernel allows."""
    for start in range(0, len(parts), _IOV_MAX):
        chunk = list(parts[start:start + _IOV_MAX])
        left = sum(memoryview(p).nbytes for p in chunk)
        while left:
            written = writev(fd, chunk)
            left -= written
            if left:  # a short write (a disk filling up, a signal): go on from the first byte not written
                chunk = _drop_prefix(chunk, written)


def write_file(path: str | Path, parts: Sequence[Any], writev: Writev = os.writev) -> None:
    """Create or truncate `path`, write `parts` and fsync it; OSError as raised."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        write_all(fd, parts, writev)
        os.fsync(fd)
    finally:
        os.close(fd)


def _drop_prefix(parts: list[Any], count: int) -> list[Any]:
    for index, part in enumerate(parts):
        view = memoryview(part).cast("B")
        if count < view.nbytes:
            return [view[count:], *parts[index + 1:]]
        count -= view.nbytes
    return []


# --- a full disk: the pause and its retry schedule --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpaceRetry:
    """While the disk is full, probe after `first_s`, then twice as long each time, never more than `cap_s` apart."""

    first_s: float = 0.5
    cap_s: float = 5.0

    def __post_init__(self) -> None:
        if not 0 < self.first_s <= self.cap_s:
            raise ValueError(f"inconsistent space retry: {self}")

    def delay(self, failures: int) -> float:
        """Seconds until the next probe after `failures` failed ones (0: the first probe)."""
        return min(self.cap_s, self.first_s * 2.0 ** min(max(0, failures), 64))


@dataclass(frozen=True, slots=True)
class Paused:
    """A full-disk episode in progress."""

    where: str  # what is full, as the log names it: "data root /srv/marketrec"
    reason: str  # the system's words: "No space left on device"
    since_s: float  # machine clock, for the schedule
    since_us: int  # wall clock, µs: where the gap it leaves in the records starts
    next_probe_s: float
    probes: int = 0  # probes failed so far
    gap_recorded: bool = False  # the gap's records are durable (resuming may take more than one probe)


def pause(where: str, why: str, now_s: float, now_us: int, retry: SpaceRetry) -> Paused:
    return Paused(where, why, now_s, now_us, now_s + retry.delay(0))


def probe_failed(paused: Paused, now_s: float, retry: SpaceRetry) -> Paused:
    return replace(paused, probes=paused.probes + 1, next_probe_s=now_s + retry.delay(paused.probes + 1))


def full_message(paused: Paused, retry: SpaceRetry | None) -> str:
    """The line that opens an episode; `retry` None when it is met while stopping, with no waiting to come."""
    if retry is None:
        return (f"{paused.where} is full ({paused.reason}): stopping; what the journal holds is stored by the next "
                "run's recovery; nothing acknowledged is lost")
    return (f"{paused.where} is full ({paused.reason}): pausing requests and writes, checking for space again "
            f"every {retry.cap_s:g} s at most; nothing acknowledged is lost")


def back_message(paused: Paused, now_s: float) -> str:
    return f"{paused.where} has space again after {now_s - paused.since_s:.1f} s: resuming"


def where_full(path: str, places: Sequence[tuple[str, Path]]) -> str:
    """The first of `places` (a label, a directory) holding `path`, as "label directory"; else `path` itself."""
    target = os.path.abspath(path)
    for label, directory in places:
        base = os.path.abspath(directory)
        if target == base or target.startswith(base.rstrip(os.sep) + os.sep):
            return f"{label} {directory}"
    return path


# --- I/O --------------------------------------------------------------------------------------------------------------


def probe(directories: Iterable[Path], writev: Writev = os.writev, nbytes: int = PROBE_BYTES) -> None:
    """Write and fsync `nbytes` in each directory, then remove them: DiskFull while there is no room for that.

    Random bytes: zeros would take no space on a compressing file system, and prove nothing.
    """
    for directory in directories:
        path = Path(directory) / f".marketrec-space-probe-{os.getpid()}"
        try:
            write_file(path, [os.urandom(nbytes)], writev)
        except OSError as exc:
            raise store_error(f"{directory}: cannot write a {nbytes}-byte probe: {reason(exc)}", directory, exc) \
                from None
        finally:
            with suppress(OSError):
                os.unlink(path)


def check_writable(directory: Path, what: str) -> None:
    """Refuse, with a one-line StoreError, a directory that cannot be created or written into.

    A full disk passes: full is not read-only, and the collector waits for space rather than refusing.
    """
    directory = Path(directory)
    path = directory / f".marketrec-write-check-{os.getpid()}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600))
        os.unlink(path)
    except OSError as exc:
        if is_full(exc):
            return
        raise StoreError(f"{what} {directory} is not writable ({reason(exc)})") from None
