"""The raw store: segments into hive-partitioned Parquet with manifests, replay, compaction, verify; real files."""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from collector import compaction
from collector.errors import CorruptFileError, StoreError
from collector.journal import OPEN_SUFFIX, Journal
from collector.rawstore import (
    DICTIONARY_COLUMNS,
    MANIFEST_NAME,
    ManifestFile,
    Partition,
    RawStore,
)
from collector.record import SCHEMA, RawRecord, partition_date, utc_date

DAY_US = 86_400_000_000
T0 = 1_364_774_400_000_000  # 2013-04-01T00:00:00Z


def make_record(n: int = 0, **changes: object) -> RawRecord:
    received = T0 + n * 1_000_000
    base = RawRecord(
        record_id="", exchange="mtgox", endpoint="ticker", market="BTCUSD", api_version=2, method="GET",
        path="/api/2/BTCUSD/money/ticker", params=f'{{"nonce":{received}}}', sent_at=received - 150_000,
        received_at=received, http_status=200, error_class=None, body=b'{"result":"success","n":%d}' % n,
        collector_run="run-a",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


@pytest.fixture
def journal_dir(tmp_path: Path) -> Path:
    return tmp_path / "journal"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RawStore]:
    with RawStore(str(tmp_path / "root"), target_file_bytes=2**20) as s:
        yield s


def segment_of(journal_dir: Path, records: list[RawRecord], clock: Clock | None = None) -> tuple[Path, list[RawRecord]]:
    journal = Journal(journal_dir, run_id="run-a", clock=clock or Clock())
    stored = [journal.append(r) for r in records]
    path = journal.roll()
    assert path is not None
    return path, stored


def ids_in(store: RawStore) -> list[str]:
    return store.read_table(["record_id"]).column("record_id").to_pylist()


def partition_dir(root: Path, partition: Partition) -> Path:
    return root / "raw" / partition.path


USD = Partition("mtgox", "ticker", "BTCUSD", "2013-04-01")


# --- ingest --------------------------------------------------------------------------------------------------------


def test_ingest_writes_one_file_per_partition_with_a_manifest_and_deletes_the_segment(
        tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    records = [make_record(0), make_record(1, market="BTCEUR"), make_record(2),
               make_record(3, endpoint="trades"), make_record(-1)]  # the last one falls on 2013-03-31
    segment, stored = segment_of(journal_dir, records)
    assert store.ingest_segment(segment) == 5
    assert not segment.exists()
    assert store.partitions() == [
        Partition("mtgox", "ticker", "BTCEUR", "2013-04-01"),
        Partition("mtgox", "ticker", "BTCUSD", "2013-03-31"),
        Partition("mtgox", "ticker", "BTCUSD", "2013-04-01"),
        Partition("mtgox", "trades", "BTCUSD", "2013-04-01"),
    ]
    directory = partition_dir(tmp_path / "root", USD)
    name = f"part-{segment.stem}.parquet"
    assert sorted(p.name for p in directory.iterdir()) == [MANIFEST_NAME, name]
    data = (directory / name).read_bytes()
    [entry] = store.files(USD)
    assert entry == ManifestFile(name, 2, stored[0].received_at, stored[2].received_at,
                                 hashlib.sha256(data).hexdigest(), len(data), (segment.stem,))
    manifest = orjson.loads((directory / MANIFEST_NAME).read_bytes())
    assert manifest["rows"] == 2
    assert manifest["bytes"] == len(data)
    assert (manifest["first_received_at"], manifest["last_received_at"]) == (T0, T0 + 2_000_000)
    table = pq.read_table(directory / name)
    assert table.schema.equals(SCHEMA)
    assert table.column("record_id").to_pylist() == [stored[0].record_id, stored[2].record_id]
    assert table.column("body").to_pylist() == [stored[0].body, stored[2].body]
    assert store.verify() == []


def test_duckdb_reads_the_store_with_hive_partitions(tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    records = [make_record(n, market=m) for n in range(3) for m in ("BTCUSD", "BTCJPY")]
    segment, stored = segment_of(journal_dir, records)
    store.ingest_segment(segment)
    glob = str(tmp_path / "root" / "raw" / "**" / "*.parquet")
    con = duckdb.connect()
    rows = con.execute(f"SELECT record_id, market, date, body, received_at FROM read_parquet('{glob}') "
                       "ORDER BY record_id").fetchall()
    assert [r[0] for r in rows] == sorted(s.record_id for s in stored)
    by_id = {s.record_id: s for s in stored}
    for record_id, market, date, body, _received in rows:
        assert market == by_id[record_id].market
        assert str(date) == "2013-04-01"
        assert bytes(body) == by_id[record_id].body


def test_rows_are_sorted_by_received_at_then_record_id(store: RawStore, journal_dir: Path) -> None:
    records = [make_record(5), make_record(1), make_record(3), make_record(1, body=b"same time")]
    segment, stored = segment_of(journal_dir, records)
    store.ingest_segment(segment)
    got = store.read_table(["received_at", "record_id"]).to_pylist()
    keys = [(r["received_at"], r["record_id"]) for r in got]
    assert keys == sorted(keys)
    assert len(keys) == len(stored)


def test_parquet_uses_zstd_dictionaries_only_on_low_cardinality_strings_and_keeps_bodies_exact(
        tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    bodies = [b"", os.urandom(6 * 2**20), bytes(range(256)), b"MySQL error, please retry later"]
    segment, _ = segment_of(journal_dir, [make_record(n, body=b) for n, b in enumerate(bodies)])
    store.ingest_segment(segment)
    [entry] = store.files(USD)
    path = partition_dir(tmp_path / "root", USD) / entry.name
    meta = pq.ParquetFile(path).metadata
    columns = {meta.row_group(0).column(i).path_in_schema: meta.row_group(0).column(i)
               for i in range(meta.num_columns)}
    assert {c.compression for c in columns.values()} == {"ZSTD"}
    with_dictionary = {name for name, c in columns.items() if "RLE_DICTIONARY" in c.encodings}
    assert with_dictionary <= set(DICTIONARY_COLUMNS)
    assert {"record_id", "params", "body", "sent_at", "received_at"}.isdisjoint(with_dictionary)
    assert pq.read_table(path).column("body").to_pylist() == bodies


def test_a_record_at_the_last_microsecond_of_a_day_stays_in_that_day() -> None:
    last = T0 - 1  # 2013-03-31T23:59:59.999999Z: a float division would round it into April
    assert partition_date(make_record(received_at=last)) == "2013-03-31"
    assert utc_date(T0) == "2013-04-01"
    assert utc_date(0) == "1970-01-01"


# --- replay after a crash ------------------------------------------------------------------------------------------


def test_reingesting_after_a_crash_between_the_files_and_the_manifest_gives_no_duplicates(
        tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    earlier, _ = segment_of(journal_dir, [make_record(0)])
    store.ingest_segment(earlier)
    manifest = partition_dir(tmp_path / "root", USD) / MANIFEST_NAME
    before = manifest.read_bytes()
    segment, stored = segment_of(journal_dir, [make_record(n) for n in range(1, 6)])
    keep = tmp_path / "copy"
    shutil.copy(segment, keep)
    store.ingest_segment(segment)
    # The crash: the Parquet file is written, the manifest is not, the segment was not deleted.
    manifest.write_bytes(before)
    shutil.copy(keep, segment)
    assert any("not in the manifest" in p for p in store.verify())
    assert store.recover(journal_dir) == 5
    assert sorted(ids_in(store)) == sorted([r.record_id for r in stored] + [f"{earlier.stem}-{1:010d}"])
    assert store.verify() == []


def test_reingesting_a_segment_that_was_stored_but_not_deleted_gives_no_duplicates(
        tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    records = [make_record(n, market=m) for n in range(4) for m in ("BTCUSD", "BTCEUR")]
    segment, stored = segment_of(journal_dir, records)
    keep = tmp_path / "copy"
    shutil.copy(segment, keep)
    store.ingest_segment(segment)
    shutil.copy(keep, segment)  # the crash came after the manifests, before the segment's deletion
    store.recover(journal_dir)
    assert sorted(ids_in(store)) == sorted(r.record_id for r in stored)
    assert not segment.exists()
    assert store.verify() == []


def test_replaying_a_segment_whose_rows_compaction_already_merged_adds_nothing(
        tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    clock = Clock()
    first, stored = segment_of(journal_dir, [make_record(0), make_record(1)], clock)
    keep = tmp_path / "copy"
    shutil.copy(first, keep)
    store.ingest_segment(first)
    second, more = segment_of(journal_dir, [make_record(2)], clock)
    store.ingest_segment(second)
    assert store.compact().groups == 1
    shutil.copy(keep, first)
    assert store.recover(journal_dir) == 0
    assert sorted(ids_in(store)) == sorted(r.record_id for r in stored + more)
    assert store.verify() == []


def test_recover_ingests_closed_and_crash_left_segments_and_removes_temporary_files(
        tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    clock = Clock()
    _closed, stored = segment_of(journal_dir, [make_record(0), make_record(1)], clock)
    crashed_source, crashed = segment_of(journal_dir, [make_record(2), make_record(3, body=b"torn")], clock)
    crash_left = crashed_source.with_suffix(OPEN_SUFFIX)
    data = crashed_source.read_bytes()
    crash_left.write_bytes(data[:-2])  # a `.journal` whose last frame the crash cut short
    crashed_source.unlink()
    leftover = partition_dir(tmp_path / "root", USD) / ".part-x.parquet.0123abcd.tmp"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a file")
    assert store.recover(journal_dir) == 3
    assert sorted(ids_in(store)) == sorted(r.record_id for r in [*stored, crashed[0]])
    assert not leftover.exists()
    assert list(journal_dir.iterdir()) == []
    assert store.verify() == []


def test_a_segment_a_live_journal_is_still_writing_is_not_ingested(store: RawStore, journal_dir: Path) -> None:
    journal = Journal(journal_dir, run_id="run-a", fsync_records=1)
    journal.append(make_record())
    assert journal.segment_path is not None
    with pytest.raises(StoreError, match="still being written"):
        store.ingest_segment(journal.segment_path)
    assert store.recover(journal_dir) == 0
    closed = journal.roll()
    assert closed is not None
    assert store.recover(journal_dir) == 1


# --- compaction ----------------------------------------------------------------------------------------------------


def ingest_many(store: RawStore, journal_dir: Path, segments: int, per_segment: int = 20,
                markets: tuple[str, ...] = ("BTCUSD",)) -> list[str]:
    clock = Clock()
    ids: list[str] = []
    n = 0
    for _ in range(segments):
        records = []
        for _ in range(per_segment):
            records += [make_record(n, market=m, body=os.urandom(200)) for m in markets]
            n += 1
        path, stored = segment_of(journal_dir, records, clock)
        store.ingest_segment(path)
        ids += [r.record_id for r in stored]
    return ids


def test_compaction_merges_small_files_into_fewer_with_the_same_record_ids_sorted(
        store: RawStore, journal_dir: Path) -> None:
    ids = ingest_many(store, journal_dir, segments=8, markets=("BTCUSD", "BTCEUR"))
    before = {p: len(store.files(p)) for p in store.partitions()}
    assert set(before.values()) == {8}
    progress: list[tuple[int, int]] = []
    result = store.compact(progress=lambda done, total: progress.append((done, total)))
    assert result.groups == 2
    assert (result.files_in, result.files_out, result.rows) == (16, 2, len(ids))
    assert progress == [(0, 2), (1, 2), (2, 2)]
    assert {len(store.files(p)) for p in store.partitions()} == {1}
    assert collections.Counter(ids_in(store)) == collections.Counter(ids)
    [entry] = store.files(USD)
    assert len(entry.segments) == 8
    got = store.read_table(["market", "received_at", "record_id"]).to_pylist()
    for market in ("BTCUSD", "BTCEUR"):
        keys = [(r["received_at"], r["record_id"]) for r in got if r["market"] == market]
        assert keys == sorted(keys)
    assert store.verify() == []
    assert store.compact().groups == 0  # nothing left to merge


def test_compaction_packs_files_up_to_the_target_and_leaves_big_files_alone() -> None:
    def f(name: str, size: int, t: int) -> ManifestFile:
        return ManifestFile(name, 1, t, t, "", size, (name,))

    files = [f("a", 30, 1), f("b", 30, 2), f("c", 30, 3), f("big", 60, 4), f("d", 30, 5), f("e", 45, 6)]
    groups = compaction.plan(files, target_bytes=100)
    assert [[x.name for x in g] for g in groups] == [["a", "b", "c"], ["d", "e"]]
    assert compaction.plan([f("only", 10, 1)], target_bytes=100) == []


def test_compaction_can_be_limited_to_some_partitions(store: RawStore, journal_dir: Path) -> None:
    ingest_many(store, journal_dir, segments=3, markets=("BTCUSD", "BTCEUR"))
    store.compact(partitions=[USD])
    assert {p.market: len(store.files(p)) for p in store.partitions()} == {"BTCUSD": 1, "BTCEUR": 3}


def compaction_states(tmp_path: Path, store: RawStore, journal_dir: Path) -> tuple[Path, dict[str, bytes], list[str]]:
    """A partition with three files; returns its directory, the files before compaction, and all ids."""
    ids = ingest_many(store, journal_dir, segments=3)
    directory = partition_dir(tmp_path / "root", USD)
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    return directory, before, ids


def test_a_compaction_killed_before_its_manifest_commit_is_rolled_back(
        tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    directory, before, ids = compaction_states(tmp_path, store, journal_dir)
    inputs = sorted(n for n in before if n.endswith(".parquet"))
    store.compact()
    [output] = [p.name for p in directory.iterdir() if p.name.endswith(".parquet")]
    # The state at the kill: intent and output written, manifest not replaced, inputs present.
    for name, data in before.items():
        (directory / name).write_bytes(data)
    (directory / compaction.INTENT_NAME).write_bytes(orjson.dumps({"version": 1, "output": output, "inputs": inputs}))
    assert store.verify() != []
    assert store.recover(journal_dir) == 0
    assert sorted(p.name for p in directory.iterdir()) == sorted(before)
    assert collections.Counter(ids_in(store)) == collections.Counter(ids)
    assert store.verify() == []


def test_a_compaction_killed_after_its_manifest_commit_is_completed(
        tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    directory, before, ids = compaction_states(tmp_path, store, journal_dir)
    inputs = sorted(n for n in before if n.endswith(".parquet"))
    store.compact()
    [output] = [p.name for p in directory.iterdir() if p.name.endswith(".parquet")]
    # The state at the kill: manifest replaced, two of three inputs not yet deleted, intent present.
    for name in inputs[:2]:
        (directory / name).write_bytes(before[name])
    (directory / compaction.INTENT_NAME).write_bytes(orjson.dumps({"version": 1, "output": output, "inputs": inputs}))
    assert any("not in the manifest" in p for p in store.verify())
    store.compact()  # a rerun settles the intent first, as recover() would
    assert sorted(p.name for p in directory.iterdir()) == sorted([MANIFEST_NAME, output])
    assert collections.Counter(ids_in(store)) == collections.Counter(ids)
    assert store.verify() == []


def test_compaction_sets_aside_an_input_whose_bytes_differ_from_the_manifest_and_merges_the_rest(
        tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    directory, _, ids = compaction_states(tmp_path, store, journal_dir)
    victim = sorted(p for p in directory.iterdir() if p.name.endswith(".parquet"))[1]
    lost = set(pq.read_table(victim).column("record_id").to_pylist())
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 1
    victim.write_bytes(bytes(data))
    lines: list[str] = []
    store.on_set_aside = lines.append
    result = store.compact()
    [line] = lines
    assert line.startswith(f"{victim}: sha256 differs from the manifest") and "set aside as" in line
    assert (tmp_path / "root" / "corrupt" / "raw" / USD.path / victim.name).read_bytes() == bytes(data)
    assert result.files_in == 2 and result.files_out == 1
    assert sorted(ids_in(store)) == sorted(set(ids) - lost)
    assert store.verify() == []
    assert not (directory / compaction.INTENT_NAME).exists()


# --- other roots ---------------------------------------------------------------------------------------------------


def test_a_file_uri_root_works(tmp_path: Path, journal_dir: Path) -> None:
    store = RawStore((tmp_path / "via-uri").as_uri())
    segment, stored = segment_of(journal_dir, [make_record(0), make_record(1)])
    store.ingest_segment(segment)
    assert (tmp_path / "via-uri" / "raw" / USD.path / MANIFEST_NAME).exists()
    assert sorted(ids_in(store)) == sorted(r.record_id for r in stored)
    assert store.verify() == []


def test_a_subtree_filesystem_root_works(tmp_path: Path, journal_dir: Path) -> None:
    (tmp_path / "sub").mkdir()
    filesystem = pafs.SubTreeFileSystem(str(tmp_path / "sub"), pafs.LocalFileSystem())
    store = RawStore("data", filesystem=filesystem)
    ids = ingest_many(store, journal_dir, segments=3)
    store.compact()
    assert (tmp_path / "sub" / "data" / "raw" / USD.path / MANIFEST_NAME).exists()
    assert sorted(ids_in(store)) == sorted(ids)
    assert store.verify() == []


def test_an_in_memory_filesystem_works_like_an_object_store(journal_dir: Path) -> None:
    filesystem = pafs._MockFileSystem()
    store = RawStore("bucket/prefix", filesystem=filesystem)
    ids = ingest_many(store, journal_dir, segments=4, markets=("BTCUSD", "BTCEUR"))
    assert store.compact().groups == 2
    names = [i.base_name for i in filesystem.get_file_info(pafs.FileSelector("bucket/prefix", recursive=True))]
    assert not [n for n in names if n.endswith(".tmp") or n.startswith(".")]  # objects are PUT under final names
    assert sorted(ids_in(store)) == sorted(ids)
    assert store.verify() == []


# --- verify and errors ---------------------------------------------------------------------------------------------


def test_verify_reports_unlisted_missing_altered_and_duplicated_files(
        tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    ingest_many(store, journal_dir, segments=3)
    directory = partition_dir(tmp_path / "root", USD)
    first, second, third = [directory / f.name for f in store.files(USD)]
    shutil.copy(first, directory / "part-stray.parquet")
    data = bytearray(second.read_bytes())
    data[100] ^= 1
    second.write_bytes(bytes(data))
    manifest = orjson.loads((directory / MANIFEST_NAME).read_bytes())
    manifest["files"].append({**manifest["files"][0], "name": "part-copy.parquet"})
    (directory / MANIFEST_NAME).write_bytes(orjson.dumps(manifest))
    shutil.copy(first, directory / "part-copy.parquet")  # listed twice under two names: duplicate rows
    third.unlink()
    problems = store.verify()
    assert all("\n" not in p for p in problems)
    text = "\n".join(problems)
    assert f"{directory}/part-stray.parquet: not in the manifest" in text
    assert f"{second}: sha256 or size differs from the manifest" in text
    assert f"{third}: listed in the manifest but missing" in text
    assert "20 duplicate record_id(s) in" in text and "part-copy.parquet" in text


def test_verify_reports_rows_filed_under_another_partition(tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    ingest_many(store, journal_dir, segments=1, markets=("BTCUSD", "BTCEUR"))
    eur = Partition("mtgox", "ticker", "BTCEUR", "2013-04-01")
    [entry] = store.files(USD)
    stray = partition_dir(tmp_path / "root", eur) / "part-misfiled.parquet"
    shutil.copy(partition_dir(tmp_path / "root", USD) / entry.name, stray)
    store._write_manifest(store.manifest(eur).replacing(add=[dataclasses.replace(entry, name=stray.name)]))
    problems = store.verify()
    assert f"{stray}: holds rows of another partition" in problems


def test_ingesting_a_segment_another_process_already_ingested_returns_zero(
        tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    segment, _ = segment_of(journal_dir, [make_record()])
    other = RawStore(str(tmp_path / "root"))  # e.g. `marketrec compact` recovering while the collector runs
    assert other.recover(journal_dir) == 1
    assert store.ingest_segment(segment) == 0
    assert store.verify() == []


def test_read_table_reads_only_files_the_manifests_list(tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    ids = ingest_many(store, journal_dir, segments=2)
    directory = partition_dir(tmp_path / "root", USD)
    shutil.copy(next(directory.glob("part-*.parquet")), directory / "part-stray.parquet")
    assert sorted(ids_in(store)) == sorted(ids)
    assert store.read_table(["market"]).column_names == ["market"]
    assert RawStore(str(tmp_path / "empty")).read_table().schema.equals(SCHEMA)


def test_a_damaged_manifest_is_a_one_line_corrupt_file_error_naming_it(
        tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    ingest_many(store, journal_dir, segments=1)
    manifest = partition_dir(tmp_path / "root", USD) / MANIFEST_NAME
    manifest.write_bytes(b'{"version": 1, "files": [')
    with pytest.raises(CorruptFileError) as info:
        store.files(USD)
    assert str(info.value).startswith(f"{manifest}: unreadable manifest")
    assert "\n" not in str(info.value)
    assert [p for p in store.verify() if str(manifest) in p]


def test_a_damaged_parquet_file_is_a_one_line_corrupt_file_error_when_read(
        tmp_path: Path, store: RawStore, journal_dir: Path) -> None:
    ingest_many(store, journal_dir, segments=1)
    [entry] = store.files(USD)
    (partition_dir(tmp_path / "root", USD) / entry.name).write_bytes(b"PAR1 not parquet at all PAR1")
    with pytest.raises(StoreError) as info:
        store.read_table()
    assert "\n" not in str(info.value)


def test_a_root_that_cannot_be_created_is_a_one_line_store_error(tmp_path: Path, journal_dir: Path) -> None:
    (tmp_path / "a-file").write_bytes(b"")
    store = RawStore(str(tmp_path / "a-file" / "root"))
    segment, _ = segment_of(journal_dir, [make_record()])
    with pytest.raises(StoreError) as info:
        store.ingest_segment(segment)
    assert str(tmp_path / "a-file") in str(info.value)
    assert "\n" not in str(info.value)
    assert segment.exists()  # nothing stored, nothing lost


def test_an_unsupported_uri_is_a_one_line_store_error() -> None:
    with pytest.raises(StoreError, match=r"^raw store nosuch://bucket/x: cannot open: ") as info:
        RawStore("nosuch://bucket/x")
    assert "\n" not in str(info.value)


def test_a_segment_damaged_in_the_middle_is_set_aside_whole_and_its_intact_records_ingested(
        store: RawStore, journal_dir: Path) -> None:
    segment, stored = segment_of(journal_dir, [make_record(0, body=b"a" * 100), make_record(1), make_record(2)])
    data = bytearray(segment.read_bytes())
    data[50] ^= 0xFF
    segment.write_bytes(bytes(data))
    lines: list[str] = []
    store.on_set_aside = lines.append
    assert store.recover(journal_dir) == 2
    assert sorted(ids_in(store)) == sorted(r.record_id for r in stored[1:])
    assert (journal_dir / "corrupt" / segment.name).read_bytes() == bytes(data)
    assert not segment.exists()
    [line] = lines
    assert str(segment) in line and "at offsets 0.." in line and "2 intact records" in line


def test_records_table_matches_the_schema_for_nulls_and_extremes(store: RawStore, journal_dir: Path) -> None:
    odd = [make_record(0, http_status=None, error_class="timeout", body=b""),
           make_record(1, api_version=-128, http_status=-32768, sent_at=0),
           make_record(2, received_at=T0 + DAY_US - 1, error_class="http_5xx", http_status=32767)]
    segment, stored = segment_of(journal_dir, odd)
    store.ingest_segment(segment)
    table = store.read_table()
    rows = {r["record_id"]: r for r in table.to_pylist()}
    assert rows[stored[0].record_id]["http_status"] is None
    assert rows[stored[1].record_id]["latency_us"] == stored[1].received_at
    assert rows[stored[2].record_id]["error_class"] == "http_5xx"
    assert table.schema.equals(SCHEMA)
    assert pa.types.is_binary(table.schema.field("body").type)
