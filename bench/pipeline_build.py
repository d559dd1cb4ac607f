"""Pipeline build (issue 4): raw trade pages -> DuckDB warehouse, over N synthetic trades.

The data (bench/synthetic_pages.py): N BTCUSD trades over about three years of µs tids, as Mt.Gox v1
`trades?since=` pages of 1000 trades, byte for byte what the emulator serves, recorded as the collector
records them (RawRecord -> Journal -> RawStore.ingest_segment per 64 MiB segment -> RawStore.compact()),
plus meta/coverage.parquet. The last day is kept out of that store, as one more closed journal segment.
The store is cached under .bench/pipeline-<N>/ (--regenerate makes it again); the last round's copy,
its warehouse and the exported trades stay in .bench/pipeline-<N>/work/ for a look afterwards.

Each round, in a fresh copy of the store (hard links): a full build into a new warehouse, then the last
day's segment is ingested and the build runs again (incremental). Figures are medians over the rounds:

  staging      trades / seconds of the trades staging steps (timings 'stg_*trades*')   >= 1,000,000/s
  bars         seconds of the 'ohlc' step (six intervals from the trades table)         < 1.5 s
  full build   seconds of build() into a new warehouse
  incremental  seconds of build() after one new day, and its share of the full build   < 5 %
  warehouse    bytes per trade of trades_stored (the table under the view trades): a new DuckDB file holding a copy
               (CREATE TABLE AS SELECT * in the warehouse's order, CHECKPOINT), the growth of
               used_blocks x block_size (pragma_database_size) over the same file empty   <= 12
  raw store    bytes of the raw Parquet files (base store + the new day) / trades            <= 30
  pandas       read the trades (exported once from the warehouse to Parquet, decimals cast to float64
               on read) and compute the six intervals (sort by (ts, tid) for open/close; high, low,
               volume, quote volume, vwap, count), against DuckDB computing the same from the same
               file in the same round; pandas' bars must equal the warehouse's ohlc on sampled buckets

    python bench/pipeline_build.py [--trades 10000000] [--rounds 3] [--quick] [--regenerate] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import synthetic_pages as sp

from collector.rawstore import RawStore

REPO = Path(__file__).resolve().parent.parent
MARKET = sp.MARKET
# The six bar intervals of the ohlc model, as the warehouse names them, and their widths in seconds.
INTERVALS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3_600, "4h": 14_400, "1d": 86_400}
TARGETS = {"staging_trades_per_s": 1_000_000, "bars_s": 1.5, "incremental_ratio": 0.05,
           "warehouse_bytes_per_trade": 12.0, "raw_bytes_per_trade": 30.0}
FIELDS = ("open", "high", "low", "close", "volume", "quote_volume", "vwap", "trades")
PRICES = ("open", "high", "low", "close")
SAMPLE_BUCKETS = 200  # per interval, besides the first, the last and those of the new day


# --- the cached raw store -----------------------------------------------------------------------------------------


def default_days(trades: int) -> int:
    """About three years for 10 M trades (~6-9 a minute, bursts far above); fewer days for fewer trades."""
    return max(2, min(1_095, math.ceil(trades / 9_132)))


def cached_store(cache: Path, trades: int, days: int, seed: int, regenerate: bool) -> dict[str, Any]:
    info_path = cache / "info.json"
    wanted = {"generator": sp.GENERATOR_VERSION, "trades": trades, "days": days, "seed": seed}
    if not regenerate and info_path.exists():
        info = json.loads(info_path.read_text())
        if {k: info.get(k) for k in wanted} == wanted and (cache / "day" / "journal" / info["day_segment"]).exists():
            print(f"raw store: cached in {cache.relative_to(REPO) if cache.is_relative_to(REPO) else cache}")
            return info
    print(f"raw store: generating {trades:,} trades over {days} days into {cache} ...")
    generated = sp.generate(cache, trades=trades, days=days, seed=seed)
    info = {**wanted, **{f: getattr(generated, f) for f in generated.__dataclass_fields__}}
    info_path.write_text(json.dumps(info, indent=2) + "\n")  # written last: a cache without it is regenerated
    print(f"  done in {generated.seconds:.1f} s")
    return info


def fresh_copy(cache: Path, work: Path) -> None:
    """The cached base store under `work`, hard-linked (the raw store replaces files by rename, never in place)."""
    shutil.rmtree(work, ignore_errors=True)
    base = cache / "base"
    for src in (base / "raw").rglob("*"):
        if src.is_file() and not src.name.startswith("."):
            dst = work / src.relative_to(base)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.link(src, dst)
    shutil.copytree(base / "meta", work / "meta")


def add_new_day(cache: Path, work: Path, segment_name: str) -> int:
    """What the collector does after one more day: ingest its closed segment, export coverage."""
    journal = work / "journal"
    journal.mkdir(parents=True, exist_ok=True)
    segment = journal / segment_name
    shutil.copyfile(cache / "day" / "journal" / segment_name, segment)
    with RawStore(str(work)) as store:
        stored = store.ingest_segment(segment)
    for name in ("coverage.parquet", "gaps.parquet"):
        shutil.copyfile(cache / "day" / "meta" / name, work / "meta" / name)
    return stored


def raw_bytes(work: Path) -> int:
    return sum(p.stat().st_size for p in (work / "raw").rglob("*.parquet") if not p.name.startswith("."))


# --- warehouse measurements ---------------------------------------------------------------------------------------


def count_trades(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT count(*) FROM trades").fetchone()[0]  # type: ignore[index]


def trades_table_bytes(warehouse: Path, scratch: Path) -> dict[str, Any]:
    """Bytes the trades take in DuckDB's storage: a new file holding only a copy of the table that stores them.

    `trades` is a view over `trades_stored` (integers in each currency's scale): the stored table is copied
    as it is, in its own order, since that is what the warehouse keeps on disk.

    used_blocks x block_size after a CHECKPOINT, less the same figure before the copy; per column, the same
    for a table of that column alone (blocks are 256 KiB: the figures are exact to 256 KiB / rows).
    """
    scratch.unlink(missing_ok=True)
    with duckdb.connect(str(scratch)) as con:
        con.execute("CHECKPOINT")

        def used() -> tuple[int, int]:
            return con.execute("SELECT used_blocks, block_size FROM pragma_database_size()").fetchone()  # type: ignore[return-value]

        before, block = used()
        con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
        stored = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'wh' "
                             "AND table_name = 'trades_stored'").fetchone()[0]  # type: ignore[index]
        con.execute(f"CREATE TABLE trades AS SELECT * FROM wh.{'trades_stored' if stored else 'trades'}")
        con.execute("DETACH wh")
        con.execute("CHECKPOINT")
        after, _ = used()
        rows = con.execute("SELECT count(*) FROM trades").fetchone()[0]  # type: ignore[index]
        columns: dict[str, int] = {}
        for (column,) in con.execute("SELECT column_name FROM (DESCRIBE trades)").fetchall():
            start, _ = used()
            con.execute(f'CREATE TABLE one_column AS SELECT "{column}" FROM trades')
            con.execute("CHECKPOINT")
            columns[column] = (used()[0] - start) * block
            con.execute("DROP TABLE one_column")
            con.execute("CHECKPOINT")
    file_bytes = scratch.stat().st_size
    scratch.unlink(missing_ok=True)
    total = (after - before) * block
    return {"rows": rows, "bytes": total, "file_bytes": file_bytes, "block_size": block,
            "bytes_per_trade": round(total / max(1, rows), 2),
            "columns_bytes_per_trade": {c: round(b / max(1, rows), 2)
                                        for c, b in sorted(columns.items(), key=lambda kv: -kv[1])}}


def export_trades(warehouse: Path, path: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"COPY (SELECT * FROM trades) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")


def duckdb_bars(path: Path) -> tuple[float, dict[str, int]]:
    """DuckDB computing the six intervals from the exported Parquet, as the pandas code does; rows per interval."""
    start = time.perf_counter()
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"CREATE TEMP VIEW t AS SELECT ts, tid, price, amount FROM read_parquet('{path}') "
                    f"WHERE market = '{MARKET}'")
        rows = {}
        for name, seconds in INTERVALS.items():
            table = con.sql(f"""
                SELECT time_bucket(INTERVAL '{seconds} seconds', ts) AS bucket,
                       arg_min(price, (ts, tid)) AS open, max(price) AS high, min(price) AS low,
                       arg_max(price, (ts, tid)) AS close, sum(amount) AS volume,
                       sum(price::DECIMAL(38, 8) * amount) AS quote_volume,
                       sum(price::DECIMAL(38, 8) * amount) / sum(amount) AS vwap,
                       count(*) AS trades
                FROM t GROUP BY bucket""").to_arrow_table()  # materialised, as pandas' result is
            rows[name] = table.num_rows
    return time.perf_counter() - start, rows


def pandas_bars(path: Path) -> tuple[float, dict[str, pd.DataFrame]]:
    """Read the trades from Parquet (decimals as float64) and compute the six intervals with pandas."""
    start = time.perf_counter()
    table = pq.read_table(path, columns=["market", "ts", "tid", "price", "amount"],
                          filters=[("market", "=", MARKET)])
    table = table.drop_columns(["market"])
    table = table.set_column(table.schema.get_field_index("price"), "price", pc.cast(table["price"], pa.float64()))
    table = table.set_column(table.schema.get_field_index("amount"), "amount",
                             pc.cast(table["amount"], pa.float64()))
    df = table.to_pandas()
    df = df.sort_values(["ts", "tid"], kind="stable", ignore_index=True)  # open and close by (time, tid)
    df["quote"] = df["price"] * df["amount"]
    bars = {}
    for name, seconds in INTERVALS.items():
        key = df["ts"].dt.floor(f"{seconds}s")
        out = df.groupby(key, sort=True).agg(open=("price", "first"), high=("price", "max"), low=("price", "min"),
                                             close=("price", "last"), volume=("amount", "sum"),
                                             quote_volume=("quote", "sum"), trades=("price", "size"))
        out["vwap"] = out["quote_volume"] / out["volume"]
        bars[name] = out
    return time.perf_counter() - start, bars


def check_against_warehouse(bars: dict[str, pd.DataFrame], warehouse: Path, new_day_us: int,
                            seed: int = 3) -> dict[str, Any]:
    """Compare pandas' bars with the warehouse ohlc: bucket counts per interval, and every field of sampled
    buckets (the first, the last, those of the new day and SAMPLE_BUCKETS random ones)."""
    rng = np.random.default_rng(seed)
    problems: list[str] = []
    compared = 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        present = {r[0]: r[1] for r in con.execute(
            "SELECT interval, count(*) FROM ohlc WHERE market = ? GROUP BY interval", [MARKET]).fetchall()}
        for name, frame in bars.items():
            if name not in present:
                problems.append(f"interval {name!r} is not in the warehouse ohlc (it has {sorted(present)})")
                continue
            if present[name] != len(frame):
                problems.append(f"{name}: warehouse has {present[name]:,} buckets, pandas {len(frame):,}")
            keys = frame.index.as_unit("us").asi8
            picks = {0, len(keys) - 1, *np.flatnonzero(keys >= new_day_us).tolist(),
                     *rng.integers(0, len(keys), SAMPLE_BUCKETS).tolist()}
            chosen = keys[sorted(picks)]
            got = con.execute(
                "SELECT epoch_us(bucket), open::VARCHAR, high::VARCHAR, low::VARCHAR, close::VARCHAR, "
                "volume::VARCHAR, quote_volume::VARCHAR, vwap::VARCHAR, trades FROM ohlc "
                "WHERE market = ? AND interval = ? AND epoch_us(bucket) IN (SELECT unnest(?::BIGINT[]))",
                [MARKET, name, chosen.tolist()]).fetchall()
            by_key = {row[0]: row for row in got}
            expected = frame.iloc[sorted(picks)]
            for key, (_, want) in zip(chosen.tolist(), expected.iterrows(), strict=True):
                row = by_key.get(key)
                compared += 1
                if row is None:
                    problems.append(f"{name} bucket {pd.Timestamp(key, unit='us', tz='UTC')}: not in the warehouse")
                    continue
                values = dict(zip(FIELDS, row[1:], strict=True))
                bad = [f for f in FIELDS[:7] if not math.isclose(float(values[f]), want[f], abs_tol=1e-8,
                                                                 rel_tol=1e-12 if f in PRICES else 1e-9)]
                if int(values["trades"]) != int(want["trades"]):
                    bad.append("trades")
                if bad:
                    when = pd.Timestamp(key, unit="us", tz="UTC")
                    problems.append(f"{name} bucket {when}: "
                                    + ", ".join(f"{f} {values[f]} (pandas {want[f]})" for f in bad))
    return {"buckets_compared": compared, "equal": not problems, "problems": problems[:20]}


# --- the rounds ---------------------------------------------------------------------------------------------------


def staging_seconds(timings: dict[str, float]) -> float:
    return sum(v for k, v in timings.items() if k.startswith("stg_") and "trades" in k)


def one_round(build: Any, cache: Path, work: Path, info: dict[str, Any]) -> dict[str, Any]:
    fresh_copy(cache, work)
    warehouse = work / "warehouse.duckdb"
    start = time.perf_counter()
    full = build(work, warehouse)
    full_s = time.perf_counter() - start
    full_trades = count_trades(warehouse)
    stored = add_new_day(cache, work, info["day_segment"])
    start = time.perf_counter()
    inc = build(work, warehouse)
    inc_s = time.perf_counter() - start
    return {"full_s": full_s, "full": full, "full_trades": full_trades, "day_records_ingested": stored,
            "inc_s": inc_s, "inc": inc, "trades": count_trades(warehouse)}


def result_summary(r: Any) -> dict[str, Any]:
    return {"files_loaded": r.files_loaded, "records_loaded": r.records_loaded, "quarantined": r.quarantined,
            "timings": {k: round(v, 4) for k, v in r.timings.items()}}


def median_timings(results: list[Any]) -> dict[str, float]:
    keys = list(dict.fromkeys(k for r in results for k in r.timings))
    return {k: round(statistics.median(r.timings.get(k, 0.0) for r in results), 4) for k in keys}


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trades", type=int, default=None, help="synthetic trades (default 10,000,000; --quick 200,000)")
    ap.add_argument("--days", type=int, default=None, help="days they span (default: about 9,000 trades a day, "
                                                          "at most 1,095)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds to take medians over (default 3; --quick 1)")
    ap.add_argument("--quick", action="store_true", help="200,000 trades and 1 round: a try-out in under a minute")
    ap.add_argument("--regenerate", action="store_true", help="generate the cached raw store again")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dir", help="cache directory (default .bench/pipeline-<N> in the checkout)")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    trades = args.trades or (200_000 if args.quick else 10_000_000)
    rounds = args.rounds or (1 if args.quick else 3)
    days = args.days or default_days(trades)
    cache = Path(args.dir) if args.dir else REPO / ".bench" / f"pipeline-{trades}"

    info = cached_store(cache, trades, days, args.seed, args.regenerate)
    try:
        from pipelines.build import build
    except ImportError as exc:
        raise SystemExit(f"pipelines.build is not there yet ({exc}); the raw store is cached in {cache}") from None

    work = cache / "work"
    runs = []
    for i in range(rounds):
        run = one_round(build, cache, work, info)
        print(f"round {i + 1}/{rounds}: full build {run['full_s']:.2f} s (bars {run['full'].timings['ohlc']:.3f} s), "
              f"incremental {run['inc_s']:.3f} s")
        runs.append(run)
    last = runs[-1]
    problems = []
    if last["full_trades"] != info["base_trades"]:
        problems.append(f"full build: {last['full_trades']:,} trades in the warehouse, {info['base_trades']:,} "
                        "in the raw store")
    if last["trades"] != trades:
        problems.append(f"incremental build: {last['trades']:,} trades in the warehouse, {trades:,} generated")
    if last["full"].quarantined or last["inc"].quarantined:
        problems.append(f"quarantined records: {last['full'].quarantined} + {last['inc'].quarantined}")

    warehouse = work / "warehouse.duckdb"
    storage = trades_table_bytes(warehouse, work / "trades-only.duckdb")
    raw = raw_bytes(work)
    exported = work / "trades.parquet"
    export_trades(warehouse, exported)
    pandas_s, duck_s, bars = [], [], {}
    duck_rows: dict[str, int] = {}
    for _ in range(rounds):
        seconds, bars = pandas_bars(exported)
        pandas_s.append(seconds)
        seconds, duck_rows = duckdb_bars(exported)
        duck_s.append(seconds)
    check = check_against_warehouse(bars, warehouse, info["holdout_from_us"])
    for name, frame in bars.items():
        if duck_rows.get(name) != len(frame):
            check["problems"].append(f"{name}: duckdb {duck_rows.get(name)} buckets, pandas {len(frame)}")
            check["equal"] = False

    full_s = statistics.median(r["full_s"] for r in runs)
    inc_s = statistics.median(r["inc_s"] for r in runs)
    staging_s = statistics.median(staging_seconds(r["full"].timings) for r in runs)
    bars_s = statistics.median(r["full"].timings.get("ohlc", float("nan")) for r in runs)
    ratio = statistics.median(r["inc_s"] / r["full_s"] for r in runs)
    staging_rate = info["base_trades"] / staging_s if staging_s > 0 else float("nan")
    pandas_med, duck_med = statistics.median(pandas_s), statistics.median(duck_s)
    results = {
        "trades": trades, "days": days, "base_trades": info["base_trades"], "day_trades": info["day_trades"],
        "raw_records": info["base_records"] + info["day_records"], "rounds": rounds, "cpus": os.cpu_count(),
        "duckdb": duckdb.__version__, "pandas": pd.__version__,
        "staging_trades_per_s": round(staging_rate), "staging_s": round(staging_s, 3),
        "bars_s": round(bars_s, 3), "bars_rounds_s": [round(r["full"].timings["ohlc"], 3) for r in runs],
        "full_build_s": round(full_s, 3), "incremental_build_s": round(inc_s, 3),
        "incremental_ratio": round(ratio, 4),
        "warehouse_bytes_per_trade": storage["bytes_per_trade"], "warehouse_trades_bytes": storage["bytes"],
        "warehouse_columns_bytes_per_trade": storage["columns_bytes_per_trade"],
        "raw_bytes": raw, "raw_bytes_per_trade": round(raw / trades, 2),
        "pandas_bars_s": round(pandas_med, 3), "duckdb_bars_s": round(duck_med, 3),
        "pandas_over_duckdb": round(pandas_med / duck_med, 2),
        "pandas_equal_warehouse": check["equal"], "buckets_compared": check["buckets_compared"],
        "full_timings": median_timings([r["full"] for r in runs]),
        "incremental_timings": median_timings([r["inc"] for r in runs]),
        "full_result": result_summary(last["full"]), "incremental_result": result_summary(last["inc"]),
        "problems": problems + check["problems"],
        "targets": TARGETS,
    }
    results["pass"] = {
        "staging": staging_rate >= TARGETS["staging_trades_per_s"], "bars": bars_s < TARGETS["bars_s"],
        "incremental": ratio < TARGETS["incremental_ratio"],
        "warehouse_bytes": storage["bytes_per_trade"] <= TARGETS["warehouse_bytes_per_trade"],
        "raw_bytes": raw / trades <= TARGETS["raw_bytes_per_trade"], "pandas_equal": check["equal"],
    }
    report(results)
    print(json.dumps(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    if problems or not check["equal"]:
        sys.exit(1)


def report(r: dict[str, Any]) -> None:
    p = r["pass"]
    print(f"\n{r['trades']:,} trades over {r['days']} days ({r['base_trades']:,} + {r['day_trades']:,} "
          f"on the new day), {r['raw_records']:,} raw records, median of {r['rounds']}, {r['cpus']} CPUs, "
          f"duckdb {r['duckdb']}:")
    print(f"  staging (stg_*trades*)         {r['staging_trades_per_s']:>12,} trades/s  ({r['staging_s']:.2f} s)"
          f"   target >= 1,000,000   {verdict(p['staging'])}")
    print(f"  bars (ohlc, six intervals)     {r['bars_s']:>12.3f} s"
          f"                    target < 1.5          {verdict(p['bars'])}"
          f"   (rounds: {', '.join(f'{s:.3f}' for s in r['bars_rounds_s'])})")
    print(f"  full build                     {r['full_build_s']:>12.3f} s")
    print(f"  incremental build (+1 day)     {r['incremental_build_s']:>12.3f} s  "
          f"= {r['incremental_ratio'] * 100:.2f} % of the full build   target < 5 %   {verdict(p['incremental'])}")
    print(f"  warehouse trades table         {r['warehouse_bytes_per_trade']:>12.2f} bytes/trade"
          f"          target <= 12          {verdict(p['warehouse_bytes'])}")
    cols = ", ".join(f"{c} {b}" for c, b in r["warehouse_columns_bytes_per_trade"].items())
    print(f"      each column alone: {cols}")
    print(f"  raw store (Parquet)            {r['raw_bytes_per_trade']:>12.2f} bytes/trade"
          f"          target <= 30          {verdict(p['raw_bytes'])}")
    print(f"  bars from Parquet: pandas {r['pandas_bars_s']:.3f} s, duckdb {r['duckdb_bars_s']:.3f} s "
          f"(pandas / duckdb = {r['pandas_over_duckdb']:.2f}); pandas equals the warehouse ohlc on "
          f"{r['buckets_compared']:,} sampled buckets: {'yes' if r['pandas_equal_warehouse'] else 'NO'}")
    for label, key, total in (("full build", "full_timings", r["full_build_s"]),
                              ("incremental", "incremental_timings", r["incremental_build_s"])):
        timings = r[key]
        big = {k: v for k, v in timings.items() if v >= 0.01}
        rest = sum(timings.values()) - sum(big.values())
        steps = ", ".join(f"{k} {v:.3f}" for k, v in big.items())
        print(f"  {label} steps (s): {steps}, {len(timings) - len(big)} others {rest:.3f}, "
              f"outside the timed steps (raw load, bookkeeping, checkpoint) {total - sum(timings.values()):.3f}")
    for problem in r["problems"]:
        print(f"  PROBLEM: {problem}")


if __name__ == "__main__":
    main()
