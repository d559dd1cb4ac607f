"""Matching the emulator's request log with the collector's raw records: was every call recorded?"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from collector.rawstore import RawStore


def call_key(path: str, params: dict[str, str]) -> tuple[str, bytes]:
    """What identifies a call in both the emulator's log and a raw record: the path and what was sent
    (private calls carry their nonce, so each is unique)."""
    return path, orjson.dumps(params, option=orjson.OPT_SORT_KEYS)


def recorded_calls(root: Path) -> tuple[Counter[tuple[str, bytes]], list[dict[str, Any]]]:
    """The calls the raw store under `root` holds, counted, and its records' path, params and error class."""
    raw = RawStore(str(root)).read_table(columns=["path", "params", "error_class"]).to_pylist()
    return Counter(call_key(r["path"], orjson.loads(r["params"])) for r in raw), raw


def unrecorded_calls(log: list[dict[str, Any]], recorded: Counter[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Calls the emulator answered (or dropped) that no raw record holds."""
    return list((Counter(call_key(r["path"], r["params"]) for r in log) - recorded).elements())


def busiest_window(log: list[dict[str, Any]], seconds: float) -> int:
    """The most requests the emulator logged within any `seconds` (by their arrival stamps)."""
    from datetime import datetime

    times = sorted(datetime.fromisoformat(r["time"].replace("Z", "+00:00")).timestamp() for r in log)
    most, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most
