"""A collector stand-in for the crash tests: journal, roll, ingest and compact in a loop until killed.

It first recovers whatever a previous (killed) run left, then appends synthetic ticker-sized
records as fast as `--rate` allows, rolls small segments into the raw store and compacts every few
rolls. Its stdout is the test's evidence, one line each, written unbuffered:

    ACK <record_id>         the record is fsynced (from Journal.on_durable): it must survive any kill
    PHASE <name> [detail]   recover, recovered, roll, ingest, ingested, compact, compact-step d/t, compacted

Bodies are a pure function of (seed, n), and `params` carries both, so a test can check every stored
body byte for byte.

    python tests/crash_driver.py --root R --journal J --seed 7 [--fsync-records 10] [--segment-bytes 200000]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

import orjson

from collector.journal import Journal
from collector.rawstore import RawStore
from collector.record import RawRecord

MARKETS = ("BTCUSD", "BTCEUR", "BTCJPY")
ENDPOINTS = ("ticker", "trades")
# Half an hour before a UTC midnight, so runs write into two date partitions.
START_US = 1_364_772_600_000_000  # 2013-03-31T23:30:00Z


def body_for(seed: int, n: int) -> bytes:
    """The body of record n of a run with `seed`: ~1.4 KB of arbitrary bytes (not even UTF-8)."""
    rng = random.Random(seed * 1_000_003 + n)
    return rng.randbytes(1200 + rng.randrange(400))


def record_for(seed: int, n: int, run: str) -> RawRecord:
    rng = random.Random(f"{seed}/{n}")
    received = START_US + seed * 7_000_000 + n * 20_000  # 20 ms apart
    market = rng.choice(MARKETS)
    return RawRecord("", "mtgox", rng.choice(ENDPOINTS), market, 2, "GET", f"/api/2/{market}/money/ticker",
                     orjson.dumps({"seed": seed, "n": n}).decode(), received - rng.randrange(1_000, 900_000),
                     received, 200, None, body_for(seed, n), run)


def say(line: str) -> None:
    os.write(1, (line + "\n").encode())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--journal", required=True, type=Path)
    ap.add_argument("--seed", required=True, type=int)
    ap.add_argument("--run-id", default="crash")
    ap.add_argument("--fsync-records", type=int, default=10)
    ap.add_argument("--segment-bytes", type=int, default=200_000)
    ap.add_argument("--target-bytes", type=int, default=1_000_000)
    ap.add_argument("--compact-every", type=int, default=4, help="rolls between compactions")
    ap.add_argument("--rate", type=float, default=4000.0, help="records per second at most")
    ap.add_argument("--max-seconds", type=float, default=30.0, help="stop by itself (a test that never kills)")
    args = ap.parse_args()

    store = RawStore(args.root, target_file_bytes=args.target_bytes)
    say("PHASE recover")
    say(f"PHASE recovered {store.recover(args.journal)}")

    def acknowledge(ids: list[str]) -> None:
        # One write per batch: a kill can cut the last line short, never interleave two.
        os.write(1, "".join(f"ACK {i}\n" for i in ids).encode())

    journal = Journal(args.journal, run_id=args.run_id, fsync_records=args.fsync_records, fsync_interval_s=0.02,
                      segment_max_bytes=args.segment_bytes, on_durable=acknowledge)
    start = time.monotonic()
    rolls = n = 0
    say("PHASE run")
    while time.monotonic() - start < args.max_seconds:
        journal.append(record_for(args.seed, n, args.run_id))
        n += 1
        ahead = n / args.rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
        now = time.time()
        if journal.due(now):
            journal.flush()
        if journal.should_roll(now):
            say("PHASE roll")
            closed = journal.roll()
            assert closed is not None
            say(f"PHASE ingest {closed.name}")
            store.ingest_segment(closed)
            say("PHASE ingested")
            rolls += 1
            if rolls % args.compact_every == 0:
                say("PHASE compact")
                result = store.compact(progress=lambda done, total: say(f"PHASE compact-step {done}/{total}"))
                say(f"PHASE compacted {result.groups}")
    closed = journal.close()
    if closed is not None:
        store.ingest_segment(closed)
    say("PHASE done")


if __name__ == "__main__":
    main()
