"""The emulator's request log: one JSON line per request, flushed at once.

Flushing every line lets a test (or `tail -f`) read the log while the server runs. Parameters
that look like a signature or a secret are dropped before writing; the Rest-Key is kept, being
an identifier, not a secret.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO

import orjson

_SENSITIVE = ("sign", "secret")


def scrub_params(params: Mapping[str, str]) -> dict[str, str]:
    """`params` without any whose name contains `sign` or `secret` (any case)."""
    return {k: v for k, v in params.items() if not any(s in k.lower() for s in _SENSITIVE)}


@dataclass(frozen=True)
class RequestLogEntry:
    time: datetime  # UTC, timezone-aware
    client: str
    method: str
    path: str
    params: dict[str, str]
    status: int | None  # None: no answer was sent (dropped connection)
    bytes: int
    cache_hit: bool
    endpoint: str | None
    key: str | None  # the Rest-Key
    fault: str | None
    blocked: bool
    duration_ms: float
    violation: bool = False  # faster than a limit allows (answered, or blocked when it was one too many)

    def __post_init__(self) -> None:
        # A naive time would be written as if it were UTC, silently shifting it.
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise ValueError("RequestLogEntry.time must be timezone-aware")

    def to_json(self) -> bytes:
        """One log line, newline included."""
        return orjson.dumps(
            {
                "time": format_time(self.time),
                "client": self.client,
                "method": self.method,
                "path": self.path,
                "params": scrub_params(self.params),
                "status": self.status,
                "bytes": self.bytes,
                "cache_hit": self.cache_hit,
                "endpoint": self.endpoint,
                "key": self.key,
                "fault": self.fault,
                "blocked": self.blocked,
                "violation": self.violation,
                "duration_ms": self.duration_ms,
            },
            option=orjson.OPT_APPEND_NEWLINE,
        )


def format_time(t: datetime) -> str:
    """ISO 8601 in UTC with microseconds and `Z`: `2013-04-01T12:00:00.000000Z`."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RequestLog:
    """Appends entries to `path`; with path None every call is a no-op.

    Safe to share between threads (the app may log from a thread pool). Writing after `close`
    raises ValueError, as for a closed file.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None if path is None else path.open("ab")

    def write(self, entry: RequestLogEntry) -> None:
        if self.path is None:
            return
        line = entry.to_json()
        with self._lock:
            if self._file is None:
                raise ValueError(f"request log {self.path} is closed")
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> RequestLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
