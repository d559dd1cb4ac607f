"""Retry delays and the circuit breaker. Pure: randomness and time come in as arguments.

A failed request is retried after an exponentially growing delay with jitter, but never
sooner than the endpoint's minimum interval nor sooner than the exchange's Retry-After: a
retry is still a request, and the exchange's limit counts it. A 429 or an anti-DDoS page opens
a circuit for the whole (host, key) budget: nothing is sent until the cool-off ends.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    base_s: float = 2.0
    multiplier: float = 2.0
    cap_s: float = 600.0
    cooloff_s: float = 300.0  # how long an anti-DDoS page or a 429 keeps the circuit open

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.multiplier < 1 or self.cap_s < self.base_s or self.cooloff_s < 0:
            raise ValueError(f"inconsistent backoff policy: {self}")


def retry_delay(
    failures: int, policy: BackoffPolicy, u: float, *, retry_after_s: float | None = None, floor_s: float = 0.0
) -> float:
    """Seconds to wait before retrying after `failures` consecutive failures (>= 1).

    "Equal jitter": half the exponential delay is kept, half is random (`u` uniform in [0, 1)),
    so retries of many collectors spread out but none comes back too soon.
    """
    exponential = min(policy.cap_s, policy.base_s * policy.multiplier ** max(0, failures - 1))
    jittered = exponential / 2 + u * exponential / 2
    return max(jittered, retry_after_s or 0.0, floor_s)


def circuit_open_until(now_s: float, policy: BackoffPolicy, retry_after_s: float | None) -> float:
    """When a circuit tripped now may close again."""
    return now_s + max(policy.cooloff_s, retry_after_s or 0.0)
