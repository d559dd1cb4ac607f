"""The emulator in-process (httpx.ASGITransport), and the demo as `make demo` runs it (the command, its exit code
and what it prints; tests/integration/test_demo.py checks what the demo makes)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from emulator.app import create_app
from emulator.config import EmulatorConfig


@pytest.mark.anyio
async def test_the_app_serves_in_process_through_an_asgi_transport() -> None:
    app = create_app(EmulatorConfig(seed=2, min_interval_s=0, history_hours=2))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://mtgox.test") as client:
        ticker = (await client.get("/api/2/BTCUSD/money/ticker")).json()
        trades = (await client.get("/api/1/BTCEUR/trades")).json()
    assert ticker["result"] == "success" and ticker["data"]["item"] == "BTC"
    assert trades["return"] and {t["price_currency"] for t in trades["return"]} == {"EUR"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.slow
def test_the_demo_command_exits_0_with_a_report_and_never_prints_the_secret(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "marketrec", "demo", "--data", str(tmp_path), "--duration", "3"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for expected in ("emulator listening on http://127.0.0.1:", "collect: done", "backfill BTCUSD:", "rows per table:",
                     "latest hourly bars (BTCUSD, UTC):", "balances (latest per currency):", "open gaps: none"):
        assert expected in r.stdout, expected
    assert re.search(r"^checks: (\d+) of \1 pass$", r.stdout, re.MULTILINE)
    secret = (tmp_path / "demo" / "api.secret").read_text().strip()
    assert secret and secret not in r.stdout + r.stderr
    assert secret not in (tmp_path / "demo" / "marketrec.toml").read_text()


def test_the_demo_command_refuses_a_data_root_of_another_seed_with_exit_code_2(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "world.json").write_text('{"seed": 1, "epoch": 1700000000, "history_hours": 48, "runs": 1}')
    r = subprocess.run([sys.executable, "-m", "marketrec", "demo", "--data", str(tmp_path), "--seed", "2"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("marketrec: error: ") and "seed 1, not 2" in r.stderr and len(r.stderr.splitlines()) == 1
