"""Durations and sizes as people write them in configuration: "250ms", "10s", "5m", "64MiB"."""

from __future__ import annotations

import math
import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]i?b|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_duration(value: str | float) -> float:
    """Seconds from "250ms", "10s", "5m", "1h", "1d", or plain seconds; ValueError for anything else."""
    if isinstance(value, bool):  # TOML true is a Python int; it is no duration
        raise ValueError("not a duration")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        number, unit = m.groups()
        # Divide for milliseconds so "100ms" is exactly 0.1 as a float, like the plain number 0.1.
        seconds = float(number) / 1000 if unit == "ms" else float(number) * _DURATION_UNITS[unit or "s"]
    else:
        raise ValueError("not a duration")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("not a duration")
    return seconds


def parse_size(value: str | int) -> int:
    """Bytes from "512KiB", "64MiB", "1GiB", "100MB" or a plain integer of bytes. ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("not a size")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (m := _SIZE.match(value)):
        number, unit = m.groups()
        size = round(float(number) * _SIZE_UNITS[(unit or "b").lower()])
    else:
        raise ValueError("not a size")
    if size < 0:
        raise ValueError("not a size")
    return size


def format_duration(seconds: float) -> str:
    """The shortest spelling parse_duration reads back: 720 -> "12m", 0.25 -> "250ms", 90 -> "90s"."""
    if seconds == 0:
        return "0s"
    for unit in ("d", "h", "m", "s"):
        size = _DURATION_UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    ms = seconds * 1000
    if seconds < 1 and abs(ms - round(ms)) < 1e-9:
        return f"{round(ms)}ms"
    return f"{seconds:g}s"
