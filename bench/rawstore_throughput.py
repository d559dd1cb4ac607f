"""Raw-store throughput: records journaled (append + batched fsync) and stored (segment -> Parquet) per second.

Two workloads, each the median of several rounds in fresh directories:

  ticker      ~1.4 KB JSON bodies over a few markets, the journal's default batching (100 records / 100 ms),
              one 64 MiB segment ingested at the end; journaled/s, stored/s and both together
  full depth  one 50,000-level body (~5.6 MB): append + fsync, then the ingest of its segment, in ms

The process is pinned to one CPU (and pyarrow to one thread) unless `--all-cores` is given.

    python bench/rawstore_throughput.py [--records 50000] [--rounds 5] [--markets 3] [--dir /tmp] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import orjson
import pyarrow as pa

from collector.journal import Journal
from collector.rawstore import RawStore
from collector.record import RawRecord

MARKETS = ["BTCUSD", "BTCEUR", "BTCJPY", "BTCGBP", "BTCAUD", "BTCCAD"]
LEVELS = 50_000
START_US = 1_364_774_400_000_000  # 2013-04-01T00:00:00Z


def ticker_body(rng: random.Random, market: str, now_us: int) -> bytes:
    """A Mt.Gox v2 ticker answer (about 1.4 KB), with prices that move so compression is honest."""
    cur = market[3:]
    price = rng.randint(9_000_000, 11_000_000)

    def money(value: int, currency: str, scale: int) -> dict[str, str]:
        whole = value / scale
        return {"value": f"{whole:.5f}", "value_int": str(value), "display": f"${whole:,.5f}",
                "display_short": f"${whole:,.2f}", "currency": currency}

    fields = {k: money(price + rng.randint(-50_000, 50_000), cur, 100_000)
              for k in ("high", "low", "avg", "vwap", "last_local", "last_orig", "last_all", "last", "buy", "sell")}
    fields["vol"] = money(rng.randint(10**11, 10**12), "BTC", 10**8)
    return orjson.dumps({"result": "success", "data": {**fields, "item": "BTC", "now": str(now_us)}})


def full_depth_body(rng: random.Random) -> bytes:
    """A 50,000-level v2 full depth (about 5.6 MB)."""
    def level(price: int) -> dict[str, object]:
        amount = rng.randint(1_000_000, 900_000_000)
        return {"price": price / 100_000, "amount": amount / 10**8, "price_int": str(price),
                "amount_int": str(amount), "stamp": str(START_US - rng.randint(0, 10**10))}

    asks = [level(10_000_000 + i * 7) for i in range(LEVELS // 2)]
    bids = [level(9_999_000 - i * 7) for i in range(LEVELS // 2)]
    return orjson.dumps({"result": "success", "data": {"now": str(START_US), "cached": str(START_US),
                                                       "asks": asks, "bids": bids}})


def record(i: int, market: str, body: bytes, endpoint: str = "ticker") -> RawRecord:
    received = START_US + i * 1_000
    return RawRecord("", "mtgox", endpoint, market, 2, "GET", f"/api/2/{market}/money/{endpoint}",
                     orjson.dumps({"nonce": received}).decode(), received - 180_000, received, 200, None, body,
                     "bench-run")


def ticker_round(base: Path, records: list[RawRecord]) -> dict[str, float]:
    journal_dir, root = base / "journal", base / "root"
    journal = Journal(journal_dir, run_id="bench")
    store = RawStore(str(root))
    start = time.perf_counter()
    for r in records:
        journal.append(r)
    segment = journal.roll()
    appended = time.perf_counter() - start
    assert segment is not None
    start = time.perf_counter()
    stored = store.ingest_segment(segment)
    ingested = time.perf_counter() - start
    assert stored == len(records)
    return {"append_s": appended, "ingest_s": ingested}


def depth_round(base: Path, body: bytes) -> dict[str, float]:
    journal = Journal(base / "journal", run_id="bench", fsync_records=1)
    store = RawStore(str(base / "root"))
    start = time.perf_counter()
    journal.append(record(0, "BTCUSD", body, endpoint="fulldepth"))  # fsync_records=1: durable on return
    appended = time.perf_counter() - start
    segment = journal.roll()
    assert segment is not None
    start = time.perf_counter()
    store.ingest_segment(segment)
    return {"append_fsync_ms": appended * 1e3, "ingest_ms": (time.perf_counter() - start) * 1e3}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=50_000, help="ticker records per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--markets", type=int, default=3, help="partitions the ticker records spread over")
    ap.add_argument("--dir", help="where to write (default: the system temp directory)")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--all-cores", action="store_true", help="do not pin the process to one CPU")
    args = ap.parse_args()
    if not args.all_cores:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        pa.set_cpu_count(1)
        pa.set_io_thread_count(1)
    rng = random.Random(7)
    markets = MARKETS[: max(1, min(args.markets, len(MARKETS)))]
    records = [record(i, markets[i % len(markets)], ticker_body(rng, markets[i % len(markets)], START_US + i))
               for i in range(args.records)]
    depth = full_depth_body(rng)

    ticker, full = [], []
    for _ in range(args.rounds + 1):  # the first round warms caches and the first touch of memory; dropped
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            ticker.append(ticker_round(Path(tmp), records))
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            full.append(depth_round(Path(tmp), depth))
    ticker, full = ticker[1:], full[1:]

    n = len(records)
    body_bytes = statistics.mean(len(r.body) for r in records)
    results = {
        "rounds": args.rounds,
        "cpus": len(os.sched_getaffinity(0)),
        "ticker": {
            "records": n, "markets": len(markets), "body_bytes": round(body_bytes),
            "journaled_per_s": round(statistics.median(n / t["append_s"] for t in ticker)),
            "stored_per_s": round(statistics.median(n / t["ingest_s"] for t in ticker)),
            "combined_per_s": round(statistics.median(n / (t["append_s"] + t["ingest_s"]) for t in ticker)),
        },
        "full_depth": {
            "levels": LEVELS, "body_bytes": len(depth),
            "append_fsync_ms": round(statistics.median(t["append_fsync_ms"] for t in full), 1),
            "ingest_ms": round(statistics.median(t["ingest_ms"] for t in full), 1),
        },
    }
    t, d = results["ticker"], results["full_depth"]
    print(f"ticker ({t['body_bytes']} B bodies, {t['markets']} partitions, {n} records, "
          f"median of {args.rounds}, {results['cpus']} CPU):")
    print(f"  journaled (append + fsync per 100)  {t['journaled_per_s']:>9,} records/s")
    print(f"  stored (segment -> Parquet)         {t['stored_per_s']:>9,} records/s")
    print(f"  both                                {t['combined_per_s']:>9,} records/s   (target >= 20,000)")
    print(f"full depth ({d['levels']:,} levels, {d['body_bytes'] / 1e6:.1f} MB):")
    print(f"  append + fsync                      {d['append_fsync_ms']:>9.1f} ms         (target < 100)")
    print(f"  ingest of its segment               {d['ingest_ms']:>9.1f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
