"""Bad command lines and bad configuration files: each one line on stderr naming the problem, with its exit code.

One table: the arguments (`$TMP` is the test's directory, `$CONFIG` a configuration file written from the
case's TOML, `$DATA` a data root holding one built warehouse), the exit code, and a regex the single line of
stderr must match. Every case also shows no traceback, nothing on stdout, and no secret: the environment's
and the secret file's secret is a marker that must not appear anywhere in the output.

The commands run in-process through typer's CliRunner (a subprocess costs a second each); one test runs the
real entry point in a subprocess to show it behaves the same.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from marketrec.cli import app
from pipelines.build import build
from tests.pipelines_harness import Response, us, write_raw

# A Mt.Gox secret is the base64 of 64 bytes (88 characters, "==" at the end).
SECRET = base64.b64encode(b"a secret that must never be printed, not even in part".ljust(64, b".")).decode()
ENV = {"MR_KEY": "0f5a6c1e-key-id", "MR_SECRET": SECRET, "MR_EMPTY": ""}

# A configuration that loads, for an emulator on loopback (public calls only); cases edit it.
PUBLIC = """\
[exchange]
name = "mtgox"
base_url = "http://127.0.0.1:9/api"
api_version = 1
min_interval = "1s"
[[market]]
pair = "BTCUSD"
ticker = "1s"
[storage]
root = "$TMP/data"
"""
# The same with the account, signed with the key and secret from the environment.
ACCOUNT = PUBLIC + """\
[credentials]
key_env = "MR_KEY"
secret_env = "MR_SECRET"
[account]
info = "10s"
"""
REAL = "https://data.mtgox.com/api"  # not loopback: the exchange's documented limits hold


def edit(base: str, old: str, new: str) -> str:
    assert old in base, old
    return base.replace(old, new)


@dataclass(frozen=True, slots=True)
class Bad:
    args: tuple[str, ...]
    error: str  # a regex the one line on stderr matches (case-insensitive)
    config: str | bytes | None = None  # written to $CONFIG
    code: int = 2


def case(id: str, args: str | tuple[str, ...], error: str, config: str | bytes | None = None,
         code: int = 2) -> object:
    return pytest.param(Bad(tuple(args.split()) if isinstance(args, str) else args, error, config, code), id=id)


COLLECT = "collect --config $CONFIG --duration 1s"  # were the configuration good, it would stop after a second

CASES = [
    # --- the command line ----------------------------------------------------------------------------------------
    case("unknown-command-with-a-suggestion", "colect", r"No such command 'colect'.*did you mean 'collect'"),
    case("unknown-subcommand", "backfill trade --config $CONFIG", r"No such command 'trade'.*did you mean 'trades'"),
    case("unknown-option", "build --bogus", r"No such option: --bogus \(see marketrec build --help\)"),
    case("unknown-option-close-to-one", "build --ful", r"No such option: --ful.*--full"),
    case("missing-argument", "query", r"Missing argument 'sql'"),
    case("missing-required-option", "collect", r"Missing option '--config'"),
    case("option-without-its-value", "build --data", r"Option '--data' requires an argument"),
    case("non-integer", "emulator --port eighty", r"Invalid value for '--port'.*integer"),
    case("port-out-of-range", "emulator --port 70000", r"Invalid value for '--port'.*65535"),
    case("non-number", "demo --duration soon --data $TMP/demo", r"Invalid value for '--duration'.*number"),
    case("negative-demo-duration", "demo --duration -5 --data $TMP/demo", r"duration must be a positive number"),
    case("zero-demo-duration", "demo --duration 0 --data $TMP/demo", r"duration must be a positive number"),
    case("zero-collect-duration", "collect --config $CONFIG --duration 0s", r"--duration: must be longer than 0s",
         PUBLIC),
    case("negative-collect-duration", "collect --config $CONFIG --duration -5m", r"--duration: '-5m' is not a dur",
         PUBLIC),
    case("collect-duration-without-unit-sense", "collect --config $CONFIG --duration 10x",
         r"--duration: '10x' is not a duration", PUBLIC),
    case("zero-status-interval", f"{COLLECT} --status-every 0", r"--status-every: must be a positive number",
         PUBLIC),
    case("negative-status-interval", f"{COLLECT} --status-every -1", r"--status-every: must be a positive number",
         PUBLIC),
    case("emulator-speed-zero", "emulator --speed 0 --port 0", r"--speed must be positive"),
    case("emulator-unknown-fault", "emulator --faults bogus=1 --port 0", r"unknown kind \"bogus\""),
    case("emulator-fault-probability-above-1", "emulator --faults http502=2 --port 0", r"between 0 and 1"),
    case("emulator-replay-file-missing", "emulator --replay $TMP/none.csv --port 0", r"none\.csv: no such file"),
    case("emulator-keys-not-json", "emulator --keys $CONFIG --port 0", r"not valid JSON", "not = json"),
    case("emulator-epoch-in-the-future", "emulator --epoch 99999999999 --port 0", r"--epoch must not be in the fut"),
    case("backfill-since-not-a-date", "backfill trades --config $CONFIG --since yesterday",
         r"--since: 'yesterday' is neither a tid nor a date", PUBLIC),
    case("backfill-until-not-a-date", "backfill trades --config $CONFIG --since 2013-01-01 --until 2013-13-01",
         r"--until: '2013-13-01' is neither a tid nor a date", PUBLIC),
    case("backfill-until-before-since", "backfill trades --config $CONFIG --since 2013-02-01 --until 2013-01-01",
         r"--until 2013-01-01 is before --since 2013-02-01", PUBLIC),
    case("backfill-unknown-market", "backfill trades --config $CONFIG --market BTCXYZ --since 2013-01-01",
         r"--market: 'BTCXYZ' is not a pair mtgox lists \(BTC<CUR>", PUBLIC),
    case("init-over-an-existing-file", "init $CONFIG", r"already exists; not overwriting it", PUBLIC),
    case("init-in-a-missing-directory", "init $TMP/no/such/dir/marketrec.toml", r"cannot be written"),
    # --- the pipelines ---------------------------------------------------------------------------------------------
    case("build-data-root-missing", "build --data $TMP/none", r"data root .*/none: no such directory"),
    case("build-data-root-without-raw-data", "build --data $TMP", r"no raw store here \(no raw/ directory\)"),
    case("build-data-root-is-a-file", "build --data $CONFIG", r"no such directory", PUBLIC),
    case("build-object-store-without-warehouse", "build --data s3://bucket/prefix",
         r"not a local directory: name the warehouse file \(--warehouse\)"),
    case("build-unknown-uri-scheme", "build --data ftp://host/data --warehouse $TMP/w.duckdb",
         r"data root ftp://host/data: cannot open"),
    case("build-warehouse-is-not-duckdb", "build --data $DATA --warehouse $CONFIG",
         r"cannot open the warehouse \(.*not a valid DuckDB database", PUBLIC),
    case("build-warehouse-is-a-directory", "build --data $DATA --warehouse $TMP", r"cannot open the warehouse"),
    case("check-without-a-warehouse", "check --data $TMP", r"no warehouse here \(run `marketrec build` first\)"),
    case("check-warehouse-is-not-duckdb", "check --warehouse $CONFIG", r"not a valid DuckDB database", PUBLIC),
    case("query-without-a-warehouse", ("query", "--data", "$TMP", "SELECT 1"), r"no warehouse here"),
    case("query-bad-sql", ("query", "--data", "$DATA", "SELEC * FROM trades"), r"query: Parser Error"),
    case("query-unknown-table", ("query", "--data", "$DATA", "SELECT * FROM tardes"),
         r"Catalog Error: Table with name tardes does not exist"),
    case("query-writes", ("query", "--data", "$DATA", "DELETE FROM quarantine"), r"read-only"),
    case("query-bad-format", ("query", "--data", "$DATA", "-f", "xlsx", "SELECT 1"),
         r"--format: 'xlsx' is not one of table, csv, json, parquet"),
    # --- the configuration file ------------------------------------------------------------------------------------
    case("config-missing", COLLECT, r"marketrec\.toml: cannot be read \(No such file or directory\)"),
    case("config-is-a-directory", "status --config $TMP", r": cannot be read \(Is a directory\)"),
    case("config-not-toml", COLLECT, r"line 1, column \d+: invalid TOML", "exchange: mtgox\n"),
    case("config-not-utf8", COLLECT, r"is not UTF-8 text", b"[exchange]\nname = \"mt\xe9gox\"\n"),
    case("config-empty", COLLECT, r"\[exchange\]: missing", ""),
    case("config-unknown-section", COLLECT, r"\[exchnage\]: unknown table \(did you mean exchange\?\)",
         PUBLIC + "[exchnage]\nname = \"mtgox\"\n"),
    case("config-unknown-key", COLLECT, r"\[storage\]\.rooot: unknown key \(did you mean root\?\)",
         edit(PUBLIC, "root =", "rooot =")),
    case("config-market-as-a-table", COLLECT, r"\[market\]: must be an array of tables: write \[\[market\]\]",
         edit(PUBLIC, "[[market]]", "[market]")),
    case("config-integer-as-text", COLLECT, r"\[exchange\]\.api_version: expected an integer, got \"1\"",
         edit(PUBLIC, "api_version = 1", 'api_version = "1"')),
    case("config-boolean-as-text", COLLECT, r"\[exchange\]\.use_tonce: expected true or false, got \"yes\"",
         PUBLIC.replace("api_version = 1", 'api_version = 1\nuse_tonce = "yes"')),
    case("config-negative-rate", COLLECT, r"max_requests_per_second: expected a positive number, got -1",
         PUBLIC.replace("api_version = 1", "api_version = 1\nmax_requests_per_second = -1")),
    case("config-zero-timeout", COLLECT, r"\[exchange\]\.timeout: must be longer than 0s",
         PUBLIC.replace("api_version = 1", 'api_version = 1\ntimeout = "0s"')),
    case("config-not-a-duration", COLLECT, r"\[market 1\]\.ticker: \"often\" is not a duration",
         edit(PUBLIC, 'ticker = "1s"', 'ticker = "often"')),
    case("config-not-a-size", COLLECT, r"\[storage\]\.segment_size: \"big\" is not a size",
         PUBLIC + 'segment_size = "big"\n'),
    case("config-currencies-as-text", COLLECT, r"wallet_history: expected an array of strings, got \"USD\"",
         ACCOUNT + 'wallet_history = "USD"\n'),
    case("config-bad-base-url", COLLECT, r"base_url: \"data\.mtgox\.com/api\" is not an http:// or https:// URL",
         edit(PUBLIC, "http://127.0.0.1:9/api", "data.mtgox.com/api")),
    case("config-base-url-bad-port", COLLECT, r"base_url: .* has an invalid port",
         edit(PUBLIC, "127.0.0.1:9", "127.0.0.1:99999")),
    case("config-signed-calls-over-http", COLLECT, r"would send the signed account calls in clear text",
         edit(edit(ACCOUNT, "http://127.0.0.1:9/api", "http://data.mtgox.com/api"), '"1s"', '"10s"')),
    case("config-unknown-exchange", COLLECT, r"name: \"mtgx\" is not a known exchange \(did you mean mtgox\?\)",
         edit(PUBLIC, 'name = "mtgox"', 'name = "mtgx"')),
    case("config-unknown-api-version", COLLECT, r"api_version: 3 is not an API version mtgox has \(one of 0, 1, 2\)",
         edit(PUBLIC, "api_version = 1", "api_version = 3")),
    case("config-min-interval-below-the-documented-limit", COLLECT,
         r"min_interval: 2s is below the exchange's documented 10s; only an emulator on a loopback base_url",
         edit(edit(PUBLIC, "http://127.0.0.1:9/api", REAL), 'min_interval = "1s"', 'min_interval = "2s"')),
    case("config-full-depth-above-the-documented-limit", COLLECT,
         r"full_depth_per_hour: 6 is above the exchange's documented 5",
         edit(edit(PUBLIC, "http://127.0.0.1:9/api", REAL), 'min_interval = "1s"',
              'min_interval = "10s"\nfull_depth_per_hour = 6')),
    case("config-full-depth-too-often", COLLECT, r"full_depth: 1m exceeds 5 full-depth requests an hour",
         edit(PUBLIC, 'ticker = "1s"', 'ticker = "1s"\nfull_depth = "1m"')),
    case("config-object-store-journal", COLLECT, r"journal: \"s3://b/j\" must be a local path",
         PUBLIC + 'journal = "s3://b/j"\n'),
    case("config-several-problems-are-one-line", COLLECT, r"\(and 1 more\)$",
         edit(edit(PUBLIC, "api_version = 1", "api_version = 3"), 'ticker = "1s"', 'ticker = "often"')),
    # --- credentials (the secret must never be echoed) --------------------------------------------------------------
    case("credentials-secret-missing", COLLECT, r"secret_env: missing: give one of secret_env and secret_file",
         edit(ACCOUNT, 'secret_env = "MR_SECRET"\n', "")),
    case("credentials-env-variable-not-set", COLLECT, r"key_env: environment variable MR_UNSET is not set",
         edit(ACCOUNT, 'key_env = "MR_KEY"', 'key_env = "MR_UNSET"')),
    case("credentials-env-variable-empty", COLLECT, r"secret_env: environment variable MR_EMPTY is empty",
         edit(ACCOUNT, 'secret_env = "MR_SECRET"', 'secret_env = "MR_EMPTY"')),
    case("credentials-env-and-file-both-given", COLLECT,
         r"secret_env: give exactly one of secret_env and secret_file",
         edit(ACCOUNT, 'secret_env = "MR_SECRET"', 'secret_env = "MR_SECRET"\nsecret_file = "$TMP/secret-600"')),
    case("credentials-secret-file-readable-by-others", "status --config $CONFIG",
         r"secret file .*secret-644 is readable by others \(mode 0644\); chmod 600 it",
         edit(ACCOUNT, 'secret_env = "MR_SECRET"', 'secret_file = "$TMP/secret-644"')),
    case("credentials-secret-file-missing", "gaps --config $CONFIG", r"secret file .*/nothing does not exist",
         edit(ACCOUNT, 'secret_env = "MR_SECRET"', 'secret_file = "$TMP/nothing"')),
    case("credentials-secret-file-empty", COLLECT, r"secret file .*secret-empty is empty",
         edit(ACCOUNT, 'secret_env = "MR_SECRET"', 'secret_file = "$TMP/secret-empty"')),
    case("credentials-secret-inline", COLLECT, r"secret: unknown key \(inline credentials are not read",
         edit(ACCOUNT, 'secret_env = "MR_SECRET"', f'secret = "{SECRET}"')),
    case("credentials-secret-pasted-as-a-variable-name", COLLECT, r"secret_env: is not an environment variable name",
         edit(ACCOUNT, 'secret_env = "MR_SECRET"', f'secret_env = "{SECRET}"')),
    case("credentials-account-without-credentials", COLLECT, r"\[account\]: needs \[credentials\]",
         PUBLIC + '[account]\ninfo = "10s"\n'),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root with one trades page, built: what query, check and build cases run against."""
    root = tmp_path_factory.mktemp("built") / "data"
    trade = {"date": 1357034400, "price": "13.5", "amount": "1", "price_int": "1350000", "amount_int": "100000000",
             "tid": "1357034400000000"}
    write_raw(root, [Response("trades", 1, "BTCUSD", orjson.dumps({"result": "success", "return": [trade]}),
                              us("2013-01-01T11:00:00"))])
    build(root)
    return root


def fill(text: str, tmp: Path, config: Path, data: Path) -> str:
    return text.replace("$TMP", str(tmp)).replace("$CONFIG", str(config)).replace("$DATA", str(data))


@pytest.mark.parametrize("bad", CASES)
def test_bad_input_gives_one_line_naming_the_problem_and_its_exit_code(tmp_path: Path, built: Path,
                                                                       bad: Bad) -> None:
    config = tmp_path / "marketrec.toml"
    if bad.config is not None:
        text = bad.config if isinstance(bad.config, bytes) else fill(bad.config, tmp_path, config, built).encode()
        config.write_bytes(text)
    for name, mode in (("secret-600", 0o600), ("secret-644", 0o644), ("secret-empty", 0o600)):
        (tmp_path / name).write_text("" if name == "secret-empty" else SECRET + "\n")
        (tmp_path / name).chmod(mode)
    args = [fill(a, tmp_path, config, built) for a in bad.args]

    result = CliRunner().invoke(app, args, env=ENV)

    # No traceback: CliRunner keeps what escaped the command; only the exit it asked for may.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == bad.code, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("marketrec: error: "), lines[0]
    assert re.search(bad.error, lines[0], re.IGNORECASE), f"{lines[0]!r} does not match {bad.error!r}"
    assert result.stdout == ""
    assert SECRET not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_the_installed_command_reports_a_usage_error_on_one_line_too(tmp_path: Path) -> None:
    command = Path(sys.executable).with_name("marketrec")  # the console script pip installed in the venv
    if not command.exists():
        pytest.skip(f"marketrec is not installed beside {sys.executable} (pip install -e .)")
    done = subprocess.run([str(command), "build", "--data", str(tmp_path), "--bogus"],
                          capture_output=True, text=True, timeout=60, env={**os.environ, **ENV})
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["marketrec: error: No such option: --bogus (see marketrec build --help)"]
    assert done.stdout == ""
