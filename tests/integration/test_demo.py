"""The demo end to end (record, backfill, build, check, report, charts), and a second run continuing its data set."""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
import matplotlib.image
import pytest

from marketrec import report
from marketrec.demo import DemoError, run
from marketrec.demo_config import World, build_emulator, load_world

SEED = 5
PIXELS = {"candles": report.CANDLES_SIZE, "balances": report.BALANCES_SIZE}


def _emulator_of(world: World, now: float):
    """The exchange a demo run started at `now` serves, its market advanced to `now`."""
    exchange = build_emulator(world, wall=lambda: now).state.exchange
    exchange.market.advance_wall(int(now * 1e6))
    return exchange


def test_a_world_restarted_hours_later_serves_the_same_trades_and_wallet_history() -> None:
    world = World(seed=SEED, epoch=time.time() - 6 * 3600, history_hours=3.0)
    first = _emulator_of(world, world.epoch + 600)  # the first run lived ten minutes
    later = _emulator_of(world, world.epoch + 5 * 3600)  # the next one starts hours after it
    for cur in ("USD", "EUR"):
        before = [(t.tid, t.price_int, t.amount_int, t.primary) for t in first.market.feeds[cur].trades]
        after = [(t.tid, t.price_int, t.amount_int, t.primary) for t in later.market.feeds[cur].trades]
        assert len(after) > len(before) > 100
        assert after[: len(before)] == before
    for cur in ("BTC", "USD", "EUR"):
        entries = [[(e.index, e.date, e.type, e.value_int, e.balance_int, e.info)
                    for e in ex.accounts["alice"].history[cur]] for ex in (first, later)]
        assert entries[0] and entries[0] == entries[1]


def test_a_data_root_keeps_its_world_and_refuses_another_seed(tmp_path: Path) -> None:
    world = load_world(tmp_path / "demo", SEED, 1_700_000_000.0)
    again = load_world(tmp_path / "demo", SEED, 1_700_000_100.0)
    assert (again.epoch, again.runs) == (world.epoch, 2)
    with pytest.raises(DemoError, match=f"seed {SEED}, not {SEED + 1}"):
        run(lambda _: None, data=tmp_path, duration_s=1, seed=SEED + 1)


def _raw_files(root: Path) -> set[Path]:
    return set((root / "raw").rglob("*.parquet"))


def _served(files: set[Path], endpoint: str) -> list[tuple[str, dict]]:
    """(params, decoded body) of every good answer of `endpoint` in `files`."""
    chosen = [str(f) for f in files if f"endpoint={endpoint}" in str(f)]
    rows = duckdb.sql(f"SELECT params, body FROM read_parquet({chosen!r}) WHERE error_class IS NULL").fetchall()
    return [(json.loads(p), json.loads(bytes(b))) for p, b in rows]


def _trades(files: set[Path]) -> dict[int, tuple[str, str, int]]:
    return {int(t["tid"]): (t["price_int"], t["amount_int"], t["date"])
            for _, body in _served(files, "trades") for t in body["data"] if t["price_currency"] == "USD"}


def _wallet(files: set[Path]) -> dict[tuple[str, int], tuple[int, str, str, str]]:
    return {(params["currency"], int(e["Index"])): (e["Date"], e["Type"], e["Value"]["value_int"],
                                                    e["Balance"]["value_int"])
            for params, body in _served(files, "wallet_history") for e in body["data"]["result"]}


def _check_charts(result) -> None:
    for name, path in result.charts.items():
        assert path.parent == result.data / "reports" and path.stat().st_size > 20_000, path
        height, width = matplotlib.image.imread(path).shape[:2]
        inches = PIXELS[name]
        assert (width, height) == (inches[0] * report.DPI, inches[1] * report.DPI)


@pytest.mark.slow
def test_the_demo_records_builds_checks_and_charts_and_a_second_run_continues_its_data_set(tmp_path: Path) -> None:
    out: list[str] = []
    first = run(out.append, data=tmp_path, duration_s=9, seed=SEED)
    assert first.ok, "\n".join(first.lines)
    for table in ("trades", "ohlc", "account_ledger", "balances", "ticker", "depth_snapshots"):
        assert first.rows[table] > 0, table
    assert first.summary.latest["currency"].tolist() == ["BTC", "EUR", "USD"]
    assert len(first.summary.bars) >= 24  # the backfill's 24 hours, and the live hour
    assert first.backfill and first.backfill[0].trades > 1000
    assert first.config == tmp_path / "demo" / "marketrec.toml"
    assert (tmp_path / "demo" / "api.secret").stat().st_mode & 0o077 == 0
    for expected in ("rows per table:", "latest hourly bars (BTCUSD, UTC):", "balances (latest per currency):",
                     "open gaps: none", f"checks: {len(first.checks)} of {len(first.checks)} pass", "charts: "):
        assert any(line.startswith(expected) for line in out), expected
    _check_charts(first)
    after_first = _raw_files(tmp_path)

    again: list[str] = []
    second = run(again.append, data=tmp_path, duration_s=9, seed=SEED)
    assert second.ok, "\n".join(second.lines)
    assert (second.world.epoch, second.world.runs) == (first.world.epoch, 2)
    assert any("continuing it" in line for line in again)
    for table, rows in first.rows.items():
        assert second.rows[table] >= rows, table
    for table in ("ticker", "depth_snapshots", "balances"):  # trades grow only when the market trades meanwhile
        assert second.rows[table] > first.rows[table], table
    _check_charts(second)

    # The restarted emulator served the first one's world: the same trades under the same tids (the 24 hours
    # both backfills fetched), the same wallet entries under the same Index values.
    new_files = _raw_files(tmp_path) - after_first
    trades_1, trades_2 = _trades(after_first), _trades(new_files)
    shared = trades_1.keys() & trades_2.keys()
    assert len(shared) > 1000 and all(trades_1[t] == trades_2[t] for t in shared)
    wallet_1, wallet_2 = _wallet(after_first), _wallet(new_files)
    shared_entries = wallet_1.keys() & wallet_2.keys()
    assert len(shared_entries) >= 50 and all(wallet_1[k] == wallet_2[k] for k in shared_entries)


def test_the_demo_records_kraken_into_the_same_tables_beside_mtgox(tmp_path: Path) -> None:
    mtgox = run(lambda _: None, data=tmp_path, duration_s=3, seed=SEED)
    kraken = run(lambda _: None, data=tmp_path, duration_s=4, seed=SEED, exchange="kraken")
    assert mtgox.ok and kraken.ok, "\n".join(kraken.lines)
    assert kraken.config == tmp_path / "demo" / "kraken.toml"
    assert kraken.world.epoch == mtgox.world.epoch  # one world, served by both faces
    assert kraken.backfill and kraken.backfill[0].gap is None and kraken.backfill[0].trades > 1000
    assert len(kraken.summary.bars) >= 24 and kraken.summary.latest["currency"].tolist() == ["BTC", "EUR", "USD"]
    with duckdb.connect(str(kraken.warehouse), read_only=True) as con:
        counts = dict(con.execute("SELECT exchange, count(*) FROM trades GROUP BY ALL").fetchall())
        ledger = con.execute("SELECT count(*) FROM account_ledger WHERE exchange = 'kraken'").fetchone()
        bars = con.execute("SELECT count(*) FROM exchange_ohlc WHERE exchange = 'kraken'").fetchone()
    assert counts["mtgox"] > 1000 and counts["kraken"] > 1000
    assert ledger is not None and ledger[0] > 50
    assert bars is not None and bars[0] > 0


def test_the_demo_refuses_an_exchange_it_does_not_record(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match="--exchange 'bitstamp' is none the demo records"):
        run(lambda _: None, data=tmp_path, duration_s=1, seed=SEED, exchange="bitstamp")
