"""A Kraken configuration: the same file, another exchange's endpoints, account calls and rate tier."""

from __future__ import annotations

import pytest

from collector.config import parse_config
from collector.errors import ConfigError

ENV = {"KRAKEN_KEY": "kraken-public-key", "KRAKEN_SECRET": "c2VjcmV0LXNlY3JldC1zZWNyZXQ="}
KRAKEN = """\
[exchange]
name = "kraken"
base_url = "https://api.kraken.com"
{exchange}
[credentials]
key_env = "KRAKEN_KEY"
secret_env = "KRAKEN_SECRET"

[[market]]
pair = "BTCUSD"
ticker = "2s"
trades = "2s"
depth = "5s"
ohlc = "1m"

[account]
{account}
"""


def parse(exchange: str = "", account: str = 'ledgers = "1m"\ntrades_history = "1m"\nbalance = "5m"') -> object:
    return parse_config(KRAKEN.format(exchange=exchange, account=account), source="kraken.toml", environ=ENV)


def problem(**parts: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(**parts)
    return str(caught.value)


def test_a_kraken_config_polls_its_own_endpoints_on_the_starter_tier_by_default() -> None:
    config = parse()
    assert (config.exchange.name, config.exchange.api_version, config.exchange.tier) == ("kraken", 0, "starter")
    assert config.exchange.min_interval_s == 1.0  # "1 per second (or less)"
    assert dict(config.markets[0].intervals) == {"ticker": 2.0, "depth": 5.0, "trades": 2.0, "ohlc": 60.0}
    assert config.account.polls == (("ledgers", 60.0), ("trades_history", 60.0), ("balance", 300.0))
    assert config.account.wallet_history == ()


def test_the_tier_is_a_setting() -> None:
    assert parse('tier = "pro"').exchange.tier == "pro"


@pytest.mark.parametrize(("parts", "expected"), [
    ({"exchange": 'tier = "gold"'}, '[exchange].tier: "gold" is not a kraken tier (one of starter, intermediate, pro)'),
    ({"account": 'wallet_history = ["BTC"]'}, "[account].wallet_history: unknown key"),
    ({"account": 'ledgers = "0.5s"'}, "[account].ledgers: 500ms is below the exchange's minimum of 1s"),
    ({"exchange": 'min_interval = "0.2s"'}, "[exchange].min_interval"),
])
def test_what_kraken_does_not_have_or_allow_is_refused_in_one_line(parts: dict[str, str], expected: str) -> None:
    message = problem(**parts)
    assert expected in message and "\n" not in message


def test_a_mtgox_config_has_no_tier() -> None:
    text = """[exchange]\nname = "mtgox"\nbase_url = "https://data.mtgox.com/api"\ntier = "pro"\n
[[market]]\npair = "BTCUSD"\nticker = "10s"\n"""
    with pytest.raises(ConfigError, match=r"\[exchange\]\.tier: mtgox has no rate tiers"):
        parse_config(text, source="mtgox.toml", environ={})


def test_a_market_endpoint_of_the_other_exchange_is_an_unknown_key() -> None:
    with pytest.raises(ConfigError, match=r"\[market 1\]\.ohlc: unknown key"):
        parse_config('[exchange]\nname = "mtgox"\nbase_url = "https://data.mtgox.com/api"\n'
                     '[[market]]\npair = "BTCUSD"\nohlc = "1m"\n', source="mtgox.toml", environ={})


def test_time_asked_by_two_markets_is_one_task_at_the_shorter_interval_and_asset_pairs_is_per_market() -> None:
    from collector.exchanges import REGISTRY
    from collector.plan import plan

    markets = {"BTCUSD": {"time": 60.0, "asset_pairs": 3600.0}, "BTCEUR": {"time": 30.0, "asset_pairs": 3600.0}}
    tasks = plan(REGISTRY["kraken"], 0, base_url="https://api.kraken.com", key_fingerprint="-", min_interval_s=1.0,
                 heavy_per_hour=1, global_rps=10.0, markets=markets).tasks
    assert sorted((t.key, t.market, t.interval_s) for t in tasks) == [
        ("asset_pairs:BTCEUR", "BTCEUR", 3600.0), ("asset_pairs:BTCUSD", "BTCUSD", 3600.0), ("time:-", "-", 30.0)]
