"""The incremental build: late trades, a backfilled gap, repeated pages, compaction, and --full agreeing."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from collector.rawstore import RawStore
from pipelines.build import build
from pipelines.checks import check
from tests.pipelines_harness import Response, count, rows, same_tables, us, write_raw


def trade(tid: int, price: str, amount: str, *, currency: str = "USD", primary: str = "Y") -> dict[str, str | int]:
    scale = 10**3 if currency in ("JPY", "SEK") else 10**5
    return {"date": tid // 10**6, "price": price, "amount": amount,
            "price_int": str(int(Decimal(price) * scale)), "amount_int": str(int(Decimal(amount) * 10**8)),
            "tid": str(tid), "price_currency": currency, "item": "BTC", "trade_type": "bid", "primary": primary,
            "properties": "limit"}


def page(trades: list[dict[str, str | int]], *, received: str, since: int | None = None, version: int = 1) -> Response:
    key = "data" if version == 2 else "return"
    body = orjson.dumps(trades if version == 0 else {"result": "success", key: trades})
    return Response("trades", version, "BTCUSD", body, us(received), since=since)


def at(iso: str, micro: int = 0) -> int:
    return us(iso) + micro


def day_bar(warehouse: Path, day: str) -> tuple:
    [bar] = rows(warehouse, "SELECT open, high, low, close, volume, trades FROM ohlc "
                            "WHERE interval = '1d' AND bucket = ?::TIMESTAMPTZ", [day + " 00:00:00+00"])
    return bar


def test_a_late_trade_recomputes_its_day_and_the_build_equals_a_full_rebuild(tmp_path: Path) -> None:
    root, wh = tmp_path / "data", tmp_path / "wh.duckdb"
    morning = [trade(at("2013-01-01T10:00:00", i * 1000), p, "1") for i, p in enumerate(["13.5", "13.7", "13.6"])]
    write_raw(root, [page(morning, received="2013-01-01T12:00:00")])
    build(root, wh)
    assert day_bar(wh, "2013-01-01") == (Decimal("13.5"), Decimal("13.7"), Decimal("13.5"), Decimal("13.6"),
                                          Decimal(3), 3)

    # A trade of 09:00 that reaches us only now (a backfill of an earlier range): the day's open moves.
    late = [trade(at("2013-01-01T09:00:00"), "12.9", "2")]
    write_raw(root, [page(late, received="2013-01-02T08:00:00", since=0)], run_id="later")
    result = build(root, wh)
    assert result.files_loaded == 1
    assert day_bar(wh, "2013-01-01") == (Decimal("12.9"), Decimal("13.7"), Decimal("12.9"), Decimal("13.6"),
                                          Decimal(5), 4)
    assert all(c.ok for c in check(wh)), [c for c in check(wh) if not c.ok]

    full = tmp_path / "full.duckdb"
    build(root, full, full=True)
    same_tables(wh, full)


def test_a_backfill_that_fills_a_gap_adds_its_days_bars(tmp_path: Path) -> None:
    root, wh = tmp_path / "data", tmp_path / "wh.duckdb"
    days = ["2013-01-01", "2013-01-02", "2013-01-03"]
    first = [trade(at(f"{days[0]}T12:00:00"), "13", "1")]
    last = [trade(at(f"{days[2]}T12:00:00"), "14", "1")]
    write_raw(root, [page(first, received="2013-01-01T13:00:00"), page(last, received="2013-01-03T13:00:00")])
    build(root, wh)
    assert [r[0] for r in rows(wh, "SELECT strftime(bucket, '%Y-%m-%d') FROM ohlc WHERE interval = '1d' "
                                   "ORDER BY 1")] == [days[0], days[2]]

    gap = [trade(at(f"{days[1]}T06:00:00", i), p, "0.5") for i, p in enumerate(["13.2", "13.9", "13.4"])]
    write_raw(root, [page(gap, received="2013-01-04T00:00:00", since=first[0]["tid"])], run_id="backfill")
    build(root, wh)
    assert day_bar(wh, days[1]) == (Decimal("13.2"), Decimal("13.9"), Decimal("13.2"), Decimal("13.4"),
                                    Decimal("1.5"), 3)
    assert count(wh, "trades") == 5
    assert rows(wh, "SELECT count(*) FROM ohlc WHERE interval = '1m'") == [(3,)]  # one minute a day


def test_a_late_trade_of_2011_before_tids_were_times_recomputes_its_day_from_every_trade_of_it(
        tmp_path: Path) -> None:
    # Before June 2011 a tid was a small counter: the day's trades are found by their time, not a range of tids.
    def old(tid: int, iso: str, price: str, amount: str, primary: str = "Y") -> dict[str, str | int]:
        return {**trade(0, price, amount, primary=primary), "tid": str(tid), "date": us(iso) // 10**6}

    root, wh = tmp_path / "data", tmp_path / "wh.duckdb"
    day = [old(1000, "2011-03-01T10:00:00", "0.9", "2"), old(1001, "2011-03-01T11:00:00", "0.95", "1", "N")]
    write_raw(root, [page(day, received="2011-03-01T12:00:00")])
    build(root, wh)
    late = [old(999, "2011-03-01T09:00:00", "0.85", "3"),
            trade(at("2013-01-01T10:00:00"), "13", "1"), trade(at("2013-01-01T10:00:01"), "13.1", "1", primary="N")]
    write_raw(root, [page(late, received="2013-01-01T12:00:00", since=0)], run_id="late")
    build(root, wh)
    assert day_bar(wh, "2011-03-01") == (Decimal("0.85"), Decimal("0.95"), Decimal("0.85"), Decimal("0.95"),
                                          Decimal(6), 3)
    assert rows(wh, "SELECT volume_primary FROM ohlc WHERE interval = '1d' ORDER BY bucket") == [(Decimal(5),),
                                                                                                   (Decimal(1),)]
    assert all(c.ok for c in check(wh)), [c for c in check(wh) if not c.ok]
    full = tmp_path / "full.duckdb"
    build(root, full, full=True)
    same_tables(wh, full)


def test_repeated_and_overlapping_pages_store_each_trade_once(tmp_path: Path) -> None:
    root, wh = tmp_path / "data", tmp_path / "wh.duckdb"
    trades = [trade(at("2013-01-01T10:00:00", i * 10**6), "13.5", "1") for i in range(6)]
    write_raw(root, [page(trades[:4], received="2013-01-01T11:00:00"),
                     page(trades[:4], received="2013-01-01T11:00:10"),  # the same page again
                     page(trades[2:] + trades[2:3], received="2013-01-01T11:00:20")])  # overlap, and a repeat inside
    build(root, wh)
    write_raw(root, [page(trades, received="2013-01-01T11:01:00", version=2)], run_id="again")
    build(root, wh)
    assert count(wh, "trades") == 6
    assert rows(wh, "SELECT trades, volume FROM ohlc WHERE interval = '1d'") == [(6, Decimal(6))]
    assert all(c.ok for c in check(wh))


def test_compacted_files_are_not_parsed_again_and_change_nothing(tmp_path: Path) -> None:
    root, wh = tmp_path / "data", tmp_path / "wh.duckdb"
    for i in range(4):
        write_raw(root, [page([trade(at("2013-01-01T10:00:00", i), "13", "1")], received=f"2013-01-01T11:0{i}:00")],
                  run_id=f"run{i}")
    first = build(root, wh)
    assert first.records_loaded == 4
    merged = RawStore(str(root)).compact()
    assert merged is not None
    again = build(root, wh)
    assert again.records_loaded == 0  # the merged file holds records already loaded
    assert count(wh, "trades") == 4


def test_a_full_rebuild_gives_the_same_tables_as_builds_made_one_day_at_a_time(tmp_path: Path) -> None:
    root, wh = tmp_path / "data", tmp_path / "wh.duckdb"
    for d in range(1, 5):
        ts = [trade(at(f"2013-01-0{d}T0{h}:30:00", d), f"1{d}.{h}", f"0.{h + 1}") for h in range(5)]
        write_raw(root, [page(ts, received=f"2013-01-0{d}T23:00:00")], run_id=f"day{d}")
        build(root, wh)
    full = tmp_path / "full.duckdb"
    build(root, full, full=True)
    same_tables(wh, full)
    assert count(full, "ohlc") == count(wh, "ohlc") > 0


def test_bad_bodies_go_to_quarantine_with_a_reason_and_the_rest_loads(tmp_path: Path) -> None:
    root, wh = tmp_path / "data", tmp_path / "wh.duckdb"
    good = page([trade(at("2013-01-01T10:00:00"), "13", "1")], received="2013-01-01T11:00:00")
    no_tid = page([{"date": 1357034400, "price": "13", "amount": "1"}], received="2013-01-01T11:00:01")
    not_a_list = Response("trades", 1, "BTCUSD", b'{"result":"success","return":{"x":1}}', us("2013-01-01T11:00:02"))
    truncated = Response("trades", 1, "BTCUSD", b'{"result":"success","return":[{"tid":"1', us("2013-01-01T11:00:03"))
    mysql = Response("ticker", 1, "BTCUSD", b"MySQL error, please retry later", us("2013-01-01T11:00:04"),
                     content_type="text/html")
    write_raw(root, [good, no_tid, not_a_list, truncated, mysql])
    result = build(root, wh)
    assert result.quarantined == 4
    reasons = [r for (r,) in rows(wh, "SELECT reason FROM quarantine WHERE error_class IS NULL")]
    assert "trades: a trade without a tid" in reasons
    assert any("not a JSON list of trades" in r for r in reasons)
    by_class = {r[0] for r in rows(wh, "SELECT error_class FROM quarantine WHERE error_class IS NOT NULL")}
    assert by_class == {"not_json"}
    assert count(wh, "trades") == 1


def test_a_raw_file_unlike_its_manifest_is_set_aside_and_the_rest_is_processed(tmp_path: Path) -> None:
    root, wh = tmp_path / "data", tmp_path / "wh.duckdb"
    write_raw(root, [page([trade(at("2013-01-01T10:00:00"), "13", "1")], received="2013-01-01T11:00:00")])
    write_raw(root, [page([trade(at("2013-01-02T10:00:00"), "14", "1")], received="2013-01-02T11:00:00")],
              run_id="second")
    [victim] = [p for p in (root / "raw").rglob("*.parquet") if "date=2013-01-02" in str(p)]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    result = build(root, wh)
    assert len(result.files_set_aside) == 1 and str(victim) in result.files_set_aside[0]
    assert "do not match the manifest" in result.files_set_aside[0]
    assert count(wh, "trades") == 1
    assert rows(wh, "SELECT count(*) FROM raw_file_problems") == [(1,)]


def test_records_are_staged_by_their_own_endpoint_even_in_a_partition_named_for_another(tmp_path: Path) -> None:
    # The build plans each endpoint's files by their partition; the records themselves stay the truth.
    root, wh = tmp_path / "data", tmp_path / "wh.duckdb"
    write_raw(root, [page([trade(at("2013-01-01T10:00:00"), "13", "1")], received="2013-01-01T11:00:00")])
    write_raw(root, [page([trade(at("2013-01-02T10:00:00"), "14", "1")], received="2013-01-02T11:00:00")],
              run_id="second")
    [moved] = [p for p in (root / "raw").rglob("date=2013-01-02")]
    renamed = Path(str(moved).replace("endpoint=trades", "endpoint=ticker"))
    renamed.parent.mkdir(parents=True)
    moved.rename(renamed)
    result = build(root, wh)
    assert result.records_loaded == 2 and result.quarantined == 0
    assert rows(wh, "SELECT tid FROM trades ORDER BY tid") == [(at("2013-01-01T10:00:00"),),
                                                                (at("2013-01-02T10:00:00"),)]
    assert count(wh, "ticker") == 0


def test_a_build_that_fails_leaves_the_warehouse_as_it_was(tmp_path: Path) -> None:
    root, wh = tmp_path / "data", tmp_path / "wh.duckdb"
    write_raw(root, [page([trade(at("2013-01-01T10:00:00"), "13", "1")], received="2013-01-01T11:00:00")])
    build(root, wh)
    write_raw(root, [page([trade(at("2013-01-02T10:00:00"), "14", "1")], received="2013-01-02T11:00:00")],
              run_id="second")
    broken = tmp_path / "sql"
    shutil.copytree(Path(__file__).resolve().parents[2] / "pipelines" / "sql", broken)
    (broken / "marts" / "zz_broken.sql").write_text("-- zz_broken: fails on purpose\nSELECT * FROM no_such_table;\n")
    with pytest.raises(Exception, match="zz_broken"):
        build(root, wh, sql_dir=broken)
    assert count(wh, "trades") == 1
    assert build(root, wh).files_loaded == 1  # nothing of the failed build was kept: the file loads now
    assert count(wh, "trades") == 2


def test_a_raw_store_on_another_filesystem_builds_the_same_tables(tmp_path: Path) -> None:
    # An object store is reached through pyarrow.fs, not DuckDB: a SubTreeFileSystem takes that path here.
    import pyarrow.fs as pafs

    root = tmp_path / "data"
    trades = [trade(at("2013-01-01T10:00:00", i * 10**6), f"13.{i}", "1") for i in range(5)]
    write_raw(root, [page(trades[:3], received="2013-01-01T11:00:00"),
                     page(trades[2:], received="2013-01-01T11:00:10", version=2)])
    remote = pafs.SubTreeFileSystem(str(root), pafs.LocalFileSystem())
    far, near = tmp_path / "far.duckdb", tmp_path / "near.duckdb"
    assert build("", far, filesystem=remote).records_loaded == 2
    build(root, near)
    same_tables(far, near)
    assert build("", far, filesystem=remote).files_loaded == 0


def test_a_warehouse_of_another_schema_version_is_rebuilt_from_the_raw_store(tmp_path: Path) -> None:
    import duckdb

    root, wh = tmp_path / "data", tmp_path / "wh.duckdb"
    write_raw(root, [page([trade(at("2013-01-01T10:00:00"), "13", "1")], received="2013-01-01T11:00:00")])
    build(root, wh)
    con = duckdb.connect(str(wh))
    con.execute("UPDATE _warehouse SET schema_version = 0")
    con.execute("CREATE TABLE leftover_of_an_old_version (x INT)")
    con.close()
    result = build(root, wh)
    assert result.full and result.files_loaded == 1
    assert count(wh, "trades") == 1
    assert rows(wh, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'leftover_of_an_old_version'") == [(0,)]
