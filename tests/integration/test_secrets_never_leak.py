"""No secret leaks: a known secret, every command that touches it, and a search of everything they leave behind.

A fresh random secret is registered with the emulator and given to the collector, which runs as a user runs it, over
real HTTP on loopback with every logger at DEBUG: collect (signed account calls), backfill, build, check, status,
gaps; a collect with the right secret under another key (the exchange answers 403 "invalid signature"); a collect
killed with SIGKILL, so its journal segment stays on disk; configurations that are refused with the secret close to
the mistake (its file readable by others, pasted inline, a TOML error on its line, signed calls over http:// to a host
off this machine); and the demo, whose secret is the one it writes beside its configuration.

The needles are each secret, its base64 decoding (raw and as hex) and every Rest-Sign that was sent, as the emulator
received them and recomputed from the recorded requests. They are searched for in every stdout and stderr line and in
every file left under the test's directory (data roots, journals, state, raw Parquet, warehouse, demo reports, the
emulator's request log): in its raw bytes, and decoded (every Parquet value and statistic, every DuckDB table and
view, every SQLite row). Only the files that hold a secret on purpose are left out, each by its exact path.

Before that, the same search is run on copies of real files with a needle planted in each, so a search that cannot
find anything cannot pass.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from collector.config import load_config
from collector.errors import ConfigError
from collector.exchanges.signing import rest_sign
from collector.journal import pending_segments
from emulator.app import create_app
from emulator.config import EmulatorConfig
from emulator.server import ServerThread
from tests.collector_harness import write_config

# The CLI exactly as `python -m marketrec` runs it, with the root logger at DEBUG first: httpx, httpcore, asyncio,
# uvicorn and everything else that logs then writes to stderr too, not only the collector's own events. asyncio's
# debug mode adds what it says about slow callbacks and tasks, with their reprs.
LAUNCH = ("import logging, sys; logging.basicConfig(level=logging.DEBUG); sys.argv[0] = 'marketrec'; "
          "from marketrec.cli import main; main()")
CLI = [sys.executable, "-c", LAUNCH]
VERBOSE = {"PYTHONASYNCIODEBUG": "1"}
MARKETS = {"BTCUSD": {"ticker": "0.2s", "trades": "0.2s", "depth": "0.4s"}}
ACCOUNT = {"wallet_history": ["BTC", "USD"], "every": "0.3s", "info": "0.3s", "orders": "0.3s"}


# --- what is searched for -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Needle:
    name: str  # what it is, for a failure message that never shows the value
    value: bytes


def needles_of(name: str, b64: str) -> list[Needle]:
    """`b64` and its decoding in every spelling a leak could take: as is, without padding, url-encoded, with JSON's
    escaped slash, base64url; decoded as raw bytes and as hex; and its first 16 characters (and 16 bytes as hex),
    since a message cut short (`detail=str(e)[:200]`) leaks a beginning. 16 base64 characters are 96 random bits:
    they turn up by chance in no data set."""
    raw = base64.b64decode(b64, validate=True)
    spellings = {
        "base64": b64, "base64 unpadded": b64.rstrip("="), "url-encoded": urllib.parse.quote(b64, safe=""),
        "json-escaped": b64.replace("/", "\\/"), "base64url": base64.urlsafe_b64encode(raw).decode(),
        "hex": raw.hex(), "HEX": raw.hex().upper(), "first 16 characters": b64[:16],
        "first 16 bytes as hex": raw[:16].hex(),
    }
    needles = [Needle(f"{name} ({how})", text.encode()) for how, text in spellings.items()]
    return [*needles, Needle(f"{name} (decoded bytes)", raw)]


# --- where it is searched for -------------------------------------------------------------------------------------


def _as_bytes(value: Any) -> Iterator[bytes]:
    if isinstance(value, bytes | bytearray | memoryview):
        yield bytes(value)
    elif isinstance(value, str):
        yield value.encode()
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _as_bytes(k)
            yield from _as_bytes(v)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _as_bytes(item)
    elif value is not None:
        yield str(value).encode()


def _parquet_values(path: Path) -> bytes:
    """Every value of every column, the schema, the key-value metadata and every column chunk's min/max."""
    pf = pq.ParquetFile(path)
    parts = [str(pf.schema_arrow).encode(), *_as_bytes(pf.metadata.metadata or {})]
    for i in range(pf.metadata.num_row_groups):
        group = pf.metadata.row_group(i)
        for j in range(group.num_columns):
            stats = group.column(j).statistics
            if stats is not None and stats.has_min_max:
                parts += [*_as_bytes(stats.min), *_as_bytes(stats.max)]
    for column in pf.read().columns:
        parts += _as_bytes(column.to_pylist())
    return b"\n".join(parts)


def _duckdb_rows(path: Path) -> bytes:
    """Every row of every table and view information_schema lists, and the SQL that defines them."""
    with closing(duckdb.connect(str(path), read_only=True)) as con:
        names = con.execute("SELECT table_catalog, table_schema, table_name FROM information_schema.tables").fetchall()
        assert names, f"{path}: no tables"
        parts = [*_as_bytes(con.execute("SELECT sql FROM duckdb_views() UNION ALL "
                                        "SELECT sql FROM duckdb_tables()").fetchall())]
        for catalog, schema, name in names:
            parts += _as_bytes(con.execute(f'SELECT * FROM "{catalog}"."{schema}"."{name}"').fetchall())
    return b"\n".join(parts)


def _sqlite_rows(path: Path) -> bytes:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
        return "\n".join(con.iterdump()).encode()


def pieces_of(path: Path) -> Iterator[tuple[str, bytes]]:
    """(where, what) of one file: its bytes, and its decoded contents for the formats that compress or encode."""
    data = path.read_bytes()
    yield f"{path} (bytes)", data
    if path.suffix == ".parquet":
        yield f"{path} (decoded values)", _parquet_values(path)
    elif path.suffix == ".duckdb":
        yield f"{path} (tables and views)", _duckdb_rows(path)
    elif data.startswith(b"SQLite format 3\0"):
        yield f"{path} (rows)", _sqlite_rows(path)


def files_under(root: Path, excluded: set[Path]) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p not in excluded)


def found(pieces: Iterable[tuple[str, bytes]], needles: list[Needle]) -> list[str]:
    return [f"{n.name} in {where}" for where, blob in pieces for n in needles if n.value in blob]


# --- running it all -----------------------------------------------------------------------------------------------


class SignaturesSeen:
    """ASGI middleware in front of the real emulator: keeps every Rest-Sign header as it arrived over TCP."""

    def __init__(self, app: Any, seen: list[str]) -> None:
        self.app, self.seen = app, seen

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen += [value.decode("latin-1") for name, value in scope["headers"] if name.lower() == b"rest-sign"]
        await self.app(scope, receive, send)


@contextmanager
def emulator(tmp_path: Path, keys: Path, seen: list[str]) -> Iterator[str]:
    log = tmp_path / "emulator-requests.jsonl"
    # Never blocking: one collector after another from the same address may come closer than min_interval to the
    # last call of the one before (each keeps its own spacing), and a blocked client makes no more signed calls.
    app = create_app(EmulatorConfig(min_interval_s=0.2, cache_s=0.0, history_hours=3.0, request_log=log, keys=keys,
                                    violations_to_block=1_000_000))
    app.add_middleware(SignaturesSeen, seen=seen)
    with ServerThread(app) as srv:
        yield srv.url
    app.state.request_log.close()


def owner_only(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def random_secret() -> str:
    return base64.b64encode(secrets.token_bytes(64)).decode()  # what Mt.Gox handed out: 64 bytes, base64


def sent_signatures(root: Path, secret: str) -> set[str]:
    """The Rest-Sign of every signed call recorded under `root`, recomputed with the collector's own signing: the
    recorded params are the body as sent (nonce included) and the path tells the API version and the sign path."""
    out: set[str] = set()
    for path in (root / "raw").rglob("*.parquet"):
        table = pq.read_table(path, columns=["method", "api_version", "path", "params"])
        for method, version, url_path, params in zip(*(c.to_pylist() for c in table.columns), strict=True):
            if method == "POST":
                body = urllib.parse.urlencode(json.loads(params)).encode()
                out.add(rest_sign(secret, version, url_path.removeprefix(f"/api/{version}/"), body))
    return out


Ran = subprocess.CompletedProcess[bytes]


@dataclass
class Said:
    """What the commands printed, each stream labelled by the command that printed it."""

    streams: list[tuple[str, bytes]]

    def run(self, *args: str, env: dict[str, str], expect: tuple[int, ...] = (0,)) -> Ran:
        r = subprocess.run([*CLI, *args], capture_output=True, env=env, timeout=60)
        label = "marketrec " + " ".join(a if "/" not in a else Path(a).name for a in args)
        self.streams += [(f"{label}: stdout", r.stdout), (f"{label}: stderr", r.stderr)]
        assert r.returncode in expect, f"{label}: exit {r.returncode}\n{r.stderr.decode()[-3000:]}"
        return r

    def refused(self, config: Path, environ: dict[str, str]) -> str:
        """The one line `marketrec collect` prints when refusing `config`; every problem load_config finds in it (the
        ones past the first, which only a verbose mode would print, too) is kept for the search."""
        with pytest.raises(ConfigError) as caught:
            load_config(config, environ)
        notes = getattr(caught.value, "__notes__", [])
        self.streams.append((f"load_config({config.name})", "\n".join([str(caught.value), repr(caught.value),
                                                                         *notes]).encode()))
        r = self.run("collect", "--config", str(config), env=environ, expect=(2,))
        lines = r.stderr.decode().splitlines()
        assert len(lines) == 1 and lines[0].startswith("marketrec: error: "), lines
        return lines[0]


Start = Callable[[list[str], Path, dict[str, str]], "subprocess.Popen[bytes]"]


@pytest.fixture
def start() -> Iterator[Start]:
    """Starts the CLI in the background, its stdout and stderr into <out>.stdout and <out>.stderr (searched with the
    other files); whatever is still running when the test ends, failed or not, is killed."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], out: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        with out.with_suffix(".stdout").open("wb") as stdout, out.with_suffix(".stderr").open("wb") as stderr:
            procs.append(subprocess.Popen([*CLI, *args], stdout=stdout, stderr=stderr, env=env))
        return procs[-1]

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def kill_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        assert proc.poll() is None and time.monotonic() < deadline, "the collector to be killed never got going"
        time.sleep(0.05)
    time.sleep(0.2)  # the journal fsyncs every 20 ms: what it acknowledged is on disk
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


# --- the test -----------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_no_secret_decoding_or_signature_appears_in_any_output_file_table_or_error_of_any_command(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, start: Start
) -> None:
    secret, other_secret = random_secret(), random_secret()
    key, other_key = str(uuid.uuid4()), str(uuid.uuid4())
    vault = tmp_path / "vault"
    vault.mkdir(mode=0o700)
    secret_file = owner_only(vault / "api.secret", secret + "\n")
    keys_file = owner_only(vault / "emulator-keys.json", json.dumps({"keys": [
        {"key": key, "secret": secret, "rights": ["get_info"], "account": "alice"},
        {"key": other_key, "secret": other_secret, "rights": ["get_info"], "account": "alice"},
    ]}))
    base_env = {**{k: v for k, v in os.environ.items() if not k.startswith("MR_")}, **VERBOSE}
    env = {**base_env, "MR_KEY": key}  # the secret comes from its file
    said = Said([])

    # The demo makes its own world, key and secret; it runs meanwhile.
    demo_root = tmp_path / "demo"
    demo = start(["demo", "--data", str(demo_root), "--duration", "3"], tmp_path / "demo", base_env)

    seen: list[str] = []
    data = tmp_path / "data"
    with emulator(tmp_path, keys_file, seen) as url:
        main = write_config(tmp_path, url, markets=MARKETS, account=ACCOUNT, name="main.toml")
        main.write_text(main.read_text().replace('secret_env = "MR_SECRET"', f'secret_file = "{secret_file}"'))
        said.run("collect", "--config", str(main), "--duration", "2.5s", "--status-every", "0.5", env=env)
        said.run("backfill", "trades", "--config", str(main), "--market", "BTCUSD",
                 "--since", str(int((time.time() - 900) * 1e6)), env=env)

        # The right secret under another key: every signed call is answered 403 "invalid signature".
        wrong = write_config(tmp_path, url, version=2, markets={"BTCUSD": {"ticker": "0.2s"}}, account=ACCOUNT,
                             name="wrong-key.toml")
        said.run("collect", "--config", str(wrong), "--duration", "1.5s", "--status-every", "0.5",
                 env={**base_env, "MR_KEY": other_key, "MR_SECRET": secret})

        # Killed mid-run: its journal segment (bodies and params of signed calls) is left for the search.
        signed_before = len(seen)
        killed = start(["collect", "--config", str(main)], tmp_path / "killed", env)
        kill_when(killed, lambda: len(seen) >= signed_before + 4)

    # Refusals with the secret in play: a copy of its file that others can read, the secret pasted in three wrong
    # places, a TOML error on its line, and an http:// base_url off this machine with the secret in the environment.
    loose_secret = vault / "loose.secret"
    loose_secret.write_text(secret + "\n")
    loose_secret.chmod(0o644)
    loose = tmp_path / "loose.toml"
    loose.write_text(main.read_text().replace(str(secret_file), str(loose_secret)))
    pasted = tmp_path / "pasted.toml"
    pasted.write_text(main.read_text().replace(
        'key_env = "MR_KEY"', f'key_env = "{secret}"\nsecret = "{secret}"\n"{secret}" = true'))
    broken = tmp_path / "broken.toml"
    broken.write_text(main.read_text().replace('key_env = "MR_KEY"', f'key_env = "{secret}'))
    cleartext = write_config(tmp_path, "http://data.mtgox.example", min_interval="10s",
                             markets={"BTCUSD": {"ticker": "10s"}}, name="cleartext.toml",
                             account={"wallet_history": ["BTC"], "every": "10s", "info": "10s", "orders": "10s"})
    with ThreadPoolExecutor(4) as pool:  # independent commands, side by side, to keep the test short
        status = pool.submit(said.run, "status", "--config", str(main), env=env)
        gaps = pool.submit(said.run, "gaps", "--config", str(main), env=env)
        refused = {path: pool.submit(said.refused, path, environ) for path, environ in (
            (loose, env), (pasted, env), (broken, env), (cleartext, {**base_env, "MR_KEY": key, "MR_SECRET": secret}))}
        said.run("build", "--data", str(data), env=env)
        said.run("check", "--data", str(data), env=env, expect=(0, 1))  # whether the checks pass is not the point
        for done in (status, gaps):
            done.result()
        said_line = {path: future.result() for path, future in refused.items()}
    assert said_line[loose].endswith(f"secret file {loose_secret} is readable by others (mode 0644); chmod 600 it")
    assert "[credentials].secret: unknown key (inline credentials are not read" in said_line[pasted]
    assert ": invalid TOML: " in said_line[broken]
    assert "in clear text; use https://" in said_line[cleartext]

    assert demo.wait(timeout=120) == 0, (tmp_path / "demo.stderr").read_text()[-3000:]
    demo_secret_file = demo_root / "demo" / "api.secret"
    demo_secret = demo_secret_file.read_text().strip()

    # --- the runs did what the search relies on -------------------------------------------------------------------
    recorded = sent_signatures(data, secret)
    demo_signed = sent_signatures(demo_root, demo_secret)
    assert len(recorded) >= 5 and recorded <= set(seen), "recomputed signatures must be the ones that were sent"
    assert demo_signed, "the demo made no signed call"
    requests = [json.loads(line) for line in (tmp_path / "emulator-requests.jsonl").read_text().splitlines()]
    assert any(r["key"] == other_key and r["status"] == 403 for r in requests)
    assert any(b"request_failed" in b and b"status=403" in b for _, b in said.streams), "no 403 was logged"
    assert pending_segments(data / "journal"), "the killed collector left no journal segment to search"
    assert {"collector.sqlite", "nonces.sqlite"} <= {p.name for p in (data / "state").iterdir()}

    needles = [
        *needles_of("the secret", secret),
        *needles_of("the other key's secret", other_secret),
        *needles_of("the demo's secret", demo_secret),
        *(n for i, sign in enumerate(sorted(set(seen) | recorded)) for n in needles_of(f"signature #{i}", sign)),
        *(n for i, sign in enumerate(sorted(demo_signed)) for n in needles_of(f"demo signature #{i}", sign)),
    ]
    # The files that hold a secret on purpose, and only those: each is checked to hold it, so leaving one out is
    # what keeps it from being found, and a typo in this list cannot hide another file.
    sources = {
        secret_file: secret, loose_secret: secret, keys_file: secret, pasted: secret, broken: secret,
        demo_secret_file: demo_secret,
    }
    for path, value in sources.items():
        assert value.encode() in path.read_bytes(), path
    files = files_under(tmp_path, set(sources))
    assert any(p.suffix == ".duckdb" for p in files) and any(p.suffix == ".png" for p in files)
    assert sum(p.suffix == ".parquet" for p in files) >= 10

    # --- the search finds what is planted in copies of real files -------------------------------------------------
    scratch = tmp_path_factory.mktemp("planted")  # outside tmp_path: the real search must not see the copies
    for path, (name, piece) in plant(scratch, files, secret, sorted(recorded)[0]).items():
        hits = found(pieces_of(path), needles)
        assert any(h.startswith(name) and h.endswith(f" in {path} ({piece})") for h in hits), (name, path, hits)

    # --- and nothing anywhere else --------------------------------------------------------------------------------
    pieces = [*said.streams, *(piece for path in files for piece in pieces_of(path))]
    leaks = found(pieces, needles)
    assert not leaks, "\n".join(leaks)


def plant(scratch: Path, files: list[Path], secret: str, signature: str) -> dict[Path, tuple[str, str]]:
    """Copies of a real raw Parquet file, the warehouse, a state database and a log, each with a needle planted
    where the search has to decode to see it; {copy: (the needle's name, the piece of the copy it is found in)}."""
    raw = base64.b64decode(secret)
    planted: dict[Path, tuple[str, str]] = {}

    source = next(p for p in files if p.suffix == ".parquet" and "endpoint=info" in str(p))
    table = pq.read_table(source)
    bodies = table.column("body").to_pylist()
    assert b'"result"' in bodies[-1]
    bodies[-1] = bodies[-1].replace(b'"result"', f'"leak":"{secret}","result"'.encode(), 1)
    copy = scratch / source.name
    column = table.schema.get_field_index("body")
    planted_table = table.set_column(column, "body", pa.array(bodies, table.schema.field(column).type))
    pq.write_table(planted_table, copy, compression="zstd")
    planted[copy] = ("the secret (base64)", "decoded values")

    warehouse = scratch / "warehouse.duckdb"
    shutil.copy(next(p for p in files if p.suffix == ".duckdb"), warehouse)
    with closing(duckdb.connect(str(warehouse))) as con:
        con.execute("CREATE TABLE planted AS SELECT ?::BLOB AS b", [raw])
    planted[warehouse] = ("the secret (decoded bytes)", "tables and views")

    state = scratch / "collector.sqlite"
    shutil.copy(next(p for p in files if p.name == "collector.sqlite"), state)
    with closing(sqlite3.connect(state)) as con:
        con.execute("CREATE TABLE planted (hex TEXT)")
        con.execute("INSERT INTO planted VALUES (?)", [raw.hex()])
        con.commit()
    planted[state] = ("the secret (hex)", "rows")

    log = scratch / "collector.log"
    escaped = signature.replace("/", "\\/")  # as a JSON encoder that escapes slashes would write it
    log.write_text(f'2026-01-01T00:00:00Z request_failed headers={{"Rest-Sign": "{escaped}"}}\n')
    planted[log] = ("signature #", "bytes")
    return planted
