"""Durable, strictly increasing nonces per API key, safe across restarts, clock steps and processes.

Mt.Gox refuses a nonce that is not greater than the last one it accepted for the key, and a
nonce too far ahead cannot be undone (reference section 6). So the rule is

    nonce = max(now in µs, last + 1)

with `last` read and written in one transaction shared by every process using the file, and
made durable before the nonce is returned, that is before the request carrying it is sent. A
restart, a wall clock stepped back (even by an hour) or a second collector on the same key
then costs nothing but nonces that run ahead of the clock until it catches up. A crash after
`take` can only skip a nonce, never reuse one.

Storage: SQLite, WAL, `BEGIN IMMEDIATE`, `synchronous=FULL`. Rejected: a file under
`fcntl.flock` rewritten with write + fsync + rename, which needs the directory fsynced too (two
or three fsyncs a nonce against one WAL append) and hand-written torn-file recovery; SQLite
already does both, and the budget (`collector.budget`) needs it anyway. WAL relies on shared
memory, so the file must be on a local file system (not NFS), which "processes on one machine"
implies anyway.

The file holds a fingerprint of each key (a sha256 prefix), never the key, so it is not a
credential. `StateDb` below is the SQLite plumbing shared with `collector.budget`.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .disk import full_reason
from .errors import DiskFull, StateError

# Mt.Gox stored nonces as signed 64-bit integers; SQLite's INTEGER is the same range.
NONCE_MAX = 2**63 - 1
FINGERPRINT_HEX = 16  # 64 bits: no collision among the handful of keys one machine holds


def key_fingerprint(key_id: str) -> str:
    """A stable, non-secret name for an API key: the first 16 hex digits of its sha256."""
    return hashlib.sha256(key_id.encode()).hexdigest()[:FINGERPRINT_HEX]


def next_nonce(last: int | None, now_us: int) -> int:
    """The nonce to use after `last` (None: the key has none yet) when the clock reads `now_us`.

    ValueError for a negative clock or when the result would pass 2^63-1 (the key is then
    unusable for nonce signing: the exchange cannot accept anything larger).
    """
    if now_us < 0:
        raise ValueError(f"now_us must be >= 0, got {now_us}")
    nonce = now_us if last is None else max(now_us, last + 1)
    if nonce > NONCE_MAX:
        raise ValueError(f"the next nonce would pass 2^63-1 (last was {last})")
    return nonce


def tonce(now_us: int) -> int:
    """The `tonce` to send: the clock in µs, nothing else.

    A tonce only has to lie within ±10 s of the exchange's clock and not repeat within that
    window (reference section 6); it need not increase. So there is nothing to persist: after a
    restart or a step of the clock, the current time is again a valid tonce, and a persisted
    floor would only push tonces out of the window. The residual risk, two processes on one key
    drawing the same microsecond, is one refused request, not a stuck key.
    """
    if now_us < 0:
        raise ValueError(f"now_us must be >= 0, got {now_us}")
    return now_us


class StateDb:
    """One process's connection to a state file (SQLite, WAL), with errors turned into StateError.

    `write()` is a `BEGIN IMMEDIATE` transaction: the write lock is taken before the first read,
    so a read-modify-write is atomic across processes and never fails half way with SQLITE_BUSY
    on upgrade. Waiting for another process's lock is bounded by `timeout_s`.

    The connection is opened lazily and again after a fork: SQLite forbids using a connection
    inherited from the parent, so a child opens its own. A lock serialises threads.
    """

    def __init__(self, path: Path, *, schema: str, synchronous: str, timeout_s: float = 10.0) -> None:
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"unknown synchronous level {synchronous!r}")
        self.path = Path(path)
        self.timeout_s = timeout_s
        self._schema = schema
        self._synchronous = synchronous
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        # Connections inherited across fork are kept referenced, never closed: closing one in the
        # child could release or corrupt locks that belong to the parent's copy.
        self._inherited: list[sqlite3.Connection] = []

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid != os.getpid():
            self._inherited.append(self._conn)
            self._conn = None
        if self._conn is None:
            self._conn = self._open()
            self._pid = os.getpid()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Switching a new file to WAL needs an exclusive lock and SQLite does not wait for it (no busy
        # handler), so processes starting together on a fresh file retry here, within timeout_s.
        deadline = time.monotonic() + self.timeout_s
        pause = 0.002
        while True:
            # isolation_level=None: the module issues BEGIN/COMMIT itself, so nothing is begun implicitly.
            conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None, check_same_thread=False)
            try:
                self._setup(conn)
                return conn
            except sqlite3.OperationalError as e:
                conn.close()
                if not _busy(e) or time.monotonic() + pause > deadline:
                    raise
            except BaseException:
                conn.close()
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def _setup(self, conn: sqlite3.Connection) -> None:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StateError(f"{self.path}: cannot switch to WAL journal mode (got {mode}); is it on a local disk?")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        # The WAL is truncated back to this size after a checkpoint, so the file pair stays small.
        conn.execute("PRAGMA journal_size_limit=1048576")
        conn.executescript(self._schema)

    @contextmanager
    def write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """A `BEGIN IMMEDIATE` transaction, committed when the block ends, rolled back on error."""
        with self._lock, self.translate(doing):
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                # Inside the try: a failed COMMIT (disk full, I/O error) must not leave the
                # transaction open for the next call, and the caller must not use what it computed.
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    # The original error is the one worth reporting; SQLite rolls back on close anyway.
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise

    @contextmanager
    def read(self, doing: str) -> Iterator[sqlite3.Connection]:
        """The connection for reads; a single SELECT sees one consistent snapshot under WAL."""
        with self._lock, self.translate(doing):
            yield self._connection()

    @contextmanager
    def translate(self, doing: str) -> Iterator[None]:
        """sqlite3 and OS errors as one-line StateErrors naming the file; DiskFull when there is no space.

        A write that fails for space is rolled back by `write`, so nothing it would have recorded (a
        nonce, a budget slot) is handed out: the caller sends nothing, and retries once space returns.
        """
        try:
            yield
        except sqlite3.Error as e:
            reason = " ".join(str(e).split()) or type(e).__name__
            if full := full_reason(e, self.path):
                raise DiskFull(f"{self.path}: cannot {doing}: {full}", str(self.path), full) from None
            if _busy(e):
                reason += f" (another process held it for more than {self.timeout_s:g} s)"
            raise StateError(f"{self.path}: cannot {doing}: {reason}") from None
        except OSError as e:
            reason = e.strerror or str(e)
            if full_reason(e):
                raise DiskFull(f"{self.path}: cannot {doing}: {reason}", str(self.path), reason) from None
            raise StateError(f"{self.path}: cannot {doing}: {reason}") from None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None


def _busy(e: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (extended codes included): another connection holds a lock."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(e).lower()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS nonces (
    key_fp TEXT PRIMARY KEY,         -- key_fingerprint(key), never the key
    last INTEGER NOT NULL,           -- the last nonce returned for the key
    taken_us INTEGER NOT NULL        -- the clock reading it was taken at (shows a clock running behind)
) WITHOUT ROWID;
"""


class NonceStore:
    """Nonces per key in one SQLite file that every process using the keys shares.

    Example:
        store = NonceStore(Path("data/state/nonces.sqlite"))
        body = urlencode({"nonce": store.take(api_key, time.time_ns() // 1000)})
    """

    def __init__(self, path: Path, *, timeout_s: float = 10.0) -> None:
        # FULL: the WAL is fsynced at every commit, so a returned nonce survives a power cut too.
        self._db = StateDb(path, schema=_SCHEMA, synchronous="FULL", timeout_s=timeout_s)

    @property
    def path(self) -> Path:
        return self._db.path

    def take(self, key_id: str, now_us: int) -> int:
        """The next nonce for `key_id`, durable on disk before it is returned."""
        if now_us < 0:
            raise ValueError(f"now_us must be >= 0, got {now_us}")
        fp = key_fingerprint(key_id)
        with self._db.write("take a nonce") as conn:
            row = conn.execute("SELECT last FROM nonces WHERE key_fp = ?", (fp,)).fetchone()
            last = None if row is None else int(row[0])
            try:
                nonce = next_nonce(last, now_us)
            except ValueError:
                raise StateError(
                    f"{self.path}: key {fp}: the next nonce would pass 2^63-1; this key cannot sign with a nonce "
                    "again (use a new key, or tonce)"
                ) from None
            conn.execute(
                "INSERT INTO nonces (key_fp, last, taken_us) VALUES (?, ?, ?) "
                "ON CONFLICT (key_fp) DO UPDATE SET last = excluded.last, taken_us = excluded.taken_us",
                (fp, nonce, now_us),
            )
        return nonce

    def last(self, key_id: str) -> int | None:
        """The last nonce taken for `key_id`, None if it never had one."""
        with self._db.read("read a nonce") as conn:
            row = conn.execute("SELECT last FROM nonces WHERE key_fp = ?", (key_fingerprint(key_id),)).fetchone()
        return None if row is None else int(row[0])

    def state(self) -> dict[str, int]:
        """{key fingerprint: last nonce} for every key, for `marketrec status`."""
        with self._db.read("read the nonces") as conn:
            rows = conn.execute("SELECT key_fp, last FROM nonces ORDER BY key_fp").fetchall()
        return {fp: int(last) for fp, last in rows}

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> NonceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
