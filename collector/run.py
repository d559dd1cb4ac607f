"""The collector's async loop: it only wires the pure parts to the I/O.

    schedule.pick -> budget.reserve -> fetch -> journal.append -> cursors, coverage, state
                                                       └─ roll -> rawstore.ingest_segment

Every attempt becomes a raw record. Cursors move only after the record that justifies them
is durable, so a crash can repeat a page but never skip one. On stop (SIGINT/SIGTERM or the
duration), requests in flight finish, the journal is flushed and rolled into Parquet.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from . import log
from . import record as rc
from .backoff import BackoffPolicy, circuit_open_until
from .budget import SharedBudget, Want
from .config import Config
from .exchanges import REGISTRY
from .exchanges.base import ExchangeAdapter
from .fetch import Credentials, Fetcher, Outcome
from .journal import Journal
from .keylock import KeyLock
from .nonce import NonceStore
from .plan import Plan, plan, request_for
from .rawstore import RawStore
from .schedule import Task, TaskState, failed, initial_states, pick, started, succeeded
from .state import State


@dataclass
class Stats:
    requests: int = 0
    errors: int = 0
    bytes: int = 0
    newest_tid: int | None = None
    by_error: dict[str, int] = field(default_factory=dict)


# A request that wakes this late for its slot takes a new one instead of sending into the next
# slot, which another process may hold.
LATE_S = 0.05


async def take_slot(budget: SharedBudget, want: Want, clock: Callable[[], float],
                    stop: asyncio.Event | None = None) -> bool:
    """Wait for a slot of the shared budget: True when it is time to send, False when stopped first."""
    while True:
        slot = budget.reserve(want, clock())
        delay = slot - clock()
        if delay > 0:
            if stop is None:
                await asyncio.sleep(delay)
            else:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                    return False  # stopping: the reserved slot simply goes unused
                except TimeoutError:
                    pass
        if clock() - slot <= LATE_S:
            return True


def machine_clock() -> float:
    """Seconds on a clock every process of this machine shares and that a wall-clock change (NTP
    step, a clock set back by hand) does not move: the limits are about real elapsed time."""
    return time.clock_gettime(time.CLOCK_BOOTTIME) if hasattr(time, "CLOCK_BOOTTIME") else time.monotonic()


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:  # not Linux: monotonic time is per boot there too, but the boot has no id
        return "boot"


def key_fingerprint(key: str | None) -> str:
    return "public" if key is None else hashlib.sha256(key.encode()).hexdigest()[:16]


def state_dir(config: Config) -> Path:
    return config.storage.journal_dir.parent / "state"


def new_run_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Collector:
    """One collector process: `await Collector(config).run(duration_s=600)`."""

    def __init__(
        self,
        config: Config,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        policy: BackoffPolicy | None = None,
        max_in_flight: int = 4,
        status_every_s: float = 60.0,
    ) -> None:
        self.config = config
        self.clock = clock  # wall time: record times, nonces, segment names
        self.mono = machine_clock  # pacing: machine-wide, never steps with the wall clock
        self.rng = rng or random.Random()
        self.policy = policy or BackoffPolicy()
        self.max_in_flight = max_in_flight
        self.status_every_s = status_every_s
        self.run_id = new_run_id()
        ex = config.exchange
        self.adapter: ExchangeAdapter = REGISTRY[ex.name]
        self.version = ex.api_version
        creds = config.credentials
        self.credentials = Credentials(creds.key, creds.secret) if creds else None
        markets = {m.pair: dict(m.intervals) for m in config.markets}
        acct = config.account
        self.plan: Plan = plan(
            self.adapter, self.version, base_url=ex.base_url,
            key_fingerprint=key_fingerprint(creds.key if creds else None),
            min_interval_s=ex.min_interval_s, heavy_per_hour=ex.full_depth_per_hour,
            global_rps=ex.max_requests_per_second, markets=markets,
            wallet_history=acct.wallet_history if acct else (), history_every_s=(acct.every_s or 0.0) if acct else 0.0,
            info_s=(acct.info_s or 0.0) if acct else 0.0, orders_s=(acct.orders_s or 0.0) if acct else 0.0,
            source=str(config.path or "config"),
        )
        sdir = state_dir(config)
        self.state = State(sdir / "collector.sqlite")
        self.nonces = NonceStore(sdir / "nonces.sqlite")
        # Budget slots are on the machine clock, which restarts at boot: one budget file per boot.
        self.budget = SharedBudget(sdir / f"budget-{boot_id()}.sqlite")
        st = config.storage
        self.journal = Journal(st.journal_dir, run_id=self.run_id, fsync_records=st.journal_fsync_records,
                               fsync_interval_s=st.journal_fsync_s, segment_max_bytes=st.segment_max_bytes,
                               segment_max_age_s=st.segment_max_age_s, clock=clock)
        self.store = RawStore(st.root, target_file_bytes=st.target_file_bytes)
        self.fetcher = Fetcher(self.adapter, base_url=ex.base_url, timeout_s=ex.timeout_s, run_id=self.run_id,
                               credentials=self.credentials, nonces=self.nonces, use_tonce=ex.use_tonce,
                               transport=transport, clock=clock,
                               key_lock=KeyLock(sdir, self.credentials.key) if self.credentials else None)
        self.states: dict[str, TaskState] = {}
        self.circuit_until = 0.0
        self.history_page: dict[str, int] = {}
        self.history_seen: dict[str, int] = {}
        self.stats = Stats()
        self._polls: list[tuple[str, str, str, int, str | None, int]] = []
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    # -- the loop ---------------------------------------------------------------------------------

    async def recover(self) -> int:
        """Replay journal segments a crash left into Parquet (exactly once)."""
        return await asyncio.to_thread(self.store.recover, self.config.storage.journal_dir)

    async def run(self, *, duration_s: float | None = None, stop: asyncio.Event | None = None) -> Stats:
        stop = stop or asyncio.Event()
        ingested = await self.recover()
        log.event("start", run=self.run_id, exchange=self.adapter.name, api=self.version,
                  tasks=len(self.plan.tasks), recovered=ingested)
        start = self.mono()
        deadline = None if duration_s is None else start + duration_s
        self.states = initial_states(self.plan.tasks, start)
        running: set[asyncio.Task[None]] = set()
        next_status = start + self.status_every_s
        try:
            while not stop.is_set() and (deadline is None or self.mono() < deadline):
                now = self.mono()
                await self.housekeeping(now)
                if now >= next_status:
                    self._status()
                    next_status = now + self.status_every_s
                choice = pick(self.plan.tasks, self.states, now, blocked_until_s=self.circuit_until)
                wait_until = min(x for x in (next_status, deadline or float("inf"), now + 0.1) if x)
                if choice is not None and len(running) < self.max_in_flight:
                    task, at = choice
                    if at <= now:
                        self.states[task.key] = started(self.states[task.key])
                        job = asyncio.create_task(self._run_task(task))
                        running.add(job)
                        job.add_done_callback(running.discard)
                        continue
                    wait_until = min(wait_until, at)
                await self._sleep_until(wait_until, stop)
        finally:
            self._stopping.set()  # requests waiting for a slot give it up; those sent may finish
            if running:
                await asyncio.wait(running, timeout=self.config.exchange.timeout_s + 5)
            await self.close()
        return self.stats

    async def _sleep_until(self, when: float, stop: asyncio.Event) -> None:
        delay = max(0.0, when - self.mono())
        self._wake.clear()
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()

    async def housekeeping(self, now: float) -> None:
        if self.journal.due(now):
            self.journal.flush()
        if self.journal.should_roll(now):
            await self._roll()

    async def _roll(self) -> None:
        closed = self.journal.roll()
        if closed is not None:
            rows = await asyncio.to_thread(self.store.ingest_segment, closed)
            log.event("rolled", segment=closed.name, records=rows)

    async def close(self) -> None:
        """Flush and roll the journal into Parquet, export coverage and gaps, close connections."""
        self.journal.flush()
        await self._roll()
        self.journal.close()
        self.state.export(Path(self.config.storage.journal_dir).parent / "meta")
        await self.fetcher.close()
        self._status()
        log.event("stop", run=self.run_id, requests=self.stats.requests, errors=self.stats.errors)

    def _status(self) -> None:
        self.state.record_polls(self._polls)
        self._polls = []
        log.event("status", requests=self.stats.requests, errors=self.stats.errors, bytes=self.stats.bytes,
                  newest_tid=self.stats.newest_tid, circuit_open=self.circuit_until > self.mono() or None)

    # -- one task ---------------------------------------------------------------------------------

    async def _run_task(self, task: Task) -> None:
        try:
            await self._run_task_inner(task)
        except Exception as e:  # a bug in one task must not kill the recorder; it is logged and retried
            log.event("task_error", task=task.key, error=type(e).__name__, detail=str(e)[:200])
            self.states[task.key] = failed(task, self.states[task.key], self.mono(), policy=self.policy,
                                           u=self.rng.random(), retry_after_s=None,
                                           min_interval_s=self.plan.min_interval_s)
        finally:
            self._wake.set()

    async def _run_task_inner(self, task: Task) -> None:
        req = self._request(task)
        # Per method and market, not per currency: an exchange limits a method however its
        # parameters vary (the emulator, like Mt.Gox's front end, counts paths).
        endpoint_key = f"{task.endpoint}:{task.market}"
        want = Want(budget_key=self.plan.budget_key, endpoint_key=endpoint_key,
                    min_interval_s=self.plan.min_interval_s,
                    per_hour=self.plan.heavy_per_hour if task.heavy else None, global_rps=self.plan.global_rps)
        async with self.fetcher.turn(req):
            if not await take_slot(self.budget, want, self.mono, self._stopping):
                self.states[task.key] = TaskState(due_s=self.states[task.key].due_s)
                return
            sent_s = self.mono()
            outcome = await self.fetcher.fetch(req)
        stored = self.journal.append(outcome.record)
        self.count(stored)
        if outcome.record.error_class is None:
            again = self._advance(task, req.params, outcome, stored)
            self.states[task.key] = succeeded(task, self.states[task.key], sent_s, again_soon=again,
                                              min_interval_s=self.plan.min_interval_s)
        else:
            self._failed(task, outcome, sent_s)
        # Poll counters are for `marketrec status`: kept in memory, written with each status line.
        self._polls.append((self.adapter.name, task.endpoint, task.currency or task.market,
                            outcome.record.received_at, outcome.record.error_class, len(outcome.record.body)))

    def _request(self, task: Task) -> Any:
        if task.endpoint == "trades":
            since = self.state.cursor(self.adapter.name, task.market, "trades_since")
            return request_for(self.adapter, self.version, task, since=since)
        if task.endpoint == "wallet_history":
            return request_for(self.adapter, self.version, task, page=self.history_page.get(task.key, 1))
        return request_for(self.adapter, self.version, task)

    def count(self, stored: rc.RawRecord) -> None:
        self.stats.requests += 1
        self.stats.bytes += len(stored.body)
        if stored.error_class is not None:
            self.stats.errors += 1
            self.stats.by_error[stored.error_class] = self.stats.by_error.get(stored.error_class, 0) + 1
            log.event("request_failed", endpoint=stored.endpoint, market=stored.market, status=stored.http_status,
                      error=stored.error_class, record=stored.record_id)

    def _failed(self, task: Task, outcome: Outcome, sent_s: float) -> None:
        err = outcome.record.error_class
        if err == rc.RATE_LIMITED:
            self.circuit_until = circuit_open_until(self.mono(), self.policy, outcome.retry_after_s)
            self.budget.block(self.plan.budget_key, self.circuit_until)
            log.event("circuit_open", until=round(self.circuit_until, 3), retry_after=outcome.retry_after_s)
        self.states[task.key] = failed(task, self.states[task.key], sent_s, policy=self.policy, u=self.rng.random(),
                                       retry_after_s=outcome.retry_after_s, min_interval_s=self.plan.min_interval_s)

    # -- what a good answer teaches -----------------------------------------------------------------

    def _advance(self, task: Task, params: Any, outcome: Outcome, stored: rc.RawRecord) -> bool:
        """Move cursors after a good answer; True when more pages are waiting."""
        if task.endpoint == "trades":
            return self._advance_trades(task, params, outcome, stored)
        if task.endpoint == "wallet_history":
            return self._advance_history(task, outcome, stored)
        return False

    def _advance_trades(self, task: Task, params: Any, outcome: Outcome, stored: rc.RawRecord) -> bool:
        since = int(params["since"]) if "since" in params else None
        page = self.adapter.trades_page(outcome.decoded, self.version)
        new = self.adapter.next_since(since, page)
        if new is None:
            return False
        self.journal.flush()  # the page is durable before the cursor moves past it
        now_us = int(self.clock() * 1e6)
        after = since if since is not None else (min(page.tids) - 1 if page.tids else new)
        self.state.add_coverage(self.adapter.name, task.market, after, new,
                                min(page.times_us) if page.times_us else None,
                                max(page.times_us) if page.times_us else None, len(page.tids), stored.record_id, now_us,
                                cursor="trades_since")
        if page.tids:
            self.stats.newest_tid = max(self.stats.newest_tid or 0, max(page.tids))
        return page.full or not page.tids  # a full page, or the relaunch jump: ask again soon

    def _advance_history(self, task: Task, outcome: Outcome, stored: rc.RawRecord) -> bool:
        cur = task.currency or ""
        hp = self.adapter.history_page(outcome.decoded, self.version, stored.body)
        indexes, current, last_page = hp.indexes, hp.current_page, hp.max_page
        known = self.state.cursor(self.adapter.name, cur, "history_index") or 0
        seen = max([self.history_seen.get(task.key, 0), *indexes])
        self.history_seen[task.key] = seen
        reached_known = bool(indexes) and min(indexes) <= known
        if reached_known or not indexes or current >= last_page:
            self.journal.flush()
            if seen > known:
                self.state.set_cursor(self.adapter.name, cur, "history_index", seen, int(self.clock() * 1e6))
            self.history_page[task.key] = 1
            self.history_seen.pop(task.key, None)
            return False
        self.history_page[task.key] = current + 1
        return True
