"""The response cache and the rate limiter, driven by an explicit clock."""

from __future__ import annotations

import orjson
import pytest

from emulator.limits import (
    CachedResponse,
    Decision,
    LimitPolicy,
    RateLimiter,
    ResponseCache,
    anti_ddos_page,
    too_many_requests_body,
)

T0 = 1_365_000_000.0


def response(body: bytes = b'{"result":"success"}', at: float = T0) -> CachedResponse:
    return CachedResponse(200, body, "application/json", at)


# --- cache -----------------------------------------------------------------------------------


def test_a_cached_response_is_served_until_the_ttl_runs_out() -> None:
    cache = ResponseCache(10)
    cache.put("/api/1/BTCUSD/ticker", response(), T0)
    assert cache.get("/api/1/BTCUSD/ticker", T0 + 9.999) == response()
    assert cache.get("/api/1/BTCUSD/ticker", T0 + 10) is None
    assert cache.get("/api/1/BTCUSD/ticker", T0 + 5) is None  # an expired entry is gone for good


def test_the_cache_is_per_url() -> None:
    cache = ResponseCache(10)
    cache.put("/api/1/BTCUSD/ticker", response(b"usd"), T0)
    cache.put("/api/1/BTCEUR/ticker", response(b"eur"), T0)
    assert cache.get("/api/1/BTCUSD/ticker", T0 + 1).body == b"usd"  # type: ignore[union-attr]
    assert cache.get("/api/1/BTCEUR/ticker", T0 + 1).body == b"eur"  # type: ignore[union-attr]
    assert cache.get("/api/1/BTCGBP/ticker", T0 + 1) is None


def test_putting_again_restarts_the_ttl() -> None:
    cache = ResponseCache(10)
    cache.put("k", response(b"old"), T0)
    cache.put("k", response(b"new"), T0 + 8)
    assert cache.get("k", T0 + 15).body == b"new"  # type: ignore[union-attr]


@pytest.mark.parametrize("ttl", [0, -1])
def test_a_ttl_of_zero_disables_the_cache(ttl: float) -> None:
    cache = ResponseCache(ttl)
    cache.put("k", response(), T0)
    assert cache.get("k", T0) is None
    assert len(cache) == 0


def test_expired_entries_are_dropped_when_putting() -> None:
    cache = ResponseCache(10)
    for i in range(1_000):
        cache.put(f"/trades?since={i}", response(), T0 + i)
    assert len(cache) <= 11


def test_the_cache_never_holds_more_than_max_entries() -> None:
    cache = ResponseCache(1e9, max_entries=3)
    for i in range(10):
        cache.put(f"k{i}", response(), T0 + i)
    assert len(cache) == 3
    assert cache.get("k9", T0 + 10) is not None
    assert cache.get("k0", T0 + 10) is None


# --- policy ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"min_interval_s": -1}, "min_interval_s"),
        ({"heavy_per_hour": -1}, "heavy_per_hour"),
        ({"violations_to_block": -2}, "violations_to_block"),
        ({"violation_window_s": -600}, "violation_window_s"),
        ({"cooloff_s": float("nan")}, "cooloff_s"),
        ({"heavy_per_hour": 2.5}, "heavy_per_hour"),
        ({"block_style": "teapot"}, "block_style"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        LimitPolicy(**changes)  # type: ignore[arg-type]


def test_the_default_policy_follows_mtgox() -> None:
    p = LimitPolicy()
    assert (p.min_interval_s, p.heavy_per_hour, p.block_style) == (10.0, 5, "html")


# --- rate limiter ----------------------------------------------------------------------------

OK = Decision(True, False, None, None)
FLAGGED = Decision(True, True, None, None)


def test_requests_ten_seconds_apart_are_fine() -> None:
    limiter = RateLimiter(LimitPolicy())
    assert [limiter.check("1.2.3.4", "ticker", T0 + 10 * i) for i in range(20)] == [OK] * 20


def test_a_request_sooner_than_the_interval_is_a_violation_but_still_answered() -> None:
    limiter = RateLimiter(LimitPolicy())
    assert limiter.check("c", "ticker", T0) == OK
    assert limiter.check("c", "ticker", T0 + 9.9) == FLAGGED


def test_the_interval_is_per_endpoint() -> None:
    limiter = RateLimiter(LimitPolicy())
    assert limiter.check("c", "ticker", T0) == OK
    assert limiter.check("c", "trades", T0 + 1) == OK
    assert limiter.check("c", "depth", T0 + 2) == OK


def test_clients_are_independent() -> None:
    limiter = RateLimiter(LimitPolicy(violations_to_block=1))
    limiter.check("a", "ticker", T0)
    assert not limiter.check("a", "ticker", T0 + 1).allowed
    assert limiter.check("b", "ticker", T0 + 1) == OK
    assert limiter.check("b", "ticker", T0 + 11) == OK


def test_the_third_violation_blocks_the_client_on_every_endpoint_until_the_cooloff_ends() -> None:
    limiter = RateLimiter(LimitPolicy())
    assert limiter.check("c", "ticker", T0) == OK
    assert limiter.check("c", "ticker", T0 + 1) == FLAGGED
    assert limiter.check("c", "ticker", T0 + 2) == FLAGGED
    blocking = limiter.check("c", "ticker", T0 + 3)
    assert blocking == Decision(False, True, T0 + 3 + 300, 300)
    during = limiter.check("c", "trades", T0 + 103)
    assert not during.allowed
    assert during.blocked_until == T0 + 303
    assert during.retry_after_s == pytest.approx(200)
    # Refused requests do not extend the block.
    assert not limiter.check("c", "ticker", T0 + 302.9).allowed
    assert limiter.check("c", "ticker", T0 + 303) == OK


def test_after_the_cooloff_the_client_starts_clean() -> None:
    limiter = RateLimiter(LimitPolicy())
    for i in range(4):
        limiter.check("c", "ticker", T0 + i)
    # Clean: two violations are not enough for a new block, the third is.
    start = T0 + 303
    assert limiter.check("c", "ticker", start) == OK
    assert limiter.check("c", "ticker", start + 1) == FLAGGED
    assert limiter.check("c", "ticker", start + 2) == FLAGGED
    assert not limiter.check("c", "ticker", start + 3).allowed


def test_violations_older_than_the_window_do_not_count() -> None:
    limiter = RateLimiter(LimitPolicy(violation_window_s=60))
    limiter.check("c", "ticker", T0)
    assert limiter.check("c", "ticker", T0 + 1) == FLAGGED
    assert limiter.check("c", "ticker", T0 + 2) == FLAGGED
    limiter.check("c", "ticker", T0 + 100)
    assert limiter.check("c", "ticker", T0 + 101) == FLAGGED  # the first two have left the window
    assert limiter.check("c", "ticker", T0 + 102) == FLAGGED
    assert not limiter.check("c", "ticker", T0 + 103).allowed


def test_the_sixth_full_depth_within_an_hour_is_a_violation() -> None:
    limiter = RateLimiter(LimitPolicy())
    times = [T0 + 600 * i for i in range(5)]
    assert [limiter.check("c", "fulldepth", t, heavy=True) for t in times] == [OK] * 5
    assert limiter.check("c", "fulldepth", T0 + 3000, heavy=True) == FLAGGED
    # The answered violation counts as made: an hour after the first request the hour still holds five.
    assert limiter.check("c", "fulldepth", T0 + 3600, heavy=True) == FLAGGED
    assert limiter.check("c", "fulldepth", T0 + 3000 + 3600, heavy=True) == OK


def test_the_heavy_check_ignores_light_endpoints() -> None:
    limiter = RateLimiter(LimitPolicy())
    assert [limiter.check("c", "depth", T0 + 11 * i) for i in range(10)] == [OK] * 10


def test_zero_disables_the_interval_and_the_heavy_checks() -> None:
    limiter = RateLimiter(LimitPolicy(min_interval_s=0, heavy_per_hour=0))
    assert [limiter.check("c", "fulldepth", T0 + i * 0.01, heavy=True) for i in range(100)] == [OK] * 100


def test_zero_violations_to_block_only_flags() -> None:
    limiter = RateLimiter(LimitPolicy(violations_to_block=0))
    limiter.check("c", "ticker", T0)
    assert [limiter.check("c", "ticker", T0 + 0.1 * i) for i in range(1, 50)] == [FLAGGED] * 49


def test_clients_gone_quiet_are_forgotten() -> None:
    limiter = RateLimiter(LimitPolicy(heavy_per_hour=0, violation_window_s=60))
    for i in range(500):
        limiter.check(f"10.0.{i // 256}.{i % 256}", "ticker", T0 + i)
    assert len(limiter) <= 130  # only those seen in the last window, plus one sweep period


# --- block answers ---------------------------------------------------------------------------


def test_the_anti_ddos_page_is_html_naming_the_wait() -> None:
    page = anti_ddos_page(299.2)
    assert page.startswith(b"<!DOCTYPE html>")
    assert b"<html" in page
    assert b"300 seconds" in page
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(page)


def test_the_429_body_is_a_mtgox_error() -> None:
    assert orjson.loads(too_many_requests_body()) == {
        "result": "error",
        "error": "Too many requests, slow down",
        "token": "rate_limited",
    }
