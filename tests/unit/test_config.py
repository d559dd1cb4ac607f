"""The configuration file: parsing, one-line problems, the exchange's limits, and credentials that never leak."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import collector.config
from collector.config import (
    RULES,
    AccountConfig,
    Config,
    Credentials,
    ExchangeConfig,
    MarketConfig,
    StorageConfig,
    example_config,
    format_duration,
    load_config,
    parse_config,
    parse_duration,
    parse_size,
    write_example,
)
from collector.errors import ConfigError, CredentialsError

KEY = "12345678-abcd-1234-abcd-50286e649d5c"
# Distinctive, and not a valid environment variable name (base64 has "+", "/" and "="), like a real secret.
SECRET = "Zm9vYmFyLXNlY3JldC1tdXN0LW5ldmVyLWxlYWs+/SECRET=="
ENV = {"MARKETREC_KEY": KEY, "MARKETREC_SECRET": SECRET}
EXAMPLE = example_config()
CREDENTIALS_TABLE = '[credentials]\nkey_env = "MARKETREC_KEY"\nsecret_env = "MARKETREC_SECRET"\n'


def edited(*edits: tuple[str, str], text: str = EXAMPLE) -> str:
    """The example with each `old` (which must occur exactly once) replaced by `new`."""
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def parse(text: str, environ: dict[str, str] = ENV) -> Config:
    return parse_config(text, source="config.toml", environ=environ)


def problem(text: str, environ: dict[str, str] = ENV) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse(text, environ)
    return caught.value


def everything_said(error: BaseException) -> str:
    return "\n".join([str(error), repr(error), *getattr(error, "__notes__", [])])


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if fragment in line)


# --- the example --------------------------------------------------------------------------------------------------


def test_the_example_parses_into_the_expected_dataclasses() -> None:
    assert parse(EXAMPLE) == Config(
        exchange=ExchangeConfig(
            name="mtgox",
            base_url="https://data.mtgox.com/api",
            api_version=2,
            min_interval_s=10.0,
            full_depth_per_hour=5,
            max_requests_per_second=1.0,
            timeout_s=20.0,
            use_tonce=False,
        ),
        markets=(MarketConfig("BTCUSD", (("ticker", 10.0), ("depth", 30.0), ("full_depth", 900.0), ("trades", 10.0))),),
        account=AccountConfig(wallet_history=("BTC", "USD"), every_s=300.0, polls=(("info", 300.0), ("orders", 60.0))),
        credentials=Credentials(KEY, SECRET),
        storage=StorageConfig(
            root="data",
            journal_dir=Path("data/journal"),
            journal_fsync_s=0.1,
            journal_fsync_records=100,
            segment_max_bytes=64 * 2**20,
            segment_max_age_s=3600.0,
            target_file_bytes=64 * 2**20,
        ),
        path=None,
    )
    account = parse(EXAMPLE).account
    assert (account.info_s, account.orders_s) == (300.0, 60.0)


def test_a_market_answers_its_interval_per_endpoint_and_none_for_one_not_polled() -> None:
    config = parse(edited(('depth = "30s"\n', "")))
    market = config.markets[0]
    assert market.interval("ticker") == 10.0
    assert market.interval("depth") is None


def test_without_credentials_and_account_only_public_endpoints_remain() -> None:
    account = EXAMPLE[EXAMPLE.index("# Optional, and needs") : EXAMPLE.index("[storage]")]
    config = parse(edited((CREDENTIALS_TABLE, ""), (account, "")), environ={})
    assert config.credentials is None
    assert config.account is None
    assert [m.pair for m in config.markets] == ["BTCUSD"]


def test_the_exchange_and_storage_defaults_come_from_the_exchange_rules_and_the_root() -> None:
    minimal = '[exchange]\nname = "mtgox"\nbase_url = "https://data.mtgox.com/api/"\n'
    config = parse(minimal, environ={})
    assert config.exchange.api_version == 2
    assert config.exchange.min_interval_s == RULES["mtgox"].documented_min_interval_s
    assert config.exchange.full_depth_per_hour == RULES["mtgox"].full_depth_per_hour
    assert config.exchange.base_url == "https://data.mtgox.com/api"  # no trailing slash to double up when joining
    assert config.markets == ()
    assert config.storage.root == "data"
    assert config.storage.journal_dir == Path("data/journal")
    assert not config.storage.root_is_uri


def test_an_object_store_root_keeps_its_uri_and_needs_a_local_journal() -> None:
    config = parse(edited(('root = "data"', 'root = "s3://bucket/prefix/"')))
    assert config.storage.root == "s3://bucket/prefix"
    assert config.storage.root_is_uri
    assert config.storage.journal_dir == Path("data/journal")


def test_every_pair_the_rules_list_is_btc_and_a_listed_currency() -> None:
    mtgox = RULES["mtgox"]
    assert len(mtgox.pairs) == 18
    assert all(pair.startswith("BTC") and pair[3:] in mtgox.currencies for pair in mtgox.pairs)
    assert {"BTCUSD", "BTCJPY", "BTCSEK", "BTCNOK", "BTCCZK"} <= mtgox.pairs


# --- every problem is one line naming the file and the key -------------------------------------------------------

ERRORS = [
    pytest.param(
        edited(('trades = "10s"', 'tradez = "10s"')),
        "config.toml: [market 1].tradez: unknown key (did you mean trades?)",
        id="unknown-key",
    ),
    pytest.param(
        edited(('pair = "BTCUSD"', 'pair = "BTCXYZ"')),
        'config.toml: [market 1].pair: "BTCXYZ" is not a pair the exchange lists (BTC<CUR> with CUR in USD, AUD, ',
        id="unknown-pair",
    ),
    pytest.param(
        edited(('pair = "BTCUSD"', 'pair = "btc/usd"')),
        'config.toml: [market 1].pair: "btc/usd" is not a pair the exchange lists (did you mean BTCUSD?)',
        id="misspelt-pair",
    ),
    pytest.param(
        edited(('ticker = "10s"', 'ticker = "5s"')),
        "config.toml: [market 1].ticker: 5s is below the exchange's minimum of 10s",
        id="interval-below-minimum",
    ),
    pytest.param(
        edited(('full_depth = "15m"', 'full_depth = "5m"')),
        "config.toml: [market 1].full_depth: 5m exceeds 5 full-depth requests an hour (every 12m at least)",
        id="full-depth-too-often",
    ),
    pytest.param(
        edited(('orders = "1m"', 'orders = "5s"')),
        "config.toml: [account].orders: 5s is below the exchange's minimum of 10s",
        id="account-interval-below-minimum",
    ),
    pytest.param(
        edited(("api_version = 2", 'api_version = "2"')),
        'config.toml: [exchange].api_version: expected an integer, got "2"',
        id="wrong-type",
    ),
    pytest.param(
        edited(("use_tonce = false", 'use_tonce = "no"')),
        'config.toml: [exchange].use_tonce: expected true or false, got "no"',
        id="wrong-type-bool",
    ),
    pytest.param(
        edited(("api_version = 2", "api_version = 3")),
        "config.toml: [exchange].api_version: 3 is not an API version mtgox has (one of 0, 1, 2)",
        id="api-version",
    ),
    pytest.param(
        edited(('name = "mtgox"', 'name = "mtgx"')),
        'config.toml: [exchange].name: "mtgx" is not a known exchange (did you mean mtgox?)',
        id="misspelt-exchange",
    ),
    pytest.param(
        edited(('name = "mtgox"', 'name = "bitstamp"')),
        'config.toml: [exchange].name: "bitstamp" is not a known exchange (known: kraken, mtgox)',
        id="unknown-exchange",
    ),
    pytest.param(
        edited(('base_url = "https://data.mtgox.com/api"', 'base_url = "data.mtgox.com/api"')),
        'config.toml: [exchange].base_url: "data.mtgox.com/api" is not an http:// or https:// URL with a host',
        id="base-url",
    ),
    pytest.param(
        edited(('min_interval = "10s"', 'min_interval = "5s"')),
        "config.toml: [exchange].min_interval: 5s is below the exchange's documented 10s; only an emulator on a "
        "loopback base_url (127.0.0.0/8, ::1, localhost) may shorten it",
        id="min-interval-shortened-for-a-real-host",
    ),
    pytest.param(
        edited(("full_depth_per_hour = 5", "full_depth_per_hour = 6")),
        "config.toml: [exchange].full_depth_per_hour: 6 is above the exchange's documented 5; only an emulator on",
        id="full-depth-allowance-raised-for-a-real-host",
    ),
    pytest.param(
        edited(("full_depth_per_hour = 5", "full_depth_per_hour = 0")),
        "config.toml: [exchange].full_depth_per_hour: must be at least 1, got 0",
        id="no-full-depth-allowance",
    ),
    pytest.param(
        edited(("max_requests_per_second = 1.0", "max_requests_per_second = 0")),
        "config.toml: [exchange].max_requests_per_second: expected a positive number, got 0",
        id="zero-rate",
    ),
    pytest.param(
        edited(('timeout = "20s"', "timeout = nan")),
        "config.toml: [exchange].timeout: nan is not a duration",
        id="nan-duration",
    ),
    pytest.param(
        edited(('timeout = "20s"', "timeout = true")),
        "config.toml: [exchange].timeout: true is not a duration",
        id="boolean-duration",
    ),
    pytest.param(
        edited(('ticker = "10s"', "ticker = -10")),
        "config.toml: [market 1].ticker: -10 is not a duration",
        id="negative-duration",
    ),
    pytest.param(
        edited(('ticker = "10s"', 'ticker = "10 sec"')),
        'config.toml: [market 1].ticker: "10 sec" is not a duration (a number with ms, s, m, h or d, e.g. "10s")',
        id="bad-duration",
    ),
    pytest.param(
        edited(('segment_size = "64MiB"', 'segment_size = "64 MiBs"')),
        'config.toml: [storage].segment_size: "64 MiBs" is not a size',
        id="bad-size",
    ),
    pytest.param(
        edited(("journal_fsync_records = 100", "journal_fsync_records = 0")),
        "config.toml: [storage].journal_fsync_records: must be at least 1, got 0",
        id="fsync-records",
    ),
    pytest.param(
        edited(("\n[[market]]\n", '\n[[market]]\npair = "BTCUSD"\ntrades = "30s"\n\n[[market]]\n')),
        'config.toml: [market 2].pair: "BTCUSD" is already configured in [market 1]',
        id="duplicate-pair",
    ),
    pytest.param(
        edited(('pair = "BTCUSD"\n', "")),
        "config.toml: [market 1].pair: missing",
        id="missing-pair",
    ),
    pytest.param(
        edited(("\n[[market]]\n", "\n[market]\n")),
        "config.toml: [market]: must be an array of tables: write [[market]], once per pair",
        id="market-not-an-array",
    ),
    pytest.param(
        edited(('ticker = "10s"\ndepth = "30s"\nfull_depth = "15m"', ""), ('trades = "10s"\n', "")),
        "config.toml: [market 1]: polls nothing (set at least one of ticker, depth, full_depth, trades)",
        id="market-polls-nothing",
    ),
    pytest.param(
        edited(('["BTC", "USD"]', '["BTC", "XYZ"]')),
        'config.toml: [account].wallet_history: "XYZ" is not a currency the exchange lists (BTC, USD, AUD, ',
        id="wallet-currency",
    ),
    pytest.param(
        edited(('["BTC", "USD"]', '["BTC", "BTC"]')),
        'config.toml: [account].wallet_history: "BTC" is listed twice',
        id="wallet-currency-twice",
    ),
    pytest.param(
        edited(('every = "5m"', "")),
        "config.toml: [account].every: missing: how often to page wallet_history",
        id="wallet-history-without-every",
    ),
    pytest.param(
        edited(("\n" + CREDENTIALS_TABLE, "\n")),
        "config.toml: [account]: needs [credentials]: account calls are signed with the key and secret",
        id="account-without-credentials",
    ),
    pytest.param(
        edited(("[storage]", "[storge]")),
        "config.toml: [storge]: unknown table (did you mean storage?)",
        id="unknown-table",
    ),
    pytest.param(
        edited(('root = "data"', 'root = "s3://bucket/prefix"'), ('journal = "data/journal"', "")),
        "config.toml: [storage].journal: missing: a local directory is needed when root is an object store",
        id="object-store-without-journal",
    ),
    pytest.param(
        edited(('journal = "data/journal"', 'journal = "s3://bucket/journal"')),
        'config.toml: [storage].journal: "s3://bucket/journal" must be a local path: the journal is fsynced',
        id="journal-on-an-object-store",
    ),
    pytest.param(
        edited(('root = "data"', 'root = "ftp://host/data"')),
        'config.toml: [storage].root: "ftp://host/data" is neither a local path nor an object-store URI',
        id="unsupported-uri",
    ),
    pytest.param(
        edited(('key_env = "MARKETREC_KEY"', 'key_env = "MARKETREC_KEY"\nkey_file = "key.txt"')),
        "config.toml: [credentials].key_env: give exactly one of key_env and key_file",
        id="both-key-sources",
    ),
    pytest.param(
        edited(('secret_env = "MARKETREC_SECRET"\n', "")),
        "config.toml: [credentials].secret_env: missing: give one of secret_env and secret_file",
        id="no-secret-source",
    ),
    pytest.param(
        edited(('secret_env = "MARKETREC_SECRET"', f'secret_env = "MARKETREC_SECRET"\nsecret = "{SECRET}"')),
        "config.toml: [credentials].secret: unknown key (inline credentials are not read; name an environment "
        "variable or an owner-only file: secret_env or secret_file)",
        id="inline-secret",
    ),
    pytest.param(
        edited(('secret_env = "MARKETREC_SECRET"', f'secret_env = "{SECRET}"')),
        "config.toml: [credentials].secret_env: is not an environment variable name",
        id="secret-pasted-as-variable-name",
    ),
    pytest.param(
        edited(('secret_env = "MARKETREC_SECRET"', f'secret_env = "MARKETREC_SECRET"\n"{SECRET}" = true')),
        "config.toml: [credentials]: unknown key (not shown: it is not a name, and may be a pasted secret)",
        id="secret-pasted-as-a-key",
    ),
    pytest.param(
        edited(('secret_env = "MARKETREC_SECRET"', 'secret_env = "MARKETREC_SECRET"\nsecret-env = "X"')),
        "config.toml: [credentials].secret-env: unknown key (did you mean secret_env?)",
        id="credentials-misspelt-key-is-named",
    ),
    pytest.param(
        edited(('secret_env = "MARKETREC_SECRET"', "secret_env = 42")),
        "config.toml: [credentials].secret_env: expected a string, got an integer",
        id="credentials-wrong-type-shows-no-value",
    ),
    pytest.param(
        edited(("api_version = 2", "api_version = = 2")),
        f"config.toml: line {line_of(EXAMPLE, 'api_version = 2')}, column ",
        id="toml-syntax",
    ),
    pytest.param(
        edited(("use_tonce = false", "use_tonce = false\nuse_tonce = true")),
        f"config.toml: line {line_of(EXAMPLE, 'use_tonce = false') + 1}, column ",
        id="toml-duplicate-key",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_each_problem_is_one_line_naming_the_file_and_the_key(text: str, expected: str) -> None:
    error = problem(text)
    message = str(error)
    assert message.startswith(expected), message
    assert "\n" not in message
    assert "more)" not in message  # each case has exactly one problem
    assert SECRET not in everything_said(error)


def test_a_toml_syntax_error_says_it_is_toml_and_where() -> None:
    message = str(problem(edited(("api_version = 2", "api_version = = 2"))))
    assert message.startswith(f"config.toml: line {line_of(EXAMPLE, 'api_version = 2')}, column 15: invalid TOML: ")


ENV_ERRORS = [
    pytest.param(
        {"MARKETREC_KEY": KEY},
        "config.toml: [credentials].secret_env: environment variable MARKETREC_SECRET is not set",
        id="secret-not-set",
    ),
    pytest.param(
        {**ENV, "MARKETREC_SECRET": ""},
        "config.toml: [credentials].secret_env: environment variable MARKETREC_SECRET is empty",
        id="secret-empty",
    ),
    pytest.param(
        {"MARKETREC_SECRET": SECRET},
        "config.toml: [credentials].key_env: environment variable MARKETREC_KEY is not set",
        id="key-not-set",
    ),
]


@pytest.mark.parametrize(("environ", "expected"), ENV_ERRORS)
def test_a_missing_or_empty_variable_is_a_credentials_error_naming_it(environ: dict[str, str], expected: str) -> None:
    error = problem(EXAMPLE, environ)
    assert isinstance(error, CredentialsError)
    assert str(error) == expected
    assert SECRET not in everything_said(error)


def test_several_problems_give_the_first_and_a_count_with_the_rest_as_notes() -> None:
    error = problem(edited(('ticker = "10s"', 'ticker = "5s"'), ('trades = "10s"', 'tradez = "10s"')))
    assert str(error) == "config.toml: [market 1].tradez: unknown key (did you mean trades?) (and 1 more)"
    assert error.__notes__ == ["config.toml: [market 1].ticker: 5s is below the exchange's minimum of 10s"]


def test_a_bad_exchange_limit_does_not_hide_problems_in_the_markets() -> None:
    error = problem(edited(('min_interval = "10s"', 'min_interval = "soon"'), ('pair = "BTCUSD"', 'pair = "BTCXYZ"')))
    assert str(error).startswith('config.toml: [exchange].min_interval: "soon" is not a duration')
    assert error.__notes__[0].startswith('config.toml: [market 1].pair: "BTCXYZ" is not a pair the exchange lists')


def test_a_configured_min_interval_above_the_documented_one_is_what_intervals_are_checked_against() -> None:
    error = problem(edited(('min_interval = "10s"', 'min_interval = "20s"')))
    assert str(error).startswith("config.toml: [market 1].ticker: 10s is below [exchange].min_interval of 20s")


def test_a_full_depth_interval_exactly_at_the_allowance_is_accepted() -> None:
    config = parse(edited(('full_depth = "15m"', 'full_depth = "12m"')))
    assert config.markets[0].interval("full_depth") == 720.0


# --- the loopback rule --------------------------------------------------------------------------------------------


def emulator_config(base_url: str) -> str:
    return edited(
        ('base_url = "https://data.mtgox.com/api"', f'base_url = "{base_url}"'),
        ('min_interval = "10s"', 'min_interval = "1s"'),
        ("full_depth_per_hour = 5", "full_depth_per_hour = 60"),
        ('ticker = "10s"', 'ticker = "1s"'),
        ('full_depth = "15m"', 'full_depth = "1m"'),
    )


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8080/api",
        "http://127.8.9.10/api",
        "http://[::1]:8080/api",
        "http://localhost:8080/api",
        "http://LOCALHOST/api",
    ],
)
def test_an_emulator_on_a_loopback_address_may_shorten_the_limits(base_url: str) -> None:
    config = parse(emulator_config(base_url))
    assert config.exchange.min_interval_s == 1.0
    assert config.exchange.full_depth_per_hour == 60
    assert config.markets[0].interval("ticker") == 1.0
    assert config.markets[0].interval("full_depth") == 60.0


@pytest.mark.parametrize(
    "base_url",
    [
        "https://data.mtgox.com/api",
        "http://10.0.0.1:8080/api",
        "http://192.168.1.2/api",
        "http://localhost.example/api",
        "http://127.0.0.1.example.com/api",
        "http://[::2]/api",
    ],
)
def test_any_other_host_may_not_shorten_the_limits(base_url: str) -> None:
    error = problem(emulator_config(base_url))
    assert str(error).startswith("config.toml: [exchange].min_interval: 1s is below the exchange's documented 10s")
    assert "full_depth_per_hour: 60 is above the exchange's documented 5" in error.__notes__[0]


# --- signed calls travel over https, or stay on the machine -------------------------------------------------------


def with_base_url(base_url: str, text: str = EXAMPLE) -> str:
    return edited(('base_url = "https://data.mtgox.com/api"', f'base_url = "{base_url}"'), text=text)


def without_table(name: str, text: str = EXAMPLE) -> str:
    """`text` without the table `[name]`: its header and every line up to the next table."""
    lines = text.splitlines(keepends=True)
    start = lines.index(f"[{name}]\n")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("["))
    return "".join(lines[:start] + lines[end:])


@pytest.mark.parametrize("base_url", ["http://data.mtgox.com/api", "HTTP://data.mtgox.com/api",
                                      "http://10.0.0.1:8080/api", "http://[::2]/api", "http://localhost.example/api"])
def test_signed_calls_over_http_to_a_host_off_this_machine_are_refused_naming_base_url(base_url: str) -> None:
    error = problem(with_base_url(base_url))
    assert str(error) == (
        f'config.toml: [exchange].base_url: "{base_url}" would send the signed account calls in clear text; use '
        "https://, or http:// only for an emulator on a loopback base_url (127.0.0.0/8, ::1, localhost)"
    )
    assert SECRET not in everything_said(error)


def test_credentials_without_an_account_over_http_are_refused_too() -> None:
    # Nothing is signed yet, but the credentials are there for signing: refused now, not the day [account] is added.
    error = problem(with_base_url("http://data.mtgox.com/api", without_table("account")))
    assert str(error).startswith("config.toml: [exchange].base_url: ")


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8080/api", "http://[::1]:8080/api", "http://localhost/api"])
def test_signed_calls_over_http_to_a_loopback_emulator_are_accepted(base_url: str) -> None:
    config = parse(with_base_url(base_url))
    assert config.credentials is not None and config.account is not None
    assert config.exchange.base_url == base_url


def test_signed_calls_over_https_are_accepted_whatever_the_host() -> None:
    assert parse(with_base_url("https://10.0.0.1:8443/api")).exchange.base_url == "https://10.0.0.1:8443/api"


def test_a_public_only_configuration_may_use_http_to_any_host() -> None:
    # Public answers are what anyone can fetch, and no key or signature is sent: plain http exposes nothing.
    text = with_base_url("http://data.mtgox.com/api", without_table("account", without_table("credentials")))
    config = parse(text, environ={})
    assert (config.credentials, config.account) == (None, None)
    assert config.exchange.base_url == "http://data.mtgox.com/api"


# --- durations and sizes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("100ms", 0.1),
        ("10s", 10.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        ("1.5h", 5400.0),
        ("0s", 0.0),
        ("10", 10.0),
        (" 10 s ", 10.0),
        (10, 10.0),
        (2.5, 2.5),
        (0, 0.0),
    ],
)
def test_durations_read_as_seconds(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "s", "10sec", "10 S", "1h30m", "-1s", -1, "ten", True, float("inf"), "1e3s"])
def test_anything_else_is_not_a_duration(text: str | float) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.25, "250ms"),
        (0.1, "100ms"),
        (10, "10s"),
        (90, "90s"),
        (720, "12m"),
        (3600, "1h"),
        (5400, "90m"),
        (86400, "1d"),
        (1.5, "1.5s"),
    ],
)
def test_durations_are_written_in_their_shortest_unit_and_read_back(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512KiB", 512 * 1024),
        ("64MiB", 64 * 2**20),
        ("1GiB", 2**30),
        ("100MB", 100_000_000),
        ("1kb", 1000),
        ("1.5KiB", 1536),
        ("4096", 4096),
        ("10B", 10),
        (4096, 4096),
        ("2 TiB", 2 * 2**40),
    ],
)
def test_sizes_read_as_bytes(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MiB", "64MiBs", "64 M", "-1", -1, 1.5, True, "1e6"])
def test_anything_else_is_not_a_size(text: str | float) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)  # type: ignore[arg-type]


def test_durations_and_sizes_in_the_file_accept_plain_numbers() -> None:
    config = parse(edited(('ticker = "10s"', "ticker = 15"), ('segment_size = "64MiB"', "segment_size = 1048576")))
    assert config.markets[0].interval("ticker") == 15.0
    assert config.storage.segment_max_bytes == 2**20


# --- credential files, with real files and real modes -------------------------------------------------------------


def secret_file_config(secret_path: Path, key_path: Path | None = None) -> str:
    text = edited(('secret_env = "MARKETREC_SECRET"', f'secret_file = "{secret_path}"'))
    if key_path is not None:
        text = edited(('key_env = "MARKETREC_KEY"', f'key_file = "{key_path}"'), text=text)
    return text


def write_secret(path: Path, content: str, mode: int) -> Path:
    path.write_text(content)
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_an_owner_only_secret_file_is_read_without_its_trailing_newline(tmp_path: Path, mode: int) -> None:
    secret = write_secret(tmp_path / "secret", SECRET + "\n", mode)
    key = write_secret(tmp_path / "key", KEY + "\n", 0o644)  # the key alone signs nothing; others may read it
    config = parse(secret_file_config(secret, key), environ={})
    assert config.credentials == Credentials(KEY, SECRET)


def test_only_one_trailing_newline_is_stripped(tmp_path: Path) -> None:
    secret = write_secret(tmp_path / "secret", SECRET + "\n\n", 0o600)
    config = parse(secret_file_config(secret), environ={"MARKETREC_KEY": KEY})
    assert config.credentials is not None
    assert config.credentials.secret == SECRET + "\n"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o700 | 0o004])
def test_a_secret_file_others_can_reach_is_refused_with_its_mode(tmp_path: Path, mode: int) -> None:
    secret = write_secret(tmp_path / "secret", SECRET, mode)
    error = problem(secret_file_config(secret), environ={"MARKETREC_KEY": KEY})
    assert isinstance(error, CredentialsError)
    assert str(error) == (
        f"config.toml: [credentials].secret_file: secret file {secret} is readable by others (mode {mode:04o}); "
        "chmod 600 it"
    )
    assert SECRET not in everything_said(error)


@pytest.mark.parametrize("mode", [0o644, 0o666])
def test_a_key_file_others_can_read_is_accepted_since_the_key_alone_signs_nothing(tmp_path: Path, mode: int) -> None:
    # The key is an identifier: it goes out in clear in every Rest-Key header. Only the secret must be owner-only.
    secret = write_secret(tmp_path / "secret", SECRET, 0o600)
    key = write_secret(tmp_path / "key", KEY, mode)
    assert parse(secret_file_config(secret, key), environ={}).credentials == Credentials(KEY, SECRET)


def test_a_loose_secret_file_is_refused_even_beside_a_loose_key_file(tmp_path: Path) -> None:
    secret = write_secret(tmp_path / "secret", SECRET, 0o640)
    key = write_secret(tmp_path / "key", KEY, 0o644)
    error = problem(secret_file_config(secret, key), environ={})
    assert isinstance(error, CredentialsError)
    assert str(error).startswith("config.toml: [credentials].secret_file: secret file ")
    assert "more)" not in str(error)  # the only problem: the key file is fine


def test_a_missing_secret_file_is_a_credentials_error_naming_it(tmp_path: Path) -> None:
    error = problem(secret_file_config(tmp_path / "nope"), environ={"MARKETREC_KEY": KEY})
    assert isinstance(error, CredentialsError)
    assert str(error) == f"config.toml: [credentials].secret_file: secret file {tmp_path / 'nope'} does not exist"


@pytest.mark.parametrize(("content", "said"), [("", "is empty"), ("\n", "is empty")])
def test_an_empty_secret_file_is_refused(tmp_path: Path, content: str, said: str) -> None:
    secret = write_secret(tmp_path / "secret", content, 0o600)
    error = problem(secret_file_config(secret), environ={"MARKETREC_KEY": KEY})
    assert str(error) == f"config.toml: [credentials].secret_file: secret file {secret} {said}"


def test_a_secret_file_that_is_not_text_is_refused_without_quoting_it(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"\xff\xfe" + SECRET.encode())
    secret.chmod(0o600)
    error = problem(secret_file_config(secret), environ={"MARKETREC_KEY": KEY})
    assert str(error) == f"config.toml: [credentials].secret_file: secret file {secret} is not text"
    assert "\\xff" not in everything_said(error)


def test_relative_paths_are_relative_to_the_configuration_file(tmp_path: Path) -> None:
    home = tmp_path / "etc"
    home.mkdir()
    write_secret(home / "secret", SECRET, 0o600)
    path = home / "config.toml"
    path.write_text(edited(('secret_env = "MARKETREC_SECRET"', 'secret_file = "secret"')))
    config = load_config(path, environ={"MARKETREC_KEY": KEY})
    assert config.path == path
    assert config.credentials == Credentials(KEY, SECRET)
    assert config.storage.root == str(home / "data")
    assert config.storage.journal_dir == home / "data" / "journal"


def test_a_tilde_is_the_home_directory_of_the_given_environment(tmp_path: Path) -> None:
    write_secret(tmp_path / "secret", SECRET, 0o600)
    text = edited(('secret_env = "MARKETREC_SECRET"', 'secret_file = "~/secret"'))
    config = parse(text, environ={"MARKETREC_KEY": KEY, "HOME": str(tmp_path)})
    assert config.credentials == Credentials(KEY, SECRET)


# --- the secret never shows -------------------------------------------------------------------------------------


def test_the_secret_is_in_no_repr_or_str() -> None:
    config = parse(EXAMPLE)
    assert config.credentials is not None
    assert config.credentials.secret == SECRET
    for shown in (
        repr(config),
        str(config),
        repr(config.credentials),
        str(config.credentials),
        f"{config.credentials}",
        f"{config!r}",
    ):
        assert SECRET not in shown
        assert SECRET[:12] not in shown
    assert KEY in repr(config.credentials)  # the key identifies which nonce series a log line is about


def test_the_secret_is_in_no_error_message_when_everything_is_wrong_at_once(tmp_path: Path) -> None:
    secret = write_secret(tmp_path / "secret", SECRET, 0o644)
    text = edited(
        ('secret_env = "MARKETREC_SECRET"', f'secret_file = "{secret}"\nsecret = "{SECRET}"\napi_secret = 1'),
        ('key_env = "MARKETREC_KEY"', f'key_env = "{SECRET}"'),
        ('ticker = "10s"', 'ticker = "1s"'),
    )
    error = problem(text)
    assert len(error.__notes__) >= 3
    assert SECRET not in everything_said(error)


# --- loading and writing files ------------------------------------------------------------------------------------


def test_loading_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot be read"):
        load_config(tmp_path / "nope.toml", environ=ENV)


def test_loading_a_file_that_is_not_utf8_names_it(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[exchange]\nname = \"\xff\"\n")
    with pytest.raises(ConfigError, match=r"config\.toml: is not UTF-8 text"):
        load_config(path, environ=ENV)


def test_loading_names_the_file_as_given_in_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "marketrec.toml"
    path.write_text(edited(('trades = "10s"', 'tradez = "10s"')))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=ENV)
    assert str(caught.value) == f"{path}: [market 1].tradez: unknown key (did you mean trades?)"


def test_the_written_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_example(path)
    assert path.read_text(encoding="utf-8") == EXAMPLE
    assert load_config(path, environ=ENV).markets[0].pair == "BTCUSD"


def test_write_example_refuses_to_overwrite_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("# mine\n")
    with pytest.raises(ConfigError, match=r"config\.toml: already exists; not overwriting it"):
        write_example(path)
    assert path.read_text() == "# mine\n"


def test_write_example_into_a_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be written"):
        write_example(tmp_path / "no" / "config.toml")


def test_the_example_ships_as_package_data() -> None:
    shipped = Path(collector.config.__file__).with_name("example_config.toml")
    assert shipped.read_text(encoding="utf-8") == EXAMPLE


def test_the_config_module_stays_pure() -> None:
    tree = ast.parse(Path(collector.config.__file__).read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not imported & {"httpx", "pyarrow", "duckdb", "pandas", "typer"}


def test_load_config_reads_the_process_environment_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "config.toml"
    path.write_text(EXAMPLE)
    assert load_config(path).credentials == Credentials(KEY, SECRET)
    assert os.environ["MARKETREC_SECRET"] == SECRET
