"""The call-counter rule of the rate budget (Kraken's private calls), judged by simulating the counter."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.budget import BudgetHistory, CallCounter, SharedBudget, Want, decide

T0 = 1_700_000_000.0
BUDGET = "kraken|api.kraken.com|0123456789abcdef"
# A Starter key: +2 per ledger or trade-history call, +1 for the balance, at most 15, -0.33 a second.
STARTER = CallCounter("private", (("ledgers:-", 2.0), ("trades_history:-", 2.0), ("balance:-", 1.0)), 15.0, 0.33)


def want(endpoint: str, counter: CallCounter = STARTER) -> Want:
    return Want(BUDGET, endpoint, min_interval_s=0.0, per_hour=None, global_rps=math.inf, counter=counter)


def exchange_counter(sends: list[tuple[float, float]], decay: float) -> float:
    """The highest value Kraken's counter reaches over these (time, cost) sends: +cost, -decay a second."""
    level, last, peak = 0.0, None, 0.0
    for t, cost in sorted(sends):
        if last is not None:
            level = max(0.0, level - decay * (t - last))
        level += cost
        last = t
        peak = max(peak, level)
    return peak


def reserve_all(endpoints: list[str], now: float = T0) -> list[float]:
    history, slots = BudgetHistory(), []
    for endpoint in endpoints:
        slot = decide(history, want(endpoint), now)
        history = history.add(endpoint, slot)
        slots.append(slot)
    return slots


def test_a_burst_up_to_the_limit_goes_at_once() -> None:
    assert reserve_all(["ledgers:-"] * 7 + ["balance:-"]) == [T0] * 8  # 7 x 2 + 1 = 15


def test_past_the_limit_a_call_waits_until_the_oldest_cost_has_decayed() -> None:
    slots = reserve_all(["ledgers:-"] * 8)
    assert slots[:7] == [T0] * 7
    assert slots[7] == pytest.approx(T0 + 15 / 0.33)


def test_sustained_calls_keep_the_decay_rate_a_full_counter_at_a_time() -> None:
    slots = reserve_all(["ledgers:-"] * 35)
    window = 15 / 0.33
    # Five waves of seven calls, a full counter's decay apart: on average 2 x 7 / window = 0.33 a second.
    assert slots == [pytest.approx(T0 + (i // 7) * window) for i in range(35)]


def test_endpoints_outside_the_counter_do_not_wait_for_it() -> None:
    history = BudgetHistory()
    for _ in range(8):
        history = history.add("ledgers:-", decide(history, want("ledgers:-"), T0))
    public = Want(BUDGET, "ticker:BTCUSD", min_interval_s=1.0, per_hour=None, global_rps=math.inf)
    assert decide(history, public, T0) == T0


def test_a_want_whose_endpoint_the_counter_does_not_cost_is_refused() -> None:
    with pytest.raises(ValueError, match="has no cost"):
        want("ticker:BTCUSD")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ledgers:-", "trades_history:-", "balance:-"]),
                          st.floats(min_value=0.0, max_value=120.0)), min_size=1, max_size=60),
       st.sampled_from([(15.0, 0.33), (20.0, 0.5), (20.0, 1.0)]))
def test_whatever_the_calls_and_their_timing_the_exchange_counter_never_passes_its_limit(
    calls: list[tuple[str, float]], tier: tuple[float, float]
) -> None:
    limit, decay = tier
    counter = CallCounter("private", STARTER.costs, limit, decay)
    history, sends, now = BudgetHistory(), [], T0
    for endpoint, wait in calls:
        now += wait
        slot = decide(history, want(endpoint, counter), now)
        assert slot >= now
        history = history.add(endpoint, slot)
        sends.append((slot, counter.cost(endpoint)))
    assert exchange_counter(sends, decay) <= limit + 1e-6


def test_processes_sharing_the_store_share_the_counter(tmp_path: Path) -> None:
    rng = random.Random(3)
    stores = [SharedBudget(tmp_path / "budget.sqlite") for _ in range(3)]
    sends = []
    for i in range(30):
        endpoint = rng.choice(["ledgers:-", "trades_history:-", "balance:-"])
        sends.append((stores[i % 3].reserve(want(endpoint), T0 + i * 0.5), STARTER.cost(endpoint)))
    for s in stores:
        s.close()
    assert exchange_counter(sends, STARTER.decay_per_s) <= STARTER.limit + 1e-6
    assert max(t for t, _ in sends) > T0 + 30  # the counter, not the clock, set the pace
