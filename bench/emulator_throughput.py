"""Emulator throughput on loopback: ticker and 50,000-level full-depth requests per second.

The emulator runs as its own process (`marketrec emulator`), as in the demo and the soak
tests, so the client's work does not share its interpreter. Each figure is the median of
several timed rounds, with and without the 10-second URL cache.

    python bench/emulator_throughput.py [--seconds 3] [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import time

import httpx

LEVELS = 50_000


def start_emulator(cache_seconds: float) -> tuple[subprocess.Popen[str], str]:
    # The busiest currency's book gets the levels (plus the few absurd far ones).
    args = [sys.executable, "-m", "marketrec", "emulator", "--port", "0", "--min-interval", "0",
            "--full-depth-per-hour", "0", "--history-hours", "4", "--book-levels", str(LEVELS),
            "--cache-seconds", str(cache_seconds)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline() if proc.stdout else ""
    match = re.search(r"http://[\d.]+:\d+", first)
    if not match:
        proc.kill()
        raise SystemExit(f"emulator did not start: {first!r} {proc.stderr.read() if proc.stderr else ''}")
    return proc, match.group(0)


async def hammer(url: str, seconds: float, concurrency: int) -> tuple[int, int]:
    """Requests completed and bytes received in `seconds` by `concurrency` keep-alive clients."""
    done = received = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal done, received
            while time.perf_counter() < deadline:
                r = await client.get(url)
                r.raise_for_status()
                done += 1
                received += len(r.content)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, received


def measure(base: str, path: str, seconds: float, rounds: int, concurrency: int) -> dict[str, float]:
    asyncio.run(hammer(base + path, 0.5, concurrency))  # warm-up: connections, caches, first touch
    rates, sizes = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        n, nbytes = asyncio.run(hammer(base + path, seconds, concurrency))
        elapsed = time.perf_counter() - start
        rates.append(n / elapsed)
        sizes.append(nbytes / max(n, 1))
    return {"requests_per_s": round(statistics.median(rates), 1), "body_bytes": round(statistics.median(sizes))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="length of one timed round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    results: dict[str, object] = {"concurrency": args.concurrency, "rounds": args.rounds, "seconds": args.seconds}
    for cache in (10.0, 0.0):
        proc, base = start_emulator(cache)
        try:
            depth = httpx.get(base + "/api/2/BTCUSD/money/depth/full", timeout=60).json()["data"]
            levels = len(depth["asks"]) + len(depth["bids"])
            label = "cached" if cache else "uncached"
            results[f"full_depth_levels_{label}"] = levels
            results[f"ticker_{label}"] = measure(base, "/api/1/BTCUSD/ticker", args.seconds, args.rounds,
                                                 args.concurrency)
            results[f"full_depth_{label}"] = measure(base, "/api/2/BTCUSD/money/depth/full", args.seconds,
                                                     args.rounds, args.concurrency)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    for name in ("ticker_cached", "ticker_uncached", "full_depth_cached", "full_depth_uncached"):
        r = results[name]
        print(f"{name:22} {r['requests_per_s']:>9.1f} req/s   {r['body_bytes']:>10,} bytes/answer")  # type: ignore[index]
    print(f"full depth levels: {results['full_depth_levels_uncached']:,}")
    print(json.dumps(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
