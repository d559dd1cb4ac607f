"""The `marketrec` command: thin commands, each a docstring with an example and one library call.

Library errors become CLI errors here and only here: one line on stderr, exit code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from . import __version__

try:  # typer 0.2x parses with its own copy of click, and raises that copy's exceptions
    from typer._click import exceptions as clicks
except ImportError:  # older typer: click itself
    from click import exceptions as clicks  # type: ignore[no-redef]


class OneLineErrors(TyperGroup):
    """Usage errors (unknown command or option, a missing argument, a value of the wrong type) as one line on
    stderr with exit code 2, like every other error here, instead of click's usage block in a drawn box: a
    cron mail, a journal or a script reads `marketrec: error: No such option: --bogus (see marketrec build
    --help)`."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            # Not standalone: click raises its errors here instead of printing them, and returns exit codes.
            code = super().main(args, prog_name, complete_var, False, **extra)
        except clicks.NoArgsIsHelpError as e:  # `marketrec` alone: the help is the answer
            e.show()
            sys.exit(e.exit_code)
        except clicks.UsageError as e:
            hint = f" (see {e.ctx.command_path} --help)" if e.ctx is not None else ""
            typer.echo(f"marketrec: error: {' '.join(e.format_message().split())}{hint}", err=True)
            sys.exit(e.exit_code)
        except clicks.ClickException as e:
            typer.echo(f"marketrec: error: {' '.join(e.format_message().split())}", err=True)
            sys.exit(e.exit_code)
        except typer.Abort:
            typer.echo("marketrec: aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="marketrec",
    cls=OneLineErrors,
    help="Record a market and an account, exactly and politely; query them with SQL and pandas.",
    no_args_is_help=True,
    add_completion=False,
    # Rich's tracebacks print every frame's locals: a signing frame's would put Rest-Sign and the secret on screen.
    pretty_exceptions_enable=False,
)


def fail(message: str) -> typer.Exit:
    typer.echo(f"marketrec: error: {message}", err=True)
    return typer.Exit(code=2)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"marketrec {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """marketrec: a market-data recorder and ETL pipeline."""


@app.command()
def emulator(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.", min=0, max=65535)] = 8080,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic market, accounts, keys and faults.")] = 1,
    replay: Annotated[
        Path | None, typer.Option(help="Serve real trades from this file (bitcoincharts CSV, Mt.Gox JSON).")
    ] = None,
    replay_currency: Annotated[str, typer.Option(help="Currency of a replay file that does not say.")] = "USD",
    speed: Annotated[float, typer.Option(help="Market seconds per wall-clock second.")] = 1.0,
    min_interval: Annotated[
        float | None, typer.Option(help="Seconds between two calls of one endpoint (default: the exchange's, "
                                   "Mt.Gox 10, Kraken 1).")
    ] = None,
    full_depth_per_hour: Annotated[int, typer.Option(help="Full-depth calls allowed per client and hour.")] = 5,
    violations_to_block: Annotated[int, typer.Option(help="Limit violations before a client is blocked.")] = 3,
    cooloff: Annotated[float, typer.Option(help="Seconds a blocked client stays blocked.")] = 300.0,
    block_style: Annotated[str, typer.Option(help="Answer to a blocked client: html (503 page) or 429.")] = "html",
    cache_seconds: Annotated[float, typer.Option(help="Seconds a public answer is cached per URL.")] = 10.0,
    faults: Annotated[str, typer.Option(help="Faults to inject, e.g. 'http502=0.05,slow:20=0.01'")] = "",
    request_log: Annotated[Path | None, typer.Option(help="Append a JSON line per request to this file.")] = None,
    keys: Annotated[Path | None, typer.Option(help="JSON file of API keys; default: seeded keys, printed.")] = None,
    history_hours: Annotated[float, typer.Option(help="Hours of synthetic trades before start-up.")] = 48.0,
    book_levels: Annotated[int, typer.Option(help="Full-depth levels of the busiest currency.")] = 4000,
    epoch: Annotated[float | None, typer.Option(help="Unix time the synthetic history ends at (default: now); "
                                                "the same seed and epoch serve the same market.")] = None,
    exchange: Annotated[str, typer.Option(help="The API to serve: mtgox (v0, v1, v2) or kraken (Spot REST /0/).")]
    = "mtgox",
    tier: Annotated[str, typer.Option(help="Kraken: the verification tier that sets the private call counter "
                                      "(starter, intermediate, pro).")] = "starter",
) -> None:
    """Run the exchange emulator (Mt.Gox API v0, v1 and v2, or Kraken's Spot REST API) until Ctrl-C.

    Example: marketrec emulator --port 8080 --seed 7 --min-interval 1 --faults 'http502=0.05'
    Kraken: marketrec emulator --exchange kraken --tier pro --port 8080   (then GET /0/public/Ticker?pair=XBTUSD)
    """
    from emulator.config import EmulatorConfig
    from emulator.errors import StartupError
    from emulator.main import run

    try:
        config = EmulatorConfig(
            seed=seed, replay=replay, replay_currency=replay_currency.upper(), speed=speed,
            history_hours=history_hours, book_levels=book_levels, min_interval_s=min_interval,
            heavy_per_hour=full_depth_per_hour, violations_to_block=violations_to_block, cooloff_s=cooloff,
            block_style=block_style, cache_s=cache_seconds, faults=faults, request_log=request_log, keys=keys,
            epoch=epoch, exchange=exchange, kraken_tier=tier,
        )
        run(config, host, port, echo=lambda line: typer.echo(line))
    except StartupError as e:
        raise fail(str(e)) from None
    except KeyboardInterrupt:
        pass


@app.command()
def demo(
    data: Annotated[Path, typer.Option("--data", help="Data root; run again to continue it.")] = Path("data"),
    duration: Annotated[float, typer.Option("--duration", help="Seconds to record before the backfill.")] = 60.0,
    seed: Annotated[int, typer.Option(help="Seed of the emulator's market and account (fixed per data root).")] = 1,
    exchange: Annotated[str, typer.Option(help="The exchange the emulator plays and the collector records: "
                                          "mtgox or kraken.")] = "mtgox",
) -> None:
    """Record from the embedded emulator, backfill 24 h, build the warehouse, check it, print a report, draw charts.

    Example: marketrec demo --data data --duration 60 --exchange kraken   (charts in data/reports/; exits 1 if a
    check fails)
    """
    from .demo import DemoError, run

    try:
        result = run(lambda line: typer.echo(line), data=data, duration_s=duration, seed=seed, exchange=exchange)
    except DemoError as e:
        raise fail(str(e)) from None
    if not result.ok:
        raise typer.Exit(code=1)


# -- collector ---------------------------------------------------------------------------------

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The TOML configuration file.")]
backfill_app = typer.Typer(
    help="Fetch past data the live collector did not see.\n\n"
    "Example: marketrec backfill trades --config marketrec.toml --market BTCUSD --since 2013-01-01",
    no_args_is_help=True,
)
app.add_typer(backfill_app, name="backfill")


def _load(path: Path):
    from collector.config import load_config
    from collector.errors import ConfigError

    try:
        return load_config(path)
    except ConfigError as e:
        raise fail(str(e)) from None


def _collector_errors():
    from collector.errors import CollectorError

    return CollectorError


@app.command()
def init(path: Annotated[Path, typer.Argument(help="Where to write the example.")] = Path("marketrec.toml")) -> None:
    """Write a commented example configuration to start from.

    Example: marketrec init marketrec.toml
    """
    from collector.config import write_example

    try:
        write_example(path)
    except _collector_errors() as e:
        raise fail(str(e)) from None
    typer.echo(f"wrote {path}; edit it, then: marketrec collect --config {path}")


@app.command()
def collect(
    config: ConfigOption,
    duration: Annotated[str | None, typer.Option(help="Stop after this long, e.g. 10m (default: never).")] = None,
    status_every: Annotated[float, typer.Option(help="Seconds between status lines.")] = 60.0,
) -> None:
    """Record the configured markets and account until stopped (SIGINT/SIGTERM flush and exit 0).

    Example: marketrec collect --config marketrec.toml --duration 10m
    """
    import asyncio

    from collector import log, service
    from collector.units import parse_duration

    cfg = _load(config)
    try:
        seconds = parse_duration(duration) if duration is not None else None
    except ValueError:
        raise fail(f"--duration: {duration!r} is not a duration like 90s, 10m or 1h") from None
    # A run of no time would record nothing and exit 0, and a status line every 0 s is a busy loop: both are
    # mistakes to say, not to do.
    if seconds == 0:
        raise fail("--duration: must be longer than 0s (omit it to run until stopped)")
    if not status_every > 0:
        raise fail(f"--status-every: must be a positive number of seconds, got {status_every}")
    try:
        log.configure()
        asyncio.run(service.collect(cfg, duration_s=seconds, status_every_s=status_every))
    except _collector_errors() as e:
        raise fail(str(e)) from None


@backfill_app.command("trades")
def backfill_trades(
    config: ConfigOption,
    market: Annotated[str, typer.Option(help="The pair, e.g. BTCUSD.")] = "BTCUSD",
    since: Annotated[str | None, typer.Option(help="Start after this tid or date (2013-01-01); "
                                              "omitted: retry every open gap.")] = None,
    until: Annotated[str | None, typer.Option(help="Stop at this tid or date (default: caught up).")] = None,
) -> None:
    """Crawl past trades with since=<tid> within the exchange's limits, recording coverage and gaps.

    Example: marketrec backfill trades --config marketrec.toml --market BTCUSD --since 2013-01-01
    """
    import asyncio

    from collector import log, service
    from collector.config import RULES
    from collector.exchanges import REGISTRY

    from .progress import tid_progress

    cfg = _load(config)
    # A date becomes the exchange's own cursor: a µs tid for Mt.Gox, a ns `last` for Kraken.
    adapter = REGISTRY[cfg.exchange.name]
    start = _point("--since", since, adapter.cursor_at)
    stop = _point("--until", until, adapter.cursor_at)
    if start is not None and stop is not None and stop < start:
        raise fail(f"--until {until} is before --since {since}: nothing to fetch")
    rules = RULES[cfg.exchange.name]
    if market.upper() not in rules.pairs:  # before the collector starts: its log lines would bury this one
        raise fail(f"--market: {market!r} is not a pair {cfg.exchange.name} lists ({rules.pair_hint})")
    try:
        log.configure()
        with tid_progress(f"backfill {market}", start, stop, adapter.time_at) as advance:
            results = asyncio.run(service.backfill(cfg, market.upper(), start, stop, advance))
    except _collector_errors() as e:
        raise fail(str(e)) from None
    for r in results:
        typer.echo(f"{r.market}: {r.pages} pages, {r.trades} trades, cursor {r.after} to {r.through}"
                   + (f"; stopped: {r.gap}" if r.gap else ""))


def _point(option: str, text: str | None, cursor_at: Callable[[int], int]) -> int | None:
    """A backfill bound, or a one-line error naming the option."""
    from collector.backfill import parse_point
    from collector.errors import ConfigError

    try:
        return parse_point(text, cursor_at) if text is not None else None
    except ConfigError as e:
        raise fail(f"{option}: {e}") from None


@app.command()
def gaps(config: ConfigOption) -> None:
    """List trade ranges that could not be fetched, and why (backfill closes them).

    Example: marketrec gaps --config marketrec.toml
    """
    from collector import service

    cfg = _load(config)
    rows = service.open_gaps(cfg)
    if not rows:
        typer.echo("no open gaps")
    for g in rows:
        typer.echo(f"{g.exchange} {g.market}: tids after {g.after_tid} through {g.through_tid or 'the live feed'}: "
                   f"{g.reason}")


@app.command()
def status(config: ConfigOption) -> None:
    """Show the last good poll per endpoint, open gaps, nonce state and disk use.

    Example: marketrec status --config marketrec.toml
    """
    from collector import service

    from .progress import format_status

    cfg = _load(config)
    try:
        typer.echo(format_status(service.status(cfg)))
    except _collector_errors() as e:
        raise fail(str(e)) from None


@app.command()
def compact(config: ConfigOption) -> None:
    """Merge small raw Parquet files into files near the target size; safe to interrupt and rerun.

    Example: marketrec compact --config marketrec.toml
    """
    from collector import log, service

    from .progress import count_progress

    cfg = _load(config)
    try:
        log.configure()  # damaged files set aside are reported as log lines
        with count_progress("compact") as advance:
            result = service.compact(cfg, advance)
    except _collector_errors() as e:
        raise fail(str(e)) from None
    typer.echo(str(result))


# -- pipelines ---------------------------------------------------------------------------------

DataOption = Annotated[str, typer.Option("--data", help="The data root holding raw/ (a directory or s3://...).")]
WarehouseOption = Annotated[
    Path | None, typer.Option("--warehouse", "-w", help="The DuckDB file (default: <data>/warehouse.duckdb).")
]


def _pipeline_errors():
    from pipelines.errors import PipelineError

    return PipelineError


def _warehouse(data: str, warehouse: Path | None) -> Path:
    from pipelines.build import default_warehouse

    try:
        return warehouse or default_warehouse(data)
    except _pipeline_errors() as e:
        raise fail(str(e)) from None


@app.command()
def build(
    data: DataOption = "data",
    warehouse: WarehouseOption = None,
    full: Annotated[bool, typer.Option("--full", help="Rebuild from nothing (gives the same tables).")] = False,
) -> None:
    """Make or update the DuckDB warehouse from the raw store (incremental unless --full).

    Example: marketrec build --data data --full
    """
    from pipelines.build import build as run_build

    from .progress import step_progress

    target = _warehouse(data, warehouse)
    # A local root without raw/ is a mistyped --data far more often than a store not yet written to (the
    # collector makes raw/ when it starts): building there would make an empty warehouse and exit 0.
    if "://" not in data and Path(data).is_dir() and not (Path(data) / "raw").is_dir():
        raise fail(f"data root {data}: no raw store here (no raw/ directory); --data is the collector's "
                   "[storage] root")
    try:
        with step_progress("build") as advance:
            result = run_build(data, target, full=full, progress=advance)
    except _pipeline_errors() as e:
        raise fail(str(e)) from None
    rebuilt = " (rebuilt from the raw store)" if result.full and not full else ""
    typer.echo(f"{result.warehouse}: {result.files_loaded} new raw files, {result.records_loaded} records, "
               f"{result.quarantined} quarantined, in {result.seconds:.2f} s{rebuilt}")
    for line in result.files_set_aside:
        typer.echo(f"set aside: {line}", err=True)


@app.command()
def check(data: DataOption = "data", warehouse: WarehouseOption = None) -> None:
    """Assert the warehouse's invariants; exits 1 naming the offending rows when one fails.

    Example: marketrec check --data data
    """
    from pipelines.checks import check as run_checks

    try:
        results = run_checks(_warehouse(data, warehouse))
    except _pipeline_errors() as e:
        raise fail(str(e)) from None
    for r in results:
        typer.echo(f"{'ok  ' if r.ok else 'FAIL'} {r.name}: {r.summary}" + ("" if r.ok else f" ({r.rows} rows)"))
        for row in r.sample:
            typer.echo("       " + ", ".join(f"{c}={v}" for c, v in zip(r.columns, row, strict=True)))
    if not all(r.ok for r in results):
        raise typer.Exit(code=1)


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="The SQL to run, read-only.")],
    data: DataOption = "data",
    warehouse: WarehouseOption = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, csv, json (lines) or parquet.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File for --format parquet.")] = None,
) -> None:
    """Run SQL against the warehouse and print the result.

    Example: marketrec query "SELECT * FROM ohlc WHERE interval = '1h' ORDER BY bucket DESC LIMIT 5"
    """
    from pipelines.query import FORMATS, write
    from pipelines.query import query as run_query

    if format not in FORMATS:
        raise fail(f"--format: {format!r} is not one of {', '.join(FORMATS)}")
    try:
        write(run_query(_warehouse(data, warehouse), sql), format, sys.stdout, parquet_path=output)
    except _pipeline_errors() as e:
        raise fail(str(e)) from None


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
