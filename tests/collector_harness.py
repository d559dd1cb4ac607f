"""Running the collector against the emulator in tests: configs, runs, and the emulator's log."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from collector.config import Config, load_config
from collector.journal import pending_segments, read_segment
from collector.rawstore import RawStore
from collector.run import Collector, Stats
from emulator.app import create_app
from emulator.auth import ApiKey
from emulator.config import EmulatorConfig
from emulator.server import ServerThread


@dataclass
class Exchange:
    url: str
    keys: list[ApiKey]
    log: Path
    app: Any

    def key(self, account: str = "alice", right: str = "get_info") -> ApiKey:
        return next(k for k in self.keys if k.account == account and right in k.rights)

    def requests(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []


@contextmanager
def exchange(tmp_path: Path, **options: Any) -> Iterator[Exchange]:
    log = tmp_path / "emulator-requests.jsonl"
    settings = {"min_interval_s": 0.2, "cache_s": 0.0, "history_hours": 3.0, "request_log": log, **options}
    app = create_app(EmulatorConfig(**settings))
    with ServerThread(app) as srv:
        yield Exchange(srv.url, app.state.exchange.keys, log, app)
    app.state.request_log.close()


def write_config(
    tmp_path: Path, url: str, *, version: int = 1, min_interval: str = "0.2s", markets: dict[str, dict[str, str]],
    account: dict[str, Any] | None = None, root: Path | None = None, extra_storage: str = "", name: str = "config.toml",
    max_rps: float = 50.0, tonce: bool = False,
) -> Path:
    root = root or tmp_path / "data"
    lines = [
        "[exchange]", 'name = "mtgox"', f'base_url = "{url}/api"', f"api_version = {version}",
        f'min_interval = "{min_interval}"', f"max_requests_per_second = {max_rps}", 'timeout = "2s"',
        f"use_tonce = {'true' if tonce else 'false'}",
    ]
    if account is not None:
        lines += ["[credentials]", 'key_env = "MR_KEY"', 'secret_env = "MR_SECRET"']
    for pair, endpoints in markets.items():
        lines += ["[[market]]", f'pair = "{pair}"'] + [f'{k} = "{v}"' for k, v in endpoints.items()]
    if account is not None:
        lines += ["[account]", f"wallet_history = {json.dumps(account.get('wallet_history', ['BTC', 'USD']))}",
                  f'every = "{account.get("every", "1s")}"', f'info = "{account.get("info", "1s")}"',
                  f'orders = "{account.get("orders", "1s")}"']
    lines += ["[storage]", f'root = "{root}"', f'journal = "{root}/journal"', 'journal_fsync = "20ms"',
              extra_storage]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def write_kraken_config(
    tmp_path: Path, url: str, *, markets: dict[str, dict[str, str]], account: dict[str, str] | None = None,
    tier: str = "starter", min_interval: str = "0.2s", root: Path | None = None, extra_storage: str = "",
    name: str = "kraken.toml", max_rps: float = 50.0,
) -> Path:
    """A Kraken configuration for the emulator's Kraken face at `url` (its paths are /0/public/..., /0/private/...)."""
    root = root or tmp_path / "data"
    lines = ["[exchange]", 'name = "kraken"', f'base_url = "{url}"', f'tier = "{tier}"',
             f'min_interval = "{min_interval}"', f"max_requests_per_second = {max_rps}", 'timeout = "2s"']
    if account is not None:
        lines += ["[credentials]", 'key_env = "MR_KEY"', 'secret_env = "MR_SECRET"']
    for pair, endpoints in markets.items():
        lines += ["[[market]]", f'pair = "{pair}"'] + [f'{k} = "{v}"' for k, v in endpoints.items()]
    if account is not None:
        lines += ["[account]"] + [f'{k} = "{v}"' for k, v in account.items()]
    lines += ["[storage]", f'root = "{root}"', f'journal = "{root}/journal"', 'journal_fsync = "20ms"',
              extra_storage]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def load(path: Path, key: ApiKey | None = None) -> Config:
    env = {"MR_KEY": key.key, "MR_SECRET": key.secret} if key else {}
    return load_config(path, env)


def collect(config: Config, seconds: float, **kwargs: Any) -> Stats:
    return asyncio.run(Collector(config, status_every_s=1.0, **kwargs).run(duration_s=seconds))


def spacing_violations(requests: list[dict[str, Any]], min_interval: float, slack: float = 0.02) -> list[str]:
    """Consecutive calls of one endpoint (and currency) closer than the minimum interval."""
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in requests:
        if r["endpoint"] is None:
            continue
        p = r["params"]
        which = p.get("Currency") or p.get("currency") or r["path"].split("/")[3]
        times[(r["endpoint"], which)].append(_seconds(r["time"]))
    out = []
    for key, unsorted in times.items():
        ts = sorted(unsorted)  # the log is written when an answer leaves, so slow ones come late
        for a, b in pairwise(ts):
            if b - a < min_interval - slack:
                out.append(f"{key}: {b - a:.3f}s apart")
    return out


def _seconds(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def journal_ids(journal: Path) -> set[str]:
    """The record ids in the journal's pending segments (fsynced, not yet in Parquet)."""
    return {r.record_id for seg in pending_segments(journal) for r in read_segment(seg).records}


def stored_ids(root: Path) -> list[str]:
    """The record ids of the raw store under `root`, one per stored copy."""
    if not (root / "raw").exists():
        return []
    return RawStore(str(root)).read_table(columns=["record_id"]).column("record_id").to_pylist()
