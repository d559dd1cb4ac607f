"""Two, then four collector processes on one API key and one data root, at once.

Each polls the same markets and pages the same account, so they share the key's nonce, its
per-endpoint intervals and its global request budget, and write into one journal directory and one
raw store. Judged at the emulator and in the store: nonces strictly increasing in the order the
emulator received them and every signed call accepted; no call closer to the previous one of its
endpoint than the interval allows, no limit flagged, no 5 s with more requests than the global
cap allows; every call recorded exactly once; no raw file or journal segment written by two processes.

8 s each in make test; 5 minutes each under make soak.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from collector.journal import pending_segments
from collector.rawstore import RawStore
from tests.calls import busiest_window, recorded_calls, unrecorded_calls
from tests.collector_harness import exchange, write_config
from tests.soak import figure, scaled

SECONDS = scaled(8, 300)
# What the processes want together (5 public and 3 signed calls a second, whatever their number, since they
# share each endpoint's interval) stays under the cap, so every endpoint gets its turn.
MAX_RPS = 10.0
# The emulator allows one call per endpoint every 0.3 s; the collectors are told 1 s. Each alone would keep it;
# together, unless they share the interval, two or four of them would not (at random phases most periods hold
# two calls closer than that). The slack absorbs a loaded machine's scheduling delays: a process starting up on
# a busy core has been seen to send a quarter of a second after its slot.
EMULATOR_INTERVAL_S = 0.3
MARKETS = {"BTCUSD": {"ticker": "1s", "trades": "1s", "depth": "1s"}, "BTCEUR": {"ticker": "1s", "trades": "1s"}}

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("processes", [2, 4])
def test_collectors_sharing_a_key_and_a_data_root_keep_nonces_limits_and_records_straight(
    tmp_path: Path, processes: int, record_property
) -> None:
    root = tmp_path / "data"
    with exchange(tmp_path, min_interval_s=EMULATOR_INTERVAL_S) as ex:
        key = ex.key()
        paths = [write_config(tmp_path, ex.url, version=2, min_interval="1s", root=root, markets=MARKETS,
                              account={"wallet_history": ["BTC", "USD"], "every": "1s", "info": "2s",
                                       "orders": "2s"}, max_rps=MAX_RPS, name=f"c{i}.toml")
                 for i in range(processes)]
        env = {**os.environ, "MR_KEY": key.key, "MR_SECRET": key.secret}
        procs = [subprocess.Popen([sys.executable, "-m", "marketrec", "collect", "--config", str(p),
                                   "--duration", f"{SECONDS}s"], env=env, stderr=subprocess.PIPE, text=True)
                 for p in paths]
        for proc in procs:
            _, err = proc.communicate(timeout=SECONDS + 120)
            assert proc.returncode == 0, err[-2000:]
        log = ex.requests()

    signed = [r for r in log if "nonce" in r["params"]]
    nonces = [int(r["params"]["nonce"]) for r in signed]
    assert len(signed) >= processes * 2, "too few signed calls to prove anything"
    assert nonces == sorted(set(nonces)), "nonces reached the emulator out of order or twice"
    assert [r["status"] for r in signed] == [200] * len(signed), "a signed call was refused"
    # The emulator's limiter judges each call as it handles it; the log's arrival stamps are taken earlier,
    # before the event loop gets to the call, so their spacing jitters by the loop's other work.
    assert [r for r in log if r["violation"] or r["blocked"]] == []
    # The global cap spaces slots 1/MAX_RPS apart; over 5 s windows the stamps' jitter (tens of ms) evens out.
    busiest = busiest_window(log, 5.0)
    assert busiest <= MAX_RPS * 5 + 1

    # Every process stopped on its own, so nothing was in flight: each call the emulator logged is one record.
    recorded, _ = recorded_calls(root)
    assert unrecorded_calls(log, recorded) == []
    assert sum(recorded.values()) == len(log), "more records than calls: one recorded twice"
    store = RawStore(str(root))
    assert store.verify() == []
    files = [str(p.relative_to(root)) for p in (root / "raw").rglob("*.parquet")]
    assert len(files) == len(set(files))
    listed = Counter(store.read_table(columns=["record_id"]).column("record_id").to_pylist())
    assert max(listed.values()) == 1
    assert pending_segments(root / "journal") == []

    figure(record_property, "collectors", processes)
    figure(record_property, "seconds", SECONDS)
    figure(record_property, "requests", len(log))
    figure(record_property, "signed calls (all accepted, nonces increasing)", len(signed))
    figure(record_property, "busiest 5 s (cap)", f"{busiest} ({MAX_RPS * 5:g})")
    figure(record_property, "records", sum(listed.values()))
    figure(record_property, "raw files", len(files))
