"""The collector against an emulator failing in every way it can, with its limits shortened.

Every fault kind at 10 % of the requests it applies to (5xx, MySQL text, HTML pages, truncated
and dropped answers, answers slower than the client's timeout, overlapping and repeating trade
pages), the per-endpoint interval cut from 10 s to 0.8 s (the collector is told 1 s) and the cool-off
to 5 s. The collector
runs as a real process for 45 s in make test and 10 minutes under make soak. Then:

- it ran the whole time and exited 0 on its own (--duration);
- the emulator's request log shows no call faster than a limit and no block;
- every request the emulator answered (or dropped) is a raw record, failures with their error class;
- every trade the emulator served lies in the recorded pages or inside a recorded gap, and once the
  faults stop a backfill closes every gap and the warehouse then holds every trade;
- its memory stays flat: RSS shortly after the start and at the end are reported and compared.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from collector import service
from pipelines.build import build
from tests.calls import call_key, recorded_calls, unrecorded_calls
from tests.collector_harness import collect, exchange, load, write_config
from tests.pipelines_harness import rows
from tests.soak import figure, scaled

SECONDS = scaled(45, 600)
FAULTS = ("http502=0.1,http503=0.1,http504=0.1,mysql=0.1,html=0.1,truncate=0.1,slow:3=0.1,drop=0.1,"
          "overlap@trades=0.1,repeat@trades=0.1")
MARKETS = {"BTCUSD": {"ticker": "1s", "trades": "1s", "depth": "1s"}, "BTCEUR": {"ticker": "1s", "trades": "1s"}}

pytestmark = pytest.mark.slow


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a live process, KiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def served_tids(ex, currency: str) -> list[int]:
    return list(ex.app.state.exchange.market.feeds[currency].tids)


def recorded_tids(root: Path, market: str) -> set[int]:
    return {t for (t,) in rows(root / "warehouse.duckdb", "SELECT tid FROM trades WHERE market = ?", [market])}


def test_a_collector_facing_every_fault_stays_up_within_limits_and_records_or_gaps_every_trade(
    tmp_path: Path, record_property
) -> None:
    if not Path("/proc/self/status").exists():
        pytest.skip("RSS is read from /proc (Linux)")
    root = tmp_path / "data"
    with exchange(tmp_path, faults=FAULTS, min_interval_s=0.8, cooloff_s=5.0, cache_s=1.0,
                  history_hours=2.0) as ex:
        key = ex.key()
        path = write_config(tmp_path, ex.url, version=2, min_interval="1s", root=root, markets=MARKETS,
                            account={"wallet_history": ["BTC", "USD"], "every": "2s", "info": "5s",
                                     "orders": "5s"})
        env = {**os.environ, "MR_KEY": key.key, "MR_SECRET": key.secret}
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "marketrec", "collect", "--config", str(path),
                                 "--duration", f"{SECONDS}s", "--status-every", "10"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        time.sleep(min(15.0, SECONDS / 4))
        rss_start, _ = rss_kib(proc.pid)
        rss_end = peak = rss_start
        while proc.poll() is None:
            try:
                rss_end, peak = rss_kib(proc.pid)
            except (FileNotFoundError, ProcessLookupError):
                break
            time.sleep(0.5)
        output = proc.communicate()[0].decode()
        ran = time.monotonic() - started
        assert proc.returncode == 0, output[-2000:]
        assert ran >= SECONDS, f"the collector stopped after {ran:.0f} s of {SECONDS}"
        # The tape as it stands now: every trade any answer can have held.
        tape = {cur: served_tids(ex, cur) for cur in ("USD", "EUR")}

        log = ex.requests()
        broke = [r for r in log if r.get("violation") or r.get("blocked")]
        assert broke == [], f"{len(broke)} calls broke a limit, e.g. {broke[:2]}"

        recorded, raw = recorded_calls(root)
        unrecorded = unrecorded_calls(log, recorded)
        assert unrecorded == [], f"answered but not recorded: {unrecorded[:3]}"
        # The other way, only calls the emulator still held (slow answers) when the collector stopped.
        logged = Counter(call_key(r["path"], r["params"]) for r in log)
        assert sum((recorded - logged).values()) <= len(MARKETS) * 3 + 3, "more records than calls"
        faults = Counter((r["fault"] or "").split(":")[0] for r in log)
        failures = Counter(r["error_class"] for r in raw if r["error_class"] is not None)
        failing_faults = sum(n for kind, n in faults.items() if kind not in ("", "overlap", "repeat"))
        assert sum(failures.values()) >= failing_faults, (failures, faults)

        config = load(path, key)
        gaps_before = service.open_gaps(config)
        build(root, root / "warehouse.duckdb")
        missing = {}
        for cur, tids in tape.items():
            market = f"BTC{cur}"
            have = recorded_tids(root, market)
            gaps = [g for g in gaps_before if g.market == market]
            # Served: between the first and the last trade any recorded page held (a market whose every
            # page failed was served nothing whole).
            inside = [t for t in tids if have and min(have) <= t <= max(have) and t not in have]
            lost = [t for t in inside
                    if not any(g.after_tid < t and (g.through_tid is None or t <= g.through_tid) for g in gaps)]
            assert lost == [], f"{market}: {len(lost)} served trades neither recorded nor in a gap: {lost[:3]}"
            missing[market] = len(inside)

        # The exchange recovers: a backfill retries every open gap, and the collector, started again,
        # carries on from its cursors. Then nothing the tape held at the soak's end is missing.
        ex.app.state.exchange.inject_faults("")
        for market in (f"BTC{cur}" for cur in tape):
            asyncio.run(service.backfill(config, market, None, None))
        assert service.open_gaps(config) == []
        collect(config, 4.0)
        build(root, root / "warehouse.duckdb")
        for cur, tids in tape.items():
            have = recorded_tids(root, f"BTC{cur}")
            assert have and max(have) >= tids[-1], f"BTC{cur}: the collector did not catch up after the faults"
            assert [t for t in tids if min(have) <= t and t not in have] == [], f"BTC{cur}: trades lost"

    # Flat: the end within a little of the start (the journal's buffers and caches are warm by then).
    assert rss_end <= rss_start * 1.25 + 8_192, f"RSS grew from {rss_start} KiB to {rss_end} KiB"
    figure(record_property, "seconds", SECONDS)
    figure(record_property, "requests", len(log))
    figure(record_property, "faults served", dict(sorted((k or "none", v) for k, v in faults.items())))
    figure(record_property, "failures recorded", dict(sorted(failures.items())))
    figure(record_property, "limit violations / blocks", len(broke))
    figure(record_property, "gaps opened, then closed by the backfill", len(gaps_before))
    figure(record_property, "trades missing before the backfill (all inside gaps)", missing)
    figure(record_property, "RSS start / end / peak MiB", f"{rss_start / 1024:.1f} / {rss_end / 1024:.1f} / "
                                                         f"{peak / 1024:.1f}")
