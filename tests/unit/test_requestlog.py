"""The request log: JSON lines, readable while written, without signatures or secrets."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from emulator.requestlog import RequestLog, RequestLogEntry, format_time, scrub_params

WHEN = datetime(2013, 4, 1, 12, 0, 0, 123456, tzinfo=UTC)
TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def entry(**changes: object) -> RequestLogEntry:
    base = RequestLogEntry(
        time=WHEN,
        client="127.0.0.1",
        method="POST",
        path="/api/2/BTCUSD/money/info",
        params={"nonce": "1365000000000000", "Rest-Sign": "c2lnbmF0dXJl", "secret": "hunter2"},
        status=200,
        bytes=512,
        cache_hit=False,
        endpoint="info",
        key="11111111-aaaa-4aaa-8aaa-111111111111",
        fault=None,
        blocked=False,
        duration_ms=1.25,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def read_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_entry_is_one_json_line_readable_before_close(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    with RequestLog(path) as log:
        log.write(entry())
        log.write(entry(status=None, fault="drop", bytes=0))
        # Flushed: another reader sees both lines while the log is still open.
        lines = read_lines(path)
    assert len(lines) == 2
    assert lines[0] == {
        "time": "2013-04-01T12:00:00.123456Z",
        "client": "127.0.0.1",
        "method": "POST",
        "path": "/api/2/BTCUSD/money/info",
        "params": {"nonce": "1365000000000000"},
        "status": 200,
        "bytes": 512,
        "cache_hit": False,
        "endpoint": "info",
        "key": "11111111-aaaa-4aaa-8aaa-111111111111",
        "fault": None,
        "blocked": False,
        "duration_ms": 1.25,
        "violation": False,
    }
    assert (lines[1]["status"], lines[1]["fault"]) == (None, "drop")


def test_no_signature_or_secret_reaches_the_file(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    with RequestLog(path) as log:
        log.write(entry(params={"nonce": "1", "SIGN": "abc", "api_secret": "s3cr3t", "type": "bid"}))
    text = path.read_text()
    for leaked in ("abc", "s3cr3t", "hunter2", "c2lnbmF0dXJl"):
        assert leaked not in text
    assert read_lines(path)[0]["params"] == {"nonce": "1", "type": "bid"}


def test_scrub_params_drops_sign_and_secret_names_in_any_case() -> None:
    params = {"Rest-Sign": "x", "signature": "x", "SECRET": "x", "client_secret": "x", "nonce": "1", "since": "5"}
    assert scrub_params(params) == {"nonce": "1", "since": "5"}


def test_times_are_utc_with_microseconds_and_z() -> None:
    assert format_time(datetime(2013, 4, 1, 12, 0, tzinfo=UTC)) == "2013-04-01T12:00:00.000000Z"
    tokyo = timezone(timedelta(hours=9))
    assert format_time(datetime(2013, 4, 1, 21, 0, 0, 7, tzinfo=tokyo)) == "2013-04-01T12:00:00.000007Z"
    assert TIME_RE.fullmatch(format_time(datetime.now(UTC)))


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        entry(time=datetime(2013, 4, 1, 12, 0))


def test_the_log_appends_across_openings(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    for status in (200, 503):
        with RequestLog(path) as log:
            log.write(entry(status=status))
    assert [line["status"] for line in read_lines(path)] == [200, 503]
    assert all(TIME_RE.fullmatch(str(line["time"])) for line in read_lines(path))


def test_a_log_without_a_path_does_nothing(tmp_path: Path) -> None:
    with RequestLog(None) as log:
        log.write(entry())
    log.write(entry())  # still a no-op after close
    assert list(tmp_path.iterdir()) == []


def test_writing_after_close_is_an_error(tmp_path: Path) -> None:
    log = RequestLog(tmp_path / "requests.jsonl")
    log.close()
    log.close()  # closing twice is fine
    with pytest.raises(ValueError, match="closed"):
        log.write(entry())
