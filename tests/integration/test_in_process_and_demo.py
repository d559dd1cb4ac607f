"""The emulator in-process (httpx.ASGITransport) and the demo as `make demo` runs it."""

from __future__ import annotations

import subprocess
import sys

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


def test_the_demo_shows_public_answers_of_every_version_and_a_signed_call() -> None:
    r = subprocess.run([sys.executable, "-m", "marketrec", "demo"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for expected in ("emulator listening on http://127.0.0.1:", "v1 BTCUSD ticker: last $", "v2 depth/fetch:",
                     "v2 depth/full:", "v0 getTrades", "v2 signed wallet/history"):
        assert expected in out
