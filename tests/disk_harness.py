"""Disks for the resource tests: a small tmpfs (full or read-only) where the machine lets us mount one,
a `writev` that fails as a full disk does where it does not, and the collector's log lines."""

from __future__ import annotations

import errno
import io
import logging
import os
import shutil
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from collector import log

NO_SPACE = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@contextmanager
def tmpfs(directory: Path, size: str = "8m", *, read_only: bool = False) -> Iterator[bool]:
    """A tmpfs of `size` mounted at `directory` for the block: True, or False where mounting is not permitted
    (not root, no CAP_SYS_ADMIN, no mount(8)), with nothing mounted."""
    directory.mkdir(parents=True, exist_ok=True)
    options = f"size={size},mode=0755" + (",ro" if read_only else "")
    mounted = (os.geteuid() == 0 and shutil.which("mount") is not None
               and subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)],
                                  capture_output=True).returncode == 0)
    try:
        yield mounted
    finally:
        if mounted and subprocess.run(["umount", str(directory)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", str(directory)], check=True, capture_output=True)
            raise AssertionError(f"{directory}: still in use after the test (a file left open?); detached")


class TmpfsFiller:
    """Fills a mounted tmpfs to its last byte with one file (again each call: whatever was freed meanwhile);
    deleting it is space returning. Every writer (journal, Parquet, SQLite) meets the full disk, so `writev`
    is the real one."""

    writev = staticmethod(os.writev)

    def __init__(self, root: Path) -> None:
        self.path = root / "filler"
        self.filled = 0

    def fill(self) -> None:
        with open(self.path, "ab", buffering=0) as f:
            for chunk in (2**20, 2**12, 1):  # big steps, then the last bytes
                try:
                    while True:
                        self.filled += f.write(b"\xa5" * chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise

    def free(self) -> None:
        self.path.unlink()


class InjectedFull:
    """`os.writev` for the journal and the raw store, refusing with ENOSPC between `fill()` and `free()`.

    The first call refused still writes half of its bytes, as a disk filling up does (a short write), so
    the journal is left with a torn frame to cope with.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._full = False
        self._short_write_done = False
        self.filled = 0

    def fill(self) -> None:
        with self._lock:
            self._full, self._short_write_done = True, False

    def free(self) -> None:
        with self._lock:
            self._full = False

    def writev(self, fd: int, buffers: Sequence[Any]) -> int:
        with self._lock:
            if not self._full:
                return os.writev(fd, buffers)
            if not self._short_write_done:
                self._short_write_done = True
                data = b"".join(bytes(memoryview(b)) for b in buffers)
                if len(data) > 1:
                    self.filled += len(data) // 2
                    return os.write(fd, data[:len(data) // 2])
            raise NO_SPACE


@contextmanager
def captured_log() -> Iterator[list[str]]:
    """The collector's log lines while the block runs (the logger restored after)."""
    lines: list[str] = []

    class Lines(io.TextIOBase):
        def write(self, text: str) -> int:
            lines.extend(line for line in text.splitlines() if line)
            return len(text)

    saved = log.LOGGER.handlers[:], log.LOGGER.level, log.LOGGER.propagate
    log.configure(logging.INFO, Lines())
    try:
        yield lines
    finally:
        log.LOGGER.handlers[:], log.LOGGER.level, log.LOGGER.propagate = saved


def events(lines: list[str], name: str) -> list[str]:
    return [line for line in lines if line.split(" ", 2)[1:2] == [name]]


def logged_at(line: str) -> float:
    return datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00")).timestamp()


def response_keys(rows: list[dict[str, Any]]) -> Counter[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """Requests as (method, path, params), counted: raw records (params as JSON) or emulator log entries."""
    import json

    def params(value: Any) -> tuple[tuple[str, str], ...]:
        found = json.loads(value) if isinstance(value, str) else value
        return tuple(sorted((str(k), str(v)) for k, v in found.items()))

    return Counter((r["method"], r["path"], params(r["params"])) for r in rows)
