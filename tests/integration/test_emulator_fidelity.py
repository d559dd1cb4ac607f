"""Every emulator endpoint, over real HTTP, against the matching real Mt.Gox capture.

The captures in ../shared were committed by client projects in 2011-2013; `ordered` marks the
ones that kept Mt.Gox's key order (others were re-sorted by their authors' pretty-printers).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulator.config import EmulatorConfig
from tests.emulator_client import Emulator, running_emulator
from tests.shared import shared_path
from tests.typetree import conform

FX = "fixtures/mtgox/"
RD = "data/real/"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator(EmulatorConfig(seed=5, min_interval_s=0, cache_s=0)) as emu:
        # An open order far below the market, so `orders` has something to show.
        r = emu.private(1, "BTCUSD/private/order/add", emu.key("alice"),
                        {"type": "bid", "amount_int": 50_000_000, "price_int": 1_000_000})
        assert r.status_code == 200, r.text
        yield emu


def capture(relative: str) -> Any:
    path = shared_path(relative)
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return json.loads(raw)


def captures(relatives: str | tuple[str, ...]) -> list[Any]:
    return [capture(r) for r in ((relatives,) if isinstance(relatives, str) else relatives)]


def payload(doc: Any) -> Any:
    """The payload inside a success envelope (v1 `return`, v2 `data`), or the document itself."""
    if isinstance(doc, dict) and doc.get("result") == "success":
        return doc["return"] if "return" in doc else doc["data"]
    return doc


def by_currency_kind(info: Any) -> Any:
    """Wallets are keyed by currency; compare BTC with BTC and any fiat wallet with any fiat one."""
    wallets = dict(info["Wallets"])
    return {**info, "Wallets": {"BTC": wallets.pop("BTC"), "fiat": list(wallets.values())}}


def without(*keys: str) -> Callable[[Any], Any]:
    return lambda doc: {k: v for k, v in doc.items() if k not in keys}


def same(doc: Any) -> Any:
    return doc


# (request, capture, capture keeps Mt.Gox's order, normalisation of both sides)
PUBLIC = [
    ("1/BTCUSD/ticker", RD + "mtgox-api-xchange/v1/marketdata/polling/example-ticker-data.json", True, same),
    ("1/BTCUSD/public/ticker", RD + "mtgox-api-xchange/v1/marketdata/polling/example-ticker-data.json", True, same),
    # v2 added "item" (reference 5.1); no capture of a v2 ticker survives, so compare the rest.
    ("2/BTCUSD/money/ticker", RD + "mtgox-api-xchange/v1/marketdata/polling/example-ticker-data.json", True,
     without("item")),
    ("1/BTCUSD/ticker_fast", FX + "mattcarrier__mtgox4j-client/TickerFast.json", True, same),
    ("2/BTCUSD/money/ticker_fast", FX + "mattcarrier__mtgox4j-client/TickerFast.json", True, same),
    ("1/BTCUSD/depth/fetch", RD + "mtgox-api-xchange/v1/marketdata/polling/example-depth-data.json", True, same),
    ("1/BTCUSD/depth", RD + "mtgox-api-sferik/2013-04-13_1acffb3/depth.json", True, same),
    ("2/BTCUSD/money/depth/fetch", RD + "mtgox-api-sferik/2013-04-13_1acffb3/depth.json", True, same),
    ("1/BTCUSD/fulldepth", RD + "mtgox-api-xchange/v1/marketdata/polling/example-fulldepth-data.json.gz", True, same),
    ("1/BTCUSD/depth/full", RD + "mtgox-api-xchange/v1/marketdata/polling/example-fulldepth-data.json.gz", True,
     same),
    ("2/BTCUSD/money/depth/full", RD + "mtgox-api-xchange/v1/marketdata/polling/example-fulldepth-data.json.gz",
     True, same),
    ("1/BTCUSD/trades", RD + "mtgox-api-xchange/v1/marketdata/polling/example-trades-data.json", True, same),
    ("1/BTCUSD/trades/fetch", RD + "mtgox-api-sferik/2013-04-13_1acffb3/trades.json", True, same),
    ("1/BTCUSD/public/trades", RD + "mtgox-api-xchange/v1/marketdata/polling/example-trades-data.json", True, same),
    ("2/BTCUSD/money/trades/fetch", RD + "mtgox-api-sferik/2013-04-13_1acffb3/trades.json", True, same),
    ("1/BTCUSD/cancelledtrades", FX + "knowm__XChange/mtgox/example-cancelledtrades-data.json", True, same),
    ("1/generic/order/lag", FX + "sferik__mtgox/lag.json", True, same),
    ("2/money/order/lag", FX + "sferik__mtgox/lag.json", True, same),
    ("0/data/ticker.php", FX + "arvicco__mtgox/ticker.json", True, same),
    ("0/data/getDepth.php", RD + "mtgox-api-xchange/v0/marketdata/example-depth-data-v0.json", False, same),
    ("0/data/getTrades.php", RD + "mtgox-api-xchange/v0/marketdata/example-trades-data-v0.json", False, same),
]

# Trade_Fee is 0 in one capture and 0.6 in another; together they show a JSON number.
INFO = (FX + "sferik__mtgox/info.json", FX + "knowm__XChange/v2/account/example-accountinfo-data.json")
# Deposits carry no Trade object, fills do: the two captures show both kinds of entry.
HISTORY = (FX + "sferik__mtgox/history.json", FX + "knowm__XChange/v2/account/example-wallethistory-response.json")

PRIVATE = [
    (1, "generic/private/info", {}, INFO, True, by_currency_kind),
    (1, "generic/info", {}, (*INFO, FX + "sferik__mtgox/historical/2013-03-23_9b25b75f/info.json"), True,
     by_currency_kind),
    (2, "money/info", {}, INFO, True, by_currency_kind),
    (2, "BTCUSD/money/info", {}, INFO, True, by_currency_kind),
    (0, "info.php", {}, INFO, True, by_currency_kind),
    (1, "generic/private/idkey", {}, FX + "sferik__mtgox/idkey.json", True, same),
    (2, "money/idkey", {}, FX + "sferik__mtgox/idkey.json", True, same),
    (1, "generic/private/orders", {}, FX + "sferik__mtgox/orders.json", True, same),
    (2, "money/orders", {}, FX + "sferik__mtgox/orders.json", True, same),
    (0, "getOrders.php", {}, FX + "knowm__XChange/v0/trade/example-cancel-order-response.json", False,
     without("new_usds", "new_btcs")),
    (1, "generic/private/wallet/history", {"currency": "BTC"},
     FX + "knowm__XChange/v2/account/example-wallethistory-response.json", True, same),
    (2, "money/wallet/history", {"currency": "BTC"},
     FX + "knowm__XChange/v2/account/example-wallethistory-response.json", True, same),
    (2, "money/wallet/history", {"currency": "USD", "page": 2}, HISTORY, True, same),
    (1, "BTCUSD/private/order/add", {"type": "bid", "amount_int": 10_000_000, "price_int": 500_000},
     FX + "sferik__mtgox/buy.json", True, same),
    (2, "BTCUSD/money/order/add", {"type": "ask", "amount_int": 1_000_000, "price_int": 10**9},
     FX + "sferik__mtgox/sell.json", True, same),
]


@pytest.mark.parametrize(("request_path", "capture_path", "ordered", "normalise"), PUBLIC,
                         ids=[c[0] for c in PUBLIC])
def test_public_endpoint_sends_the_json_types_of_the_real_capture(
    emu: Emulator, request_path: str, capture_path: str, ordered: bool, normalise: Callable[[Any], Any]
) -> None:
    real = normalise(payload(capture(capture_path)))
    r = emu.get(request_path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    sent = normalise(payload(r.json()))
    # An empty answer would prove nothing, unless the capture itself is empty.
    assert sent or real == sent
    assert conform(sent, real, ordered=ordered) == []


@pytest.mark.parametrize(("version", "path", "params", "capture_path", "ordered", "normalise"), PRIVATE,
                         ids=[f"{c[0]}/{c[1]}" for c in PRIVATE])
def test_private_endpoint_sends_the_json_types_of_the_real_capture(
    emu: Emulator, version: int, path: str, params: dict[str, Any], capture_path: str | tuple[str, ...],
    ordered: bool, normalise: Callable[[Any], Any],
) -> None:
    real = [normalise(payload(doc)) for doc in captures(capture_path)]
    r = emu.private(version, path, emu.key("alice"), params)
    assert r.status_code == 200, r.text
    sent = normalise(payload(r.json()))
    assert sent
    assert conform(sent, *real, ordered=ordered) == []


def test_order_cancel_answers_oid_and_qid_like_the_capture(emu: Emulator) -> None:
    key = emu.key("alice")
    oid = emu.private(2, "BTCUSD/money/order/add", key, {"type": "bid", "amount_int": 2_000_000, "price_int": 700_000})
    r = emu.private(2, "BTCUSD/money/order/cancel", key, {"oid": oid.json()["data"]})
    assert r.status_code == 200, r.text
    real = payload(capture(FX + "sferik__mtgox/cancel.json"))
    assert conform(payload(r.json()), real, ordered=False) == []
    assert payload(r.json())["oid"] == oid.json()["data"]


def test_error_bodies_have_the_shape_mt_gox_used(emu: Emulator) -> None:
    real_v1 = capture(FX + "sferik__mtgox/error.json")
    real_v0 = capture(FX + "sferik__mtgox/historical/2011-06-18_c5e2283e/error.json")
    v1 = emu.http.post("/api/1/generic/private/info", content=b"nonce=1")
    v0 = emu.http.post("/api/0/info.php", content=b"nonce=1")
    assert (v1.status_code, v0.status_code) == (403, 403)
    assert v1.json() == real_v1  # the one error whose exact words and token are on record
    assert conform(v0.json(), real_v0, ordered=True) == []


def test_money_display_uses_a_no_break_space_before_the_unit(emu: Emulator) -> None:
    ticker = emu.get("1/BTCUSD/ticker").json()["return"]
    assert ticker["vol"]["display"].endswith("\u00a0BTC")
    assert "\\u00a0" in emu.get("1/BTCUSD/ticker").text or "\u00a0" in emu.get("1/BTCUSD/ticker").text
    eur = emu.get("1/BTCEUR/ticker").json()["return"]["last"]
    assert eur["display"].endswith("\u00a0€") and eur["currency"] == "EUR"


@pytest.mark.parametrize(("path", "key"), [("1/BTCUSD/ticker", "return"), ("2/BTCUSD/money/ticker", "data")])
def test_envelopes_are_return_for_v1_and_data_for_v2_and_raw_drops_them(emu: Emulator, path: str, key: str) -> None:
    wrapped = emu.get(path).json()
    assert list(wrapped) == ["result", key] and wrapped["result"] == "success"
    bare = emu.http.get(f"/api/{path}?raw").json()
    assert "result" not in bare and "high" in bare


def test_v0_answers_have_no_envelope(emu: Emulator) -> None:
    assert list(emu.get("0/data/ticker.php", Currency="USD").json()) == ["ticker"]
    assert isinstance(emu.get("0/data/getTrades.php", Currency="EUR").json(), list)
