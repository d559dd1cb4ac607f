"""Logs: one line per event, `time event key=value ...`, stable event names, never a secret.

Values are printed with repr-free formatting (strings with spaces are quoted); callers pass
only what is safe to show: never a secret, a signature or a request body.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

LOGGER = logging.getLogger("marketrec")


def _format(value: object) -> str:
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    return f'"{text}"' if (" " in text or not text) else text


def event(name: str, /, **fields: object) -> None:
    """Log one event, e.g. `event("request", endpoint="ticker", status=200)`."""
    if not LOGGER.isEnabledFor(logging.INFO):
        return
    parts = [datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), name]
    parts += [f"{k}={_format(v)}" for k, v in fields.items() if v is not None]
    LOGGER.info(" ".join(parts))


def configure(level: int = logging.INFO, stream: object = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(message)s"))
    LOGGER.handlers[:] = [handler]
    LOGGER.setLevel(level)
    LOGGER.propagate = False
