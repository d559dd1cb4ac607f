"""Progress bars and the status report for the CLI (rich draws colours only on a terminal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn


def _bar(*columns: ProgressColumn) -> Progress:
    """A transient bar on a terminal; nothing at all in a pipe, a file or a log."""
    return Progress(*columns, transient=True, disable=not Console().is_terminal)


@contextmanager
def tid_progress(label: str, start: int | None, stop: int | None, time_at: Callable[[int], int | None]
                 ) -> Iterator[Callable[[int, int | None], None]]:
    """A bar over a range of the exchange's trade cursor, showing the date `time_at` reads from the cursor."""
    with _bar(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[at]}"),
              TimeElapsedColumn()) as bar:
        total = (stop - start) if (start is not None and stop is not None and stop > start) else None
        task = bar.add_task(label, total=total, at="")

        def advance(cursor: int, until: int | None) -> None:
            at = cursor_when(cursor, time_at) or f"tid {cursor}"
            bar.update(task, completed=(cursor - start) if (start is not None and total) else None, at=at)

        yield advance


@contextmanager
def count_progress(label: str) -> Iterator[Callable[[int, int], None]]:
    with _bar(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}")) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@contextmanager
def step_progress(label: str) -> Iterator[Callable[[str, int, int], None]]:
    """A bar over named steps (a build's models)."""
    with _bar(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[step]}"),
              TimeElapsedColumn()) as bar:
        task = bar.add_task(label, total=None, step="")
        yield lambda step, done, total: bar.update(task, completed=done, total=total, step=step)


def cursor_when(cursor: int, time_at: Callable[[int], int | None]) -> str | None:
    """The UTC time an exchange's trade cursor stands for ('2013-01-01 12:00:00'), None for one that is no time
    (a Mt.Gox tid before June 2011); `time_at` is the exchange adapter's."""
    at = time_at(cursor)
    return None if at is None else datetime.fromtimestamp(at / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _when(us: int | None) -> str:
    return "never" if us is None else datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S.%fZ")


def format_status(s: Any) -> str:
    lines = ["last polls:"]
    for p in s.polls:
        err = f"  last error {p.last_error} at {_when(p.last_error_us)}" if p.last_error else ""
        lines.append(f"  {p.exchange} {p.endpoint} {p.market}: ok {_when(p.last_ok_us)}; "
                     f"{p.requests} requests, {p.errors} errors, {p.bytes:,} bytes{err}")
    lines.append(f"open gaps: {len(s.gaps)}")
    lines += [f"  {g.market}: after tid {g.after_tid}: {g.reason}" for g in s.gaps]
    lines.append("nonces: " + (", ".join(f"key {k}: {v}" for k, v in s.nonces.items()) or "none used"))
    raw = "n/a (object store)" if s.raw_bytes is None else f"{s.raw_bytes:,} bytes"
    free = "" if s.disk_free_bytes is None else f", {s.disk_free_bytes:,} bytes free"
    lines.append(f"disk: journal {s.journal_bytes:,} bytes, raw store {raw}{free}")
    return "\n".join(lines)
