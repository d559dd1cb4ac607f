"""`marketrec emulator` as a user runs it: a real process, a real port, real signals."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-m", "marketrec"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60)


def test_the_emulator_serves_on_the_port_it_announces_and_stops_on_sigint(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    proc = subprocess.Popen([*CLI, "emulator", "--port", "0", "--seed", "4", "--min-interval", "0",
                             "--history-hours", "2", "--request-log", str(log)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = [proc.stdout.readline() for _ in range(3)]
        url = re.search(r"http://127\.0\.0\.1:\d+", banner[0]).group(0)
        keys = [proc.stdout.readline() for _ in range(3)]
        assert all("key=" in k and "secret=" in k for k in keys)
        r = httpx.get(f"{url}/api/1/BTCUSD/ticker", timeout=10)
        assert r.status_code == 200 and r.json()["result"] == "success"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
    assert proc.returncode == 0
    assert '"path":"/api/1/BTCUSD/ticker"' in log.read_text()


def test_a_malformed_replay_file_is_one_line_naming_file_and_line_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "trades.csv"
    bad.write_text("1279408157,0.04951,20\n1279424586,zero,50\n")
    r = run("emulator", "--replay", str(bad), "--port", "0")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{bad}:2:" in lines[0]


@pytest.mark.parametrize(("args", "needle"), [
    (["--faults", "http502=2"], "http502=2"),
    (["--faults", "bogus=0.1"], "bogus"),
    (["--speed", "0"], "--speed"),
    (["--block-style", "teapot"], "--block-style"),
    (["--keys", "/nonexistent/keys.json"], "/nonexistent/keys.json"),
])
def test_bad_options_are_one_clear_line_and_exit_2(args: list[str], needle: str) -> None:
    r = run("emulator", "--port", "0", *args)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr


def test_a_port_in_use_is_a_clear_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        r = run("emulator", "--port", str(s.getsockname()[1]))
    assert r.returncode == 2 and "cannot listen on 127.0.0.1" in r.stderr


def test_every_command_has_help_with_an_example() -> None:
    top = run("--help")
    assert top.returncode == 0
    commands = re.findall(r"^│ (\w[\w-]*) ", top.stdout, flags=re.M) or re.findall(r"^  (\w[\w-]*)\s", top.stdout,
                                                                                  flags=re.M)
    assert {"emulator", "demo"} <= set(commands)
    assert {"init", "collect", "backfill", "gaps", "status", "compact", "build", "check", "query"} <= set(commands)
    for command in [*commands, "backfill trades"]:
        out = run(*command.split(), "--help").stdout
        assert "Example: marketrec " + command in " ".join(out.split()), command


def test_version_prints_the_version() -> None:
    r = run("--version")
    assert r.returncode == 0 and re.fullmatch(r"marketrec \S+\n", r.stdout)



def test_the_banner_names_the_keys_of_a_keys_file_without_their_secrets(tmp_path: Path) -> None:
    from emulator.config import EmulatorConfig
    from emulator.main import banner

    secret = "c2VjcmV0LW9mLWEta2V5cy1maWxl"
    keys_file = tmp_path / "keys.json"
    text = banner(EmulatorConfig(keys=keys_file), "127.0.0.1", 8080, [("k-1", secret, "get_info", "alice")])
    assert "key=k-1" in text and str(keys_file) in text and secret not in text
    seeded = banner(EmulatorConfig(), "127.0.0.1", 8080, [("k-1", secret, "get_info", "alice")])
    assert f"secret={secret}" in seeded  # test keys the emulator made up: printed so they can be used
