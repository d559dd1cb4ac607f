"""From configuration to tasks, and from a task plus the cursors to the next request. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import ConfigError
from .exchanges.base import EndpointSpec, ExchangeAdapter, Request
from .schedule import Task

# Requests sent exactly one interval apart can arrive a little closer (scheduling, queues,
# retransmits); pacing a little slower than the exchange's limit keeps its counter from ever
# seeing a violation: 5 %, and at least 100 ms (or half the interval, for tiny test intervals).
SAFETY_MARGIN = 0.05
SAFETY_MARGIN_MIN_S = 0.1


def paced(min_interval_s: float) -> float:
    floor = min(SAFETY_MARGIN_MIN_S, min_interval_s / 2)
    return min_interval_s + max(min_interval_s * SAFETY_MARGIN, floor)


@dataclass(frozen=True, slots=True)
class Plan:
    tasks: tuple[Task, ...]
    budget_key: str  # (host, key) the rate budget is shared under
    min_interval_s: float
    heavy_per_hour: int
    global_rps: float


def plan(
    adapter: ExchangeAdapter, version: int, *, base_url: str, key_fingerprint: str, min_interval_s: float,
    heavy_per_hour: int, global_rps: float, markets: Mapping[str, Mapping[str, float]],
    wallet_history: tuple[str, ...] = (), history_every_s: float = 0.0, polls: Mapping[str, float] | None = None,
    source: str = "config",
) -> Plan:
    """The tasks a configuration asks for. Raises ConfigError for an endpoint the version lacks.

    `polls`: account endpoints polled every so many seconds, by name.
    """
    tasks: list[Task] = []

    def spec_for(name: str, where: str) -> EndpointSpec:
        spec = adapter.endpoints.get(name)
        if spec is None or version not in spec.paths:
            raise ConfigError(f"{source}: {where}: {adapter.name} API v{version} has no {name} endpoint")
        return spec

    exchange_wide: dict[str, Task] = {}
    for pair, intervals in markets.items():
        for name in adapter.rules.market_endpoints:
            if name in intervals:
                spec = spec_for(name, f"[market {pair}].{name}")
                if spec.per_market:
                    tasks.append(Task(f"{name}:{pair}", name, pair, intervals[name], spec.priority, spec.heavy))
                else:  # one task however many markets ask for it (Kraken's Time), at the shortest interval asked
                    earlier = exchange_wide.get(name)
                    every = min(intervals[name], earlier.interval_s) if earlier else intervals[name]
                    exchange_wide[name] = Task(f"{name}:-", name, "-", every, spec.priority, spec.heavy)
    tasks += exchange_wide.values()
    paged = adapter.rules.per_currency_history
    for cur in wallet_history:
        spec = spec_for(paged or "wallet_history", f"[account].{paged or 'wallet_history'}")
        tasks.append(Task(f"{spec.name}:{cur}", spec.name, "-", history_every_s, spec.priority, currency=cur))
    for name, every in (polls or {}).items():
        if every > 0:
            spec = spec_for(name, f"[account].{name}")
            tasks.append(Task(f"{name}:-", name, "-", every, spec.priority))
    host = urlsplit(base_url).netloc
    return Plan(tuple(tasks), f"{adapter.name}|{host}|{key_fingerprint}", paced(min_interval_s), heavy_per_hour,
                global_rps)


def request_for(
    adapter: ExchangeAdapter, version: int, task: Task, *, since: int | None = None, page: int | None = None
) -> Request:
    return adapter.build(adapter.endpoints[task.endpoint], version, task.market, since=since, page=page,
                         currency=task.currency)
