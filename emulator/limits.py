"""The response cache and the anti-DDoS rate limiter. Pure (the clock is an argument).

Mt.Gox: "All API methods are cached for 10 seconds. Do not request results more often than
that, you might be blocked by the anti-DDoS filters", and full depth at most 5 times an hour
(reference section 7). What a block looked like is undocumented; clients saw HTML pages, 5xx
and dropped connections, so the block's shape is a policy choice (`block_style`).
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass, field

import orjson

HEAVY_WINDOW_S = 3600.0
BLOCK_STYLES = frozenset({"html", "429"})


@dataclass(frozen=True)
class CachedResponse:
    status: int
    body: bytes
    content_type: str
    stored_at: float  # seconds, on the clock the app passes as now_s


class ResponseCache:
    """Responses by key (the app uses the URL), fresh for `ttl_s` seconds after `put`.

    ttl_s <= 0 disables the cache. At most `max_entries` are kept, oldest dropped first, so a
    client walking `since` values cannot grow it without bound.
    """

    def __init__(self, ttl_s: float, max_entries: int = 4096) -> None:
        if math.isnan(ttl_s):
            raise ValueError("ttl_s must be a number")
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries}")
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        # Insertion order is put order, so expired entries are at the front.
        self._entries: OrderedDict[str, tuple[float, CachedResponse]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str, now_s: float) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        put_at, response = entry
        if now_s - put_at >= self.ttl_s:
            del self._entries[key]
            return None
        return response

    def put(self, key: str, response: CachedResponse, now_s: float) -> None:
        """Store `response`; it expires `ttl_s` after `now_s` (not after `response.stored_at`)."""
        if self.ttl_s <= 0:
            return
        self._entries.pop(key, None)
        while self._entries:
            oldest_at, _ = next(iter(self._entries.values()))
            if now_s - oldest_at < self.ttl_s and len(self._entries) < self.max_entries:
                break
            self._entries.popitem(last=False)
        self._entries[key] = (now_s, response)


@dataclass(frozen=True)
class LimitPolicy:
    """What counts as abuse and what happens then.

    min_interval_s = 0 disables the per-endpoint interval check, heavy_per_hour = 0 the heavy
    check, violations_to_block = 0 blocking (violations are then only flagged).
    """

    min_interval_s: float = 10.0
    heavy_per_hour: int = 5
    violations_to_block: int = 3
    violation_window_s: float = 600.0
    cooloff_s: float = 300.0
    block_style: str = "html"  # "html" (HTTP 503 with a DDoS-protection page) | "429"

    def __post_init__(self) -> None:
        for name in ("min_interval_s", "violation_window_s", "cooloff_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or math.isnan(value) or value < 0:
                raise ValueError(f"LimitPolicy.{name} must be a number >= 0, got {value!r}")
        for name in ("heavy_per_hour", "violations_to_block"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"LimitPolicy.{name} must be an integer >= 0, got {value!r}")
        if self.violations_to_block and self.violation_window_s <= 0:
            raise ValueError("LimitPolicy.violation_window_s must be > 0 when violations_to_block is set")
        if self.block_style not in BLOCK_STYLES:
            raise ValueError(
                f"LimitPolicy.block_style must be one of {', '.join(sorted(BLOCK_STYLES))}, got {self.block_style!r}"
            )


@dataclass(frozen=True)
class Decision:
    allowed: bool
    violation: bool
    blocked_until: float | None
    retry_after_s: float | None


@dataclass
class _Client:
    last_seen: float
    blocked_until: float | None = None
    violations: deque[float] = field(default_factory=deque)
    last_request: dict[str, float] = field(default_factory=dict)
    heavy: dict[str, deque[float]] = field(default_factory=dict)


class RateLimiter:
    """Counts violations per client and blocks a client that keeps violating.

    A violation is answered normally (and flagged) until the client has `violations_to_block` of
    them within `violation_window_s`; then every request of the client is refused for `cooloff_s`,
    after which it starts clean. Requests refused during a block do not extend it.
    """

    # How often (clock seconds) clients whose state can no longer matter are dropped.
    SWEEP_EVERY_S = 60.0

    def __init__(self, policy: LimitPolicy) -> None:
        self.policy = policy
        self._clients: dict[str, _Client] = {}
        self._last_sweep: float | None = None
        # Older than this, nothing of a client's history can make a new request a violation.
        self._horizon = max(
            policy.min_interval_s,
            HEAVY_WINDOW_S if policy.heavy_per_hour else 0.0,
            policy.violation_window_s if policy.violations_to_block else 0.0,
        )

    def __len__(self) -> int:
        """Clients currently remembered."""
        return len(self._clients)

    def check(self, client: str, endpoint: str, now_s: float, heavy: bool = False) -> Decision:
        """Judge one request and record it."""
        self._sweep(now_s)
        p = self.policy
        state = self._clients.get(client)
        if state is not None and state.blocked_until is not None:
            if now_s < state.blocked_until:
                return Decision(False, False, state.blocked_until, state.blocked_until - now_s)
            state = None  # the cool-off is over: start clean
        if state is None:
            state = self._clients[client] = _Client(last_seen=now_s)
        state.last_seen = now_s

        violation = False
        last = state.last_request.get(endpoint)
        if p.min_interval_s > 0 and last is not None and now_s - last < p.min_interval_s:
            violation = True
        state.last_request[endpoint] = now_s
        if heavy and p.heavy_per_hour > 0:
            # Only whether heavy_per_hour requests fall in the window matters, so no more are kept.
            times = state.heavy.setdefault(endpoint, deque(maxlen=p.heavy_per_hour))
            while times and now_s - times[0] >= HEAVY_WINDOW_S:
                times.popleft()
            if len(times) >= p.heavy_per_hour:
                violation = True
            times.append(now_s)

        if violation and p.violations_to_block > 0:
            v = state.violations
            v.append(now_s)
            while v and now_s - v[0] >= p.violation_window_s:
                v.popleft()
            if len(v) >= p.violations_to_block:
                state.blocked_until = now_s + p.cooloff_s
                state.violations.clear()
                state.last_request.clear()
                state.heavy.clear()
                return Decision(False, True, state.blocked_until, p.cooloff_s)
        return Decision(True, violation, None, None)

    def _sweep(self, now_s: float) -> None:
        if self._last_sweep is not None and now_s - self._last_sweep < self.SWEEP_EVERY_S:
            return
        self._last_sweep = now_s
        stale = [
            c
            for c, s in self._clients.items()
            if (s.blocked_until is None or s.blocked_until <= now_s) and now_s - s.last_seen >= self._horizon
        ]
        for c in stale:
            del self._clients[c]


def anti_ddos_page(retry_after_s: float) -> bytes:
    """An interstitial like the DDoS-protection pages clients reported instead of JSON."""
    seconds = max(1, math.ceil(retry_after_s))
    return (
        "<!DOCTYPE html>\n"
        '<html><head><meta charset="utf-8"><title>Access temporarily restricted</title>'
        f'<meta http-equiv="refresh" content="{seconds}"></head>\n'
        "<body><h1>Access temporarily restricted</h1>\n"
        "<p>Too many requests were received from your network. This protects the site against "
        "denial-of-service attacks.</p>\n"
        f"<p>Please wait {seconds} seconds before trying again.</p>\n"
        "</body></html>\n"
    ).encode()


_TOO_MANY = orjson.dumps({"result": "error", "error": "Too many requests, slow down", "token": "rate_limited"})


def too_many_requests_body() -> bytes:
    """The Mt.Gox-style JSON error body for block_style "429" (the token is the emulator's own)."""
    return _TOO_MANY
