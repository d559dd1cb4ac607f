"""The collector's async loop: it only wires the pure parts to the I/O.

    schedule.pick -> budget.reserve -> fetch -> journal.append -> cursors, coverage, state
                                                       └─ roll -> rawstore.ingest_segment

Every attempt becomes a raw record. Cursors move only after the record that justifies them
is durable, so a crash can repeat a page but never skip one. On stop (SIGINT/SIGTERM or the
duration), requests in flight finish, the journal is flushed and rolled into Parquet.

A directory of the data root that cannot be written is refused at start (StoreError). A full
disk is waited out instead: on the first DiskFull (journal, raw store or state file) one line is
logged and nothing more is asked of the exchange; what had not been fsynced is not acknowledged
and is not stored. A probe write is tried on the `SpaceRetry` schedule; when one succeeds, the
segments the full disk left are ingested, the pause is recorded as one `disk_full` record per
task (sent_at and received_at bracket it, no body: nothing was asked) counted in the poll
status as errors, one line says so, and polling resumes. Trade cursors did not move, so trades
resume where they stopped.
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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import orjson

from . import disk, log
from . import record as rc
from .backoff import BackoffPolicy, circuit_open_until
from .budget import SharedBudget, Want
from .config import Config
from .disk import Paused, SpaceRetry, Writev
from .errors import DiskFull
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
    disk_full_episodes: int = 0
    disk_full_s: float = 0.0  # time paused for a full disk


# error_class of the records that mark a pause for a full disk: no request was sent.
DISK_FULL = "disk_full"


async def take_slot(budget: SharedBudget, want: Want, clock: Callable[[], float],
                    stop: asyncio.Event | None = None) -> bool:
    """Wait for a slot of the shared budget: True when it is time to send, False when stopped first.

    The slot is claimed when the request really goes: a process that woke late records its real send
    time, and a request of any process whose slot follows it too closely is pushed back at its own claim.
    Reservations only plan; the exchange sees sends.
    """
    slot = budget.reserve(want, clock())
    while True:
        delay = slot - clock()
        if delay > 0:
            if stop is None:
                await asyncio.sleep(delay)
            else:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                    budget.release(want, slot)
                    return False
                except TimeoutError:
                    pass
        now = clock()
        slot = budget.claim(want, slot, now)
        if slot <= now:
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


def data_dirs(config: Config, *, state: bool = True) -> list[tuple[str, Path]]:
    """The local directories the collector writes, named as messages name them; the data root first."""
    st = config.storage
    dirs = [] if st.root_is_uri else [("data root", Path(st.root))]
    dirs.append(("journal directory", Path(st.journal_dir)))
    return dirs + ([("state directory", state_dir(config))] if state else [])


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
        writev: Writev = os.writev,
        space_retry: SpaceRetry | None = None,
    ) -> None:
        # Before anything creates a file: an unwritable data root is one clear line, not a SQLite error.
        self.places = data_dirs(config)
        for label, directory in self.places:
            disk.check_writable(directory, label)
        self.config = config
        self.clock = clock  # wall time: record times, nonces, segment names
        self.mono = machine_clock  # pacing: machine-wide, never steps with the wall clock
        self.rng = rng or random.Random()
        self.max_in_flight = max_in_flight
        self.status_every_s = status_every_s
        self.writev = writev
        self.space_retry = space_retry or SpaceRetry()
        self.paused: Paused | None = None  # set while the disk is full
        self.run_id = new_run_id()
        ex = config.exchange
        self.adapter: ExchangeAdapter = REGISTRY[ex.name]
        # The private call counter of the account's tier (Kraken), shared through the budget by every process.
        self.counter = self.adapter.counters.get(ex.tier) if ex.tier else None
        self.policy = policy or BackoffPolicy(cooloff_s=self.adapter.limits.cooloff_s)
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
            polls=dict(acct.polls) if acct else {},
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
                               segment_max_age_s=st.segment_max_age_s, clock=clock, writev=writev)
        self.store = RawStore(st.root, target_file_bytes=st.target_file_bytes, writev=writev)
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
        self._dropped_reported = 0
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    # -- the loop ---------------------------------------------------------------------------------

    async def recover(self) -> int:
        """Replay journal segments a crash left into Parquet (exactly once)."""
        return await asyncio.to_thread(self.store.recover, self.config.storage.journal_dir)

    async def run(self, *, duration_s: float | None = None, stop: asyncio.Event | None = None) -> Stats:
        stop = stop or asyncio.Event()
        full: DiskFull | None = None
        try:
            ingested = await self.recover()
        except DiskFull as e:  # started on a full disk: wait for space like any other time
            ingested, full = 0, e
        log.event("start", run=self.run_id, exchange=self.adapter.name, api=self.version,
                  tasks=len(self.plan.tasks), recovered=ingested)
        if full is not None:
            self._disk_full(full)
        start = self.mono()
        deadline = None if duration_s is None else start + duration_s
        self.states = initial_states(self.plan.tasks, start)
        running: set[asyncio.Task[None]] = set()
        next_status = start + self.status_every_s
        try:
            while not stop.is_set() and (deadline is None or self.mono() < deadline):
                now = self.mono()
                if now >= next_status:
                    self._status()
                    next_status = now + self.status_every_s
                if self.paused is not None and now >= self.paused.next_probe_s:
                    await self._try_resume()
                if self.paused is not None:
                    # Nothing is asked while nothing can be kept; requests in flight finish on their own.
                    await self._sleep_until(min(self.paused.next_probe_s, next_status, deadline or float("inf")),
                                            stop)
                    continue
                try:
                    await self.housekeeping(self.clock())
                except DiskFull as e:
                    self._disk_full(e)
                    continue
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
        """Fsync and roll the journal when due; `now` on the journal's clock (the wall clock, not `mono`)."""
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
        """Flush and roll the journal into Parquet, export coverage and gaps, close connections.

        On a disk that is still full what cannot be written stays in the journal (acknowledged
        records are durable there): the next run's recovery stores it.
        """
        try:
            if self.paused is not None:
                await self._try_resume()
            try:
                self.journal.flush()
                await self._roll()
            except DiskFull as e:
                self._disk_full(e, stopping=True)
            try:
                self.journal.close()
                self.state.export(Path(self.config.storage.journal_dir).parent / "meta")
            except DiskFull as e:
                self._disk_full(e, stopping=True)
            await self.fetcher.close()
            self._status()
            if self.paused is not None:
                self.stats.disk_full_s += self.mono() - self.paused.since_s
            log.event("stop", run=self.run_id, requests=self.stats.requests, errors=self.stats.errors,
                      disk_full=self.paused.where if self.paused else None)
        finally:
            # Nothing of the data root stays open in a process that embeds the collector (the demo, a test
            # unmounting the disk it ran on).
            for files in (self.state, self.nonces, self.budget, self.store):
                files.close()

    def _status(self) -> None:
        if self.paused is None:
            try:
                self.state.record_polls(self._polls)
                self._polls = []
            except DiskFull as e:  # the counters wait in memory for space
                self._disk_full(e)
        log.event("status", requests=self.stats.requests, errors=self.stats.errors, bytes=self.stats.bytes,
                  newest_tid=self.stats.newest_tid, circuit_open=self.circuit_until > self.mono() or None,
                  disk_full_s=round(self.mono() - self.paused.since_s, 1) if self.paused else None)

    # -- a full disk ------------------------------------------------------------------------------

    def _disk_full(self, e: DiskFull, *, stopping: bool = False) -> None:
        """Pause on the first report of a full disk; later ones, while paused, add nothing."""
        if self.paused is None:
            where = disk.where_full(e.path, self.places)
            self.paused = disk.pause(where, e.reason, self.mono(), int(self.clock() * 1e6), self.space_retry)
            self.stats.disk_full_episodes += 1
            note = disk.full_message(self.paused, None if stopping else self.space_retry)
            log.event("disk_full", note=note, file=e.path)
        self._wake.set()

    async def _try_resume(self) -> None:
        """Probe for space; when there is some, store what the full disk held up, record the pause, resume."""
        paused = self.paused
        if paused is None:
            return
        try:
            await asyncio.to_thread(disk.probe, [d for _, d in self.places], self.writev)
            ingested = await self.recover()  # segments abandoned or not ingested for want of space
            if not paused.gap_recorded:
                polls = self._record_pause(paused)
                self.paused = paused = replace(paused, gap_recorded=True)
                self._polls += polls
            self.state.record_polls(self._polls)
            self._polls = []
        except DiskFull:
            self.paused = disk.probe_failed(paused, self.mono(), self.space_retry)
            return
        now = self.mono()
        self.stats.disk_full_s += now - paused.since_s
        dropped, self._dropped_reported = self.journal.dropped - self._dropped_reported, self.journal.dropped
        log.event("disk_space_back", note=disk.back_message(paused, now), ingested=ingested,
                  unacknowledged=dropped or None)
        self.paused = None
        self._wake.set()

    def _record_pause(self, paused: Paused) -> list[tuple[str, str, str, int, str | None, int]]:
        """One durable `disk_full` record per task for the time it was not polled; their poll counters."""
        now_us = max(int(self.clock() * 1e6), paused.since_us)
        polls = []
        for task in self.plan.tasks:
            req = self._request(task)
            self.journal.append(rc.RawRecord(
                record_id="", exchange=self.adapter.name, endpoint=task.endpoint, market=task.market,
                api_version=self.version, method=req.method, path="/api/" + req.path,
                params=orjson.dumps(dict(req.params)).decode(), sent_at=paused.since_us, received_at=now_us,
                http_status=None, error_class=DISK_FULL, body=b"", collector_run=self.run_id))
            polls.append((self.adapter.name, task.endpoint, task.currency or task.market, now_us, DISK_FULL, 0))
        self.journal.flush()
        return polls

    # -- one task ---------------------------------------------------------------------------------

    async def _run_task(self, task: Task) -> None:
        try:
            await self._run_task_inner(task)
        except DiskFull as e:  # not the task's failure: it is due again as it was once space returns
            self._disk_full(e)
            state = self.states[task.key]
            self.states[task.key] = TaskState(due_s=state.due_s, failures=state.failures)
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
        counter = self.counter if self.counter is not None and self.counter.cost(endpoint_key) > 0 else None
        want = Want(budget_key=self.plan.budget_key, endpoint_key=endpoint_key,
                    min_interval_s=self.plan.min_interval_s,
                    per_hour=self.plan.heavy_per_hour if task.heavy else None, global_rps=self.plan.global_rps,
                    counter=counter)
        async with self.fetcher.turn(req):
            if not await take_slot(self.budget, want, self.mono, self._stopping) or self.paused is not None:
                self.states[task.key] = TaskState(due_s=self.states[task.key].due_s)
                return
            sent_s = self.mono()
            outcome = await self.fetcher.fetch(req)
            if outcome.record.error_class == rc.RATE_LIMITED:
                # While the key's lock is still held: the next signed call must not slip in before the circuit is open.
                self._open_circuit(outcome)
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

    def _paging(self, task: Task) -> str | None:
        return self.adapter.endpoints[task.endpoint].paging

    def _request(self, task: Task) -> Any:
        if self._paging(task) == "since":
            since = self.state.cursor(self.adapter.name, task.market, "trades_since")
            return request_for(self.adapter, self.version, task, since=since)
        if self._paging(task) == "pages":
            return request_for(self.adapter, self.version, task, page=self._history_pass(task)[0])
        return request_for(self.adapter, self.version, task)

    def count(self, stored: rc.RawRecord) -> None:
        self.stats.requests += 1
        self.stats.bytes += len(stored.body)
        if stored.error_class is not None:
            self.stats.errors += 1
            self.stats.by_error[stored.error_class] = self.stats.by_error.get(stored.error_class, 0) + 1
            log.event("request_failed", endpoint=stored.endpoint, market=stored.market, status=stored.http_status,
                      error=stored.error_class, record=stored.record_id)

    def _open_circuit(self, outcome: Outcome) -> None:
        self.circuit_until = circuit_open_until(self.mono(), self.policy, outcome.retry_after_s)
        self.budget.block(self.plan.budget_key, self.circuit_until)
        log.event("circuit_open", until=round(self.circuit_until, 3), retry_after=outcome.retry_after_s)

    def _failed(self, task: Task, outcome: Outcome, sent_s: float) -> None:
        self.states[task.key] = failed(task, self.states[task.key], sent_s, policy=self.policy, u=self.rng.random(),
                                       retry_after_s=outcome.retry_after_s, min_interval_s=self.plan.min_interval_s)

    # -- what a good answer teaches -----------------------------------------------------------------

    def _advance(self, task: Task, params: Any, outcome: Outcome, stored: rc.RawRecord) -> bool:
        """Move cursors after a good answer; True when more pages are waiting."""
        if self._paging(task) == "since":
            return self._advance_trades(task, params, outcome, stored)
        if self._paging(task) == "pages":
            return self._advance_history(task, params, outcome, stored)
        return False

    def _advance_trades(self, task: Task, params: Any, outcome: Outcome, stored: rc.RawRecord) -> bool:
        since = int(params["since"]) if "since" in params else None
        page = self.adapter.trades_page(outcome.decoded, self.version)
        new = self.adapter.next_since(since, page)
        if new is None:
            return False
        self.journal.flush()  # the page is durable before the cursor moves past it
        now_us = int(self.clock() * 1e6)
        if since is not None:
            after = since
        elif page.floor is not None:
            after = min(page.floor, new)
        else:
            after = min(page.tids) - 1 if page.tids else new
        self.state.add_coverage(self.adapter.name, task.market, after, new,
                                min(page.times_us) if page.times_us else None,
                                max(page.times_us) if page.times_us else None, len(page.tids), stored.record_id, now_us,
                                cursor="trades_since")
        if page.tids:
            self.stats.newest_tid = max(self.stats.newest_tid or 0, max(page.tids))
        return page.full or not page.tids  # a full page, or the relaunch jump: ask again soon

    def _history_pass(self, task: Task) -> tuple[int, int]:
        """(page to ask, highest index seen) of the task's pass through its history, newest first. A pass survives
        restarts in the state: a ledger longer than a run (an hourly cron job, a Kraken starter key at a page every
        few seconds) is still read to its end. New entries push older ones to later pages meanwhile, so a resumed
        pass can see an entry twice, never miss one."""
        if task.key not in self.history_page:
            scope = _history_scope(task)
            self.history_page[task.key] = self.state.cursor(self.adapter.name, scope, "history_pass_page") or 1
            self.history_seen[task.key] = self.state.cursor(self.adapter.name, scope, "history_pass_seen") or 0
        return self.history_page[task.key], self.history_seen[task.key]

    def _advance_history(self, task: Task, params: Any, outcome: Outcome, stored: rc.RawRecord) -> bool:
        scope = _history_scope(task)
        hp = self.adapter.history_page(outcome.decoded, self.version, stored.body, params)
        indexes, current, last_page = hp.indexes, hp.current_page, hp.max_page
        known = self.state.cursor(self.adapter.name, scope, "history_index") or 0
        seen = max([self._history_pass(task)[1], *indexes])
        done = (bool(indexes) and min(indexes) <= known) or not indexes or current >= last_page
        # A finished pass starts again from the newest page; what it saw becomes what is known.
        page, seen_so_far = (1, 0) if done else (current + 1, seen)
        cursors = {"history_pass_page": page, "history_pass_seen": seen_so_far}
        if done and seen > known:
            cursors["history_index"] = seen
        self.journal.flush()  # the page is durable before the pass moves past it
        self.state.set_cursors(self.adapter.name, scope, cursors, int(self.clock() * 1e6))
        self.history_page[task.key], self.history_seen[task.key] = page, seen_so_far
        return not done


def _history_scope(task: Task) -> str:
    """Where a history pass's cursors live: per currency (Mt.Gox pages each wallet), else per endpoint (Kraken's
    ledgers and trade history)."""
    return task.currency or task.endpoint
