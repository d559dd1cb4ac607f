"""The scheduler and backoff are pure: the clock and randomness are arguments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.backoff import BackoffPolicy, circuit_open_until, retry_delay
from collector.schedule import Task, failed, initial_states, pick, started, succeeded

TICKER = Task("ticker:BTCUSD", "ticker", "BTCUSD", 10.0, 0)
TRADES = Task("trades:BTCUSD", "trades", "BTCUSD", 10.0, 0)
DEPTH = Task("depth:BTCUSD", "depth", "BTCUSD", 30.0, 1)
HISTORY = Task("wallet_history:BTC", "wallet_history", "-", 300.0, 2, currency="BTC")
BACKFILL = Task("backfill:BTCUSD", "trades", "BTCUSD", 10.0, 3)
ALL = (BACKFILL, HISTORY, DEPTH, TRADES, TICKER)


def test_when_everything_is_due_live_data_goes_first_then_depth_then_history_then_backfill() -> None:
    states = initial_states(ALL, 100.0)
    order = []
    for _ in ALL:
        task, at = pick(ALL, states, 100.0)
        assert at == 100.0
        order.append(task.endpoint if task.priority < 3 else "backfill")
        states[task.key] = started(states[task.key])
    assert order == ["ticker", "trades", "depth", "wallet_history", "backfill"]
    assert pick(ALL, states, 100.0) is None  # everything in flight


def test_a_task_is_due_again_one_interval_after_it_was_sent() -> None:
    states = initial_states([TICKER], 0.0)
    states[TICKER.key] = succeeded(TICKER, started(states[TICKER.key]), 3.0)
    assert pick([TICKER], states, 5.0) == (TICKER, 13.0)


def test_more_pages_waiting_are_asked_after_the_minimum_interval_not_the_polling_interval() -> None:
    slow = Task("trades:BTCEUR", "trades", "BTCEUR", 60.0, 0)
    state = succeeded(slow, initial_states([slow], 0)[slow.key], 1.0, again_soon=True, min_interval_s=10.0)
    assert state.due_s == 11.0


def test_an_open_circuit_holds_every_task_until_it_closes() -> None:
    states = initial_states(ALL, 0.0)
    task, at = pick(ALL, states, 0.0, blocked_until_s=250.0)
    assert at == 250.0 and task.priority == 0


def test_failures_back_off_exponentially_but_never_below_the_minimum_interval_or_retry_after() -> None:
    policy = BackoffPolicy(base_s=2, multiplier=2, cap_s=600)
    state = initial_states([TICKER], 0.0)[TICKER.key]
    dues = []
    for _ in range(10):
        state = failed(TICKER, state, 0.0, policy=policy, u=0.5, retry_after_s=None, min_interval_s=10.0)
        dues.append(state.due_s)
    assert dues[:3] == [10.0, 10.0, 10.0]  # the exchange's interval floors early retries
    assert dues[3:] == sorted(dues[3:]) and dues[-1] == 450.0  # 600 * 3/4 at u=0.5, capped
    assert failed(TICKER, state, 0.0, policy=policy, u=0.0, retry_after_s=900, min_interval_s=10).due_s == 900


@given(st.integers(1, 60), st.floats(0, 0.999999), st.floats(0, 1000) | st.none(), st.floats(0, 100))
def test_retry_delays_stay_within_half_and_all_of_the_exponential_and_respect_the_floors(
    failures: int, u: float, retry_after: float | None, floor: float
) -> None:
    policy = BackoffPolicy()
    d = retry_delay(failures, policy, u, retry_after_s=retry_after, floor_s=floor)
    exp = min(policy.cap_s, policy.base_s * policy.multiplier ** (failures - 1))
    assert d >= max(exp / 2, retry_after or 0, floor)
    assert d <= max(exp, retry_after or 0, floor)


def test_a_circuit_stays_open_for_the_cool_off_or_retry_after_whichever_is_longer() -> None:
    policy = BackoffPolicy(cooloff_s=300)
    assert circuit_open_until(1000.0, policy, None) == 1300.0
    assert circuit_open_until(1000.0, policy, 900.0) == 1900.0


def test_an_inconsistent_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        BackoffPolicy(base_s=10, cap_s=1)
