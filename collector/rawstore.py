"""The raw store: journal segments rolled into hive-partitioned Parquet, with a manifest per partition.

Under the root (a local path, or a URI: `file:///srv/marketrec`, `s3://bucket/prefix`):

    raw/exchange=E/endpoint=P/market=M/date=YYYY-MM-DD/part-<segment_id>.parquet
    raw/exchange=E/endpoint=P/market=M/date=YYYY-MM-DD/_manifest.json

The manifest is the truth: the files of the partition, each with rows, first and last received_at,
sha256 of its bytes, size, and the journal segments whose records it holds; and partition totals.

Exactly once. A segment's records for one partition go to `part-<segment_id>.parquet`, so a replay
of the same segment (a crash before it was deleted) rewrites that file rather than adding a second;
once compaction has merged the file away, the manifest still names the segment and a replay skips
the partition. The segment is deleted last, after every file and manifest is durable.

Atomic files. On a local root a file is written as `.<name>.<token>.tmp`, fsynced, renamed over the
final name, and the directory fsynced; on an object store the final object is PUT directly (a PUT is
atomic). Raw-store I/O goes through `pyarrow.fs`, but for a local root's file bytes (written with
`os`, through the `writev` seam of `collector.disk`) and fsyncs.

A full disk. A write refused with ENOSPC or EDQUOT raises DiskFull. The temporary file is removed,
so readers never see part of a file, and the segment being ingested is not deleted (that is the
last step), so a later `recover()` or `ingest_segment` stores it, exactly once as always.

Damage. A journal segment with damage in it is not refused: its intact records are ingested, the
file is kept whole under the journal's `corrupt/` (`collector.journal.set_aside`), and one line
says so (`on_set_aside`, a log event by default). A Parquet file that compaction finds unreadable,
or unlike its manifest entry, is moved to `corrupt/raw/<partition>/` beside `raw/` (out of the
readers' globs), dropped from the manifest, reported the same way, and the rest is compacted.

Readers that glob `raw/**/*.parquet` (DuckDB in the pipelines) see both copies of the merged rows
for the short window between a compaction's output and the deletion of its inputs (and, after a
crash in that window, until recovery). They must dedupe on record_id
(`SELECT * FROM read_parquet('raw/**/*.parquet') QUALIFY row_number() OVER (PARTITION BY record_id) = 1`)
or read only the files `_manifest.json` lists (`RawStore.read_table` does).

One writer at a time. On a local root, ingest, recover and compact hold an exclusive lock on
`raw/.writer.lock` (processes queue behind it); on an object store, run a single writer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from . import compaction, log
from .compaction import INTENT_NAME, ROW_ORDER, CompactionResult
from .disk import Writev, reason, store_error, write_file
from .errors import CollectorError, CorruptFileError, StoreError
from .journal import OPEN_SUFFIX, examine_segment, is_being_written, pending_segments, segment_id_of, set_aside
from .record import SCHEMA, RawRecord, is_partition_value, utc_date

RAW_DIR = "raw"
CORRUPT_DIR = "corrupt"  # beside raw/: files set aside, where no glob over raw/ finds them
MANIFEST_NAME = "_manifest.json"
TMP_SUFFIX = ".tmp"
LOCK_NAME = ".writer.lock"
MANIFEST_VERSION = 1
# Dictionaries pay off only where few distinct values repeat; on ids, nonces and bodies they are pure overhead.
DICTIONARY_COLUMNS = ["exchange", "endpoint", "market", "method", "path", "error_class", "collector_run"]
# Record ids share long prefixes, times grow slowly: both encode to a fraction of their plain size.
COLUMN_ENCODING = {"record_id": "DELTA_BYTE_ARRAY", "sent_at": "DELTA_BINARY_PACKED",
                   "received_at": "DELTA_BINARY_PACKED", "latency_us": "DELTA_BINARY_PACKED"}
STATISTICS_COLUMNS = [name for name in SCHEMA.names if name not in ("body", "params")]
# Row groups are sized by bytes: a group is the unit DuckDB reads in parallel, and a full-depth body is 5 MB.
ROW_GROUP_BYTES = 64 * 2**20
MAX_ROW_GROUP_ROWS = 1_000_000
_US_PER_DAY = 86_400_000_000


@dataclass(frozen=True, slots=True, order=True)
class Partition:
    exchange: str
    endpoint: str
    market: str
    date: str  # YYYY-MM-DD, UTC date of received_at

    @property
    def path(self) -> str:
        """The partition's directory relative to `raw/`."""
        return f"exchange={self.exchange}/endpoint={self.endpoint}/market={self.market}/date={self.date}"

    @classmethod
    def from_path(cls, relative: str) -> Partition | None:
        parts = relative.strip("/").split("/")
        keys = ("exchange", "endpoint", "market", "date")
        if len(parts) != 4 or any(not p.startswith(k + "=") for p, k in zip(parts, keys, strict=True)):
            return None
        values = [p.split("=", 1)[1] for p in parts]
        return cls(*values) if all(is_partition_value(v) for v in values) else None


@dataclass(frozen=True, slots=True)
class ManifestFile:
    name: str
    rows: int
    first_received_at: int  # µs
    last_received_at: int
    sha256: str
    bytes: int
    segments: tuple[str, ...]  # journal segments whose records the file holds

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "rows": self.rows, "first_received_at": self.first_received_at,
                "last_received_at": self.last_received_at, "sha256": self.sha256, "bytes": self.bytes,
                "segments": list(self.segments)}


@dataclass(frozen=True, slots=True)
class Manifest:
    partition: Partition
    files: tuple[ManifestFile, ...] = ()

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.files)

    def replacing(self, *, remove: Iterable[str] = (), add: Iterable[ManifestFile] = ()) -> Manifest:
        added = list(add)
        gone = set(remove) | {f.name for f in added}
        files = [f for f in self.files if f.name not in gone] + added
        return Manifest(self.partition, tuple(sorted(files, key=lambda f: f.name)))

    def to_bytes(self) -> bytes:
        p = self.partition
        return orjson.dumps({
            "version": MANIFEST_VERSION, "exchange": p.exchange, "endpoint": p.endpoint, "market": p.market,
            "date": p.date, "rows": self.rows, "bytes": self.bytes,
            "first_received_at": min((f.first_received_at for f in self.files), default=None),
            "last_received_at": max((f.last_received_at for f in self.files), default=None),
            "files": [f.to_json() for f in self.files],
        }, option=orjson.OPT_INDENT_2)

    @classmethod
    def from_bytes(cls, data: bytes, partition: Partition, where: str) -> Manifest:
        try:
            doc = orjson.loads(data)
            if doc["version"] != MANIFEST_VERSION:
                raise ValueError(f"version {doc['version']!r}")
            if (doc["exchange"], doc["endpoint"], doc["market"], doc["date"]) != (
                    partition.exchange, partition.endpoint, partition.market, partition.date):
                raise ValueError("partition keys differ from its directory")
            files = tuple(ManifestFile(str(f["name"]), int(f["rows"]), int(f["first_received_at"]),
                                       int(f["last_received_at"]), str(f["sha256"]), int(f["bytes"]),
                                       tuple(str(s) for s in f["segments"])) for f in doc["files"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise CorruptFileError(f"{where}: unreadable manifest ({_reason(exc)})") from exc
        return cls(partition, files)


# --- Parquet ----------------------------------------------------------------------------------------------------------


def records_table(records: Sequence[RawRecord]) -> pa.Table:
    """Records as a table under SCHEMA, sorted by (received_at, record_id)."""
    sent = [r.sent_at for r in records]
    received = [r.received_at for r in records]
    arrays = [
        pa.array([r.record_id for r in records], pa.string()),
        pa.array([r.exchange for r in records], pa.string()),
        pa.array([r.endpoint for r in records], pa.string()),
        pa.array([r.market for r in records], pa.string()),
        pa.array([r.api_version for r in records], pa.int8()),
        pa.array([r.method for r in records], pa.string()),
        pa.array([r.path for r in records], pa.string()),
        pa.array([r.params for r in records], pa.string()),
        pa.array(sent, pa.timestamp("us", tz="UTC")),
        pa.array(received, pa.timestamp("us", tz="UTC")),
        pa.array([b - a for a, b in zip(sent, received, strict=True)], pa.int64()),
        pa.array([r.http_status for r in records], pa.int16()),
        pa.array([r.error_class for r in records], pa.string()),
        pa.array([r.body for r in records], pa.binary()),
        pa.array([r.collector_run for r in records], pa.string()),
    ]
    return pa.Table.from_arrays(arrays, schema=SCHEMA).sort_by(ROW_ORDER)


def encode_parquet(table: pa.Table) -> pa.Buffer:
    """The Parquet bytes of `table`: zstd, dictionaries only on low-cardinality strings, body stored as is."""
    row_bytes = max(1, table.nbytes // max(1, table.num_rows))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", use_dictionary=DICTIONARY_COLUMNS,
                   column_encoding=COLUMN_ENCODING, write_statistics=STATISTICS_COLUMNS,
                   row_group_size=max(1, min(MAX_ROW_GROUP_ROWS, ROW_GROUP_BYTES // row_bytes)))
    return sink.getvalue()


def _received_range(table: pa.Table) -> tuple[int, int]:
    bounds = pc.min_max(table.column("received_at").cast(pa.int64()))
    return bounds["min"].as_py(), bounds["max"].as_py()


# --- the store --------------------------------------------------------------------------------------------------------


class RawStore:
    """Hive-partitioned Parquet of raw records, on a local disk or an object store."""

    def __init__(self, root: str, *, target_file_bytes: int = 64 * 2**20,
                 filesystem: pafs.FileSystem | None = None, writev: Writev = os.writev,
                 on_set_aside: Callable[[str], None] | None = None) -> None:
        if target_file_bytes < 1:
            raise ValueError("target_file_bytes must be positive")
        root = str(root)
        if filesystem is None:
            try:
                if "://" in root:
                    filesystem, root = pafs.FileSystem.from_uri(root)
                else:
                    filesystem, root = pafs.LocalFileSystem(), os.path.abspath(root)
            except (OSError, pa.ArrowException) as exc:
                raise StoreError(f"raw store {root}: cannot open: {_reason(exc)}") from exc
        self.root = root.rstrip("/")
        self.filesystem = filesystem
        self.target_file_bytes = target_file_bytes
        self.on_set_aside = on_set_aside or _log_set_aside
        self._writev = writev
        self._raw = f"{self.root}/{RAW_DIR}" if self.root else RAW_DIR
        self._corrupt = f"{self.root}/{CORRUPT_DIR}/{RAW_DIR}" if self.root else f"{CORRUPT_DIR}/{RAW_DIR}"
        # Where `_raw` is on the local disk, when it is: fsyncs, temporary names and the writer's lock need it.
        self._local_prefix = _local_prefix(filesystem)
        self._made_dirs: set[str] = set()
        self._thread_lock = threading.RLock()
        self._lock_file: BinaryIO | None = None
        self._lock_depth = 0

    def __repr__(self) -> str:
        return f"RawStore({self._raw!r}, {self.filesystem.type_name})"

    # -- reading -----------------------------------------------------------------------------------------------------

    def partitions(self) -> list[Partition]:
        """Every partition that has a manifest, sorted."""
        found = set()
        for info in self._list():
            if info.base_name == MANIFEST_NAME:
                partition = Partition.from_path(self._relative(_dirname(info.path)))
                if partition is not None:
                    found.add(partition)
        return sorted(found)

    def manifest(self, partition: Partition) -> Manifest:
        path = self._path(partition, MANIFEST_NAME)
        data = self._read_bytes(path)
        return Manifest(partition) if data is None else Manifest.from_bytes(data, partition, path)

    def files(self, partition: Partition) -> list[ManifestFile]:
        return list(self.manifest(partition).files)

    def read_table(self, columns: Sequence[str] | None = None) -> pa.Table:
        """All records the manifests list (never a file they do not), as one table."""
        if columns is not None and (unknown := set(columns) - set(SCHEMA.names)):
            raise ValueError(f"no such raw-store columns: {sorted(unknown)}")
        paths = [self._path(p, f.name) for p in self.partitions() for f in self.files(p)]
        if not paths:
            empty = SCHEMA.empty_table()
            return empty if columns is None else empty.select(list(columns))
        try:
            dataset = ds.dataset(paths, schema=SCHEMA, format="parquet", filesystem=self.filesystem)
            return dataset.to_table(columns=None if columns is None else list(columns))
        except OSError as exc:
            raise StoreError(f"raw store {self._raw}: cannot read: {_reason(exc)}") from exc
        except pa.ArrowException as exc:
            raise CorruptFileError(f"raw store {self._raw}: unreadable Parquet: {_reason(exc)}") from exc

    def verify(self) -> list[str]:
        """Problems, one line each: files the manifests do not list, listed files missing or altered,
        rows in the wrong partition, leftovers of interrupted writes, and duplicate record ids."""
        problems: list[str] = []
        by_dir: dict[str, list[pafs.FileInfo]] = {}
        for info in self._list():
            by_dir.setdefault(_dirname(info.path), []).append(info)
        owner: dict[str, str] = {}  # record_id -> the file that holds it
        duplicates: dict[tuple[str, str], list[str]] = {}
        for directory, infos in sorted(by_dir.items()):
            partition = Partition.from_path(self._relative(directory))
            if partition is None:
                problems += [f"{i.path}: not inside a partition directory" for i in infos
                             if i.path != f"{self._raw}/{LOCK_NAME}"]
                continue
            try:
                manifest = self.manifest(partition)
            except CorruptFileError as exc:
                problems.append(str(exc))
                continue
            listed = {f.name: f for f in manifest.files}
            present = {i.base_name for i in infos}
            for name in sorted(present - set(listed) - {MANIFEST_NAME}):
                path = f"{directory}/{name}"
                if name == INTENT_NAME:
                    problems.append(f"{path}: interrupted compaction (recover() finishes or undoes it)")
                elif name.endswith(TMP_SUFFIX):
                    problems.append(f"{path}: leftover temporary file")
                elif name.endswith(".parquet"):
                    problems.append(f"{path}: not in the manifest")
                else:
                    problems.append(f"{path}: unexpected file")
            for name, entry in sorted(listed.items()):
                path = f"{directory}/{name}"
                if name not in present:
                    problems.append(f"{path}: listed in the manifest but missing")
                    continue
                table = self._check_file(path, entry, partition, problems)
                if table is None:
                    continue
                for record_id in table.column("record_id").to_pylist():
                    first = owner.get(record_id)
                    if first is None:
                        owner[record_id] = path
                    else:
                        duplicates.setdefault((first, path), []).append(record_id)
        for (first, second), ids in sorted(duplicates.items()):
            where = f"in {first}" if first == second else f"in {first} and {second}"
            problems.append(f"{len(ids)} duplicate record_id(s) {where}, e.g. {ids[0]}")
        return problems

    def _check_file(self, path: str, entry: ManifestFile, partition: Partition,
                    problems: list[str]) -> pa.Table | None:
        data = self._read_bytes(path)
        if data is None:
            problems.append(f"{path}: listed in the manifest but missing")
            return None
        if hashlib.sha256(data).hexdigest() != entry.sha256 or len(data) != entry.bytes:
            problems.append(f"{path}: sha256 or size differs from the manifest")
            return None
        try:
            table = pq.ParquetFile(pa.BufferReader(data)).read(
                columns=["record_id", "exchange", "endpoint", "market", "received_at"])
        except pa.ArrowException as exc:
            problems.append(f"{path}: unreadable Parquet ({_reason(exc)})")
            return None
        if table.num_rows != entry.rows:
            problems.append(f"{path}: {table.num_rows} rows, the manifest says {entry.rows}")
        if table.num_rows:
            first, last = _received_range(table)
            if (first, last) != (entry.first_received_at, entry.last_received_at):
                problems.append(f"{path}: received_at range differs from the manifest")
            keys = {"exchange": partition.exchange, "endpoint": partition.endpoint, "market": partition.market}
            if (any(pc.unique(table.column(c)).to_pylist() != [v] for c, v in keys.items())
                    or utc_date(first) != partition.date or utc_date(last) != partition.date):
                problems.append(f"{path}: holds rows of another partition")
        return table

    # -- writing -----------------------------------------------------------------------------------------------------

    def ingest_segment(self, path: Path) -> int:
        """Write a closed (or crash-left) segment's records into their partitions, then delete it.

        Returns the records written. Safe to repeat after an interruption at any point: the same
        files are rewritten, and partitions whose rows compaction has already merged are skipped.
        A segment that is gone once the writer's lock is held was ingested by another process's
        recovery meanwhile (only ingestion deletes segments): 0. A damaged segment is set aside
        whole and its intact records are ingested (see the module's docstring).
        """
        path = Path(path)
        segment_id = segment_id_of(path)
        if path.suffix == OPEN_SUFFIX and is_being_written(path):
            raise StoreError(f"{path}: segment is still being written by a live journal")
        with self._writer():
            if not path.exists():
                return 0
            check = examine_segment(path)
            if check.damaged:
                aside = set_aside(check, writev=self._writev)
                self.on_set_aside(aside.message)
                if aside.kept is None:
                    return 0
                path = aside.kept
            groups: dict[tuple[str, str, str, int], list[RawRecord]] = {}
            for record in check.records:
                key = (record.exchange, record.endpoint, record.market, record.received_at // _US_PER_DAY)
                groups.setdefault(key, []).append(record)
            name = f"part-{segment_id}.parquet"
            written = 0
            for (exchange, endpoint, market, _), records in sorted(groups.items()):
                partition = Partition(exchange, endpoint, market, utc_date(records[0].received_at))
                if not all(is_partition_value(v) for v in (exchange, endpoint, market)):
                    raise CorruptFileError(f"{path}: record {records[0].record_id} has no valid partition keys")
                manifest = self.manifest(partition)
                if any(segment_id in f.segments and f.name != name for f in manifest.files):
                    continue  # already ingested, and merged by compaction since
                try:
                    table = records_table(records)
                except (pa.ArrowException, OverflowError, TypeError) as exc:
                    raise CorruptFileError(f"{path}: records that do not fit the schema ({_reason(exc)})") from exc
                entry = self._write_part(partition, name, table, (segment_id,))
                self._write_manifest(manifest.replacing(add=[entry]))
                written += len(records)
            try:
                # No directory fsync: a deletion a power cut undoes only brings back a segment that replays to nothing.
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise store_error(f"{path}: ingested but cannot delete: {exc.strerror or exc}", path, exc) from exc
            return written

    def recover(self, journal_dir: Path) -> int:
        """Bring the store back to a clean state after a crash; returns the records ingested.

        Removes temporary files, finishes or undoes interrupted compactions, then ingests every
        pending journal segment, oldest first (including a `.journal` a crash left open).
        """
        with self._writer():
            infos = self._list()
            for info in infos:
                if info.base_name.endswith(TMP_SUFFIX):
                    self._delete(info.path)
            for info in infos:
                if info.base_name == INTENT_NAME:
                    partition = Partition.from_path(self._relative(_dirname(info.path)))
                    if partition is not None:
                        compaction.resolve(self, partition)
            return sum(self.ingest_segment(segment) for segment in pending_segments(Path(journal_dir)))

    def compact(self, *, partitions: Iterable[Partition] | None = None,
                progress: Callable[[int, int], None] | None = None) -> CompactionResult:
        """Merge each partition's small files into files near `target_file_bytes` (see `collector.compaction`).

        `progress(done, total)` is called with groups of files merged so far. Safe to kill at any moment:
        `recover()` (or the next `compact()`) finishes or undoes what was in flight. A file it cannot
        read is set aside (see the module's docstring) and the partition compacted without it.
        """
        with self._writer():
            chosen = self.partitions() if partitions is None else sorted(set(partitions))
            planned = {p: len(compaction.plan(self.files(p), self.target_file_bytes)) for p in chosen}
            result, done = CompactionResult(), 0
            if progress is not None:
                progress(0, sum(planned.values()))
            for partition in chosen:
                def step(n: int, total: int, base: int = done, p: Partition = partition) -> None:
                    planned[p] = total  # a file set aside changes the partition's plan
                    if progress is not None and n:
                        progress(base + n, sum(planned.values()))

                # One partition at a time, so that a damaged file costs a retry of its own partition only;
                # each retry has at least one file fewer to read, so this ends.
                while True:
                    try:
                        merged = compaction.compact(self, [partition], step)
                        break
                    except CorruptFileError:
                        if not self._set_aside_unreadable(partition):
                            raise
                result = _added(result, merged)
                done += merged.groups
            return result

    def close(self) -> None:
        """Release the writer's lock file; the store can still be used (it reopens it)."""
        with self._thread_lock:
            if self._lock_file is not None and self._lock_depth == 0:
                self._lock_file.close()
                self._lock_file = None

    def __enter__(self) -> RawStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals (also used by collector.compaction) ---------------------------------------------------------------

    def _path(self, partition: Partition, name: str) -> str:
        return f"{self._raw}/{partition.path}/{name}"

    def _relative(self, path: str) -> str:
        return path[len(self._raw) + 1:] if path.startswith(self._raw + "/") else path

    def _list(self) -> list[pafs.FileInfo]:
        selector = pafs.FileSelector(self._raw, recursive=True, allow_not_found=True)
        with _translate("list", self._raw):
            return [i for i in self.filesystem.get_file_info(selector) if i.type == pafs.FileType.File]

    def _read_bytes(self, path: str) -> bytes | None:
        try:
            with self.filesystem.open_input_file(path) as f:
                return f.read()
        except FileNotFoundError:
            return None
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(f"{path}: cannot read: {_reason(exc)}") from exc

    def _read_part(self, partition: Partition, entry: ManifestFile) -> pa.Table:
        """A listed file's rows, after checking its bytes against the manifest's sha256."""
        path = self._path(partition, entry.name)
        data = self._read_bytes(path)
        if data is None:
            raise CorruptFileError(f"{path}: listed in the manifest but missing")
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise CorruptFileError(f"{path}: sha256 differs from the manifest")
        try:
            table = pq.ParquetFile(pa.BufferReader(data)).read()  # a plain file read: no dataset machinery
            return table if table.schema.equals(SCHEMA) else table.select(SCHEMA.names).cast(SCHEMA)
        except (pa.ArrowException, KeyError) as exc:
            raise CorruptFileError(f"{path}: unreadable Parquet ({_reason(exc)})") from exc

    def _write_part(self, partition: Partition, name: str, table: pa.Table, segments: Iterable[str]) -> ManifestFile:
        """Write `table` as the partition's file `name` (atomically) and describe it for the manifest."""
        data = encode_parquet(table)
        first, last = _received_range(table)
        self._ensure_dir(partition)
        self._write_atomic(self._path(partition, name), data)
        return ManifestFile(name, table.num_rows, first, last, hashlib.sha256(data).hexdigest(), data.size,
                            tuple(sorted(set(segments))))

    def _write_manifest(self, manifest: Manifest) -> None:
        self._ensure_dir(manifest.partition)
        self._write_atomic(self._path(manifest.partition, MANIFEST_NAME), manifest.to_bytes())

    def _write_atomic(self, path: str, data: bytes | pa.Buffer) -> None:
        if self._local_prefix is None:
            with _translate("write", path), self.filesystem.open_output_stream(path, compression=None) as out:
                out.write(data)
            return
        directory = _dirname(path)
        tmp = f"{directory}/.{path.rsplit('/', 1)[-1]}.{uuid.uuid4().hex[:12]}{TMP_SUFFIX}"
        try:
            try:
                write_file(self._local_prefix + tmp, [data], self._writev)
            except OSError as exc:
                raise store_error(f"{path}: cannot write: {reason(exc)}", path, exc) from exc
            with _translate("write", path):
                self.filesystem.move(tmp, path)
                _fsync(self._local_prefix + directory, directory=True)
        except CollectorError:
            with contextlib.suppress(OSError, pa.ArrowException):
                self.filesystem.delete_file(tmp)
            raise

    def _set_aside_unreadable(self, partition: Partition) -> int:
        """Move the files compaction would read and cannot out of `raw/` and the manifest; returns how many."""
        manifest = self.manifest(partition)
        bad: list[tuple[ManifestFile, str]] = []
        for group in compaction.plan(manifest.files, self.target_file_bytes):
            for entry in group:
                try:
                    rows = self._read_part(partition, entry).num_rows
                except CorruptFileError as exc:
                    bad.append((entry, str(exc)))
                    continue
                if rows != entry.rows:
                    bad.append((entry, f"{self._path(partition, entry.name)}: {rows} rows, the manifest says "
                                       f"{entry.rows}"))
        for entry, why in bad:
            source = self._path(partition, entry.name)
            target = self._set_aside_target(partition, entry.name)
            with _translate("set aside", source):
                if self.filesystem.get_file_info(source).type == pafs.FileType.NotFound:
                    where = "it is gone, so it is only dropped from the manifest"
                else:
                    self.filesystem.create_dir(_dirname(target), recursive=True)
                    self.filesystem.move(source, target)  # before the manifest: a file is never out of both
                    where = f"set aside as {target}, out of the manifest"
            self.on_set_aside(f"{why}: {where} ({entry.rows} rows); the partition's other files are compacted")
        if bad:
            self._write_manifest(manifest.replacing(remove=[entry.name for entry, _ in bad]))
            self._sync_dir(partition)
        return len(bad)

    def _set_aside_target(self, partition: Partition, name: str) -> str:
        base = f"{self._corrupt}/{partition.path}/{name}"
        with _translate("list", base):
            for n in range(1000):
                target = base if n == 0 else f"{base}.{n}"
                if self.filesystem.get_file_info(target).type == pafs.FileType.NotFound:
                    return target
        raise StoreError(f"{base}: too many files set aside under this name")

    def _delete(self, path: str) -> None:
        with _translate("delete", path), contextlib.suppress(FileNotFoundError):
            self.filesystem.delete_file(path)

    def _sync_dir(self, partition: Partition) -> None:
        """Make deletions in the partition's directory durable (a no-op on object stores)."""
        if self._local_prefix is not None:
            directory = f"{self._raw}/{partition.path}"
            with _translate("fsync", directory):
                _fsync(self._local_prefix + directory, directory=True)

    def _ensure_dir(self, partition: Partition) -> None:
        directory = f"{self._raw}/{partition.path}"
        if directory in self._made_dirs:
            return
        with _translate("create", directory):
            self.filesystem.create_dir(directory, recursive=True)
            if self._local_prefix is not None:
                # New directories must reach the disk with their parents' entries, or a power cut loses them.
                parent = directory
                while parent != self.root and "/" in parent:
                    parent = _dirname(parent)
                    _fsync(self._local_prefix + parent, directory=True)
        self._made_dirs.add(directory)

    @contextlib.contextmanager
    def _writer(self) -> Iterator[None]:
        """Hold the store's writer lock: one thread of one process mutates the store at a time."""
        with self._thread_lock:
            if self._lock_depth == 0 and self._local_prefix is not None:
                if self._lock_file is None:
                    path = self._local_prefix + f"{self._raw}/{LOCK_NAME}"
                    with _translate("lock", path):
                        self.filesystem.create_dir(self._raw, recursive=True)
                        self._lock_file = open(path, "ab")  # noqa: SIM115 - held for the store's lifetime
                with _translate("lock", self._raw):
                    fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX)
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
                if self._lock_depth == 0 and self._lock_file is not None:
                    fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)


# --- helpers ----------------------------------------------------------------------------------------------------------


def _local_prefix(filesystem: pafs.FileSystem) -> str | None:
    """What turns a path of `filesystem` into a local OS path ("" for the local filesystem); None if remote."""
    if isinstance(filesystem, pafs.LocalFileSystem):
        return ""
    if isinstance(filesystem, pafs.SubTreeFileSystem):
        inner = _local_prefix(filesystem.base_fs)
        return None if inner is None else inner + filesystem.base_path
    return None


def _dirname(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _fsync(path: str, *, directory: bool = False) -> None:
    fd = os.open(path or ".", os.O_RDONLY | os.O_CLOEXEC | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _log_set_aside(line: str) -> None:
    log.event("set_aside", note=line)


def _added(a: CompactionResult, b: CompactionResult) -> CompactionResult:
    return CompactionResult(*(x + y for x, y in zip(dataclasses.astuple(a), dataclasses.astuple(b), strict=True)))


def _reason(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


@contextlib.contextmanager
def _translate(action: str, path: str) -> Iterator[None]:
    """OSError and pyarrow errors become one-line StoreErrors naming the file (DiskFull for no space)."""
    try:
        yield
    except CollectorError:
        raise
    except (OSError, pa.ArrowException) as exc:
        raise store_error(f"{path}: cannot {action}: {_reason(exc)}", path, exc) from exc
