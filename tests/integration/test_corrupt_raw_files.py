"""A damaged raw Parquet file is set aside, named, with why; the rest is built; once repaired, it loads.

The raw store is written as the collector writes it (journal, then Parquet and a manifest per partition), one
trades page per day, so each file is its own partition. Then one file is damaged on disk: random bytes over its
middle, cut in half, or emptied. The build finds it by the manifest's size and sha256, and, when a manifest
vouches for bytes that are no Parquet file (rewritten after the damage), by reading the file's footer and rows.
README: "a raw file whose bytes differ from its manifest is set aside in raw_file_problems. Neither stops a
build." The build exits normally (the CLI with 0, the set-aside file on one line of stderr).
"""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.build import build
from tests.pipelines_harness import Response, count, rows, same_tables, us, write_raw

DAYS = ("2013-01-01", "2013-01-02", "2013-01-03")
VICTIM_DAY = DAYS[1]


def page(day: str, price: str) -> Response:
    tid = us(f"{day}T10:00:00")
    trade = {"date": tid // 10**6, "price": price, "amount": "1", "price_int": str(int(float(price) * 10**5)),
             "amount_int": "100000000", "tid": str(tid), "price_currency": "USD", "item": "BTC",
             "trade_type": "bid", "primary": "Y", "properties": "limit"}
    return Response("trades", 1, "BTCUSD", orjson.dumps({"result": "success", "return": [trade]}),
                    us(f"{day}T11:00:00"))


def recorded(tmp_path: Path) -> tuple[Path, Path]:
    """A data root of three days, one raw file each (three collector runs), and the middle day's file."""
    root = tmp_path / "data"
    for i, day in enumerate(DAYS):
        write_raw(root, [page(day, f"1{i + 3}.5")], run_id=f"run{i}")
    [victim] = [p for p in (root / "raw").rglob("*.parquet") if f"date={VICTIM_DAY}" in str(p)]
    return root, victim


def overwritten_middle(data: bytes) -> bytes:
    middle = len(data) // 2
    noise = random.Random(7).randbytes(64)  # seeded: the same damage on every run
    return data[:middle - 32] + noise + data[middle + 32:]


def damaged_body_page(data: bytes) -> bytes:
    """Noise over the compressed bodies, past the page header: the footer still reads, the page does not."""
    [body] = [c for c in (pq.read_metadata(pa.BufferReader(data)).row_group(0).column(i) for i in range(15))
              if c.path_in_schema == "body"]
    end = body.data_page_offset + body.total_compressed_size
    start = end - body.total_compressed_size // 2
    return data[:start] + random.Random(7).randbytes(end - start) + data[end:]


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "random-bytes-in-the-middle": overwritten_middle,
    "cut-in-half": lambda data: data[: len(data) // 2],
    "zero-length": lambda data: b"",
    "a-damaged-page-under-an-intact-footer": damaged_body_page,
}


def vouch_for(victim: Path) -> None:
    """Rewrite the manifest so that it lists the file's bytes as they are now (a tool that 'repaired' it so)."""
    manifest = victim.parent / "_manifest.json"
    doc = orjson.loads(manifest.read_bytes())
    data = victim.read_bytes()
    [entry] = [f for f in doc["files"] if f["name"] == victim.name]
    doc["bytes"] += len(data) - entry["bytes"]
    entry.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    manifest.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))


def problems(warehouse: Path) -> list[tuple[str, str]]:
    return rows(warehouse, "SELECT path, problem FROM raw_file_problems ORDER BY path")


def damage_and_build(tmp_path: Path, damage: str, manifest: str) -> tuple[Path, Path, bytes, str]:
    """Damage the middle day's file, build, and check it alone was set aside: the root, the file, its good
    bytes and why it was set aside."""
    root, victim = recorded(tmp_path)
    warehouse = root / "warehouse.duckdb"
    good = victim.read_bytes()
    victim.write_bytes(DAMAGE[damage](good))
    if manifest == "vouching-for-the-damage":
        vouch_for(victim)

    result = build(root, warehouse)  # does not raise
    assert result.files_loaded == 2
    [line] = result.files_set_aside
    assert line.startswith(f"{victim}: ") and "\n" not in line
    why = line.removeprefix(f"{victim}: ")
    expected = "do not match the manifest" if manifest == "as-written" else "not a readable Parquet file"
    assert expected in why, why
    assert problems(warehouse) == [(str(victim), why)]
    assert rows(warehouse, "SELECT strftime(ts, '%Y-%m-%d') FROM trades ORDER BY ts") == [(DAYS[0],), (DAYS[2],)]
    assert count(warehouse, "quarantine") == 0  # a file set aside is not a bad answer: its records never loaded
    return root, victim, good, why


MANIFESTS = ("as-written", "vouching-for-the-damage")


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("manifest", MANIFESTS)
def test_a_damaged_raw_file_is_set_aside_with_why_and_the_rest_is_built(
    tmp_path: Path, damage: str, manifest: str
) -> None:
    damage_and_build(tmp_path, damage, manifest)


@pytest.mark.parametrize("manifest", MANIFESTS)
def test_a_damaged_raw_file_stays_listed_once_until_repaired_and_then_loads(tmp_path: Path, manifest: str) -> None:
    root, victim, good, why = damage_and_build(tmp_path, "random-bytes-in-the-middle", manifest)
    warehouse = root / "warehouse.duckdb"
    # Still damaged at the next build: looked at again, and listed once, not once per build.
    assert build(root, warehouse).files_set_aside == (f"{victim}: {why}",)
    assert problems(warehouse) == [(str(victim), why)]

    victim.write_bytes(good)  # restored from a backup
    if manifest == "vouching-for-the-damage":
        vouch_for(victim)
    repaired = build(root, warehouse)
    assert (repaired.files_loaded, repaired.records_loaded, repaired.files_set_aside) == (1, 1, ())
    assert count(warehouse, "trades") == 3
    assert problems(warehouse) == []  # the table lists what is wrong now
    full = tmp_path / "full.duckdb"
    build(root, full, full=True)
    same_tables(warehouse, full)


def test_a_raw_file_its_manifest_lists_but_that_is_gone_is_set_aside(tmp_path: Path) -> None:
    root, victim = recorded(tmp_path)
    victim.unlink()
    result = build(root)
    [line] = result.files_set_aside
    assert line.startswith(f"{victim}: cannot be read") and "\n" not in line
    assert result.files_loaded == 2 and count(root / "warehouse.duckdb", "trades") == 2


def test_an_unreadable_manifest_sets_its_partition_aside_and_the_rest_is_built(tmp_path: Path) -> None:
    root, victim = recorded(tmp_path)
    manifest = victim.parent / "_manifest.json"
    text = manifest.read_bytes()
    manifest.write_bytes(text[: len(text) // 2])
    result = build(root)
    [line] = result.files_set_aside
    assert line.startswith(f"{manifest}: unreadable manifest") and "\n" not in line
    assert result.files_loaded == 2 and count(root / "warehouse.duckdb", "trades") == 2

    manifest.write_bytes(text)
    assert build(root).files_loaded == 1
    assert count(root / "warehouse.duckdb", "trades") == 3
    assert problems(root / "warehouse.duckdb") == []


def test_marketrec_build_names_the_damaged_file_on_one_line_and_exits_0(tmp_path: Path) -> None:
    root, victim = recorded(tmp_path)
    victim.write_bytes(victim.read_bytes()[:100])
    done = subprocess.run([sys.executable, "-m", "marketrec", "build", "--data", str(root)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "2 new raw files, 2 records, 0 quarantined" in done.stdout and len(done.stdout.splitlines()) == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(f"set aside: {victim}: ") and "do not match the manifest" in line
