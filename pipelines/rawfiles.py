"""Which raw Parquet files exist, read from the partitions' manifests (the raw store's truth).

Only files a manifest lists are loaded: a file compaction has just written but not yet
committed, or one a crash left behind, is not there yet. The raw record's columns and the
manifest's fields are the contract with the collector; this module does not import it.
Works on a local root and on any URI pyarrow.fs knows (`s3://bucket/prefix`, `file:///...`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import orjson
import pyarrow as pa
import pyarrow.fs as pafs

from .errors import RawStoreError

MANIFEST_NAME = "_manifest.json"
KEYS = ("exchange", "endpoint", "market", "date")


@dataclass(frozen=True, slots=True, order=True)
class RawFile:
    path: str  # for DuckDB: an absolute local path, or the URI-less path inside `filesystem`
    exchange: str
    endpoint: str
    market: str
    date: str
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class RawRoot:
    """A data root: where its raw store lies, and on which filesystem."""

    filesystem: pafs.FileSystem
    raw_dir: str
    local: bool

    @classmethod
    def open(cls, root: str, filesystem: pafs.FileSystem | None = None) -> RawRoot:
        """`root` on `filesystem`, or (without one) a local path or a URI pyarrow.fs resolves."""
        if filesystem is not None:
            return cls(filesystem, _join(root, "raw"), isinstance(filesystem, pafs.LocalFileSystem))
        try:
            if "://" in root:
                filesystem, path = pafs.FileSystem.from_uri(root)
            else:
                filesystem, path = pafs.LocalFileSystem(), os.path.abspath(root)
        except (OSError, pa.ArrowException) as exc:
            raise RawStoreError(f"data root {root}: cannot open ({exc})") from None
        if isinstance(filesystem, pafs.LocalFileSystem) and not os.path.isdir(path):
            raise RawStoreError(f"data root {root}: no such directory")
        return cls(filesystem, _join(path, "raw"), isinstance(filesystem, pafs.LocalFileSystem))

    @property
    def meta_dir(self) -> str:
        """Where the collector exports coverage and gaps, beside raw/."""
        parent = self.raw_dir.rsplit("/", 1)[0] if "/" in self.raw_dir else ""
        return _join(parent, "meta")

    def files(self, problems: list[tuple[str, str]] | None = None) -> list[RawFile]:
        """Every file the manifests list, sorted by partition and name. An absent raw/ is an empty store.

        A manifest that cannot be read raises RawStoreError; given `problems`, it is appended there instead,
        as (path, why), and its partition's files are left out, so that the rest can be built.
        """
        try:
            infos = self.filesystem.get_file_info(pafs.FileSelector(self.raw_dir, recursive=True, allow_not_found=True))
        except (OSError, pa.ArrowException) as exc:
            raise RawStoreError(f"{self.raw_dir}: cannot list the raw store ({exc})") from None
        found: list[RawFile] = []
        for info in infos:
            if info.base_name == MANIFEST_NAME and info.type == pafs.FileType.File:
                try:
                    found += self._manifest_files(info.path)
                except RawStoreError as exc:
                    if problems is None:
                        raise
                    problems.append((info.path, str(exc).removeprefix(f"{info.path}: ")))
        return sorted(found)

    def _manifest_files(self, path: str) -> list[RawFile]:
        directory = path.rsplit("/", 1)[0]
        parts = directory[len(self.raw_dir) + 1:].split("/")
        values = dict(p.split("=", 1) for p in parts if "=" in p)
        if tuple(values) != KEYS:
            return []  # not a partition directory
        try:
            with self.filesystem.open_input_stream(path) as stream:
                doc = orjson.loads(stream.read())
            return [RawFile(f"{directory}/{f['name']}", values["exchange"], values["endpoint"], values["market"],
                            values["date"], int(f["rows"]), int(f["bytes"]), str(f["sha256"]))
                    for f in doc["files"]]
        except (OSError, pa.ArrowException, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise RawStoreError(f"{path}: unreadable manifest ({type(exc).__name__}: {exc})") from None

    def read_table(self, files: list[RawFile], columns: list[str]) -> pa.Table:
        """The records of `files` (for roots DuckDB cannot read itself: object stores)."""
        import pyarrow.parquet as pq

        tables = []
        for f in files:
            try:
                table = pq.read_table(f.path, filesystem=self.filesystem, columns=columns)
            except (OSError, pa.ArrowException) as exc:
                raise RawStoreError(f"{f.path}: unreadable raw file ({exc})") from None
            tables.append(table.append_column("file", pa.array([f.path] * table.num_rows, pa.string())))
        return pa.concat_tables(tables) if tables else pa.table({c: [] for c in [*columns, "file"]})


def _join(directory: str, name: str) -> str:
    """`directory/name`; just `name` at a filesystem's root ("" in a SubTreeFileSystem)."""
    return f"{directory.rstrip('/')}/{name}" if directory.rstrip("/") else (f"/{name}" if directory else name)
