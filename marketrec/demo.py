"""The demo, `make demo`'s main job: record, backfill, build, check and chart, end to end over real HTTP.

    run(echo, data=Path("data"), duration_s=60, seed=1, exchange="mtgox") -> DemoReport

1. starts the emulator as `exchange` (Mt.Gox or Kraken: synthetic market, seeded account, limits
   shortened for loopback) on a free loopback port, and writes a collector configuration for it under
   <data>/demo/ (credentials in owner-only files beside it, never printed);
2. records BTCUSD and BTCEUR (ticker, trades, depth, and full depth from Mt.Gox or OHLC from Kraken)
   and the account (Mt.Gox: wallet history of BTC, USD and EUR, info, orders through API v2; Kraken:
   ledger, trade history, balance) for `duration_s`, then backfills the last 24 hours of BTCUSD trades;
3. stops the emulator, builds the warehouse <data>/warehouse.duckdb and runs its checks;
4. prints rows per table, the latest hourly bars, balances, open gaps and the checks, and draws
   <data>/reports/BTCUSD-1h-candles.png and <data>/reports/balances.png.

Run again on the same data root, it continues the same data set: the emulator is rebuilt as of the
moment the data set's first one started (see `demo_config`), so its tape and its account are the
same, and the collector resumes from its cursors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from collector import log as collector_log
from collector import service
from collector.backfill import BackfillResult
from collector.config import Config, load_config
from collector.errors import CollectorError
from collector.exchanges import REGISTRY
from collector.run import Collector, Stats, state_dir
from collector.state import State
from emulator.errors import StartupError
from emulator.server import ServerThread
from pipelines.build import BuildResult, build
from pipelines.checks import CheckResult, check
from pipelines.errors import PipelineError

from . import report
from .demo_config import PROFILES, DemoError, World, build_emulator, load_world, recorder_key, write_collector_config
from .progress import cursor_when

Echo = Callable[[str], None]
BACKFILL_MARKET = "BTCUSD"
BACKFILL_HOURS = 24
# Collector events worth a line of the demo's output (the rest would drown it).
SHOWN_EVENTS = ("request_failed", "circuit_open", "gap_opened", "gap_closed", "task_error")

__all__ = ["DemoError", "DemoReport", "run"]


@dataclass(frozen=True)
class DemoReport:
    data: Path
    config: Path  # the collector configuration the demo wrote
    warehouse: Path
    world: World
    collected: Stats
    backfill: list[BackfillResult]
    build: BuildResult
    checks: list[CheckResult]
    summary: report.Summary
    charts: dict[str, Path]
    lines: list[str]  # the report as printed
    seconds: float

    @property
    def rows(self) -> dict[str, int]:
        return self.summary.rows

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def run(echo: Echo = print, *, data: Path = Path("data"), duration_s: float = 60.0, seed: int = 1,
        exchange: str = "mtgox") -> DemoReport:
    """Record for `duration_s`, backfill, build, check and chart into the data root `data` (see the module)."""
    started = time.perf_counter()
    if not duration_s > 0:
        raise DemoError(f"demo: the duration must be a positive number of seconds, got {duration_s}")
    profile = PROFILES.get(exchange)
    if profile is None:
        raise DemoError(f"demo: --exchange {exchange!r} is none the demo records (one of {', '.join(PROFILES)})")
    data = Path(data)
    demo_dir = data / "demo"
    try:
        world = load_world(demo_dir, seed, time.time())
        again = f"run {world.runs} of this data set, continuing it" if world.runs > 1 else "a new data set"
        echo(f"demo world: seed {world.seed}, market and account as of {world.started} ({again}) in {data}/")
        app = build_emulator(world, exchange=profile.exchange)
        if world.runs > 1:
            echo(f"emulator: rebuilt as of {world.started}, so the same tape and account; its market runs on to now "
                 f"({_span(time.time() - world.epoch)} later)")
        key = recorder_key(app.state.exchange.keys)
        with ServerThread(app) as srv:
            config_path = write_collector_config(demo_dir, data, srv.url, key, profile)
            config = load_config(config_path)
            echo(f"emulator listening on {srv.url}; collector configuration {config_path} ({profile.describe})")
            with _collector_events(echo):
                stats = asyncio.run(_collect(config, duration_s, echo))
                results = asyncio.run(_backfill(config, echo))
        echo("emulator stopped")
        warehouse = data / "warehouse.duckdb"
        built = build(data, warehouse)
        echo(f"built {warehouse}: {built.files_loaded} new raw files, {built.records_loaded} records, "
             f"{built.quarantined} quarantined, in {built.seconds:.1f} s")
        checks = check(warehouse)
        summary = report.read_summary(warehouse, exchange=profile.exchange)
        charts = report.write_charts(summary, data / "reports")
    except (StartupError, CollectorError, PipelineError, OSError) as e:
        raise DemoError(f"demo: {e}") from None
    lines = report.format_report(summary, checks)
    lines.append("charts: " + ", ".join(str(p) for p in charts.values()))
    for line in lines:
        echo(line)
    seconds = time.perf_counter() - started
    echo(f"demo done in {seconds:.0f} s; again: `marketrec demo --exchange {profile.exchange}` continues this data "
         f"set; `marketrec status --config {config_path}` shows the collector's state")
    return DemoReport(data, config_path, warehouse, world, stats, results, built, checks, summary, charts, lines,
                      seconds)


async def _collect(config: Config, duration_s: float, echo: Echo) -> Stats:
    """Run the collector for `duration_s` with a progress line every few seconds; Ctrl-C ends it early."""
    collector = Collector(config, status_every_s=max(duration_s, 1.0))
    stop = asyncio.Event()
    every = min(15.0, max(2.0, duration_s / 4))
    begun = time.monotonic()

    def interrupted() -> None:
        echo("collect: stopping early (the data recorded so far is kept; Ctrl-C again to abort)")
        stop.set()
        _restore_signals(loop)

    async def progress() -> None:
        while True:
            await asyncio.sleep(every)
            s = collector.stats
            newest = "" if s.newest_tid is None else f", newest trade id {s.newest_tid}"
            echo(f"collect: {time.monotonic() - begun:.0f}/{duration_s:.0f} s, {s.requests} requests "
                 f"({s.errors} failed), {s.bytes / 1e6:.1f} MB{newest}")

    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, interrupted)
    echo(f"collect: recording BTCUSD, BTCEUR and the account for {duration_s:.0f} s")
    ticker = asyncio.create_task(progress())
    try:
        stats = await collector.run(duration_s=duration_s, stop=stop)
    finally:
        ticker.cancel()
        _restore_signals(loop)
    echo(f"collect: done, {stats.requests} requests ({stats.errors} failed), {stats.bytes / 1e6:.1f} MB; "
         "journal flushed into Parquet")
    return stats


def _restore_signals(loop: asyncio.AbstractEventLoop) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(sig)


async def _backfill(config: Config, echo: Echo) -> list[BackfillResult]:
    """The last 24 hours of BTCUSD trades; from the live cursor instead when that is older (no hole between)."""
    adapter = REGISTRY[config.exchange.name]

    def when(cursor: int) -> str:
        at = cursor_when(cursor, adapter.time_at)
        return f"cursor {cursor}" if at is None else f"{at} UTC"

    since = adapter.cursor_at(int((time.time() - BACKFILL_HOURS * 3600) * 1_000_000))
    state = State(state_dir(config) / "collector.sqlite")
    try:
        cursor = state.cursor(config.exchange.name, BACKFILL_MARKET, "trades_since")
    finally:
        state.close()
    if cursor is not None and cursor < since:
        echo(f"backfill: the live collector is still behind ({when(cursor)}); backfilling from there")
        since = cursor
    echo(f"backfill {BACKFILL_MARKET}: trades after {when(since)}")

    def advance(cursor: int, _until: int | None) -> None:
        echo(f"backfill {BACKFILL_MARKET}: through {when(cursor)}")

    results = await service.backfill(config, BACKFILL_MARKET, since, None, advance)
    for r in results:
        echo(f"backfill {r.market}: {r.pages} pages, {r.trades} trades" + (f"; stopped: {r.gap}" if r.gap else ""))
    return results


def _span(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h" if seconds < 86_400 else f"{seconds / 86_400:.1f} days"


class _EchoEvents(logging.Handler):
    def __init__(self, echo: Echo) -> None:
        super().__init__(logging.INFO)
        self.echo = echo

    def emit(self, record: logging.LogRecord) -> None:
        parts = record.getMessage().split(" ", 2)  # time, event, fields
        if len(parts) > 1 and parts[1] in SHOWN_EVENTS:
            self.echo(f"collector: {' '.join(parts[1:])}")


@contextlib.contextmanager
def _collector_events(echo: Echo) -> Iterator[None]:
    """Failures and gaps the collector logs, shown through `echo` while the demo records."""
    logger = collector_log.LOGGER
    saved = logger.handlers[:], logger.level, logger.propagate
    handler = _EchoEvents(echo)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]
