"""What the CLI commands call: one function each, with the collector's lifecycle handled here.

`collect` installs SIGINT/SIGTERM handlers that let requests in flight finish, flush the
journal into Parquet and return normally, so the process exits 0. `collect`, `backfill` and
`compact` refuse a data root they cannot write before touching anything (StoreError, one line).
"""

from __future__ import annotations

import asyncio
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from . import disk
from .backfill import BackfillResult, backfill_trades, close_gaps
from .config import Config
from .nonce import NonceStore
from .rawstore import RawStore
from .run import Collector, Stats, data_dirs, state_dir
from .state import Gap, Poll, State


async def collect(config: Config, *, duration_s: float | None = None,
                  transport: httpx.AsyncBaseTransport | None = None, status_every_s: float = 60.0) -> Stats:
    collector = Collector(config, transport=transport, status_every_s=status_every_s)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await collector.run(duration_s=duration_s, stop=stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def backfill(config: Config, market: str, since: int | None, until: int | None,
                   progress: Callable[[int, int | None], None] | None = None,
                   transport: httpx.AsyncBaseTransport | None = None) -> list[BackfillResult]:
    """Backfill one range, or (without `since`) retry every open gap."""
    collector = Collector(config, transport=transport)
    try:
        await collector.recover()
        if since is None:
            return await close_gaps(collector, progress)
        return [await backfill_trades(collector, market, since, until, progress)]
    finally:
        await collector.close()


def open_gaps(config: Config) -> list[Gap]:
    state = State(state_dir(config) / "collector.sqlite")
    try:
        return state.gaps()
    finally:
        state.close()


@dataclass(frozen=True, slots=True)
class Status:
    polls: list[Poll]
    gaps: list[Gap]
    nonces: dict[str, int]
    journal_bytes: int
    raw_bytes: int | None  # None for an object-store root
    disk_free_bytes: int | None


def status(config: Config) -> Status:
    sdir = state_dir(config)
    state = State(sdir / "collector.sqlite")
    try:
        polls, gaps = state.polls(), state.gaps()
    finally:
        state.close()
    nonces = NonceStore(sdir / "nonces.sqlite").state()
    journal = _size(config.storage.journal_dir)
    # An object-store root has no cheap size; the journal is always local.
    raw = None if "://" in config.storage.root else _size(Path(config.storage.root) / "raw")
    free = shutil.disk_usage(config.storage.journal_dir).free if config.storage.journal_dir.exists() else None
    return Status(polls, gaps, nonces, journal, raw, free)


def compact(config: Config, progress: Callable[[int, int], None] | None = None) -> object:
    for label, directory in data_dirs(config, state=False):
        disk.check_writable(directory, label)
    store = RawStore(config.storage.root, target_file_bytes=config.storage.target_file_bytes)
    store.recover(config.storage.journal_dir)
    return store.compact(progress=progress)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0
