"""The demo's world and settings: the emulator it starts, the collector configuration it writes.

A restarted emulator with the same seed does not serve the same market: it generates its tape from
`history_hours` before the moment it starts and its accounts' histories over that span, so a later
start gives other tids and other wallet entries under the same Index values. The demo keeps the
moment its data set's emulator first started (the world's epoch) in `<data>/demo/world.json`, and
every later run starts its emulator with that epoch (`EmulatorConfig.epoch`): it regenerates the
same tape and the same accounts, and the market catches up to now, so a second run's trades and
wallet history continue the first's entry for entry.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from starlette.applications import Starlette

from emulator.app import create_app
from emulator.auth import ApiKey
from emulator.config import EmulatorConfig

WORLD_FILE = "world.json"
KEY_FILE, SECRET_FILE = "api.key", "api.secret"

# The emulator's limits, shortened for a loopback demo, and the collector's intervals that respect them.
MIN_INTERVAL_S = 1.0
CACHE_S = 1.0
FULL_DEPTH_PER_HOUR = 120  # one full depth every 30 s
HISTORY_HOURS = 48.0  # synthetic tape (and account history) before the world's epoch
MAX_WORLD_AGE_S = 30 * 86_400  # replaying more market than this at start-up gets slow (about 3 s a month)
KRAKEN_TIER = "pro"  # the fastest counter: the demo's minute pages more of the account's two days of ledger


@dataclass(frozen=True)
class Profile:
    """What the demo records from one exchange of the emulator: the collector configuration's own lines."""

    exchange: str  # the emulator's face and the collector's [exchange].name
    config_file: str  # under <data>/demo/
    api_path: str  # the emulator's API under its URL
    exchange_lines: tuple[str, ...]  # [exchange] settings beyond name, base_url and min_interval
    markets: dict[str, dict[str, str]]
    account_lines: tuple[str, ...]  # the [account] table
    describe: str  # for the demo's output


PROFILES: dict[str, Profile] = {p.exchange: p for p in (
    Profile("mtgox", "marketrec.toml", "/api",
            ("api_version = 2", f"full_depth_per_hour = {FULL_DEPTH_PER_HOUR}"),
            {"BTCUSD": {"ticker": "1s", "trades": "1s", "depth": "2s", "full_depth": "30s"},
             "BTCEUR": {"ticker": "1s", "trades": "1s", "depth": "2s"}},
            ('wallet_history = ["BTC", "USD", "EUR"]', 'every = "5s"', 'info = "5s"', 'orders = "10s"'),
            "Mt.Gox API v2, read-only key"),
    Profile("kraken", "kraken.toml", "", (f'tier = "{KRAKEN_TIER}"',),
            {"BTCUSD": {"ticker": "1s", "trades": "1s", "depth": "2s", "ohlc": "30s"},
             "BTCEUR": {"ticker": "1s", "trades": "1s", "depth": "2s"}},
            ('ledgers = "2s"', 'trades_history = "5s"', 'balance = "10s"'),
            f"Kraken REST, {KRAKEN_TIER} tier, query-only key"),
)}


class DemoError(Exception):
    """The demo cannot run: one line saying why (the CLI prints it and exits 2)."""


@dataclass(frozen=True)
class World:
    """What makes a restarted emulator serve the same market and accounts as the first one."""

    seed: int
    epoch: float  # wall-clock seconds when the data set's first emulator started
    history_hours: float = HISTORY_HOURS
    runs: int = 0  # demo runs that used this world before this one

    @property
    def started(self) -> str:
        return datetime.fromtimestamp(self.epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def load_world(demo_dir: Path, seed: int, now: float) -> World:
    """The data set's world (a new one when there is none), its run counter moved on and saved.

    A data root records one world: another seed, or a world older than MAX_WORLD_AGE_S, is a DemoError,
    since mixing two worlds in one data set would put two different histories under the same tids and
    wallet Index values.
    """
    path = demo_dir / WORLD_FILE
    if path.exists():
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            world = World(int(saved["seed"]), float(saved["epoch"]), float(saved["history_hours"]),
                          int(saved.get("runs", 0)))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise DemoError(f"{path}: cannot be read ({e}); move it away to start a new data set") from None
        if world.seed != seed:
            raise DemoError(f"{path.parent.parent} holds the demo world of seed {world.seed}, not {seed}: "
                            f"run with --seed {world.seed}, or choose another --data directory")
        if now - world.epoch > MAX_WORLD_AGE_S:
            days = (now - world.epoch) / 86_400
            raise DemoError(f"{path}: this data set's world began {days:.0f} days ago ({world.started}); replaying "
                            f"more than {MAX_WORLD_AGE_S // 86_400} days of market is slow: choose another --data "
                            "directory for a new data set")
        if world.epoch > now + 60:
            raise DemoError(f"{path}: this data set's world begins in the future ({world.started}): "
                            "is the system clock right?")
    else:
        world = World(seed, now)
    world = World(world.seed, world.epoch, world.history_hours, world.runs + 1)
    demo_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({**asdict(world), "started": world.started}, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return world


def emulator_config(world: World, wall: Callable[[], float] = time.time, exchange: str = "mtgox") -> EmulatorConfig:
    return EmulatorConfig(seed=world.seed, history_hours=world.history_hours, min_interval_s=MIN_INTERVAL_S,
                          cache_s=CACHE_S, heavy_per_hour=FULL_DEPTH_PER_HOUR, epoch=world.epoch, wall_clock=wall,
                          exchange=exchange, kraken_tier=KRAKEN_TIER)


def build_emulator(world: World, wall: Callable[[], float] = time.time, exchange: str = "mtgox") -> Starlette:
    """The emulator app of `world` as `exchange`: the tape and accounts of its epoch, the market brought up to now."""
    return create_app(emulator_config(world, wall, exchange))


def recorder_key(keys: list[ApiKey]) -> ApiKey:
    """The read-only key of the seeded account: a recorder needs no right to trade."""
    return next(k for k in keys if k.rights == frozenset({"get_info"}))


def _owner_only(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # a file left by someone else keeps its mode through O_CREAT
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _toml(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string


def write_collector_config(demo_dir: Path, data: Path, base_url: str, key: ApiKey,
                           profile: Profile = PROFILES["mtgox"]) -> Path:
    """Write `<demo_dir>/<profile's file>` for the emulator at `base_url`, credentials in owner-only files beside it.

    Rewritten at every run: the emulator listens on a new free port each time. The paths are absolute, so
    `marketrec status --config <data>/demo/marketrec.toml` works from anywhere afterwards.
    """
    demo_dir.mkdir(parents=True, exist_ok=True)
    demo_dir.chmod(0o700)
    _owner_only(demo_dir / KEY_FILE, key.key + "\n")
    _owner_only(demo_dir / SECRET_FILE, key.secret + "\n")
    root = data.resolve()
    lines = [
        "# Written by `marketrec demo` for the emulator it started; rewritten at every run (new port each time).",
        f"# The emulator's limits are shortened for loopback: min_interval {MIN_INTERVAL_S:g} s, cache {CACHE_S:g} s, "
        f"full depth {FULL_DEPTH_PER_HOUR} an hour.",
        "[exchange]", f"name = {_toml(profile.exchange)}", f"base_url = {_toml(base_url + profile.api_path)}",
        f'min_interval = "{MIN_INTERVAL_S:g}s"', *profile.exchange_lines,
        "max_requests_per_second = 10", 'timeout = "5s"',
        "", "[credentials]", f"key_file = {_toml(KEY_FILE)}", f"secret_file = {_toml(SECRET_FILE)}",
    ]
    for pair, endpoints in profile.markets.items():
        lines += ["", "[[market]]", f"pair = {_toml(pair)}"] + [f"{k} = {_toml(v)}" for k, v in endpoints.items()]
    lines += ["", "[account]", *profile.account_lines]
    lines += ["", "[storage]", f"root = {_toml(str(root))}", f"journal = {_toml(str(root / 'journal'))}",
              'journal_fsync = "100ms"']
    path = demo_dir / profile.config_file
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
