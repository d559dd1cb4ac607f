"""The collector against the emulator's Kraken face, over real HTTP: the guarantees it keeps for Mt.Gox.

Within the limits (public calls and the private call counter, as the emulator's request log flags them),
every call recorded, nonces increasing across restarts, nothing lost or doubled after SIGKILL, gaps of
Kraken's nanosecond cursor recorded and closed, and the warehouse equal to what the exchange holds.
"""

from __future__ import annotations

import asyncio
import calendar
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from collector import service
from collector.exchanges.kraken import cursor_at
from collector.journal import pending_segments
from collector.rawstore import RawStore
from emulator.kraken_account_views import account_book
from pipelines.build import build
from pipelines.checks import check
from tests.calls import recorded_calls, unrecorded_calls
from tests.collector_harness import collect, exchange, journal_ids, load, stored_ids, write_kraken_config

FAULTS = "http502=0.03,mysql=0.03,truncate=0.03,html=0.02,overlap@trades=0.1,repeat@trades=0.05"
MARKETS = {"BTCUSD": {"ticker": "1s", "trades": "0.3s", "depth": "1s", "ohlc": "2s", "asset_pairs": "5s", "time": "3s"},
           "BTCEUR": {"trades": "0.5s", "time": "2s"}}
ACCOUNT = {"ledgers": "1s", "trades_history": "1s", "balance": "2s"}


def rows(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def private_nonces(log: list[dict[str, Any]]) -> list[int]:
    """The nonces of the private calls, in the order the emulator received them."""
    return [int(r["params"]["nonce"]) for r in sorted(log, key=lambda r: r["time"]) if "nonce" in r["params"]]


def alice_book(ex: Any) -> Any:
    return account_book(ex.app.state.exchange.accounts["alice"], ex.app.state.exchange.market)


def ledger_ids(root: Path) -> set[str]:
    """The ledger entry ids the raw store holds so far (the key of each entry of every good Ledgers answer)."""
    ids: set[str] = set()
    for r in RawStore(str(root)).read_table(columns=["endpoint", "error_class", "body"]).to_pylist():
        if r["endpoint"] == "ledgers" and r["error_class"] is None:
            ids |= set(orjson.loads(r["body"])["result"]["ledger"])
    return ids


def assert_warehouse_holds_the_exchange(root: Path, ex: Any) -> None:
    """Every trade of each market from the first recorded on, once; the whole ledger; every check passes."""
    result = build(str(root))
    warehouse = result.warehouse
    failed = [(c.name, c.sample[:2]) for c in check(warehouse) if c.rows]
    assert failed == []
    market = ex.app.state.exchange.market
    for pair, currency in (("BTCUSD", "USD"), ("BTCEUR", "EUR")):
        [(low, high, n)] = rows(warehouse, f"SELECT min(tid), max(tid), count(*) FROM trades "
                                           f"WHERE exchange = 'kraken' AND market = '{pair}'")
        served = len(market.feeds[currency].trades)
        # trade_id counts the feed one by one from 1: the ids recorded are a run with nothing missing.
        assert n == high - low + 1 and high <= served and n > 10, (pair, low, high, n, served)
    book = alice_book(ex)
    recorded = {r[0] for r in rows(warehouse, "SELECT entry_id FROM account_ledger WHERE exchange = 'kraken'")}
    assert recorded == {e.ledger_id for e in book.ledger}
    compared = rows(warehouse, "SELECT count(*) FROM exchange_ohlc WHERE exchange = 'kraken' AND minutes = 1")
    assert compared[0][0] > 0, "no Kraken bar was recorded to compare with"
    # Every good answer parses: only the answers the faults spoiled are in quarantine.
    assert rows(warehouse, "SELECT endpoint, reason FROM quarantine WHERE error_class IS NULL") == []


def test_a_kraken_market_and_account_are_recorded_through_faults_within_every_limit(tmp_path: Path) -> None:
    # Half an hour of history: an account of three or four pages of ledger, so that a page the faults spoil can
    # be fetched again within the counter's burst (a full pro counter takes 19 s to decay).
    with exchange(tmp_path, exchange="kraken", min_interval_s=0.2, history_hours=0.5, kraken_tier="pro",
                  faults=FAULTS) as ex:
        path = write_kraken_config(tmp_path, ex.url, tier="pro", markets=MARKETS, account=ACCOUNT)
        first = collect(load(path, ex.key()), 10)
        second = collect(load(path, ex.key()), 5)  # a restart: the nonce goes on from where it was
        ex.app.state.exchange.inject_faults("")  # the faults stop: what failed is fetched now
        third = collect(load(path, ex.key()), 7)
        log = ex.requests()
        recorded, raw = recorded_calls(tmp_path / "data")
        assert first.errors > 0, "the faults never fired"
        assert [r for r in log if r["violation"] or r["blocked"]] == []
        assert unrecorded_calls(log, recorded) == []
        assert sum(recorded.values()) == len(log) == first.requests + second.requests + third.requests
        nonces = private_nonces(log)
        assert len(nonces) > 10 and all(a < b for a, b in pairwise(nonces))
        assert [r for r in raw if r["error_class"] == "auth_failed"] == []
        paths = Counter(r["path"] for r in raw)
        assert {"/0/public/Time", "/0/public/AssetPairs", "/0/public/OHLC", "/0/private/Ledgers"} <= set(paths)
        assert_warehouse_holds_the_exchange(tmp_path / "data", ex)


def test_the_starter_tier_counter_paces_ledger_calls_without_one_refusal(tmp_path: Path) -> None:
    # Ledgers and trade history cost 2 each on a counter of 15 that decays 0.33 a second: asked for every
    # second, the collector spends the burst (keeping one point for another client of the key) and then waits
    # for it to decay, and Kraken never refuses a call.
    with exchange(tmp_path, exchange="kraken", min_interval_s=0.2, history_hours=0.5, kraken_tier="starter") as ex:
        path = write_kraken_config(tmp_path, ex.url, tier="starter", markets={"BTCUSD": {"trades": "1s"}},
                                   account=ACCOUNT)
        collect(load(path, ex.key()), 8)
        log = ex.requests()
    private = [r for r in log if r["endpoint"] in ("ledgers", "trades_history", "balance")]
    spent = sum(2 if r["endpoint"] != "balance" else 1 for r in private)
    assert [r for r in log if r["violation"]] == []
    # The burst is 14 points, spent in the first seconds; the next call waits for the counter to decay.
    assert 10 <= spent <= 14, spent


def test_a_failing_kraken_backfill_opens_a_gap_in_cursor_space_and_a_later_one_closes_it(tmp_path: Path) -> None:
    with exchange(tmp_path, exchange="kraken", min_interval_s=0.0, history_hours=2.0,
                  faults="http503@trades=1") as ex:
        path = write_kraken_config(tmp_path, ex.url, min_interval="1ms", max_rps=1000,
                                   markets={"BTCUSD": {"trades": "10s"}})
        since = cursor_at(int((time.time() - 3600) * 1e6))
        until = cursor_at(int((time.time() - 1800) * 1e6))
        [failed] = asyncio.run(service.backfill(load(path), "BTCUSD", since, until))
        assert failed.gap is not None and "http_5xx" in failed.gap
        [gap] = service.open_gaps(load(path))
        assert (gap.exchange, gap.market, gap.after_tid, gap.through_tid) == ("kraken", "BTCUSD", since, until)

        ex.app.state.exchange.inject_faults("")  # the outage ends
        [closed] = asyncio.run(service.backfill(load(path), "BTCUSD", None, None))
        assert closed.gap is None and closed.trades > 0 and closed.through is not None and closed.through >= until
        assert service.open_gaps(load(path)) == []
        feed = ex.app.state.exchange.market.feeds["USD"].trades
        expected = [i + 1 for i, t in enumerate(feed) if since < t.time_us * 1000 <= closed.through]

    result = build(str(tmp_path / "data"))
    tids = [r[0] for r in rows(result.warehouse, "SELECT tid FROM trades ORDER BY tid")]
    assert tids == expected
    assert [c.name for c in check(result.warehouse) if c.rows] == []


def test_the_backfill_command_takes_a_date_as_krakens_nanosecond_cursor(tmp_path: Path) -> None:
    with exchange(tmp_path, exchange="kraken", min_interval_s=0.0, history_hours=2.0) as ex:
        path = write_kraken_config(tmp_path, ex.url, min_interval="1ms", max_rps=1000,
                                   markets={"BTCUSD": {"trades": "10s"}})
        when = time.gmtime(time.time() - 3600)
        date = time.strftime("%Y-%m-%dT%H:%M", when)
        r = subprocess.run([sys.executable, "-m", "marketrec", "backfill", "trades", "--config", str(path),
                            "--market", "BTCUSD", "--since", date], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    start = cursor_at(calendar.timegm((*when[:5], 0, 0, 0, 0)) * 1_000_000)
    assert f"cursor {start} to " in r.stdout, r.stdout


@pytest.mark.slow
def test_sigkill_of_a_kraken_collector_loses_and_doubles_nothing_and_its_nonces_keep_increasing(
    tmp_path: Path,
) -> None:
    rng = random.Random(7)
    root = tmp_path / "data"
    with exchange(tmp_path, exchange="kraken", min_interval_s=0.1, history_hours=0.25, kraken_tier="pro",
                  faults="http502=0.03,mysql=0.03,overlap@trades=0.1") as ex:
        key = ex.key()
        path = write_kraken_config(
            tmp_path, ex.url, tier="pro", root=root, markets=MARKETS, account=ACCOUNT,
            extra_storage='journal_fsync_records = 1\nsegment_size = "24KiB"\nsegment_age = "0.25s"')
        env = {**os.environ, "MR_KEY": key.key, "MR_SECRET": key.secret}
        cli = [sys.executable, "-m", "marketrec", "collect", "--config", str(path)]
        acknowledged: set[str] = set()
        for _ in range(4):
            proc = subprocess.Popen(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(1.5, 4.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            acknowledged |= journal_ids(root / "journal") | set(stored_ids(root))
        # Runs without faults fetch whatever they spoiled. Each restart paged the ledger again from the newest
        # entry and spent the counter's burst, so the last pages wait for it to decay (a full pro counter: 19 s).
        ex.app.state.exchange.inject_faults("")
        for _ in range(8):
            done = subprocess.run([*cli, "--duration", "6s"], env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            if ledger_ids(root) >= {e.ledger_id for e in alice_book(ex).ledger}:
                break
        log = ex.requests()
        ids = Counter(stored_ids(root))
        assert len(acknowledged) > 30, "the kills came too early to prove anything"
        assert sorted(i for i, n in ids.items() if n > 1) == []
        assert sorted(acknowledged - set(ids)) == []
        assert pending_segments(root / "journal") == []
        # Every signed call the emulator accepted had a nonce above the last one, across five processes.
        nonces = private_nonces(log)
        assert all(a < b for a, b in pairwise(nonces))
        _, raw = recorded_calls(root)
        assert [r for r in raw if r["error_class"] == "auth_failed"] == []
        assert [r for r in log if r["violation"] or r["blocked"]] == []
        assert_warehouse_holds_the_exchange(root, ex)


def test_a_ledger_longer_than_a_run_is_read_to_its_end_across_runs(tmp_path: Path) -> None:
    # Runs shorter than a pass through the account's pages (a cron job on a big account): each run resumes the
    # pass where the last one stopped, instead of starting again from the newest page and never reaching the end.
    with exchange(tmp_path, exchange="kraken", min_interval_s=0.2, history_hours=1.0, kraken_tier="pro") as ex:
        path = write_kraken_config(tmp_path, ex.url, tier="pro", markets={"BTCUSD": {"trades": "5s"}},
                                   account={"ledgers": "1s"})
        pages = -(-len(alice_book(ex).ledger) // 50)
        runs = 0
        while ledger_ids(tmp_path / "data") < {e.ledger_id for e in alice_book(ex).ledger} and runs < 10:
            collect(load(path, ex.key()), 0.8)
            runs += 1
        offsets = [int(r["params"]["ofs"]) for r in sorted(ex.requests(), key=lambda r: r["time"])
                   if r["endpoint"] == "ledgers"]
    assert pages >= 4 and runs > 1, (pages, runs)
    assert offsets[:pages] == [50 * i for i in range(pages)]  # one pass, across the runs, never restarted


def test_a_rate_limit_answer_makes_the_collector_wait_out_the_cool_off(tmp_path: Path) -> None:
    # The configured tier is wrong (pro; the key is starter): the collector's counter model lets a call through
    # that Kraken refuses with EAPI:Rate limit exceeded. It records the refusal and sends nothing more on the key
    # for the cool-off (a minute), rather than retrying into the restriction.
    with exchange(tmp_path, exchange="kraken", min_interval_s=0.2, history_hours=1.0, kraken_tier="starter") as ex:
        path = write_kraken_config(tmp_path, ex.url, tier="pro", markets={"BTCUSD": {"trades": "1s"}},
                                   account={"ledgers": "1s", "trades_history": "1s"})
        stats = collect(load(path, ex.key()), 8)
        log = sorted(ex.requests(), key=lambda r: r["time"])
    refused = [i for i, r in enumerate(log) if r["violation"]]
    assert stats.by_error.get("rate_limited") == 1 and len(refused) == 1
    assert log[refused[0] + 1:] == []  # nothing after it: the whole key waits
