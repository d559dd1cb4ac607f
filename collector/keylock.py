"""One private call at a time per API key, across every marketrec process on the machine.

The exchange wants each key's nonces to arrive in increasing order. Taking nonces from one durable
store makes them increase in the order they are taken; but two processes (or two tasks of one) that
take n and n + 1 may still deliver n + 1 first, and the exchange then refuses n as stale. So a
private call holds this lock from taking its nonce until its answer is in: the exchange sees the
nonces of a key in the order they were taken. An advisory lock (flock) on a file per key under the
state directory; released by the kernel if the process dies, so a crash never leaves it held.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from .errors import StateError

POLL_S = 0.002  # between attempts while another process holds the key (never blocks the event loop)


class KeyLock:
    def __init__(self, directory: Path, key_id: str) -> None:
        # Named by a digest: the API key itself stays out of file names.
        self.path = Path(directory) / f"key-{hashlib.sha256(key_id.encode()).hexdigest()[:16]}.lock"
        self._local = asyncio.Lock()
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise StateError(f"{self.path}: cannot open the key's lock ({exc.strerror})") from None
        return self._fd

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        async with self._local:
            fd = self._open()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(POLL_S)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
