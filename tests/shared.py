"""The one way tests reach the read-only material beside the checkout (`../shared`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("MARKETREC_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))


def shared_path(relative: str) -> Path:
    """The path of a file under ../shared; skips the test with a reason when it is absent."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"shared material not available: {path} (CI has ../shared beside the checkout)")
    return path
