"""A data root that cannot be written is refused at start: one line naming it, exit 2, nothing asked of the exchange.

The read-only root must be real, and tests may run as root, for whom chmod 0555 stops nothing. So: a tmpfs
mounted read-only for the test where the machine allows mounting (EROFS, as on a disk remounted read-only
after errors); otherwise a directory under /sys, which sysfs refuses to create even for root (and which
container runtimes mount read-only). Either is checked to refuse a mkdir before it is used.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.errors import StoreError
from collector.run import Collector
from tests.collector_harness import exchange, load, write_config
from tests.disk_harness import tmpfs

CLI = [sys.executable, "-m", "marketrec"]
MARKETS = {"BTCUSD": {"ticker": "0.2s", "trades": "0.2s"}}
COMMANDS = {"collect": ["collect", "--duration", "2s"],
            "backfill": ["backfill", "trades", "--market", "BTCUSD", "--since", "1"],
            "compact": ["compact"]}


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A directory that cannot be written, and the reason the system gives."""
    with tmpfs(tmp_path / "ro", "1m", read_only=True) as mounted:
        if mounted:
            yield tmp_path / "ro", os.strerror(30)  # EROFS: Read-only file system
            return
        fallback = Path("/sys") / f"marketrec-test-{os.getpid()}"
        try:
            fallback.mkdir()
        except OSError as exc:
            yield fallback, exc.strerror or str(exc)
            return
        fallback.rmdir()
        pytest.skip("no read-only directory here: mounting is not permitted and /sys is writable")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_collect_backfill_and_compact_refuse_a_read_only_data_root_in_one_line_with_exit_2(
        tmp_path: Path, read_only: tuple[Path, str], command: str) -> None:
    directory, reason = read_only
    # The mount point itself (it exists), or for backfill a data root still to be created inside it.
    root = directory / "data" if command == "backfill" else directory
    with exchange(tmp_path) as ex:
        config = write_config(tmp_path, ex.url, root=root, markets=MARKETS)
        done = subprocess.run([*CLI, *COMMANDS[command], "--config", str(config)], capture_output=True, text=True,
                              timeout=60)
        asked = ex.requests()
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"marketrec: error: data root {root} is not writable ({reason})"]
    assert asked == []


def test_a_read_only_journal_directory_under_a_writable_root_is_refused_by_name(tmp_path: Path) -> None:
    root = tmp_path / "data"
    with tmpfs(root / "journal", "1m", read_only=True) as mounted:
        if not mounted:
            pytest.skip("this machine does not allow mounting a tmpfs")
        config = load(write_config(tmp_path, "http://127.0.0.1:9", root=root, markets=MARKETS))
        with pytest.raises(StoreError) as info:
            Collector(config)
    assert str(info.value) == f"journal directory {root / 'journal'} is not writable (Read-only file system)"
    assert not (root / "state").exists()  # refused before any state file was made
