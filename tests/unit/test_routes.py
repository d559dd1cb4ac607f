"""The route table: every Mt.Gox URL spelling names one canonical endpoint (reference section 4)."""

from __future__ import annotations

import pytest

from emulator.routes import Endpoint, UnknownPair, UnknownRoute, all_spellings, resolve

REFERENCE_FIAT = [
    "USD",
    "AUD",
    "CAD",
    "CHF",
    "CNY",
    "DKK",
    "EUR",
    "GBP",
    "HKD",
    "JPY",
    "NZD",
    "PLN",
    "RUB",
    "SEK",
    "SGD",
    "THB",
    "NOK",
    "CZK",
]


def _concrete(version: int, pattern: str) -> list[tuple[str, str | None]]:
    """The pattern filled in for BTCUSD (both with and without an optional pair; USD and BTC CSVs)."""
    if "{cur}" in pattern:
        return [(pattern.replace("{cur}", cur), cur) for cur in ("USD", "BTC")]
    if "[pair/]" in pattern:
        return [(pattern.replace("[pair/]", ""), None), (pattern.replace("[pair/]", "BTCUSD/"), "USD")]
    if "{pair}" in pattern:
        return [(pattern.replace("{pair}", "BTCUSD"), "USD")]
    return [(pattern, None)]


SPELLINGS = [
    pytest.param(version, path, cur, endpoint, id=f"{version}/{path}")
    for version, pattern, endpoint in all_spellings()
    for path, cur in _concrete(version, pattern)
]


@pytest.mark.parametrize(("version", "path", "currency", "endpoint"), SPELLINGS)
def test_every_spelling_in_the_table_resolves_to_its_own_endpoint_and_currency(
    version: int, path: str, currency: str | None, endpoint: Endpoint
) -> None:
    route = resolve(version, path)
    assert route.endpoint == endpoint
    assert route.version == version
    assert route.currency == currency


# (version, path, canonical name): spellings as the reference lists them, written out by hand.
REFERENCE_SPELLINGS = [
    (0, "data/ticker.php", "ticker"),
    (0, "ticker.php", "ticker"),
    (0, "data/getDepth.php", "depth"),
    (0, "data/getTrades.php", "trades"),
    (0, "getFunds.php", "funds"),
    (0, "info.php", "info"),
    (0, "getOrders.php", "orders"),
    (0, "history_USD.csv", "history_csv"),
    (0, "history_BTC.csv", "history_csv"),
    (1, "BTCUSD/ticker", "ticker"),
    (1, "BTCUSD/public/ticker", "ticker"),
    (1, "BTCUSD/ticker_fast", "ticker_fast"),
    (1, "BTCUSD/depth", "depth"),
    (1, "BTCUSD/depth/fetch", "depth"),
    (1, "BTCUSD/public/depth", "depth"),
    (1, "BTCUSD/fulldepth", "fulldepth"),
    (1, "BTCUSD/depth/full", "fulldepth"),
    (1, "BTCUSD/public/fulldepth", "fulldepth"),
    (1, "BTCUSD/trades", "trades"),
    (1, "BTCUSD/trades/fetch", "trades"),
    (1, "BTCUSD/public/trades", "trades"),
    (1, "BTCUSD/cancelledtrades", "cancelledtrades"),
    (1, "generic/order/lag", "lag"),
    (1, "generic/public/currency", "currency"),
    (1, "generic/private/info", "info"),
    (1, "generic/info", "info"),
    (1, "generic/private/idkey", "idkey"),
    (1, "generic/private/orders", "orders"),
    (1, "generic/orders", "orders"),
    (1, "BTCUSD/private/order/add", "order_add"),
    (1, "BTCUSD/order/add", "order_add"),
    (1, "BTCUSD/private/order/cancel", "order_cancel"),
    (1, "BTCUSD/order/cancel", "order_cancel"),
    (1, "generic/private/wallet/history", "wallet_history"),
    (1, "generic/wallet/history", "wallet_history"),
    (2, "BTCUSD/money/ticker", "ticker"),
    (2, "BTCUSD/money/ticker_fast", "ticker_fast"),
    (2, "BTCUSD/money/depth/fetch", "depth"),
    (2, "BTCUSD/money/depth", "depth"),
    (2, "BTCUSD/money/depth/full", "fulldepth"),
    (2, "BTCUSD/money/fulldepth", "fulldepth"),
    (2, "BTCUSD/money/trades/fetch", "trades"),
    (2, "BTCUSD/money/trades", "trades"),
    (2, "BTCUSD/money/trades/cancelled", "cancelledtrades"),
    (2, "BTCUSD/money/cancelledtrades", "cancelledtrades"),
    (2, "BTCUSD/money/currency", "currency"),
    (2, "money/order/lag", "lag"),
    (2, "money/info", "info"),
    (2, "money/idkey", "idkey"),
    (2, "money/orders", "orders"),
    (2, "money/wallet/history", "wallet_history"),
    (2, "BTCUSD/money/order/add", "order_add"),
    (2, "BTCUSD/money/order/cancel", "order_cancel"),
]


@pytest.mark.parametrize(("version", "path", "name"), REFERENCE_SPELLINGS, ids=lambda x: str(x))
def test_each_spelling_the_reference_lists_names_its_canonical_endpoint(version: int, path: str, name: str) -> None:
    assert resolve(version, path).endpoint.name == name


@pytest.mark.parametrize(
    ("version", "alias", "canonical"),
    [
        (1, "BTCUSD/public/ticker", "BTCUSD/ticker"),
        (1, "BTCUSD/depth", "BTCUSD/depth/fetch"),
        (1, "BTCUSD/fulldepth", "BTCUSD/depth/full"),
        (1, "BTCUSD/trades", "BTCUSD/trades/fetch"),
        (1, "generic/info", "generic/private/info"),
        (1, "BTCUSD/order/add", "BTCUSD/private/order/add"),
        (2, "BTCUSD/money/depth", "BTCUSD/money/depth/fetch"),
        (2, "BTCUSD/money/fulldepth", "BTCUSD/money/depth/full"),
        (2, "BTCUSD/money/trades", "BTCUSD/money/trades/fetch"),
        (2, "BTCUSD/money/cancelledtrades", "BTCUSD/money/trades/cancelled"),
    ],
)
def test_an_alias_is_the_same_endpoint_as_its_canonical_spelling(version: int, alias: str, canonical: str) -> None:
    assert resolve(version, alias) == resolve(version, canonical)


def test_the_same_method_across_versions_is_one_endpoint() -> None:
    assert resolve(0, "data/ticker.php").endpoint == resolve(1, "BTCUSD/ticker").endpoint
    assert resolve(1, "BTCUSD/ticker").endpoint == resolve(2, "BTCUSD/money/ticker").endpoint
    assert resolve(1, "generic/private/info").endpoint == resolve(2, "money/info").endpoint


@pytest.mark.parametrize("method", ["money/info", "money/idkey", "money/orders", "money/wallet/history"])
def test_v2_account_methods_work_with_and_without_the_pair_prefix(method: str) -> None:
    bare = resolve(2, method)
    prefixed = resolve(2, f"BTCEUR/{method}")
    assert bare.endpoint == prefixed.endpoint
    assert bare.currency is None
    assert prefixed.currency == "EUR"


@pytest.mark.parametrize(
    ("version", "path"),
    [
        (1, "BTCUSD/nothing"),
        (1, "BTCUSD/money/ticker"),  # a v2 spelling under v1
        (2, "BTCUSD/ticker"),  # a v1 spelling under v2
        (2, "money/ticker"),  # public v2 methods need the pair
        (0, "BTCUSD/ticker"),
        (3, "BTCUSD/money/ticker"),
        (1, "btcusd/ticker"),
        (1, "BTCUSD/ticker/"),
        (1, "/BTCUSD/ticker"),
        (1, "BTCUSD/tickerx"),
        (1, ""),
        (0, "history_usd.csv"),
    ],
)
def test_a_path_no_method_has_raises_unknown_route(version: int, path: str) -> None:
    with pytest.raises(UnknownRoute):
        resolve(version, path)


@pytest.mark.parametrize(
    ("version", "path"),
    [
        (1, "BTCXYZ/ticker"),
        (2, "BTCXYZ/money/ticker"),
        (2, "BTCXYZ/money/info"),
        (1, "BTCBTC/ticker"),
        (1, "BTCINR/ticker"),
        (0, "history_XYZ.csv"),
    ],
)
def test_a_pair_mtgox_did_not_list_raises_unknown_pair(version: int, path: str) -> None:
    with pytest.raises(UnknownPair):
        resolve(version, path)


def test_unknown_pair_is_not_mistaken_for_unknown_route() -> None:
    assert not issubclass(UnknownPair, UnknownRoute)
    assert not issubclass(UnknownRoute, UnknownPair)


@pytest.mark.parametrize("code", REFERENCE_FIAT)
def test_every_reference_currency_is_accepted_as_a_pair(code: str) -> None:
    assert resolve(1, f"BTC{code}/ticker").currency == code
    assert resolve(2, f"BTC{code}/money/depth/fetch").currency == code
    assert resolve(0, f"history_{code}.csv").currency == code


# --- rights and flags ---------------------------------------------------------------------------

RIGHTS = {
    "ticker": None,
    "ticker_fast": None,
    "depth": None,
    "fulldepth": None,
    "trades": None,
    "cancelledtrades": None,
    "lag": None,
    "currency": None,
    "info": "get_info",
    "idkey": "get_info",
    "orders": "get_info",
    "wallet_history": "get_info",
    "funds": "get_info",
    "history_csv": "get_info",
    "order_add": "trade",
    "order_cancel": "trade",
}


@pytest.mark.parametrize(("version", "path", "name"), REFERENCE_SPELLINGS, ids=lambda x: str(x))
def test_private_endpoints_need_the_right_the_reference_implies(version: int, path: str, name: str) -> None:
    endpoint = resolve(version, path).endpoint
    assert endpoint.right == RIGHTS[name]
    assert endpoint.private == (RIGHTS[name] is not None)


def test_every_endpoint_in_the_table_has_a_known_right() -> None:
    assert {e.name: e.right for _, _, e in all_spellings()} == RIGHTS


def test_only_full_depth_is_heavy_and_only_trades_endpoints_are_trade_feeds() -> None:
    endpoints = {e for _, _, e in all_spellings()}
    assert {e.name for e in endpoints if e.heavy} == {"fulldepth"}
    assert {e.name for e in endpoints if e.trades} == {"trades"}
    assert resolve(2, "BTCUSD/money/fulldepth").endpoint.heavy
    assert resolve(1, "BTCUSD/public/fulldepth").endpoint.heavy
    assert not resolve(1, "BTCUSD/depth/fetch").endpoint.heavy
    assert resolve(0, "getTrades.php").endpoint.trades
    assert resolve(2, "BTCUSD/money/trades/fetch").endpoint.trades
    assert not resolve(2, "BTCUSD/money/trades/cancelled").endpoint.trades
