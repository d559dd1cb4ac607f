"""Make or update the warehouse: new raw files through the staging models into the marts.

One build is one DuckDB transaction: it commits whole or not at all, so a build killed at any
moment leaves the warehouse as the previous build left it, and the next build redoes the work.
`full=True` builds a new warehouse beside the old one and renames it over, so readers never see
a half-built file.

Incremental by default: raw files already loaded (by path and sha256) are not read again, and
records already loaded (by record_id: compaction rewrites records into new files) are not parsed
again. A file whose bytes do not match its manifest's sha256, that is no readable Parquet file of
raw records, or whose manifest cannot be read, is set aside (`raw_file_problems`, and one line each
in `BuildResult.files_set_aside`) and the rest is processed; a later build looks at it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from .errors import ModelError, RawStoreError, WarehouseError
from .models import SQL_DIR, Model, load_models
from .rawfiles import RawFile, RawRoot

WAREHOUSE_NAME = "warehouse.duckdb"
# The shape of the tables the models make. A warehouse of another shape (an older marketrec's) is
# rebuilt from the raw store, which is the record; the warehouse is derived from it.
SCHEMA_VERSION = 4
RAW_COLUMNS = ["record_id", "exchange", "endpoint", "market", "api_version", "method", "path", "params", "sent_at",
               "received_at", "latency_us", "http_status", "error_class", "body", "collector_run"]
Progress = Callable[[str, int, int], None]  # (step, done, total)

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS _loaded_files (path VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, rows BIGINT NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS _loaded_records (record_id VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS raw_file_problems (path VARCHAR NOT NULL, problem VARCHAR NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL);
CREATE TABLE IF NOT EXISTS _warehouse (schema_version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS _builds (started_at TIMESTAMPTZ NOT NULL, seconds DOUBLE NOT NULL, files BIGINT NOT NULL,
    records BIGINT NOT NULL, quarantined BIGINT NOT NULL, full_build BOOLEAN NOT NULL);
COMMENT ON TABLE raw_file_problems IS
    'Raw files the last build set aside (unreadable, or bytes unlike the manifest''s sha256)';
"""
_RAW_NEW_DDL = """CREATE OR REPLACE TEMP TABLE raw_new (record_id VARCHAR, exchange VARCHAR, endpoint VARCHAR,
    market VARCHAR, api_version TINYINT, method VARCHAR, path VARCHAR, params VARCHAR, sent_at TIMESTAMPTZ,
    received_at TIMESTAMPTZ, latency_us BIGINT, http_status SMALLINT, error_class VARCHAR, body BLOB,
    collector_run VARCHAR, file VARCHAR)"""
_META = {
    "coverage": pa.schema([("exchange", pa.string()), ("market", pa.string()), ("after_tid", pa.int64()),
                           ("through_tid", pa.int64()), ("first_us", pa.int64()), ("last_us", pa.int64()),
                           ("trades", pa.int64()), ("record_id", pa.string()), ("fetched_us", pa.int64())]),
    "gaps": pa.schema([("id", pa.int64()), ("exchange", pa.string()), ("market", pa.string()),
                       ("after_tid", pa.int64()), ("through_tid", pa.int64()), ("reason", pa.string()),
                       ("opened_us", pa.int64()), ("closed_us", pa.int64())]),
}


@dataclass(frozen=True, slots=True)
class BuildResult:
    warehouse: Path
    full: bool
    files_loaded: int
    records_loaded: int
    quarantined: int
    files_set_aside: tuple[str, ...]  # one line each: path and why
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)  # step or model -> seconds


def default_warehouse(root: str) -> Path:
    if "://" in str(root):
        raise WarehouseError(f"data root {root} is not a local directory: name the warehouse file (--warehouse)")
    return Path(root) / WAREHOUSE_NAME


def connect(path: Path, *, read_only: bool = False, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse in UTC; a clear WarehouseError when it is locked or is no DuckDB file."""
    config: dict[str, str | int | bool] = {"threads": threads} if threads else {}
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
        # Days, hours and midnight-aligned buckets are UTC whatever the machine's zone.
        con.execute("SET TimeZone = 'UTC'")
        return con
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise WarehouseError(f"{path}: the warehouse is open in another process (a build or a read-write "
                                 "connection); close it and try again") from None
        raise WarehouseError(f"{path}: cannot open the warehouse ({text.splitlines()[0]})") from None
    except duckdb.Error as exc:
        raise WarehouseError(f"{path}: cannot open the warehouse ({str(exc).splitlines()[0]})") from None


def build(root: str | Path = "data", warehouse: str | Path | None = None, *, full: bool = False,
          progress: Progress | None = None, threads: int | None = None, sql_dir: Path = SQL_DIR,
          filesystem: pafs.FileSystem | None = None) -> BuildResult:
    """Make or update the warehouse from the raw store under `root` (on `filesystem`, when given)."""
    started = time.perf_counter()
    root = str(root)
    target = Path(warehouse) if warehouse is not None else default_warehouse(root)
    raw = RawRoot.open(root, filesystem)
    models = load_models(sql_dir)
    macros = (sql_dir / "macros.sql").read_text(encoding="utf-8")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"{target.parent}: cannot create the warehouse's directory ({exc.strerror})") from None
    if not full and target.exists() and _schema_version(target) != SCHEMA_VERSION:
        full = True
    path = target.with_name(target.name + ".building") if full else target
    if full:
        for stale in (path, path.with_name(path.name + ".wal")):
            stale.unlink(missing_ok=True)
    con = connect(path, threads=threads)
    timings: dict[str, float] = {}
    try:
        con.execute(_BOOKKEEPING)
        con.execute(macros)
        # Row order is not data here (every model orders by what it means); unordered inserts run in parallel.
        con.execute("SET preserve_insertion_order = false")
        # The models' hash tables and blocks come and go by the hundred MB. By default DuckDB hands that memory back
        # to the system and faults fresh pages in for the next model: 50,000 to 80,000 page faults in the bars alone,
        # a tenth of their CPU time on a 2-core VM. Kept for reuse until the connection closes, they are not.
        con.execute("SET block_allocator_memory = '10%'")
        t = time.perf_counter()
        set_aside: list[tuple[str, str]] = []  # (path, why): a manifest that cannot be read sets its partition aside
        files = raw.files(set_aside)
        loaded = set(con.execute("SELECT path, sha256 FROM _loaded_files").fetchall())
        new = [f for f in files if (f.path, f.sha256) not in loaded]
        good, bad = _verified(raw, new, progress)
        set_aside += bad
        timings["discover"] = time.perf_counter() - t
        try:
            records, quarantined = _transaction(con, raw, models, good, set_aside, progress, timings)
        except (duckdb.Error, ModelError):
            # A file can pass the checks above and still hold a damaged page (its manifest written after the
            # damage): DuckDB fails on it mid-build. Only then is every new file read whole, to find it.
            _rollback(con)
            damaged = _damaged(raw, good)
            if not damaged:
                raise
            good = [f for f in good if f.path not in dict(damaged)]
            set_aside += damaged
            records, quarantined = _transaction(con, raw, models, good, set_aside, progress, timings)
        con.execute("DELETE FROM _warehouse")
        con.execute("INSERT INTO _warehouse VALUES (?)", [SCHEMA_VERSION])
        con.execute("COMMIT")
        seconds = time.perf_counter() - started
        con.execute("INSERT INTO _builds VALUES (now(), ?, ?, ?, ?, ?)",
                    [seconds, len(good), records, quarantined, full])
        con.execute("CHECKPOINT")
    except duckdb.Error as exc:
        _rollback(con)
        raise WarehouseError(f"{path}: the build failed ({str(exc).splitlines()[0]})") from None
    except BaseException:
        _rollback(con)
        raise
    finally:
        con.close()
    if full:
        # The old warehouse's WAL goes first: replayed against the new file it would corrupt it, and a kill
        # between the two steps leaves the old warehouse as of its last checkpoint, which a build catches up.
        Path(str(target) + ".wal").unlink(missing_ok=True)
        os.replace(path, target)
    if progress:
        progress("done", len(models), len(models))
    return BuildResult(target, full, len(good), records, quarantined, tuple(f"{p}: {why}" for p, why in set_aside),
                       time.perf_counter() - started, timings)


def _schema_version(path: Path) -> int | None:
    """The schema version of the warehouse at `path`; None for one too old to say."""
    con = connect(path, read_only=True)
    try:
        row = con.execute("SELECT max(schema_version) FROM _warehouse").fetchone()
    except duckdb.CatalogException:
        return None
    finally:
        con.close()
    return row[0] if row else None


def _verified(raw: RawRoot, files: list[RawFile], progress: Progress | None) -> tuple[list[RawFile],
                                                                                        list[tuple[str, str]]]:
    """The files whose bytes are what their manifest says, and the others with the reason."""
    good, bad = [], []
    for i, f in enumerate(files):
        if progress and i % 64 == 0:
            progress("verify raw files", i, len(files))
        problem = _file_problem(raw.filesystem, f)
        if problem is None:
            good.append(f)
        else:
            bad.append((f.path, problem))
    return good, bad


def _file_problem(filesystem: pafs.FileSystem, f: RawFile) -> str | None:
    digest = hashlib.sha256()
    size = 0
    try:
        with filesystem.open_input_stream(f.path) as stream:
            while chunk := stream.read(4 << 20):
                digest.update(chunk)
                size += len(chunk)
    except (OSError, pa.ArrowException) as exc:
        return f"cannot be read ({_one_line(exc)})"
    if size != f.bytes:
        return f"its {size} bytes do not match the manifest ({f.bytes} bytes)"
    if digest.hexdigest() != f.sha256:
        return (f"its bytes do not match the manifest (sha256 {digest.hexdigest()[:12]}..., "
                f"the manifest says {f.sha256[:12]}...)")
    # The manifest vouches for the bytes, but DuckDB would still stop the whole build on a file that is no
    # Parquet file of raw records (a manifest rewritten after damage, a file some other tool put there).
    # The footer is a few KB at the end: reading it costs little beside the sha256 of the whole file.
    try:
        meta = pq.read_metadata(f.path, filesystem=filesystem)
    except (OSError, pa.ArrowException) as exc:
        return f"is not a readable Parquet file ({_one_line(exc)})"
    missing = [c for c in RAW_COLUMNS if c not in meta.schema.names]
    if missing:
        return f"is not a raw records file (no column {', '.join(missing)})"
    if meta.num_rows != f.rows:
        return f"holds {meta.num_rows} rows, the manifest says {f.rows}"
    return None


def _damaged(raw: RawRoot, files: list[RawFile]) -> list[tuple[str, str]]:
    """The files whose pages do not decode, each with why: every row group of every column read."""
    damaged = []
    for f in files:
        try:
            parquet = pq.ParquetFile(f.path, filesystem=raw.filesystem)
            for group in range(parquet.num_row_groups):
                parquet.read_row_group(group)  # one group at a time: a file of bodies may be large
        except (OSError, pa.ArrowException) as exc:
            damaged.append((f.path, f"is not a readable Parquet file ({_one_line(exc)})"))
    return damaged


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line: pyarrow's and DuckDB's may run over several."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _transaction(con: duckdb.DuckDBPyConnection, raw: RawRoot, models: list[Model], good: list[RawFile],
                 set_aside: list[tuple[str, str]], progress: Progress | None,
                 timings: dict[str, float]) -> tuple[int, int]:
    """Stage the good files, run every model, and record what was loaded and set aside; the caller commits."""
    con.execute("BEGIN TRANSACTION")
    _stage_raw(con, raw, good)
    _stage_meta(con, raw)
    for i, model in enumerate(models):
        if progress:
            progress(model.name, i, len(models))
        t = time.perf_counter()
        _run(con, model)
        timings[model.name] = time.perf_counter() - t
    return _bookkeep(con, good, set_aside)


def _stage_raw(con: duckdb.DuckDBPyConnection, raw: RawRoot, files: list[RawFile]) -> None:
    """`raw_new`: the records of the new files that no earlier build loaded, each once.

    Locally it is a view over the Parquet files, so bodies are never copied and each staging model
    streams only its own records. The view is one branch per (exchange, endpoint) of the partitions,
    where the two are constants: a model's filter on them (`=`, `IN`, any form) folds to false for
    every other branch, and DuckDB drops those while planning, before it opens any of their files.
    A model over one endpoint of a store of thousands of files costs milliseconds, not a read of every
    footer. A filter on the file's own columns would not do: DuckDB does not see `endpoint = 'trades'`
    contradict `endpoint IN ('depth', 'full_depth')` over a list of files. Ids (and the two columns,
    to be sure the constants are the records' own) are read first, alone, to drop records loaded
    before and the second copy of a record a compaction left in two files.
    """
    if not files:
        con.execute(_RAW_NEW_DDL)
        con.execute("CREATE OR REPLACE TEMP TABLE raw_pick AS SELECT record_id, file FROM raw_new")
        return
    columns = ", ".join(RAW_COLUMNS)
    if not raw.local:  # DuckDB reads object stores only through an extension; pyarrow.fs already knows them
        con.execute(_RAW_NEW_DDL)
        con.register("raw_arrow", raw.read_table(files, RAW_COLUMNS))
        con.execute(f"""INSERT INTO raw_new SELECT {columns}, file FROM raw_arrow
                        WHERE record_id NOT IN (SELECT record_id FROM _loaded_records)
                        QUALIFY row_number() OVER (PARTITION BY record_id ORDER BY file) = 1""")
        con.unregister("raw_arrow")
        con.execute("CREATE OR REPLACE TEMP TABLE raw_pick AS SELECT record_id, file FROM raw_new")
        return
    groups: dict[tuple[str, str], list[str]] = {}
    for f in files:
        groups.setdefault((f.exchange, f.endpoint), []).append(f.path)
    # A record whose own exchange or endpoint is not its partition's (never written so, but the records are the
    # truth, not the directory names) would be misread by a branch of constants: its file is read as it is.
    copies = " UNION ALL ".join(
        f"""SELECT record_id, filename AS file,
                   exchange IS DISTINCT FROM {_sql_text(exchange)} OR endpoint IS DISTINCT FROM {_sql_text(endpoint)}
                       AS astray
            FROM {_parquet(paths)}"""
        for (exchange, endpoint), paths in groups.items())
    con.execute(f"""CREATE OR REPLACE TEMP TABLE raw_copies AS SELECT * FROM ({copies})
                    WHERE record_id NOT IN (SELECT record_id FROM _loaded_records)""")
    con.execute("CREATE OR REPLACE TEMP TABLE raw_pick AS SELECT record_id, min(file) AS file FROM raw_copies "
                "GROUP BY record_id")
    astray = {row[0] for row in con.execute("SELECT DISTINCT file FROM raw_copies WHERE astray").fetchall()}
    picked = con.execute("SELECT count(*) FROM raw_pick").fetchone()
    con.execute("DROP TABLE raw_copies")
    every = sum(f.rows for f in files)
    branches = []
    for (exchange, endpoint), paths in groups.items():
        if clean := [p for p in paths if p not in astray]:
            known = {"exchange": f"{_sql_text(exchange)} AS exchange", "endpoint": f"{_sql_text(endpoint)} AS endpoint"}
            select = ", ".join(known.get(c, c) for c in RAW_COLUMNS)
            branches.append(f"SELECT {select}, filename FROM {_parquet(clean)}")
    if astray:
        branches.append(f"SELECT {columns}, filename FROM {_parquet(sorted(astray))}")
    pick = "" if picked and picked[0] == every else (
        "SEMI JOIN raw_pick AS p ON r.record_id = p.record_id AND r.filename = p.file")
    con.execute(f"""CREATE OR REPLACE TEMP VIEW raw_new AS SELECT {columns}, filename AS file
                    FROM ({" UNION ALL ".join(branches)}) AS r {pick}""")


def _parquet(paths: list[str]) -> str:
    return f"read_parquet({_sql_list(paths)}, filename = true, hive_partitioning = false)"


def _sql_list(values: list[str]) -> str:
    """A SQL list literal (a view cannot take parameters)."""
    return "[" + ", ".join(_sql_text(v) for v in values) + "]"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _stage_meta(con: duckdb.DuckDBPyConnection, raw: RawRoot) -> None:
    """The collector's coverage and gaps (data/meta/*.parquet) as `meta_coverage` and `meta_gaps`."""
    meta_dir = raw.meta_dir
    for name, schema in _META.items():
        path = f"{meta_dir}/{name}.parquet"
        try:
            info = raw.filesystem.get_file_info(path)
            table = (pq.read_table(path, filesystem=raw.filesystem) if info.type == pafs.FileType.File
                     else schema.empty_table())
            table = table.select(schema.names).cast(schema)
        except (OSError, pa.ArrowException, KeyError) as exc:
            raise RawStoreError(f"{path}: unreadable ({exc})") from None
        con.register(f"meta_{name}_arrow", table)
        con.execute(f"CREATE OR REPLACE TEMP TABLE meta_{name} AS SELECT * FROM meta_{name}_arrow")
        con.unregister(f"meta_{name}_arrow")


def _run(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    try:
        con.execute(model.statement())
    except duckdb.Error as exc:
        raise ModelError(f"{model.path.relative_to(model.path.parents[2])}: {str(exc).splitlines()[0]}") from None


def _bookkeep(con: duckdb.DuckDBPyConnection, files: list[RawFile],
              set_aside: list[tuple[str, str]]) -> tuple[int, int]:
    if files:
        con.executemany("INSERT INTO _loaded_files VALUES (?, ?, ?, now())",
                        [(f.path, f.sha256, f.rows) for f in files])
    # What is wrong now: a file set aside is never marked loaded, so every build looks at it again and the last
    # build's findings replace the earlier ones (a repaired file's row goes when it loads, a bad one stays once).
    con.execute("DELETE FROM raw_file_problems")
    for path, problem in set_aside:
        con.execute("INSERT INTO raw_file_problems VALUES (?, ?, now())", [path, problem])
    con.execute("INSERT INTO _loaded_records SELECT record_id FROM raw_pick")
    records = con.execute("SELECT count(*) FROM raw_pick").fetchone()
    quarantined = con.execute("SELECT count(*) FROM stg_rejects").fetchone()
    return (records[0] if records else 0), (quarantined[0] if quarantined else 0)


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # nothing was open
        con.execute("ROLLBACK")
