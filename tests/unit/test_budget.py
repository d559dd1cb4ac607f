"""The rate budget: the pure slot rule, its invariants under any clock, then the store in one process."""

from __future__ import annotations

import heapq
import itertools
import math
import random
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.budget import HOUR_S, BudgetHistory, Reserved, SharedBudget, Want, decide
from collector.errors import StateError

T0 = 1_365_000_000.0
EPS = 1e-6  # float rounding of sums near 1.4e9 s is ~2e-7 s
BUDGET = "mtgox|data.mtgox.com|0123456789abcdef"


def want(
    endpoint: str = "ticker:BTCUSD",
    interval: float = 10.0,
    per_hour: int | None = None,
    rps: float = math.inf,
    budget: str = BUDGET,
) -> Want:
    return Want(budget_key=budget, endpoint_key=endpoint, min_interval_s=interval, per_hour=per_hour, global_rps=rps)


def run(requests: list[tuple[Want, float]], history: BudgetHistory | None = None) -> list[float]:
    """Reserve each (want, now) in turn against a growing in-memory history; the slots."""
    history = history or BudgetHistory()
    slots = []
    for w, now in requests:
        slot = decide(history, w, now)
        history = history.add(w.endpoint_key, slot)
        slots.append(slot)
    return slots


# --- the rule --------------------------------------------------------------------------------


def test_the_first_request_goes_now() -> None:
    assert decide(BudgetHistory(), want(), T0) == T0


def test_an_endpoint_waits_its_interval_after_its_last_slot() -> None:
    history = BudgetHistory().add("ticker:BTCUSD", T0)
    assert decide(history, want(), T0 + 1) == T0 + 10
    assert decide(history, want(), T0 + 10) == T0 + 10
    assert decide(history, want(), T0 + 15) == T0 + 15


def test_requests_reserved_back_to_back_are_queued_an_interval_apart() -> None:
    assert run([(want(), T0)] * 4) == [T0, T0 + 10, T0 + 20, T0 + 30]


def test_other_endpoints_do_not_wait_for_each_other_without_a_global_cap() -> None:
    slots = run([(want("ticker:BTCUSD"), T0), (want("ticker:BTCEUR"), T0), (want("trades:BTCUSD"), T0)])
    assert slots == [T0, T0, T0]


def test_the_hourly_cap_pushes_the_sixth_full_depth_an_hour_after_the_first() -> None:
    heavy = want("fulldepth:BTCUSD", interval=10, per_hour=5)
    slots = run([(heavy, T0)] * 7)
    assert slots == [T0, T0 + 10, T0 + 20, T0 + 30, T0 + 40, T0 + HOUR_S, T0 + HOUR_S + 10]


def test_the_hourly_window_slides() -> None:
    heavy = want("fulldepth:BTCUSD", interval=10, per_hour=2)
    history = BudgetHistory().add("fulldepth:BTCUSD", T0).add("fulldepth:BTCUSD", T0 + 1000)
    assert decide(history, heavy, T0 + 1010) == T0 + HOUR_S  # T0 leaves the window
    history = history.add("fulldepth:BTCUSD", T0 + HOUR_S)
    assert decide(history, heavy, T0 + HOUR_S) == T0 + 1000 + HOUR_S


def test_the_global_cap_spaces_slots_of_different_endpoints() -> None:
    slots = run([(want(f"ticker:BTC{c}", rps=2.0), T0) for c in ("USD", "EUR", "GBP", "JPY")])
    assert slots == [T0, T0 + 0.5, T0 + 1.0, T0 + 1.5]


def test_the_global_cap_uses_a_gap_before_a_slot_reserved_for_later() -> None:
    # A full depth waiting out its hourly cap must not hold up the ticker for an hour.
    history = BudgetHistory().add("fulldepth:BTCUSD", T0 + HOUR_S)
    assert decide(history, want(rps=1.0), T0) == T0
    assert decide(history, want(rps=1.0), T0 + HOUR_S - 0.5) == T0 + HOUR_S + 1.0
    assert decide(history, want(rps=1.0), T0 + HOUR_S - 1.0) == T0 + HOUR_S - 1.0


def test_the_global_cap_skips_a_gap_too_narrow() -> None:
    history = BudgetHistory().add("a", T0 + 1.0).add("b", T0 + 2.5).add("c", T0 + 4.0)
    # gap 1 s: [T0, T0+1) and [T0+2, T0+3.5) would be too close to a neighbour; T0 itself is exactly 1 s off.
    assert decide(history, want(rps=1.0), T0) == T0
    assert decide(history, want(rps=1.0), T0 + 0.5) == T0 + 5.0


def test_endpoint_interval_and_global_cap_combine() -> None:
    w_usd, w_eur = want("ticker:BTCUSD", rps=1.0), want("ticker:BTCEUR", rps=1.0)
    slots = run([(w_usd, T0), (w_eur, T0), (w_usd, T0), (w_eur, T0), (w_usd, T0 + 30)])
    assert slots == [T0, T0 + 1, T0 + 10, T0 + 11, T0 + 30]


def test_a_cool_off_holds_every_endpoint_until_it_ends() -> None:
    history = BudgetHistory().add("ticker:BTCUSD", T0).block(T0 + 300)
    assert decide(history, want("ticker:BTCUSD"), T0 + 1) == T0 + 300
    assert decide(history, want("trades:BTCUSD"), T0 + 1) == T0 + 300
    assert decide(history, want("trades:BTCUSD"), T0 + 301) == T0 + 301  # over: no effect
    assert history.block(T0 + 100).blocked_until_s == T0 + 300  # a shorter cool-off does not shorten it


def test_a_clock_stepped_back_delays_an_endpoint_but_never_bunches_it() -> None:
    history = BudgetHistory().add("ticker:BTCUSD", T0)
    assert decide(history, want(), T0 - HOUR_S) == T0 + 10


def test_the_answer_does_not_depend_on_the_order_of_the_history() -> None:
    rng = random.Random(5)
    rows = [Reserved(rng.choice("abc"), T0 + rng.uniform(-100, 100)) for _ in range(30)]
    for w in (want("a", per_hour=3, rps=0.7), want("b", interval=3, rps=5), want("d", rps=0.2)):
        expected = decide(BudgetHistory(tuple(rows)), w, T0)
        for _ in range(5):
            rng.shuffle(rows)
            assert decide(BudgetHistory(tuple(rows)), w, T0) == expected


@pytest.mark.parametrize("now", [math.nan, math.inf, -math.inf])
def test_a_clock_that_is_not_a_number_is_refused(now: float) -> None:
    with pytest.raises(ValueError, match="now_s"):
        decide(BudgetHistory(), want(), now)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("budget_key", ""),
        ("endpoint_key", ""),
        ("min_interval_s", -1.0),
        ("min_interval_s", math.nan),
        ("min_interval_s", math.inf),
        ("per_hour", 0),
        ("per_hour", True),
        ("per_hour", 2.5),
        ("global_rps", 0.0),
        ("global_rps", -1.0),
        ("global_rps", math.nan),
    ],
)
def test_a_want_that_makes_no_sense_is_refused(field: str, value: object) -> None:
    fields = {"budget_key": BUDGET, "endpoint_key": "e", "min_interval_s": 10.0, "per_hour": None, "global_rps": 1.0}
    fields[field] = value
    with pytest.raises(ValueError, match=f"Want.{field}"):
        Want(**fields)  # type: ignore[arg-type]


# --- invariants under any sequence of wants and clock readings --------------------------------

ENDPOINTS = st.lists(
    st.tuples(st.sampled_from([0.0, 0.05, 1.0, 2.5, 10.0, 30.0]), st.none() | st.integers(1, 6)),
    min_size=1,
    max_size=3,
)
RPS = st.sampled_from([math.inf, 100.0, 3.0, 1.0, 0.3, 0.05]) | st.floats(0.01, 50.0)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Want], list[tuple[str, int, float]]]:
    rps = draw(RPS)
    wants = [want(f"e{i}", interval, per_hour, rps) for i, (interval, per_hour) in enumerate(draw(ENDPOINTS))]
    monotone = draw(st.booleans())
    n = draw(st.integers(1, 40))
    ops: list[tuple[str, int, float]] = []
    now = T0
    for _ in range(n):
        if monotone:
            now += draw(st.sampled_from([0.0, 0.01, 0.5, 3.0, 11.0, 700.0]) | st.floats(0, 2000))
        else:
            now = T0 + draw(st.floats(-7200, 7200) | st.sampled_from([-HOUR_S, 0.0, 5.0]))
        if draw(st.integers(0, 9)) == 0:
            ops.append(("block", 0, now + draw(st.floats(0, 600))))
        else:
            ops.append(("reserve", draw(st.integers(0, len(wants) - 1)), now))
    return wants, ops


def check_invariants(
    wants: list[Want], granted: list[tuple[int, float, float]], blocks: list[tuple[int, float]]
) -> None:
    """granted: (endpoint index, now, slot) in order; blocks: (position in granted when set, until)."""
    for _, now, slot in granted:
        assert slot >= now
    for i, w in enumerate(wants):
        mine = sorted(slot for j, _, slot in granted if j == i)
        for a, b in itertools.pairwise(mine):
            assert b - a >= w.min_interval_s - EPS, f"{w.endpoint_key}: {a} and {b} closer than {w.min_interval_s}"
        if w.per_hour is not None:
            for a, b in zip(mine, mine[w.per_hour :], strict=False):
                assert b - a >= HOUR_S - EPS, f"{w.endpoint_key}: more than {w.per_hour} within an hour of {a}"
    everything = sorted(slot for _, _, slot in granted)
    gap = wants[0].gap_s
    for a, b in itertools.pairwise(everything):
        assert b - a >= gap - EPS, f"global: {a} and {b} closer than {gap}"
    for position, until in blocks:
        for _, _, slot in granted[position:]:
            assert slot >= until


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_any_clock_keeps_interval_hourly_cap_global_spacing_and_cool_off(
    scenario: tuple[list[Want], list[tuple[str, int, float]]],
) -> None:
    wants, ops = scenario
    history = BudgetHistory()
    granted: list[tuple[int, float, float]] = []
    blocks: list[tuple[int, float]] = []
    for kind, i, t in ops:
        if kind == "block":
            history = history.block(t)
            blocks.append((len(granted), t))
        else:
            slot = decide(history, wants[i], t)
            history = history.add(wants[i].endpoint_key, slot)
            granted.append((i, t, slot))
    check_invariants(wants, granted, blocks)


# --- the store, one process ------------------------------------------------------------------


@pytest.fixture
def budget(tmp_path: Path) -> Iterator[SharedBudget]:
    b = SharedBudget(tmp_path / "state" / "budget.sqlite")
    yield b
    b.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_store_grants_what_decide_grants_over_the_full_history(
    scenario: tuple[list[Want], list[tuple[str, int, float]]],
) -> None:
    # The store loads only the rows that can matter and prunes the rest; with a clock that may go
    # back it must still grant slots keeping every invariant, and with pruning out of the way
    # exactly what decide grants over everything ever reserved.
    wants, ops = scenario
    # Pruning is correct against real time only (a clock stepped back can reach rows dropped
    # earlier; they are then more than their horizon in the past for real), so it is kept out here.
    with tempfile.TemporaryDirectory() as tmp, SharedBudget(Path(tmp) / "budget.sqlite", prune_every_s=None) as store:
        history = BudgetHistory()
        granted: list[tuple[int, float, float]] = []
        blocks: list[tuple[int, float]] = []
        for kind, i, t in ops:
            if kind == "block":
                store.block(BUDGET, t)
                history = history.block(t)
                blocks.append((len(granted), t))
            else:
                slot = store.reserve(wants[i], t)
                assert slot == decide(history, wants[i], t)
                history = history.add(wants[i].endpoint_key, slot)
                granted.append((i, t, slot))
        check_invariants(wants, granted, blocks)


def test_pruning_with_a_clock_that_moves_forward_changes_no_slot(budget: SharedBudget) -> None:
    rng = random.Random(11)
    wants = [
        want("fulldepth:BTCUSD", 10, 5, 2.0),
        want("ticker:BTCUSD", 10, None, 2.0),
        want("trades:BTCUSD", 30, None, 2.0),
    ]
    history = BudgetHistory()
    waiting: dict[str, float] = {}
    now = T0
    for _ in range(400):
        now += rng.choice([0.0, 1.0, 7.0, 40.0, 300.0])
        w = rng.choice(wants)
        if waiting.get(w.endpoint_key, -math.inf) > now:
            continue  # like the run loop: one request per endpoint waits for its slot at a time
        slot = budget.reserve(w, now)
        assert slot == decide(history, w, now)
        history = history.add(w.endpoint_key, slot)
        waiting[w.endpoint_key] = slot
    with sqlite3.connect(budget.path) as conn:
        rows = conn.execute("SELECT count(*) FROM budget_slots").fetchone()[0]
    assert len(history.reserved) > 200
    # What can still matter (5 full depths an hour, the latest of each endpoint) and what came since the last prune.
    assert rows <= 20


def test_prune_keeps_the_latest_slot_of_every_endpoint(budget: SharedBudget) -> None:
    for i in range(20):
        budget.reserve(want("ticker:BTCUSD", rps=1.0), T0 + i * 10)
        budget.reserve(want("fulldepth:BTCUSD", per_hour=5, rps=1.0), T0 + i * 10)
    budget.block(BUDGET, T0 + 5)
    latest = budget.last_sent(BUDGET)
    assert budget.prune(T0 + 10 * HOUR_S) > 0
    assert budget.last_sent(BUDGET) == latest
    assert budget.blocked_until(BUDGET) is None  # an old cool-off is gone too
    with sqlite3.connect(budget.path) as conn:
        assert conn.execute("SELECT count(*) FROM budget_slots").fetchone()[0] == 2
    # A long interval is still measured from the kept slot.
    daily = want("ticker:BTCUSD", interval=24 * HOUR_S)
    assert budget.reserve(daily, T0 + 10 * HOUR_S) == latest["ticker:BTCUSD"] + 24 * HOUR_S


def test_the_files_stay_small_however_many_reservations(tmp_path: Path) -> None:
    with SharedBudget(tmp_path / "budget.sqlite") as budget:
        now = T0
        for _ in range(3000):
            now += 1.0
            budget.reserve(want(interval=0.5, rps=2.0), now)
    size = sum(p.stat().st_size for p in tmp_path.iterdir())
    assert size < 1_500_000, f"{size} bytes after 3000 reservations"


def test_a_claim_on_time_is_granted_and_recorded_as_sent(budget: SharedBudget) -> None:
    slot = budget.reserve(want(), T0)
    assert budget.claim(want(), slot, T0 + 0.001) == T0 + 0.001
    assert budget.last_sent(BUDGET) == {"ticker:BTCUSD": T0 + 0.001}
    assert not budget.release(want(), T0 + 0.001)  # sent: the exchange counted it


def test_a_late_send_pushes_back_the_next_claim(budget: SharedBudget) -> None:
    with SharedBudget(budget.path) as other:
        first, second = budget.reserve(want(), T0), other.reserve(want(), T0)
        assert (first, second) == (T0, T0 + 10)
        assert budget.claim(want(), first, T0 + 4) == T0 + 4  # woke 4 s late: recorded as sent at T0+4
        assert other.claim(want(), second, T0 + 10) == T0 + 14  # on time, but must keep 10 s after a real send
        assert other.claim(want(), T0 + 14, T0 + 14) == T0 + 14


def test_a_request_reserved_earlier_but_waking_later_waits_for_the_one_that_went(budget: SharedBudget) -> None:
    first, second = budget.reserve(want(), T0), budget.reserve(want(), T0)
    assert budget.claim(want(), second, T0 + 10) == T0 + 10  # the first has not been sent
    assert budget.claim(want(), first, T0 + 12) == T0 + 20  # ... and now must follow the second


def test_a_reservation_of_a_task_that_died_holds_no_claim_up(budget: SharedBudget) -> None:
    budget.reserve(want(), T0)  # never claimed
    assert budget.claim(want(), budget.reserve(want(), T0), T0 + 10) == T0 + 10


def test_a_claim_catches_a_cool_off_that_began_while_sleeping(budget: SharedBudget) -> None:
    slot = budget.reserve(want(), T0)
    budget.block(BUDGET, T0 + 300)
    assert budget.claim(want(), slot, T0 + 0.5) == T0 + 300
    assert budget.claim(want(), T0 + 300, T0 + 300) == T0 + 300


def test_a_task_woken_early_keeps_to_its_slot(budget: SharedBudget) -> None:
    budget.reserve(want(), T0)
    slot = budget.reserve(want(), T0)
    assert budget.claim(want(), slot, slot - 0.01) == slot
    assert budget.claim(want(), slot, slot) == slot


def test_claiming_a_slot_never_reserved_decides_from_what_was_sent(budget: SharedBudget) -> None:
    assert budget.claim(want(), T0 + 50, T0) == T0
    assert budget.claim(want(), T0 + 50, T0 + 1) == T0 + 10
    assert budget.claim(want(), T0 + 10, T0 + 10) == T0 + 10


def test_the_hourly_cap_counts_real_sends(budget: SharedBudget) -> None:
    heavy = want("fulldepth:BTCUSD", interval=10, per_hour=2)
    a, b = budget.reserve(heavy, T0), budget.reserve(heavy, T0)
    assert budget.claim(heavy, a, T0 + 100) == T0 + 100  # late
    assert budget.claim(heavy, b, T0 + 110) == T0 + 110
    third = budget.reserve(heavy, T0 + 120)
    assert third == T0 + 100 + HOUR_S  # an hour after the first real send, not after its slot
    assert budget.claim(heavy, third, third) == third


@st.composite
def late_tasks(draw: st.DrawFn) -> tuple[list[Want], list[tuple[int, float]], list[float], tuple[float, float] | None]:
    rps = draw(st.sampled_from([math.inf, 5.0, 0.5]))
    wants = [want(f"e{i}", interval, per_hour, rps) for i, (interval, per_hour) in enumerate(draw(ENDPOINTS))]
    tasks = draw(st.lists(st.tuples(st.integers(0, len(wants) - 1), st.floats(0, 30)), min_size=1, max_size=10))
    lateness = draw(st.lists(st.sampled_from([0.0, 0.0, 0.01, 3.0]) | st.floats(0, 20), min_size=1, max_size=20))
    block = draw(st.none() | st.tuples(st.floats(0, 40), st.floats(0, 100)))
    return wants, tasks, lateness, block


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(late_tasks())
def test_however_late_tasks_wake_the_sends_keep_every_rule(
    scenario: tuple[list[Want], list[tuple[int, float]], list[float], tuple[float, float] | None],
) -> None:
    # Tasks (as if in several processes) reserve, oversleep by arbitrary amounts, and claim; the
    # claimed send times, not the planned slots, must keep every rule.
    wants, tasks, lateness, block = scenario
    late = itertools.cycle(lateness)
    events: list[tuple[float, int, str, int, float]] = [
        (T0 + at, i, "reserve", i, 0.0) for i, (_, at) in enumerate(tasks)
    ]
    if block is not None:
        events.append((T0 + block[0], -1, "block", -1, T0 + block[0] + block[1]))
    heapq.heapify(events)
    sent: list[tuple[int, float, float]] = []  # (endpoint, slot, sent at): the rules apply to the sends
    blocks: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp, SharedBudget(Path(tmp) / "budget.sqlite") as store:
        for _ in range(40 * len(tasks) + 10):
            if not events:
                break
            now, seq, kind, task, slot = heapq.heappop(events)
            w = wants[tasks[task][0]] if task >= 0 else None
            if kind == "block":
                store.block(BUDGET, slot)
                blocks.append((now, slot))
            elif kind == "reserve":
                assert w is not None
                slot = store.reserve(w, now)
                heapq.heappush(events, (slot + next(late), seq, "claim", task, slot))
            else:
                assert w is not None
                at = store.claim(w, slot, now)
                assert at >= now
                if at == now:
                    sent.append((tasks[task][0], slot, now))
                else:
                    heapq.heappush(events, (at + next(late), seq, "claim", task, at))
        assert not events, "some task never got to send"
    assert len(sent) == len(tasks)
    check_invariants(wants, sent, [])
    for set_at, until in blocks:
        assert all(at >= until for _, _, at in sent if at >= set_at)


def test_two_connections_share_slots_and_cool_offs(budget: SharedBudget) -> None:
    with SharedBudget(budget.path) as other:
        assert budget.reserve(want(), T0) == T0
        assert other.reserve(want(), T0) == T0 + 10
        other.block(BUDGET, T0 + 100)
        assert budget.blocked_until(BUDGET) == T0 + 100
        assert budget.reserve(want("trades:BTCUSD"), T0 + 1) == T0 + 100
        budget.block(BUDGET, T0 + 50)
        assert other.blocked_until(BUDGET) == T0 + 100


def test_budgets_are_independent(budget: SharedBudget) -> None:
    budget.block("mtgox|data.mtgox.com|public", T0 + 1000)
    budget.reserve(want(budget="mtgox|data.mtgox.com|public"), T0)
    assert budget.reserve(want(), T0) == T0
    assert budget.last_sent(BUDGET) == {"ticker:BTCUSD": T0}


def test_a_released_slot_can_be_granted_again(budget: SharedBudget) -> None:
    assert budget.reserve(want(), T0) == T0
    second = budget.reserve(want(), T0)
    assert second == T0 + 10
    assert budget.release(want(), second)
    assert not budget.release(want(), second)  # already given back
    assert not budget.release(want(), T0 + 12345)
    assert budget.reserve(want(), T0 + 1) == T0 + 10


def test_last_sent_tells_sent_from_waiting(budget: SharedBudget) -> None:
    assert budget.last_sent(BUDGET) == {}
    for _ in range(3):
        budget.reserve(want(), T0)
    budget.reserve(want("trades:BTCUSD"), T0 + 5)
    assert budget.last_sent(BUDGET) == {"ticker:BTCUSD": T0 + 20, "trades:BTCUSD": T0 + 5}
    assert budget.last_sent(BUDGET, now_s=T0 + 12) == {"ticker:BTCUSD": T0 + 10, "trades:BTCUSD": T0 + 5}


def test_a_non_finite_clock_or_cool_off_is_refused(budget: SharedBudget) -> None:
    with pytest.raises(ValueError, match="now_s"):
        budget.reserve(want(), math.nan)
    with pytest.raises(ValueError, match="until_s"):
        budget.block(BUDGET, math.inf)


def test_a_damaged_file_is_a_one_line_state_error(tmp_path: Path) -> None:
    path = tmp_path / "budget.sqlite"
    path.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(StateError) as caught:
        SharedBudget(path).reserve(want(), T0)
    assert str(caught.value).startswith(f"{path}: cannot reserve a request slot: ")
    assert "\n" not in str(caught.value)
