"""Backfilling trades: crawl `since=<tid>` over a past range, and close recorded gaps.

Backfill shares the live collector's budget key and per-endpoint slot (`trades:<market>`), so a
backfill running beside a collector on the same key never makes the pair exceed the limit.
A range that keeps failing becomes a gap with its reason; `backfill` without a range retries
the open gaps and closes those it fills.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from . import log
from . import record as rc
from .backoff import circuit_open_until
from .budget import Want
from .errors import ConfigError
from .exchanges.mtgox import cursor_at as mtgox_cursor_at
from .plan import request_for
from .run import Collector, take_slot
from .schedule import Task

# Mt.Gox tids from the June 2011 relaunch on are microsecond times; before, a date has no tid.
MICRO_TID_MIN = 10**12
MAX_FAILURES = 8


@dataclass(frozen=True, slots=True)
class BackfillResult:
    market: str
    pages: int
    trades: int
    # The range crawled, (after, through], as the exchange's cursor counts (a tid for Mt.Gox, a ns `last` for Kraken)
    after: int | None
    through: int | None
    gap: str | None  # why it stopped early, when it did


def parse_point(text: str, cursor_at: Callable[[int], int] = mtgox_cursor_at) -> int:
    """A backfill bound: a cursor as the exchange counts it (digits: a Mt.Gox tid, a Kraken `last`), or a UTC
    date/time (2013-01-01, 2013-01-01T12:00), which `cursor_at` (the adapter's) turns into one."""
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{text!r} is neither a tid nor a date like 2013-01-01") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return cursor_at(int(when.timestamp() * 1_000_000))


async def backfill_trades(
    collector: Collector, market: str, since: int, until: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> BackfillResult:
    """Crawl trades of `market` after tid `since` up to tid `until` (or until caught up)."""
    if market not in {t.market for t in collector.plan.tasks} and market not in collector.adapter.pairs:
        raise ConfigError(f"{market!r} is not a pair {collector.adapter.name} lists")
    c = collector
    task = Task(f"backfill:{market}", "trades", market, c.plan.min_interval_s, 3)
    want = Want(budget_key=c.plan.budget_key, endpoint_key=f"trades:{market}", min_interval_s=c.plan.min_interval_s,
                per_hour=None, global_rps=c.plan.global_rps)
    cursor, pages, trades, failures = since, 0, 0, 0
    gap: str | None = None
    while until is None or cursor < until:
        await take_slot(c.budget, want, c.mono)
        outcome = await c.fetcher.fetch(request_for(c.adapter, c.version, task, since=cursor))
        stored = c.journal.append(outcome.record)
        c.count(stored)
        await c.housekeeping(c.clock())
        if outcome.record.error_class is not None:
            failures += 1
            if outcome.record.error_class == rc.RATE_LIMITED:  # every process on the key waits it out
                c.budget.block(c.plan.budget_key, circuit_open_until(c.mono(), c.policy, outcome.retry_after_s))
            if failures >= MAX_FAILURES:
                gap = f"{outcome.record.error_class} {failures} times in a row"
                c.state.open_gap(c.adapter.name, market, cursor, until, gap, int(c.clock() * 1e6))
                log.event("gap_opened", market=market, after_tid=cursor, through_tid=until, reason=gap)
                break
            continue  # the budget spaces the retry
        failures = 0
        page = c.adapter.trades_page(outcome.decoded, c.version)
        new = c.adapter.next_since(cursor, page)
        c.journal.flush()  # durable before the coverage says so
        pages += 1
        if new is None:
            break
        c.state.add_coverage(c.adapter.name, market, cursor, new, min(page.times_us, default=None),
                             max(page.times_us, default=None), len(page.tids), stored.record_id,
                             int(c.clock() * 1e6))
        trades += len(page.tids)
        cursor = new
        if progress:
            progress(cursor, until)
    _close_filled_gaps(c, market)
    return BackfillResult(market, pages, trades, since if pages else None, cursor if pages else None, gap)


def _close_filled_gaps(c: Collector, market: str) -> None:
    covered = c.state.covered(c.adapter.name, market)
    for g in c.state.gaps():
        if g.market != market:
            continue
        end = g.through_tid
        if any(lo <= g.after_tid and (end is not None and hi >= end) for lo, hi in covered):
            c.state.close_gap(g.id, int(c.clock() * 1e6))
            log.event("gap_closed", market=market, after_tid=g.after_tid, through_tid=end)


async def close_gaps(collector: Collector, progress: Callable[[int, int | None], None] | None = None
                     ) -> list[BackfillResult]:
    """Retry every open gap; each one filled is closed."""
    results = []
    for g in collector.state.gaps():
        results.append(await backfill_trades(collector, g.market, g.after_tid, g.through_tid, progress))
    return results
