"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small warehouse recorded from the emulator over real HTTP and built (tests/warehouse_fixture.py);
    made once per test run and shared by the xdist workers. Open it read-only."""
    from tests.warehouse_fixture import session_warehouse

    return session_warehouse(tmp_path_factory)
