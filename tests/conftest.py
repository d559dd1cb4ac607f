"""Fixtures shared by the whole suite, and the summary of the figures the reliability tests report."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.soak import FIGURE_PREFIX, SOAK


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small warehouse recorded from the emulator over real HTTP and built (tests/warehouse_fixture.py);
    made once per test run and shared by the xdist workers. Open it read-only."""
    from tests.warehouse_fixture import session_warehouse

    return session_warehouse(tmp_path_factory)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Figures ride on the reports' user_properties, the one channel xdist carries from workers to here.
    figures: dict[str, dict[str, object]] = {}
    for report in terminalreporter.getreports("passed") + terminalreporter.getreports("failed"):
        if report.when != "call":
            continue
        found = {k[len(FIGURE_PREFIX):]: v for k, v in report.user_properties if k.startswith(FIGURE_PREFIX)}
        if found:
            figures[report.nodeid] = found
    if not figures:
        return
    terminalreporter.section("reliability figures" + (" (soak)" if SOAK else " (short runs; make soak for the long)"))
    for nodeid, found in sorted(figures.items()):
        terminalreporter.write_line(nodeid.split("::")[-1])
        for name, value in found.items():
            terminalreporter.write_line(f"    {name}: {value}")
    if out := os.environ.get("MARKETREC_FIGURES"):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps({"soak": SOAK, "tests": figures}, indent=2, default=str) + "\n")
