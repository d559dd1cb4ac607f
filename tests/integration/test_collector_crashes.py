"""SIGKILL the collector (and compaction) at random moments: nothing the journal held is lost or doubled."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from collector.journal import pending_segments, read_segment
from collector.rawstore import RawStore
from tests.collector_harness import exchange, write_config

TRIALS = 24


def journal_ids(journal: Path) -> set[str]:
    return {r.record_id for seg in pending_segments(journal) for r in read_segment(seg).records}


def stored_ids(root: Path) -> set[str]:
    if not (root / "raw").exists():
        return set()
    return set(RawStore(str(root)).read_table(columns=["record_id"]).column("record_id").to_pylist())


def test_sigkill_at_random_moments_keeps_every_journaled_response_exactly_once(tmp_path: Path) -> None:
    rng = random.Random(20261125)
    root = tmp_path / "data"
    with exchange(tmp_path, request_log=None) as ex:
        key = ex.key()
        path = write_config(
            tmp_path, ex.url, version=2, root=root,
            markets={"BTCUSD": {"ticker": "0.2s", "trades": "0.2s", "depth": "0.2s"},
                     "BTCEUR": {"ticker": "0.2s", "trades": "0.2s"}},
            account={"wallet_history": ["BTC", "USD"]},
            # Tiny segments and files: rolls into Parquet and compactions happen all the time.
            extra_storage='journal_fsync_records = 1\nsegment_size = "24KiB"\nsegment_age = "0.25s"\n'
                          'target_file_size = "256KiB"',
        )
        env = {**os.environ, "MR_KEY": key.key, "MR_SECRET": key.secret}
        journaled: set[str] = set()
        kills = Counter()
        for trial in range(TRIALS):
            command = "compact" if trial % 4 == 3 else "collect"
            proc = subprocess.Popen([sys.executable, "-m", "marketrec", command, "--config", str(path)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.6, 2.2) if command == "collect" else rng.uniform(0.4, 1.2))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills[command] += 1
            # Acknowledged so far: what the journal holds on disk now, and what already rolled into Parquet.
            journaled |= journal_ids(root / "journal") | stored_ids(root)
        # A clean run recovers what the kills left, then a full compaction.
        done = subprocess.run([sys.executable, "-m", "marketrec", "collect", "--config", str(path),
                               "--duration", "1s"], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        compacted = subprocess.run([sys.executable, "-m", "marketrec", "compact", "--config", str(path)], env=env,
                                   capture_output=True, text=True, timeout=120)
        assert compacted.returncode == 0, compacted.stderr
    assert kills == {"collect": TRIALS * 3 // 4, "compact": TRIALS // 4}
    store = RawStore(str(root))
    ids = Counter(store.read_table(columns=["record_id"]).column("record_id").to_pylist())
    doubled = [i for i, n in ids.items() if n > 1]
    missing = journaled - set(ids)
    assert len(journaled) > 200, "the kills came too early to prove anything"
    assert doubled == [] and missing == set()
    assert store.verify() == []
    assert pending_segments(root / "journal") == []
