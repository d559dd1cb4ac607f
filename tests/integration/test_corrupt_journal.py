"""Damaged journal segments and raw files are set aside whole, with one line each, and the rest is processed.

Segments are written by the real Journal, then damaged the ways disks and people damage files: garbage over
the middle, cut short, emptied, or replaced by a file that is no journal at all. A clean closed segment and a
crash-left `.journal` with a torn tail sit beside them (those are not damage and must pass silently). Then the
collector, polling the emulator over loopback HTTP, or `marketrec compact` recovers them: every intact record
is stored exactly once, every damaged file is kept byte for byte under journal/corrupt/, one line names each,
and the run goes on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from collector.journal import CLOSED_SUFFIX, OPEN_SUFFIX, Journal, encode_frame, pending_segments
from collector.rawstore import RawStore
from collector.record import RawRecord
from tests.collector_harness import exchange, write_config
from tests.disk_harness import events

CLI = [sys.executable, "-m", "marketrec"]
MARKETS = {"BTCUSD": {"ticker": "0.2s", "trades": "0.2s"}}


@dataclass(frozen=True)
class Damaged:
    path: Path
    data: bytes  # the file as damaged: what corrupt/ must hold
    intact: frozenset[str]  # record ids that must be stored
    says: str  # what its line must say


def record(n: int) -> RawRecord:
    now = int(time.time() * 1e6) - 60_000_000 + n * 1000
    return RawRecord("", "mtgox", "ticker", "BTCUSD", 2, "GET", "/api/2/BTCUSD/money/ticker", "{}", now - 900, now,
                     200, None, b'{"result":"success","data":{"n":%d,"pad":"%s"}}' % (n, b"x" * 300), "earlier-run")


def segment(journal: Path, first: int, count: int, *, roll: bool = True) -> tuple[Path, list[RawRecord]]:
    writer = Journal(journal, run_id="earlier-run", fsync_records=1)
    stored = [writer.append(record(first + i)) for i in range(count)]
    path = writer.roll() if roll else writer.segment_path
    assert path is not None
    if not roll:
        os.close(writer._fd)  # type: ignore[arg-type]  # a crash: the `.journal` stays, its lock gone
    return path, stored


def damage_segments(journal: Path) -> tuple[list[Damaged], set[str]]:
    """Four damaged segments, and the ids of two undamaged ones (a clean `.closed`, a torn `.journal`)."""
    damaged = []
    path, stored = segment(journal, 0, 6)
    data = bytearray(path.read_bytes())
    sizes = [len(encode_frame(r)) for r in stored]
    start = sum(sizes[:2]) + 10  # from inside the third frame to inside the fourth
    data[start:start + sizes[2]] = os.urandom(sizes[2])
    path.write_bytes(bytes(data))
    damaged.append(Damaged(path, bytes(data), frozenset(r.record_id for i, r in enumerate(stored) if i not in (2, 3)),
                           "damaged bytes at offsets"))

    path, stored = segment(journal, 10, 5)
    data = path.read_bytes()[:-40]  # cut short: a `.closed` segment was fsynced whole, so this is damage
    path.write_bytes(data)
    damaged.append(Damaged(path, data, frozenset(r.record_id for r in stored[:-1]), "(short frame)"))

    path, _ = segment(journal, 20, 3)
    path.write_bytes(b"")
    damaged.append(Damaged(path, b"", frozenset(), "an empty closed segment"))

    path, _ = segment(journal, 30, 2)
    data = b"PK\x03\x04" + os.urandom(3000)  # someone's zip file under a segment's name
    path.write_bytes(data)
    damaged.append(Damaged(path, data, frozenset(), "not a journal segment"))

    clean_path, clean = segment(journal, 40, 4)
    open_path, crashed = segment(journal, 50, 4, roll=False)
    with open(open_path, "ab") as f:
        f.write(encode_frame(record(99))[:25])  # a crash's torn tail: never acknowledged, dropped silently
    assert clean_path.suffix == CLOSED_SUFFIX and open_path.suffix == OPEN_SUFFIX
    return damaged, {r.record_id for r in clean + crashed}


def check_set_aside(root: Path, lines: list[str], damaged: list[Damaged]) -> None:
    set_aside = events(lines, "set_aside")
    assert len(set_aside) == len(damaged), "\n".join(set_aside)
    for d in damaged:
        [line] = [line for line in set_aside if f"journal segment {d.path}:" in line]
        assert d.says in line, line
        assert (root / "journal" / "corrupt" / d.path.name).read_bytes() == d.data  # every byte kept


def stored_ids(root: Path) -> Counter[str]:
    return Counter(RawStore(str(root)).read_table(columns=["record_id"]).column("record_id").to_pylist())


def test_the_collector_ingests_every_intact_record_sets_damaged_segments_aside_and_goes_on_polling(
        tmp_path: Path) -> None:
    root = tmp_path / "data"
    damaged, undamaged = damage_segments(root / "journal")
    with exchange(tmp_path) as ex:
        config = write_config(tmp_path, ex.url, root=root, markets=MARKETS)
        done = subprocess.run([*CLI, "collect", "--config", str(config), "--duration", "1.5s"], capture_output=True,
                              text=True, timeout=60)
        served = len(ex.requests())
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    check_set_aside(root, lines, damaged)
    ids = stored_ids(root)
    intact = undamaged.union(*(d.intact for d in damaged))
    assert {i: ids[i] for i in intact} == dict.fromkeys(intact, 1)  # each intact record once
    assert sum(ids.values()) == len(intact) + served  # and then every answer of this run
    assert served > 5
    [start] = events(lines, "start")
    assert f"recovered={len(intact)}" in start
    assert pending_segments(root / "journal") == [] and RawStore(str(root)).verify() == []


def test_compact_sets_aside_damaged_segments_and_an_unreadable_parquet_file_and_compacts_the_rest(
        tmp_path: Path) -> None:
    root = tmp_path / "data"
    store = RawStore(str(root))
    stored: set[str] = set()
    for n in range(3):  # three small files in one partition, for compaction to merge
        path, records = segment(root / "journal", 100 + 10 * n, 5)
        store.ingest_segment(path)
        stored |= {r.record_id for r in records}
    [partition] = store.partitions()
    victim = root / "raw" / partition.path / store.files(partition)[1].name
    lost = set(pq.read_table(victim).column("record_id").to_pylist())
    data = bytearray(victim.read_bytes())
    data[len(data) // 2:len(data) // 2 + 64] = os.urandom(64)
    victim.write_bytes(bytes(data))
    damaged, undamaged = damage_segments(root / "journal")
    config = write_config(tmp_path, "http://127.0.0.1:9", root=root, markets=MARKETS)

    done = subprocess.run([*CLI, "compact", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    [parquet] = [line for line in events(lines, "set_aside") if str(victim) in line]
    assert "sha256 differs from the manifest" in parquet and "set aside as" in parquet
    assert (root / "corrupt" / "raw" / partition.path / victim.name).read_bytes() == bytes(data)
    check_set_aside(root, [line for line in lines if line != parquet], damaged)
    intact = undamaged.union(*(d.intact for d in damaged))
    assert stored_ids(root) == Counter(intact | (stored - lost))
    assert RawStore(str(root)).verify() == [] and pending_segments(root / "journal") == []
    assert len(RawStore(str(root)).files(partition)) == 1  # the rest was compacted into one file

    again = subprocess.run([*CLI, "compact", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and events(again.stderr.splitlines(), "set_aside") == []
    assert stored_ids(root) == Counter(intact | (stored - lost))
