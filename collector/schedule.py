"""What to ask next, and when. Pure: the clock is an argument, nothing here sleeps or sends.

Each polled thing is a `Task` with its interval and priority; its `TaskState` says when it is
due and how often it failed in a row. When several tasks are due, the lowest priority value
goes first (live ticker and trades, then depth, then account history, then backfill); among
equals, the one waiting longest. The shared budget (`budget.py`) then decides the exact slot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from .backoff import BackoffPolicy, retry_delay


@dataclass(frozen=True, slots=True)
class Task:
    key: str  # unique: "trades:BTCUSD", "wallet_history:BTC"
    endpoint: str
    market: str  # "-" for account calls
    interval_s: float
    priority: int
    heavy: bool = False
    currency: str | None = None  # wallet history's currency


@dataclass(frozen=True, slots=True)
class TaskState:
    due_s: float
    failures: int = 0
    in_flight: bool = False


def initial_states(tasks: Iterable[Task], now_s: float) -> dict[str, TaskState]:
    return {t.key: TaskState(due_s=now_s) for t in tasks}


def pick(
    tasks: Iterable[Task], states: Mapping[str, TaskState], now_s: float, *, blocked_until_s: float = 0.0
) -> tuple[Task, float] | None:
    """The next task and the time it may start (>= now_s), or None when all are in flight."""
    idle = [t for t in tasks if not states[t.key].in_flight]
    if not idle:
        return None

    def start(t: Task) -> float:
        return max(states[t.key].due_s, blocked_until_s, now_s)

    ready = [t for t in idle if start(t) <= now_s]
    if ready:
        best = min(ready, key=lambda t: (t.priority, states[t.key].due_s, t.key))
        return best, now_s
    best = min(idle, key=lambda t: (start(t), t.priority, t.key))
    return best, start(best)


def started(state: TaskState) -> TaskState:
    return replace(state, in_flight=True)


def succeeded(task: Task, state: TaskState, sent_s: float, *, again_soon: bool = False,
              min_interval_s: float = 0.0) -> TaskState:
    """Due again one interval after it was sent; `again_soon` (more pages waiting) after the
    exchange's minimum interval instead."""
    wait = min_interval_s if again_soon else task.interval_s
    return TaskState(due_s=sent_s + wait, failures=0, in_flight=False)


def failed(
    task: Task, state: TaskState, sent_s: float, *, policy: BackoffPolicy, u: float, retry_after_s: float | None,
    min_interval_s: float,
) -> TaskState:
    failures = state.failures + 1
    delay = retry_delay(failures, policy, u, retry_after_s=retry_after_s, floor_s=min_interval_s)
    return TaskState(due_s=sent_s + delay, failures=failures, in_flight=False)
