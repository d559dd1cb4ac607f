"""Compaction: a partition's small Parquet files merged into files near the target size, safe to kill.

One group of input files at a time, inside the partition's directory:

    1. read the inputs, checking each against the manifest's sha256
    2. write the intent `_compaction.json`: {"output": <name>, "inputs": [<names>]}
    3. write the output: the inputs' rows sorted by (received_at, record_id)
    4. replace the manifest, inputs out and output in          <- the commit point
    5. delete the inputs, fsync the directory, delete the intent

`resolve` (run by `RawStore.recover` and before every compaction) reads a leftover intent and
settles it by the manifest alone: if the manifest lists the output, the commit happened and the
inputs still on disk are deleted; if not, the output is deleted and the inputs, still listed,
stay. The manifest lists every record exactly once at every moment; only a glob over `*.parquet`
sees inputs and output together, between steps 3 and 5.

The output is named after the first segment it holds and a digest of its inputs
(`part-<segment_id>-c<digest>.parquet`), so it never collides with an ingested `part-<segment_id>.parquet`;
the manifest keeps the segment ids of every merged file, which is how a replayed segment knows its
rows are already stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
import pyarrow as pa

from .errors import CorruptFileError, StoreError

if TYPE_CHECKING:
    from .rawstore import ManifestFile, Partition, RawStore

INTENT_NAME = "_compaction.json"
ROW_ORDER = [("received_at", "ascending"), ("record_id", "ascending")]
# Files under half the target are merged; a bigger one is near enough, and rewriting it would cost more than it saves.
SMALL_FRACTION = 0.5


@dataclass(frozen=True, slots=True)
class CompactionResult:
    groups: int = 0  # merges done
    files_in: int = 0
    files_out: int = 0
    rows: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    resolved: int = 0  # interrupted compactions settled first


def plan(files: Sequence[ManifestFile], target_bytes: int) -> list[tuple[ManifestFile, ...]]:
    """Groups of two or more small files, consecutive in time, each group's total within `target_bytes`."""
    small = sorted((f for f in files if f.bytes < target_bytes * SMALL_FRACTION),
                   key=lambda f: (f.first_received_at, f.name))
    groups: list[tuple[ManifestFile, ...]] = []
    current: list[ManifestFile] = []
    size = 0
    for file in small:
        if current and size + file.bytes > target_bytes:
            if len(current) > 1:
                groups.append(tuple(current))
            current, size = [], 0
        current.append(file)
        size += file.bytes
    if len(current) > 1:
        groups.append(tuple(current))
    return groups


def output_name(group: Sequence[ManifestFile]) -> str:
    first = min(s for f in group for s in f.segments) if any(f.segments for f in group) else "merged"
    digest = hashlib.sha256("\n".join(sorted(f.name for f in group)).encode()).hexdigest()[:12]
    return f"part-{first}-c{digest}.parquet"


def compact(store: RawStore, partitions: Sequence[Partition],
            progress: Callable[[int, int], None] | None = None) -> CompactionResult:
    """Settle interrupted compactions, then merge every planned group; the caller holds the writer lock."""
    resolved = sum(resolve(store, p) is not None for p in partitions)
    work = [(p, group) for p in partitions for group in plan(store.files(p), store.target_file_bytes)]
    if progress is not None:
        progress(0, len(work))
    files_in = rows = bytes_in = bytes_out = 0
    for done, (partition, group) in enumerate(work, start=1):
        merged_rows, merged_bytes = compact_group(store, partition, group)
        files_in += len(group)
        bytes_in += sum(f.bytes for f in group)
        rows += merged_rows
        bytes_out += merged_bytes
        if progress is not None:
            progress(done, len(work))
    return CompactionResult(len(work), files_in, len(work), rows, bytes_in, bytes_out, resolved)


def compact_group(store: RawStore, partition: Partition, group: Sequence[ManifestFile]) -> tuple[int, int]:
    """Merge `group` (files the partition's manifest lists) into one file; returns its rows and bytes."""
    manifest = store.manifest(partition)
    inputs = [f.name for f in group]
    if not set(inputs) <= manifest.names:
        raise StoreError(f"{store._path(partition, inputs[0])}: no longer in the manifest; compaction skipped")
    tables = [store._read_part(partition, f) for f in group]
    table = pa.concat_tables(tables).sort_by(ROW_ORDER)
    if table.num_rows != sum(f.rows for f in group):
        raise CorruptFileError(f"partition {partition.path}: the files hold {table.num_rows} rows, "
                               f"the manifest says {sum(f.rows for f in group)}")
    output = output_name(group)
    intent = orjson.dumps({"version": 1, "output": output, "inputs": inputs})
    store._write_atomic(store._path(partition, INTENT_NAME), intent)
    entry = store._write_part(partition, output, table, (s for f in group for s in f.segments))
    store._write_manifest(manifest.replacing(remove=inputs, add=[entry]))
    _finish(store, partition, inputs)
    return table.num_rows, entry.bytes


def resolve(store: RawStore, partition: Partition) -> str | None:
    """Finish or undo an interrupted compaction in `partition`: "completed", "rolled back", or None if none."""
    path = store._path(partition, INTENT_NAME)
    data = store._read_bytes(path)
    if data is None:
        return None
    try:
        intent = orjson.loads(data)
        output, inputs = intent["output"], intent["inputs"]
        if not all(isinstance(n, str) and n and "/" not in n for n in [output, *inputs]):
            raise ValueError("file names expected")
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CorruptFileError(f"{path}: unreadable compaction intent ({exc})") from exc
    listed = store.manifest(partition).names
    if output in listed:
        _finish(store, partition, [name for name in inputs if name not in listed])
        return "completed"
    if output not in inputs:
        store._delete(store._path(partition, output))
        store._sync_dir(partition)
    store._delete(path)
    return "rolled back"


def _finish(store: RawStore, partition: Partition, inputs: Sequence[str]) -> None:
    for name in inputs:
        store._delete(store._path(partition, name))
    # The inputs' deletion must be durable before the intent goes: resurrected inputs would be duplicates.
    store._sync_dir(partition)
    store._delete(store._path(partition, INTENT_NAME))

