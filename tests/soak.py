"""Short runs inside `make test`, long ones under `make soak`, and the figures both print.

`make soak` sets MARKETREC_SOAK=1: the reliability tests then run their long versions (100 crash
trials, a 10-minute fault soak, 5-minute concurrency runs). Every test reports its figures with
`figure(record_property, name, value)`; they travel with the test report (so xdist workers' figures
reach the controller), are printed at the end of the run by tests/conftest.py, and written as JSON
to MARKETREC_FIGURES when that is set.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

SOAK = os.environ.get("MARKETREC_SOAK") == "1"
FIGURE_PREFIX = "figure:"


def scaled(short: float, soak: float) -> Any:
    """`short` inside make test, `soak` under make soak (a count, seconds, ...)."""
    return soak if SOAK else short


def figure(record_property: Callable[[str, object], None], name: str, value: object) -> None:
    """One figure of this test, printed in the run's summary (and its JSON)."""
    record_property(FIGURE_PREFIX + name, value)
