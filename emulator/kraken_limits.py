"""Kraken's private call counter, per API key. Pure (the clock is an argument).

"Every REST API user has a call counter which starts at 0. Ledger/trade history calls increase the
counter by 2 ... All other API calls increase the counter by 1." It decays at the tier's rate, and
a call that would take it over the tier's maximum is refused with `EAPI:Rate limit exceeded`, after
which "additional calls will be restricted for a few seconds" (reference living-exchanges §1.6).

Policy choices where Kraken says no more: a refused call adds nothing to the counter; the key is
restricted for `cooloff_s` from the refusal, and calls during it are refused without extending it;
the counter keeps decaying meanwhile. With the starter tier (15, 0.33/s) a key can make 7 Ledgers
calls in a burst (14 points); the 8th would make 16 and is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

RATE_LIMIT_EXCEEDED = "EAPI:Rate limit exceeded"


@dataclass(frozen=True, slots=True)
class Tier:
    maximum: float
    decay_per_s: float


TIERS: dict[str, Tier] = {
    "starter": Tier(15.0, 0.33),
    "intermediate": Tier(20.0, 0.5),
    "pro": Tier(20.0, 1.0),
}
# "Ledger/trade history calls": the Query variants read the same history, so they cost the same.
COSTS: dict[str, float] = {"Ledgers": 2.0, "QueryLedgers": 2.0, "TradesHistory": 2.0, "QueryTrades": 2.0}
DEFAULT_COST = 1.0


def cost(method: str) -> float:
    return COSTS.get(method, DEFAULT_COST)


@dataclass(frozen=True, slots=True)
class CounterDecision:
    allowed: bool
    level: float  # the counter after this call
    restricted_until: float | None  # clock seconds; set while the key is restricted


@dataclass(slots=True)
class _KeyState:
    level: float
    at: float
    restricted_until: float | None = None


class CallCounter:
    """The call counters of every key under one tier."""

    def __init__(self, tier: Tier, cooloff_s: float) -> None:
        if tier.maximum <= 0 or tier.decay_per_s < 0 or not math.isfinite(tier.decay_per_s):
            raise ValueError(f"a tier needs a positive maximum and a finite decay >= 0, got {tier}")
        if cooloff_s < 0 or not math.isfinite(cooloff_s):
            raise ValueError(f"cooloff_s must be a finite number >= 0, got {cooloff_s}")
        self.tier = tier
        self.cooloff_s = cooloff_s
        self._keys: dict[str, _KeyState] = {}

    def level(self, key: str, now_s: float) -> float:
        """The counter of `key` at `now_s` (0 for a key never seen)."""
        state = self._keys.get(key)
        return 0.0 if state is None else self._decayed(state, now_s)

    def charge(self, key: str, call_cost: float, now_s: float) -> CounterDecision:
        """Judge one call of `key` and, when allowed, add its cost."""
        state = self._keys.setdefault(key, _KeyState(0.0, now_s))
        state.level, state.at = self._decayed(state, now_s), max(state.at, now_s)
        if state.restricted_until is not None:
            if now_s < state.restricted_until:
                return CounterDecision(False, state.level, state.restricted_until)
            state.restricted_until = None
        if state.level + call_cost > self.tier.maximum:
            state.restricted_until = now_s + self.cooloff_s
            return CounterDecision(False, state.level, state.restricted_until)
        state.level += call_cost
        return CounterDecision(True, state.level, None)

    def _decayed(self, state: _KeyState, now_s: float) -> float:
        # A clock that goes back decays nothing rather than raising the counter.
        return max(0.0, state.level - self.tier.decay_per_s * max(0.0, now_s - state.at))
