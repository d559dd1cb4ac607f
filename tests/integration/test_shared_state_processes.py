"""Nonces and the rate budget shared by real OS processes on one machine, including one killed mid-flight.

Workers are started with `spawn` (a fresh interpreter, nothing inherited) or as plain
subprocesses. Cross-process order is checked with CLOCK_MONOTONIC, which Linux shares between
processes: a take that ended before another began must have the smaller nonce.
"""

from __future__ import annotations

import itertools
import multiprocessing
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from collector.budget import HOUR_S, SharedBudget, Want
from collector.nonce import NonceStore

SPAWN = multiprocessing.get_context("spawn")
ROOT = Path(__file__).resolve().parents[2]
KEYS = ("12345678-abcd-1234-abcd-50286e649d5c", "87654321-dcba-4321-dcba-c5d946e68205")
HOUR_US = 3_600_000_000
EPS = 1e-6

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and a shared CLOCK_MONOTONIC are POSIX")


def _results(queue: Any, procs: list[Any], timeout_s: float = 60.0) -> list[Any]:
    out = [queue.get(timeout=timeout_s) for _ in procs]
    for p in procs:
        p.join(timeout_s)
        assert p.exitcode == 0, f"worker {p.name} exited with {p.exitcode}"
    return out


# --- nonces: four processes, two keys, half of them with a clock an hour behind ----------------


def _take_worker(path: str, worker: int, n: int, clock_offset_us: int, start: Any, queue: Any) -> None:
    store = NonceStore(Path(path))
    rng = random.Random(worker)
    taken = []
    start.wait(60)  # a barrier: all four begin together, however late each interpreter came up
    for i in range(n):
        key = KEYS[(worker + i) % 2]
        now_us = time.time_ns() // 1000 + clock_offset_us
        began = time.monotonic_ns()
        nonce = store.take(key, now_us)
        ended = time.monotonic_ns()
        taken.append((worker, key, nonce, now_us, began, ended))
        # A pause between takes, as between real requests: SQLite's busy wait is not fair, and a
        # process taking back to back would hold the lock for long runs, leaving little to interleave.
        time.sleep(rng.random() * 0.002)
    store.close()
    queue.put(taken)


@pytest.mark.slow
def test_four_processes_with_clocks_an_hour_apart_never_share_or_reorder_a_nonce(tmp_path: Path) -> None:
    path = tmp_path / "nonces.sqlite"
    with NonceStore(path) as store:
        # Created once, so the race under test is on taking, not on creating; and each key starts
        # at the true clock, so the processes an hour behind must be carried forward from their first take.
        seeds = [(-1, key, store.take(key, time.time_ns() // 1000), 0, 0, 0) for key in KEYS]
    start, queue = SPAWN.Barrier(4), SPAWN.Queue()
    offsets = [0, 0, -HOUR_US, -HOUR_US]
    procs = [
        SPAWN.Process(target=_take_worker, args=(str(path), w, 200, off, start, queue), name=f"w{w}")
        for w, off in enumerate(offsets)
    ]
    for p in procs:
        p.start()
    taken = [t for batch in _results(queue, procs) for t in batch]

    assert len(taken) == 800
    with NonceStore(path) as store:
        for key in KEYS:
            mine = [t for t in taken if t[1] == key]
            nonces = [t[2] for t in mine]
            assert len(set(nonces)) == len(nonces) == 400, "a nonce was issued twice"
            seed = next(t[2] for t in seeds if t[1] == key)
            assert min(nonces) > seed
            assert store.last(key) == max(nonces)
            # Within a process, in take order: strictly increasing.
            for w in range(4):
                own = [t[2] for t in mine if t[0] == w]
                assert own == sorted(own) and len(set(own)) == len(own)
            # Across processes: a take that ended before another began has the smaller nonce.
            by_end = sorted(mine, key=lambda t: t[5])
            ended_before = 0
            highest = -1
            for t in sorted(mine, key=lambda t: t[4]):
                while ended_before < len(by_end) and by_end[ended_before][5] < t[4]:
                    highest = max(highest, by_end[ended_before][2])
                    ended_before += 1
                assert t[2] > highest, f"nonce {t[2]} taken after {highest} had been returned"
            # Never behind the taker's clock; the processes an hour behind are carried an hour ahead of theirs.
            assert all(t[2] >= t[3] for t in mine)
            assert min(t[2] - t[3] for t in mine if t[0] >= 2) > HOUR_US // 2


def _first_use_worker(directories: list[str], barrier: Any, queue: Any) -> None:
    got: list[Any] = []
    try:
        for directory in directories:
            barrier.wait(30)  # every worker touches the fresh files at the same moment
            nonce = NonceStore(Path(directory) / "nonces.sqlite").take(KEYS[0], 1)
            slot = SharedBudget(Path(directory) / "budget.sqlite").reserve(TICKER, 100.0)
            got.append((nonce, slot))
    except Exception as e:  # reported, so the test fails at once instead of waiting for a timeout
        got.append(repr(e))
        barrier.abort()
    queue.put(got)


def test_processes_starting_together_on_fresh_files_all_get_in(tmp_path: Path) -> None:
    # A new file is switched to WAL under an exclusive lock SQLite does not wait for; the store retries.
    workers, rounds = 6, 16
    directories = [str(tmp_path / f"round{r}") for r in range(rounds)]
    barrier, queue = SPAWN.Barrier(workers), SPAWN.Queue()
    procs = [SPAWN.Process(target=_first_use_worker, args=(directories, barrier, queue)) for _ in range(workers)]
    for p in procs:
        p.start()
    results = _results(queue, procs)
    for r in range(rounds):
        got = [worker[r] for worker in results]
        assert sorted(n for n, _ in got) == list(range(1, workers + 1)), got
        assert sorted(s for _, s in got) == pytest.approx([100.0 + 0.05 * i for i in range(workers)])


# --- nonces: a process killed with SIGKILL in the middle ---------------------------------------

# Prints every nonce after take() returned it; the clock is pinned at 1 so that nonces are a pure
# counter and a nonce re-issued after the kill could not hide behind a clock that moved on.
CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from collector.nonce import NonceStore

    store = NonceStore(Path(sys.argv[1]))
    print("ready", flush=True)
    while True:
        print(store.take(sys.argv[2], 1), flush=True)
    """
)


def _start_child(path: Path, key: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), key],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "ready", f"child did not start: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}"
    return proc


def _printed(proc: subprocess.Popen[str], at_least: int) -> list[int]:
    assert proc.stdout is not None
    return [int(proc.stdout.readline()) for _ in range(at_least)]


def _kill(proc: subprocess.Popen[str]) -> list[int]:
    """SIGKILL the child, then everything it printed before dying."""
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return [int(line) for line in rest.splitlines() if line.strip().isdigit()]


@pytest.mark.slow
def test_a_process_killed_mid_take_leaves_a_working_store_that_never_reissues(tmp_path: Path) -> None:
    path = tmp_path / "nonces.sqlite"
    key = KEYS[0]
    seen: list[int] = []
    for round_ in range(3):
        # Two children on one key; one is killed while both are taking, the other keeps going.
        victim, survivor = _start_child(path, key), _start_child(path, key)
        seen += _printed(victim, 30 + 40 * round_)
        seen += _kill(victim)
        seen += _printed(survivor, 50)
        seen += _kill(survivor)
        assert len(set(seen)) == len(seen), "a nonce was issued twice"
        with NonceStore(path) as store:
            assert store.last(key) is not None and store.last(key) >= max(seen)
            after = store.take(key, 1)
            assert after > max(seen)
            seen.append(after)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _fork_child(store: NonceStore, queue: Any) -> None:
    queue.put(store.take(KEYS[1], 1))


def test_a_store_used_before_a_fork_opens_its_own_connection_in_the_child(tmp_path: Path) -> None:
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("this platform cannot fork")
    fork = multiprocessing.get_context("fork")
    with NonceStore(tmp_path / "nonces.sqlite") as store:
        first = store.take(KEYS[1], 1)
        queue = fork.Queue()
        child = fork.Process(target=_fork_child, args=(store, queue))
        child.start()
        in_child = queue.get(timeout=30)
        child.join(30)
        assert child.exitcode == 0
        assert first < in_child < store.take(KEYS[1], 1)


# --- the budget: three processes, one endpoint, a real clock ----------------------------------

BUDGET = "mtgox|127.0.0.1:8080|0123456789abcdef"
TICKER = Want(budget_key=BUDGET, endpoint_key="ticker:BTCUSD", min_interval_s=0.05, per_hour=None, global_rps=100.0)
FULLDEPTH = Want(budget_key=BUDGET, endpoint_key="fulldepth:BTCUSD", min_interval_s=0.01, per_hour=5, global_rps=100.0)


def _send_when_allowed(budget: SharedBudget, want: Want, slot: float, rng: random.Random) -> float:
    """Sleep until the slot, oversleeping now and then as a busy event loop does, and claim; the send time."""
    while True:
        oversleep = rng.choice([0.0, 0.0, 0.0, 0.002, 0.03, 0.08])
        time.sleep(max(0.0, slot - time.time()) + oversleep)
        now = time.time()
        slot = budget.claim(want, slot, now)
        if slot <= now:
            return now


def _budget_worker(path: str, n: int, seed: int, start: Any, queue: Any) -> None:
    budget = SharedBudget(Path(path))
    rng = random.Random(seed)
    done: list[tuple[str, float, float | None]] = []  # (endpoint, reserved slot, sent at or None)
    start.wait()
    for i in range(n):
        slot = budget.reserve(TICKER, time.time())
        if i % 5 == 0:
            # Full depth past its hourly cap is reserved an hour ahead; nobody waits for those here.
            heavy = budget.reserve(FULLDEPTH, time.time())
            sent = _send_when_allowed(budget, FULLDEPTH, heavy, rng) if heavy < time.time() + 5 else None
            done.append((FULLDEPTH.endpoint_key, heavy, sent))
        done.append((TICKER.endpoint_key, slot, _send_when_allowed(budget, TICKER, slot, rng)))
    budget.close()
    queue.put(done)


@pytest.mark.slow
def test_three_processes_on_one_budget_keep_the_interval_the_hourly_cap_and_a_cool_off(tmp_path: Path) -> None:
    path = tmp_path / "budget.sqlite"
    start, queue = SPAWN.Event(), SPAWN.Queue()
    procs = [
        SPAWN.Process(target=_budget_worker, args=(str(path), 20, w, start, queue), name=f"b{w}") for w in range(3)
    ]
    for p in procs:
        p.start()
    with SharedBudget(path) as parent:
        # A cool-off recorded by another process (this one) binds the workers' first slots.
        until = time.time() + 0.3
        parent.block(BUDGET, until)
        start.set()
        done = [d for batch in _results(queue, procs) for d in batch]
        last = parent.last_sent(BUDGET, now_s=time.time())
    reserved = sorted(slot for e, slot, _ in done if e == TICKER.endpoint_key)
    sent = sorted(at for e, _, at in done if e == TICKER.endpoint_key and at is not None)
    heavy = sorted(slot for e, slot, _ in done if e == FULLDEPTH.endpoint_key)
    heavy_sent = sorted(at for e, _, at in done if e == FULLDEPTH.endpoint_key and at is not None)
    assert len(reserved) == len(sent) == 60 and len(heavy) == 12 and len(heavy_sent) == 5
    assert last[TICKER.endpoint_key] == sent[-1]

    # The plan: reserved slots of one endpoint pairwise an interval apart, at most 5 full depths an hour.
    for a, b in itertools.combinations(reserved, 2):
        assert abs(b - a) >= TICKER.min_interval_s - EPS
    for a, b in itertools.pairwise(heavy):
        assert b - a >= FULLDEPTH.min_interval_s - EPS
    cap = 5
    assert cap == FULLDEPTH.per_hour
    for a, b in zip(heavy, heavy[cap:], strict=False):
        assert b - a >= HOUR_S - EPS, "more than 5 full depths within an hour"
    assert heavy[cap - 1] - heavy[0] < 60  # the first five went out at once, not an hour apart
    # What was sent, however late the workers woke: the interval, the global gap and the cool-off hold.
    for a, b in itertools.pairwise(sent):
        assert b - a >= TICKER.min_interval_s - EPS
    for a, b in itertools.pairwise(sorted(sent + heavy_sent)):
        assert b - a >= 1 / TICKER.global_rps - EPS
    assert min(sent + heavy_sent + reserved + heavy) >= until
    # The ticker was never held up by the full depths reserved an hour ahead.
    assert sent[-1] - sent[0] < 60 * (TICKER.min_interval_s + 0.08) + 5
