"""The `marketrec` command: thin commands, each a docstring with an example and one library call.

Library errors become CLI errors here and only here: one line on stderr, exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from . import __version__

app = typer.Typer(
    name="marketrec",
    help="Record a market and an account, exactly and politely; query them with SQL and pandas.",
    no_args_is_help=True,
    add_completion=False,
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
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 8080,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic market, accounts, keys and faults.")] = 1,
    replay: Annotated[
        Path | None, typer.Option(help="Serve real trades from this file (bitcoincharts CSV, Mt.Gox JSON).")
    ] = None,
    replay_currency: Annotated[str, typer.Option(help="Currency of a replay file that does not say.")] = "USD",
    speed: Annotated[float, typer.Option(help="Market seconds per wall-clock second.")] = 1.0,
    min_interval: Annotated[float, typer.Option(help="Seconds between two calls of one endpoint.")] = 10.0,
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
) -> None:
    """Run the Mt.Gox-compatible exchange emulator (API v0, v1 and v2) until Ctrl-C.

    Example: marketrec emulator --port 8080 --seed 7 --min-interval 1 --faults 'http502=0.05'
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
        )
        run(config, host, port, echo=lambda line: typer.echo(line))
    except StartupError as e:
        raise fail(str(e)) from None
    except KeyboardInterrupt:
        pass


@app.command()
def demo(seed: Annotated[int, typer.Option(help="Seed of the emulator's market.")] = 1) -> None:
    """Run the end-to-end demo against the embedded emulator on a free loopback port.

    Example: marketrec demo --seed 7
    """
    from .demo import run

    run(lambda line: typer.echo(line), seed=seed)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
