"""Signed private calls and the accounts behind them, over real HTTP on loopback."""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from emulator.config import EmulatorConfig
from tests.emulator_client import Emulator, next_nonce, rest_sign, running_emulator


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator(EmulatorConfig(seed=9, min_interval_s=0, cache_s=0)) as emu:
        yield emu


def post(emu: Emulator, version: int, path: str, fields: dict, *, key_id: str, secret: str,
         sign_as: int | None = None) -> tuple[int, dict]:
    body = urllib.parse.urlencode(fields).encode()
    headers = {"Rest-Key": key_id, "Rest-Sign": rest_sign(secret, sign_as or version, path, body)}
    r = emu.http.post(f"/api/{version}/{path}", content=body, headers=headers)
    return r.status_code, r.json()


def test_v2_signs_the_path_and_a_nul_byte_before_the_body(emu: Emulator) -> None:
    key = emu.key("alice", "get_info")
    nonce = next_nonce()
    ok = post(emu, 2, "money/info", {"nonce": nonce}, key_id=key.key, secret=key.secret)
    body_only = post(emu, 2, "money/info", {"nonce": next_nonce()}, key_id=key.key, secret=key.secret, sign_as=1)
    assert ok[0] == 200 and ok[1]["data"]["Login"]
    assert body_only == (403, {"result": "error", "error": "Invalid request signature",
                               "token": "login_error_invalid_rest_sign"})


def test_a_nonce_must_increase_and_a_rejected_request_does_not_use_it_up(emu: Emulator) -> None:
    key = emu.key("bob", "get_info")
    n = next_nonce()
    assert post(emu, 1, "generic/private/info", {"nonce": n}, key_id=key.key, secret=key.secret)[0] == 200
    stale = post(emu, 1, "generic/private/info", {"nonce": n}, key_id=key.key, secret=key.secret)
    assert stale[0] == 403 and stale[1]["token"] == "login_error_invalid_nonce"
    forged = post(emu, 1, "generic/private/info", {"nonce": n + 5}, key_id=key.key,
                  secret=base64.b64encode(b"not the secret").decode())
    assert forged[1]["token"] == "login_error_invalid_rest_sign"
    # The forged request's nonce was not recorded, so the real client can still use n + 1.
    assert post(emu, 1, "generic/private/info", {"nonce": n + 1}, key_id=key.key, secret=key.secret)[0] == 200


def test_a_tonce_is_accepted_once_within_ten_seconds(emu: Emulator) -> None:
    key = emu.key("alice", "get_info")
    tonce = int(time.time() * 1e6)
    assert post(emu, 2, "money/orders", {"tonce": tonce}, key_id=key.key, secret=key.secret)[0] == 200
    again = post(emu, 2, "money/orders", {"tonce": tonce}, key_id=key.key, secret=key.secret)
    late = post(emu, 2, "money/orders", {"tonce": tonce - 11_000_000}, key_id=key.key, secret=key.secret)
    assert again[1]["token"] == late[1]["token"] == "login_error_invalid_tonce"


def test_a_read_only_key_cannot_trade_and_an_unknown_key_is_refused(emu: Emulator) -> None:
    read_only = next(k for k in emu.exchange.keys if k.rights == frozenset({"get_info"}))
    r = emu.private(1, "BTCUSD/private/order/add", read_only, {"type": "bid", "amount_int": 10**8})
    assert r.status_code == 403 and r.json()["token"] == "login_error_missing_right"
    stranger = post(emu, 1, "generic/private/info", {"nonce": 1}, key_id="00000000-0000-4000-8000-000000000000",
                    secret=read_only.secret)
    assert stranger == (403, {"result": "error", "error": "Unknown API key", "token": "login_error_invalid_rest_key"})
    assert read_only.secret not in r.text


def wallet_entries(emu: Emulator, currency: str) -> list[dict]:
    key = emu.key("alice", "get_info")
    first = emu.private(2, "money/wallet/history", key, {"currency": currency}).json()["data"]
    entries = list(first["result"])
    for page in range(2, first["max_page"] + 1):
        data = emu.private(2, "money/wallet/history", key, {"currency": currency, "page": page}).json()["data"]
        assert data["current_page"] == page and data["max_results"] == 50
        entries += data["result"]
    assert len(entries) == int(first["records"])
    return entries


SIGN = {"in": 1, "deposit": 1, "earned": 1, "out": -1, "spent": -1, "fee": -1, "withdraw": -1}


@pytest.mark.parametrize("currency", ["BTC", "USD"])
def test_wallet_history_pages_newest_first_and_every_balance_follows_from_the_one_before(
    emu: Emulator, currency: str
) -> None:
    entries = wallet_entries(emu, currency)
    assert len(entries) > 100  # several pages
    indexes = [int(e["Index"]) for e in entries]
    assert indexes == list(range(len(entries), 0, -1))
    balance = 0
    for e in reversed(entries):
        assert e["Value"]["currency"] == e["Balance"]["currency"] == currency
        balance += SIGN[e["Type"]] * int(e["Value"]["value_int"])
        assert int(e["Balance"]["value_int"]) == balance, f"entry {e['Index']}"
        assert Decimal(e["Balance"]["value"]) == Decimal(balance).scaleb(-8 if currency == "BTC" else -5)
    assert {"in", "out", "fee", "deposit", "withdraw"} <= {e["Type"] for e in entries} if currency == "BTC" else True
    info = emu.private(2, "money/info", emu.key("alice", "get_info")).json()["data"]
    assert int(info["Wallets"][currency]["Balance"]["value_int"]) == balance


def test_seeded_trades_in_the_wallet_history_are_trades_of_the_public_feed(emu: Emulator) -> None:
    fills = [e for e in wallet_entries(emu, "BTC") if "Trade" in e and e["Type"] == "in"]
    public = {t.tid: t for t in emu.exchange.market.feeds["USD"].trades}
    linked = [e for e in fills if int(e["Trade"]["tid"]) in public]
    assert len(linked) > 10
    for e in linked:
        trade = public[int(e["Trade"]["tid"])]
        assert e["Date"] == trade.date and f"[tid:{trade.tid}]" in e["Info"]
        assert int(e["Value"]["value_int"]) <= trade.amount_int


def test_a_market_order_fills_against_the_book_and_shows_in_trades_and_history(emu: Emulator) -> None:
    key = emu.key("alice")
    before = wallet_entries(emu, "BTC")
    ask = emu.get("2/BTCUSD/money/depth/fetch").json()["data"]["asks"][0]
    amount = min(int(ask["amount_int"]), 2_000_000)
    r = emu.private(2, "BTCUSD/money/order/add", key, {"type": "bid", "amount_int": amount})
    assert r.status_code == 200, r.text
    after = wallet_entries(emu, "BTC")
    new = after[: len(after) - len(before)]
    assert [e["Type"] for e in reversed(new)] == ["in", "fee"]
    tid = new[-1]["Trade"]["tid"]
    feed = emu.get("1/BTCUSD/trades").json()["return"]
    mine = [t for t in feed if t["tid"] == tid]
    assert len(mine) == 1 and mine[0]["price_int"] == ask["price_int"] and mine[0]["amount_int"] == str(amount)
    assert mine[0]["trade_type"] == "bid" and mine[0]["properties"] == "market"


def test_a_limit_order_rests_in_the_book_and_cancelling_removes_it(emu: Emulator) -> None:
    key = emu.key("alice")
    price = 4_321_000  # $43.21, far below the market: it cannot fill
    oid = emu.private(1, "BTCUSD/private/order/add", key, {"type": "bid", "amount_int": 30_000_000,
                                                           "price_int": price}).json()["return"]
    orders = emu.private(1, "generic/private/orders", key).json()["return"]
    assert any(o["oid"] == oid and o["price"]["value_int"] == str(price) and o["status"] == "open" for o in orders)
    levels = {lv["price_int"]: lv for lv in emu.get("1/BTCUSD/fulldepth").json()["return"]["bids"]}
    assert int(levels[str(price)]["amount_int"]) >= 30_000_000
    cancel = emu.private(1, "BTCUSD/private/order/cancel", key, {"oid": oid})
    assert cancel.status_code == 200 and cancel.json()["return"]["oid"] == oid
    orders = emu.private(1, "generic/private/orders", key).json()["return"]
    assert all(o["oid"] != oid for o in orders)
    again = emu.private(1, "BTCUSD/private/order/cancel", key, {"oid": oid})
    assert again.json() == {"result": "error", "error": "Order not found", "token": "unknown_error"}


def test_v0_history_csv_chains_its_balances(emu: Emulator) -> None:
    r = emu.private(0, "history_USD.csv", emu.key("alice", "get_info"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == ["Index", "Date", "Type", "Info", "Value", "Balance"]
    balance = Decimal(0)
    for row in rows:
        balance += SIGN[row["Type"]] * Decimal(row["Value"])
        assert Decimal(row["Balance"]) == balance


def test_keys_come_from_a_keys_file_when_given(tmp_path: Path) -> None:
    secret = base64.b64encode(bytes(range(64))).decode()
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"keys": [{"key": "12345678-abcd-1234-abcd-50286e649d5c", "secret": secret,
                                          "rights": ["get_info"], "account": "carol"}]}))
    with running_emulator(EmulatorConfig(keys=keys, min_interval_s=0, cache_s=0)) as emu:
        code, body = post(emu, 2, "money/info", {"nonce": 1}, key_id="12345678-abcd-1234-abcd-50286e649d5c",
                          secret=secret)
    assert code == 200 and body["data"]["Rights"] == ["get_info"]


def test_bad_parameters_get_a_mt_gox_style_error(emu: Emulator) -> None:
    r = emu.get("1/BTCUSD/trades", since="yesterday")
    assert r.status_code == 400 and r.json()["error"] == 'Invalid parameter "since" (should be an integer)'
    bad_type = emu.private(1, "BTCUSD/private/order/add", emu.key("alice"), {"type": "buy", "amount_int": 10**8})
    assert bad_type.json() == {"result": "error", "error": 'Invalid parameter "type" (should be ask or bid)'}
    v0 = emu.get("0/data/ticker.php", Currency="XYZ")
    assert v0.status_code == 400 and list(v0.json()) == ["error"]
