"""CPU share of the collector recording 16 markets (ticker, depth, trades) plus account history
at Mt.Gox's 10-second limit, against the emulator on loopback.

Two runs of different lengths are measured (user + system CPU of the collector process from
wait4), and their difference divided by the difference in wall time gives the steady-state
share, free of the start-up cost of importing Python packages.

    python bench/collector_cpu.py [--short 15] [--long 75] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAIRS = ["BTCUSD", "BTCEUR", "BTCJPY", "BTCGBP", "BTCPLN", "BTCAUD", "BTCCAD", "BTCCNY", "BTCRUB", "BTCCHF",
         "BTCSEK", "BTCDKK", "BTCHKD", "BTCNZD", "BTCSGD", "BTCTHB"]


def start_emulator() -> tuple[subprocess.Popen[str], str, str, str]:
    proc = subprocess.Popen([sys.executable, "-m", "marketrec", "emulator", "--port", "0", "--history-hours", "6"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    url = re.search(r"http://[\d.]+:\d+", proc.stdout.readline()).group(0)  # type: ignore[union-attr]
    lines = [proc.stdout.readline() for _ in range(4)]
    key_line = next(line for line in lines if "rights=get_info " in line or line.rstrip().endswith("rights=get_info"))
    key = re.search(r"key=(\S+)", key_line).group(1)  # type: ignore[union-attr]
    secret = re.search(r"secret=(\S+)", key_line).group(1)  # type: ignore[union-attr]
    return proc, url, key, secret


def config(directory: Path, url: str) -> Path:
    markets = "\n".join(f'[[market]]\npair = "{p}"\nticker = "10s"\ndepth = "10s"\ntrades = "10s"' for p in PAIRS)
    text = f"""[exchange]
name = "mtgox"
base_url = "{url}/api"
api_version = 1
max_requests_per_second = 8.0
[credentials]
key_env = "MR_KEY"
secret_env = "MR_SECRET"
{markets}
[account]
wallet_history = ["BTC", "USD"]
every = "10s"
info = "10s"
orders = "10s"
[storage]
root = "{directory / 'data'}"
journal = "{directory / 'data' / 'journal'}"
"""
    path = directory / "bench.toml"
    path.write_text(text)
    return path


def cpu_of_run(path: Path, seconds: float, env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "marketrec", "collect", "--config", str(path), "--duration",
                             f"{seconds}s", "--status-every", "3600"], env=env, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"collector exited with status {status}")
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", type=float, default=15.0)
    ap.add_argument("--long", type=float, default=75.0)
    ap.add_argument("--json")
    args = ap.parse_args()
    emulator, url, key, secret = start_emulator()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = config(Path(tmp), url)
            env = {**os.environ, "MR_KEY": key, "MR_SECRET": secret}
            cpu_short, wall_short = cpu_of_run(path, args.short, env)
            cpu_long, wall_long = cpu_of_run(path, args.long, env)
            raw = sum(f.stat().st_size for f in (Path(tmp) / "data").rglob("*.parquet"))
    finally:
        emulator.terminate()
        emulator.wait(timeout=15)
    share = (cpu_long - cpu_short) / (wall_long - wall_short)
    result = {"markets": len(PAIRS), "endpoints_per_market": 3, "account_calls": 4, "interval_s": 10,
              "cpu_s_short": round(cpu_short, 3), "wall_s_short": round(wall_short, 2),
              "cpu_s_long": round(cpu_long, 3), "wall_s_long": round(wall_long, 2),
              "steady_cpu_share_of_one_core": round(share, 4), "raw_parquet_bytes": raw}
    print(f"16 markets x (ticker, depth, trades) + account history at 10 s: "
          f"{share * 100:.2f} % of one core in steady state (start-up excluded)")
    print(json.dumps(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
