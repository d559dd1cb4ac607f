"""The demo: start the emulator on a free loopback port and show what it serves over real HTTP.

It grows into the full main job (collect, backfill, build, report) as the collector and the
pipelines land; for now it shows the exchange side: public data in all three API versions and
a signed private call.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable

import httpx

from emulator.app import create_app
from emulator.auth import message_to_sign, sign
from emulator.config import EmulatorConfig
from emulator.server import ServerThread


def run(echo: Callable[[str], None] = print, *, seed: int = 1) -> None:
    config = EmulatorConfig(seed=seed, min_interval_s=1.0)
    app = create_app(config)
    key = next(k for k in app.state.exchange.keys if k.rights == frozenset({"get_info"}))
    with ServerThread(app) as srv, httpx.Client(base_url=srv.url + "/api", timeout=10) as http:
        echo(f"emulator listening on {srv.url} (synthetic market, seed {seed})")
        t = http.get("/1/BTCUSD/ticker").json()["return"]
        echo(f"v1 BTCUSD ticker: last {t['last']['display']}  bid {t['buy']['display']}  ask {t['sell']['display']}"
             f"  24h volume {t['vol']['display']}")
        d = http.get("/2/BTCUSD/money/depth/fetch").json()["data"]
        echo(f"v2 depth/fetch: {len(d['bids'])} bids, {len(d['asks'])} asks between "
             f"{d['filter_min_price']['display']} and {d['filter_max_price']['display']}")
        full = http.get("/2/BTCUSD/money/depth/full").json()["data"]
        echo(f"v2 depth/full: {len(full['bids']) + len(full['asks'])} levels, lowest bid "
             f"{full['bids'][0]['price']} for {full['bids'][0]['amount']} BTC, highest ask {full['asks'][-1]['price']}")
        trades = http.get("/0/data/getTrades.php", params={"Currency": "USD"}).json()
        echo(f"v0 getTrades (last 24 h): {len(trades)} trades, last tid {trades[-1]['tid']}")
        nonce = str(int(time.time() * 1e6))
        body = urllib.parse.urlencode({"currency": "BTC", "nonce": nonce}).encode()
        path = "money/wallet/history"
        headers = {"Rest-Key": key.key, "Rest-Sign": sign(key.secret, message_to_sign(2, path, body)),
                   "Content-Type": "application/x-www-form-urlencoded"}
        h = http.post(f"/2/{path}", content=body, headers=headers).json()["data"]
        first = h["result"][0]
        echo(f"v2 signed wallet/history (BTC, read-only key): {h['records']} entries, {h['max_page']} pages; "
             f"newest: #{first['Index']} {first['Type']} {first['Value']['display']} -> {first['Balance']['display']}")
