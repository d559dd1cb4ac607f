"""Kraken's private call counter, pure: tiers, costs, decay, the refusal and the cool-off after it."""

from __future__ import annotations

import pytest

from emulator.kraken_limits import TIERS, CallCounter, Tier, cost


def burst(counter: CallCounter, method: str, now_s: float, calls: int) -> list[bool]:
    return [counter.charge("k", cost(method), now_s).allowed for _ in range(calls)]


def test_ledger_and_trade_history_calls_cost_two_and_the_others_one() -> None:
    assert cost("Ledgers") == cost("TradesHistory") == cost("QueryLedgers") == cost("QueryTrades") == 2
    assert cost("Balance") == 1


def test_the_tiers_are_kraken_s_documented_maximum_and_decay() -> None:
    documented = {"starter": Tier(15, 0.33), "intermediate": Tier(20, 0.5), "pro": Tier(20, 1.0)}
    assert documented == TIERS


@pytest.mark.parametrize(("tier", "allowed"), [("starter", 7), ("intermediate", 10), ("pro", 10)])
def test_a_burst_of_ledgers_calls_is_refused_once_the_next_would_pass_the_tier_s_maximum(
    tier: str, allowed: int,
) -> None:
    counter = CallCounter(TIERS[tier], cooloff_s=5.0)
    assert burst(counter, "Ledgers", 100.0, allowed + 1) == [True] * allowed + [False]


def test_the_refusal_restricts_the_key_for_the_cool_off_without_adding_to_the_counter() -> None:
    counter = CallCounter(TIERS["starter"], cooloff_s=5.0)
    burst(counter, "Ledgers", 100.0, 7)
    refused = counter.charge("k", 2, 100.0)
    assert not refused.allowed and refused.restricted_until == 105.0 and refused.level == 14
    # Restricted: even a call the counter would take is refused, and refusals do not extend the cool-off.
    later = counter.charge("k", 1, 104.0)
    assert not later.allowed and later.restricted_until == 105.0
    assert counter.level("k", 104.0) == pytest.approx(14 - 0.33 * 4)


def test_after_the_cool_off_the_decayed_counter_takes_calls_again() -> None:
    counter = CallCounter(TIERS["starter"], cooloff_s=5.0)
    burst(counter, "Ledgers", 100.0, 8)
    assert counter.charge("k", 2, 106.0).allowed  # 14 - 0.33 × 6 = 12.02, + 2 fits under 15


def test_a_key_that_is_over_the_maximum_right_after_the_cool_off_is_refused_again() -> None:
    counter = CallCounter(Tier(15, 0.1), cooloff_s=1.0)
    burst(counter, "Ledgers", 0.0, 8)
    assert not counter.charge("k", 2, 1.5).allowed  # 14 - 0.15 + 2 > 15


def test_keys_have_separate_counters() -> None:
    counter = CallCounter(TIERS["starter"], cooloff_s=5.0)
    burst(counter, "Ledgers", 0.0, 8)
    assert counter.charge("other", 2, 0.0).allowed


def test_a_clock_that_goes_back_decays_nothing_and_never_raises_the_counter() -> None:
    counter = CallCounter(TIERS["pro"], cooloff_s=0.0)
    counter.charge("k", 2, 50.0)
    assert counter.level("k", 10.0) == 2
    assert counter.level("k", 51.0) == 1


@pytest.mark.parametrize(("tier", "cooloff"), [(Tier(0, 1), 1.0), (Tier(15, -1), 1.0), (Tier(15, 1), -1.0),
                                               (Tier(15, float("nan")), 1.0)])
def test_a_counter_refuses_nonsense_settings(tier: Tier, cooloff: float) -> None:
    with pytest.raises(ValueError, match=r"must|needs"):
        CallCounter(tier, cooloff)
