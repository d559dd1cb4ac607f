"""The collector's configuration: one TOML file read into frozen dataclasses.

Every problem becomes one line that names the file and the key (`config.toml: [market 2].tradez: unknown key (did you
mean trades?)`). All problems are collected; the ConfigError carries the first one plus "(and N more)", and the others
as exception notes, so a CLI prints one line and a verbose mode can print all of them.

`parse_config` is the core: it takes the file text, the environment and the two file functions it needs for credential
files, so tests and callers decide what it touches. `load_config`, `example_config` and `write_example` are the thin
edges that do their own I/O.

What the exchange allows (its minimum polling interval, its full-depth allowance, its pairs and currencies, its API
versions) is looked up in `RULES`, never written as branches, so a second exchange is a second entry. The secret is
never put in a message or a repr: values from [credentials] are not echoed, and `Credentials.__repr__` hides it.
A secret file others can read is refused; signed calls over http:// are refused unless base_url is loopback.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import os
import re
import stat as stat_module
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from .errors import ConfigError, CredentialsError
from .exchanges import REGISTRY
from .exchanges.base import ExchangeRules
from .units import format_duration, parse_duration, parse_size

# --- the exchange's documented rules -------------------------------------------------------------------------------
# They belong to the exchange: each adapter in collector.exchanges carries its own.

RULES: dict[str, ExchangeRules] = {name: adapter.rules for name, adapter in REGISTRY.items()}


# --- the configuration --------------------------------------------------------------------------------------------

ENDPOINTS = ("ticker", "depth", "full_depth", "trades")  # the public endpoints a [[market]] may poll
FULL_DEPTH = "full_depth"


@dataclass(frozen=True)
class ExchangeConfig:
    name: str
    base_url: str  # without a trailing slash
    api_version: int
    min_interval_s: float
    full_depth_per_hour: int
    max_requests_per_second: float  # global cap per (host, key), shared by every process on the machine
    timeout_s: float
    use_tonce: bool
    tier: str | None = None  # the account's rate tier, for exchanges that have them (Kraken: starter, ...)


@dataclass(frozen=True)
class MarketConfig:
    pair: str
    intervals: tuple[tuple[str, float], ...]  # (endpoint, seconds) in ENDPOINTS order; an absent endpoint is not polled

    def interval(self, endpoint: str) -> float | None:
        """Seconds between two polls of `endpoint`, or None when it is not polled."""
        return dict(self.intervals).get(endpoint)


@dataclass(frozen=True)
class AccountConfig:
    wallet_history: tuple[str, ...]  # currencies whose wallet history is paged
    every_s: float | None  # wallet-history paging; None when wallet_history is empty
    # Every [account] endpoint polled on an interval (Mt.Gox info and orders, Kraken ledgers...): (endpoint, seconds)
    polls: tuple[tuple[str, float], ...] = ()

    @property
    def info_s(self) -> float | None:
        """Mt.Gox's info snapshot (balances, rights, fee): seconds between polls, None = not polled."""
        return dict(self.polls).get("info")

    @property
    def orders_s(self) -> float | None:
        """Mt.Gox's open-orders snapshot: seconds between polls, None = not polled."""
        return dict(self.polls).get("orders")


@dataclass(frozen=True)
class Credentials:
    key: str
    secret: str

    def __repr__(self) -> str:
        # The dataclass repr would print the secret into every log line and traceback that shows a Config.
        return f"Credentials(key={self.key!r}, secret=<hidden>)"

    __str__ = __repr__


@dataclass(frozen=True)
class StorageConfig:
    root: str  # a local path, or an object-store URI (s3://bucket/prefix)
    journal_dir: Path  # always local: it is fsynced
    journal_fsync_s: float  # 0 = fsync every record
    journal_fsync_records: int
    segment_max_bytes: int
    segment_max_age_s: float
    target_file_bytes: int

    @property
    def root_is_uri(self) -> bool:
        return _URI.match(self.root) is not None


@dataclass(frozen=True)
class Config:
    exchange: ExchangeConfig
    markets: tuple[MarketConfig, ...]
    account: AccountConfig | None
    credentials: Credentials | None  # None: only public endpoints are polled
    storage: StorageConfig
    path: Path | None  # the file it was read from; None when parsed from text


# --- problems and typed reading -----------------------------------------------------------------------------------


class _Problems:
    """Every problem found, in the order of the file, each already one line naming the file and the key."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[tuple[type[ConfigError], str]] = []

    def add(self, where: str, message: str, kind: type[ConfigError] = ConfigError) -> None:
        self.found.append((kind, f"{self.source}: {where}: {message}"))

    def raise_any(self) -> None:
        if not self.found:
            return
        kind, first = self.found[0]
        more = len(self.found) - 1
        error = kind(f"{first} (and {more} more)" if more else first)
        for _, line in self.found[1:]:
            error.add_note(line)
        raise error


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else ""


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, int | float):
        return repr(value)
    return _kind_of(value)


_MISSING: Any = object()


class _Table:
    """One TOML table being read: typed getters that record a problem and return None instead of raising."""

    def __init__(
        self,
        data: Mapping[str, Any],
        where: str,
        keys: Iterable[str],
        problems: _Problems,
        *,
        echo: bool = True,
        unknown_hints: Mapping[str, str] | None = None,
    ) -> None:
        self.data, self.where, self.problems, self.echo = data, where, problems, echo
        keys = tuple(keys)
        for key in data:
            if key not in keys and not echo and not _BARE_KEY.match(key):
                # A key that could not be written bare (base64 has "+", "/" and "=") is most likely a value pasted
                # where a key belongs, in [credentials] the secret: it is not echoed, not even as the key's name.
                problems.add(where, "unknown key (not shown: it is not a name, and may be a pasted secret)")
            elif key not in keys:
                hint = (unknown_hints or {}).get(key) or _suggest(key, keys)
                self.bad(key, f"unknown key ({hint})" if hint else "unknown key")

    def bad(self, key: str, message: str, kind: type[ConfigError] = ConfigError) -> None:
        self.problems.add(f"{self.where}.{key}", message, kind)

    def _got(self, value: Any) -> str:
        # In [credentials] a value may be the secret pasted into the wrong key, so only its type is named.
        return _show(value) if self.echo else _kind_of(value)

    def _get(self, key: str, default: Any, required: bool) -> Any:
        if key in self.data:
            return self.data[key]
        if required:
            self.bad(key, "missing")
        return _MISSING if required else default

    def string(self, key: str, *, default: str | None = None, required: bool = False) -> str | None:
        value = self._get(key, default, required)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, str):
            self.bad(key, f"expected a string, got {self._got(value)}")
            return None
        if not value.strip():
            self.bad(key, "must not be empty")
            return None
        return value

    def integer(self, key: str, *, default: int | None = None, minimum: int | None = None) -> int | None:
        value = self._get(key, default, False)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.bad(key, f"expected an integer, got {self._got(value)}")
            return None
        if minimum is not None and value < minimum:
            self.bad(key, f"must be at least {minimum}, got {value}")
            return None
        return value

    def number(self, key: str, *, default: float) -> float | None:
        value = self._get(key, default, False)
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
            self.bad(key, f"expected a positive number, got {self._got(value)}")
            return None
        return float(value)

    def boolean(self, key: str, *, default: bool) -> bool | None:
        value = self._get(key, default, False)
        if not isinstance(value, bool):
            self.bad(key, f"expected true or false, got {self._got(value)}")
            return None
        return value

    def duration(self, key: str, *, default: float | None = None, positive: bool = False) -> float | None:
        value = self._get(key, default, False)
        if value is None:
            return None
        try:
            seconds = parse_duration(value)
        except ValueError:
            self.bad(key, f'{self._got(value)} is not a duration (a number with ms, s, m, h or d, e.g. "10s")')
            return None
        if positive and seconds == 0:
            self.bad(key, "must be longer than 0s")
            return None
        return seconds

    def size(self, key: str, *, default: int) -> int | None:
        value = self._get(key, default, False)
        try:
            size = parse_size(value)
        except ValueError:
            self.bad(
                key,
                f'{self._got(value)} is not a size (bytes, or a number with KiB, MiB, GiB, KB, MB, GB, e.g. "64MiB")',
            )
            return None
        if size == 0:
            self.bad(key, "must be larger than 0 bytes")
            return None
        return size

    def strings(self, key: str) -> tuple[str, ...] | None:
        value = self._get(key, (), False)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.bad(key, f"expected an array of strings, got {self._got(value)}")
            return None
        return tuple(value)


def _section(
    doc: Mapping[str, Any], name: str, problems: _Problems, *, required: bool = False
) -> dict[str, Any] | None:
    value = doc.get(name)
    if value is None:
        if required:
            problems.add(f"[{name}]", "missing")
        return None
    if not isinstance(value, dict):
        problems.add(f"[{name}]", f"must be a table [{name}], got {_kind_of(value)}")
        return None
    return value


# --- the sections -------------------------------------------------------------------------------------------------

TABLES = ("exchange", "credentials", "market", "account", "storage")
EXCHANGE_KEYS = ("name", "base_url", "api_version", "min_interval", "full_depth_per_hour", "max_requests_per_second",
                 "timeout", "use_tonce", "tier")
CREDENTIAL_KEYS = ("key_env", "key_file", "secret_env", "secret_file")
ACCOUNT_KEYS = ("wallet_history", "every", "info", "orders")
STORAGE_KEYS = ("root", "journal", "journal_fsync", "journal_fsync_records", "segment_size", "segment_age",
                "target_file_size")
_LOOPBACK = "a loopback base_url (127.0.0.0/8, ::1, localhost)"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")  # what TOML accepts unquoted as a key
_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$")
_OBJECT_STORES = ("s3", "gs", "gcs", "abfs", "abfss", "hdfs")  # what pyarrow.fs.FileSystem.from_uri opens


class _Limits(NamedTuple):
    """What markets and the account are checked against, once [exchange] names a known exchange."""

    rules: ExchangeRules
    min_interval_s: float | None  # None when [exchange] gave a bad one: that problem is reported already
    full_depth_per_hour: int | None


class _Context(NamedTuple):
    problems: _Problems
    environ: Mapping[str, str]
    stat: Callable[[Path], os.stat_result]
    read: Callable[[Path], str]
    base_dir: Path | None


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(t: _Table, base_url: str) -> str | None:
    parts = urlsplit(base_url)
    try:
        parts.port  # noqa: B018 -- reading it is what validates it
    except ValueError:
        t.bad("base_url", f"{_show(base_url)} has an invalid port")
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        t.bad("base_url", f"{_show(base_url)} is not an http:// or https:// URL with a host")
        return None
    return parts.hostname


def _exchange(doc: Mapping[str, Any], problems: _Problems) -> tuple[ExchangeConfig | None, _Limits | None]:
    data = _section(doc, "exchange", problems, required=True)
    if data is None:
        return None, None
    t = _Table(data, "[exchange]", EXCHANGE_KEYS, problems)
    name = t.string("name", required=True)
    rules = RULES.get(name) if name is not None else None
    if name is not None and rules is None:
        hint = _suggest(name, RULES) or f"known: {', '.join(sorted(RULES))}"
        t.bad("name", f"{_show(name)} is not a known exchange ({hint})")
    base_url = t.string("base_url", required=True)
    host = _url_host(t, base_url) if base_url is not None else None
    loopback = host is not None and _is_loopback(host)

    api_version = t.integer("api_version", default=max(rules.api_versions) if rules else None)
    if rules and api_version is not None and api_version not in rules.api_versions:
        versions = ", ".join(map(str, sorted(rules.api_versions)))
        t.bad("api_version", f"{api_version} is not an API version {rules.name} has (one of {versions})")
        api_version = None

    min_interval = t.duration("min_interval", default=rules.documented_min_interval_s if rules else None)
    per_hour = t.integer("full_depth_per_hour", default=rules.full_depth_per_hour if rules else None, minimum=1)
    # Asking for more than the exchange documents would get a real client banned; an emulator on loopback may be
    # started with shortened limits, and only there may the configuration follow it.
    if rules and host is not None and not loopback:
        if min_interval is not None and min_interval < rules.documented_min_interval_s:
            t.bad(
                "min_interval",
                f"{format_duration(min_interval)} is below the exchange's documented "
                f"{format_duration(rules.documented_min_interval_s)}; only an emulator on {_LOOPBACK} may shorten it",
            )
            min_interval = None
        if per_hour is not None and per_hour > rules.full_depth_per_hour:
            t.bad(
                "full_depth_per_hour",
                f"{per_hour} is above the exchange's documented {rules.full_depth_per_hour}"
                f"; only an emulator on {_LOOPBACK} may raise it",
            )
            per_hour = None
    # Over plain http every account call's Rest-Key and Rest-Sign, and the balances and orders answered, cross the
    # network readable by anyone on the path, and a captured call can be replayed before a newer nonce is used.
    # [credentials] alone counts too: they are there to sign with, and refusing now beats refusing the day [account]
    # is added. Loopback never leaves the machine, so an emulator there may use http.
    # Public-only configurations may use http anywhere: they carry nothing secret.
    signed = "credentials" in doc or "account" in doc
    if signed and host is not None and not loopback and urlsplit(base_url or "").scheme == "http":
        t.bad(
            "base_url",
            f"{_show(base_url)} would send the signed account calls in clear text; use https://, "
            f"or http:// only for an emulator on {_LOOPBACK}",
        )
        base_url = None

    rate = t.number("max_requests_per_second", default=1.0)
    timeout = t.duration("timeout", default=20.0, positive=True)
    use_tonce = t.boolean("use_tonce", default=False)
    tier = _tier(t, rules, data)

    limits = _Limits(rules, min_interval, per_hour) if rules else None
    values = (name, base_url, api_version, min_interval, per_hour, rate, timeout, use_tonce)
    if rules is None or base_url is None or host is None or any(v is None for v in values) or tier is False:
        return None, limits
    return ExchangeConfig(
        rules.name, base_url.rstrip("/"), api_version, min_interval, per_hour, rate, timeout, use_tonce,
        tier or None,
    ), limits


def _tier(t: _Table, rules: ExchangeRules | None, data: Mapping[str, Any]) -> str | bool | None:
    """The [exchange].tier, its default, None where the exchange has none, or False after a problem."""
    if rules is None:
        return None
    if not rules.tiers:
        if "tier" in data:
            t.bad("tier", f"{rules.name} has no rate tiers")
            return False
        return None
    tier = t.string("tier", default=rules.tiers[0])
    if tier is not None and tier not in rules.tiers:
        t.bad("tier", f"{_show(tier)} is not a {rules.name} tier (one of {', '.join(rules.tiers)})")
        return False
    return tier if tier is not None else False


def _check_interval(t: _Table, key: str, seconds: float, limits: _Limits | None) -> None:
    if limits is None:
        return
    every, per_hour = format_duration(seconds), limits.full_depth_per_hour
    if key == FULL_DEPTH and per_hour and seconds < 3600 / per_hour:
        floor = format_duration(3600 / per_hour)
        t.bad(key, f"{every} exceeds {per_hour} full-depth requests an hour (every {floor} at least)")
    elif limits.min_interval_s is not None and seconds < limits.min_interval_s:
        documented = limits.min_interval_s == limits.rules.documented_min_interval_s
        whose = "the exchange's minimum" if documented else "[exchange].min_interval"
        t.bad(key, f"{every} is below {whose} of {format_duration(limits.min_interval_s)}")


def _markets(doc: Mapping[str, Any], problems: _Problems, limits: _Limits | None) -> tuple[MarketConfig, ...]:
    tables = doc.get("market", [])
    if not isinstance(tables, list) or not all(isinstance(m, dict) for m in tables):
        problems.add("[market]", "must be an array of tables: write [[market]], once per pair")
        return ()
    markets: list[MarketConfig] = []
    first_seen: dict[str, int] = {}
    endpoints = limits.rules.market_endpoints if limits is not None else ENDPOINTS
    for number, data in enumerate(tables, start=1):
        t = _Table(data, f"[market {number}]", ("pair", *endpoints), problems)
        pair = t.string("pair", required=True)
        if pair is not None and limits is not None and pair not in limits.rules.pairs:
            spelled = re.sub(r"[^A-Za-z]", "", pair).upper()
            hint = f"did you mean {spelled}?" if spelled in limits.rules.pairs else limits.rules.pair_hint
            t.bad("pair", f"{_show(pair)} is not a pair the exchange lists ({hint})")
            pair = None
        if pair is not None and pair in first_seen:
            t.bad("pair", f"{_show(pair)} is already configured in [market {first_seen[pair]}]")
            pair = None
        if pair is not None:
            first_seen[pair] = number
        intervals = []
        for endpoint in endpoints:
            seconds = t.duration(endpoint, positive=True)
            if seconds is not None:
                _check_interval(t, endpoint, seconds, limits)
                intervals.append((endpoint, seconds))
        if not any(endpoint in data for endpoint in endpoints):
            problems.add(f"[market {number}]", f"polls nothing (set at least one of {', '.join(endpoints)})")
        if pair is not None:
            markets.append(MarketConfig(pair, tuple(intervals)))
    return tuple(markets)


def _home(text: str, environ: Mapping[str, str]) -> str:
    home = environ.get("HOME")
    if home and (text == "~" or text.startswith("~/")):
        return home + text[1:]
    return text


def _local_path(text: str, ctx: _Context) -> Path:
    # Relative paths are relative to the configuration file, so the collector finds the same files whatever
    # directory a service manager starts it in.
    path = Path(_home(text, ctx.environ))
    return ctx.base_dir / path if ctx.base_dir is not None and not path.is_absolute() else path


def _credential(t: _Table, what: str, ctx: _Context) -> str | None:
    """The key or the secret, from exactly one of <what>_env and <what>_file. Never echoed in a message."""
    env_key, file_key = f"{what}_env", f"{what}_file"
    given = [key for key in (env_key, file_key) if key in t.data]
    if len(given) != 1:
        t.bad(env_key, f"{'give exactly one' if given else 'missing: give one'} of {env_key} and {file_key}")
        return None
    if given == [env_key]:
        name = t.string(env_key)
        if name is None:
            return None
        if not _ENV_NAME.match(name):
            # Not echoed: the commonest reason is the value itself pasted where its variable's name belongs.
            t.bad(
                env_key,
                "is not an environment variable name (name the variable that holds the value)",
                CredentialsError,
            )
            return None
        value = ctx.environ.get(name)
        if not value:
            t.bad(env_key, f"environment variable {name} is {'empty' if value == '' else 'not set'}", CredentialsError)
            return None
        return value

    text = t.string(file_key)
    if text is None:
        return None
    path = _local_path(text, ctx)
    label = f"{what} file {path}"
    try:
        mode = ctx.stat(path).st_mode
    except FileNotFoundError:
        t.bad(file_key, f"{label} does not exist", CredentialsError)
        return None
    except OSError as e:
        t.bad(file_key, f"{label} cannot be read ({e.strerror})", CredentialsError)
        return None
    # Only the secret file must be owner-only: the key is an identifier (every Rest-Key header carries it), and
    # without the secret it signs nothing.
    if what == "secret" and mode & 0o077:
        t.bad(
            file_key,
            f"{label} is readable by others (mode {stat_module.S_IMODE(mode):04o}); chmod 600 it",
            CredentialsError,
        )
        return None
    try:
        value = ctx.read(path)
    except UnicodeDecodeError:  # its message quotes bytes of the file
        t.bad(file_key, f"{label} is not text", CredentialsError)
        return None
    except OSError as e:
        t.bad(file_key, f"{label} cannot be read ({e.strerror})", CredentialsError)
        return None
    value = value.removesuffix("\n").removesuffix("\r")  # the one newline an editor or `echo >` leaves
    if not value:
        t.bad(file_key, f"{label} is empty", CredentialsError)
        return None
    return value


def _credentials(doc: Mapping[str, Any], ctx: _Context) -> Credentials | None:
    data = _section(doc, "credentials", ctx.problems)
    if data is None:
        return None
    inline = "inline credentials are not read; name an environment variable or an owner-only file"
    hints = {
        "key": f"{inline}: key_env or key_file",
        "secret": f"{inline}: secret_env or secret_file",
        "api_key": f"{inline}: key_env or key_file",
        "api_secret": f"{inline}: secret_env or secret_file",
    }
    t = _Table(data, "[credentials]", CREDENTIAL_KEYS, ctx.problems, echo=False, unknown_hints=hints)
    key = _credential(t, "key", ctx)
    secret = _credential(t, "secret", ctx)
    return Credentials(key, secret) if key is not None and secret is not None else None


def _account(doc: Mapping[str, Any], problems: _Problems, limits: _Limits | None) -> AccountConfig | None:
    data = _section(doc, "account", problems)
    if data is None:
        return None
    if "credentials" not in doc:
        problems.add("[account]", "needs [credentials]: account calls are signed with the key and secret")
    paged = limits.rules.per_currency_history if limits is not None else "wallet_history"
    polled = limits.rules.account_polls if limits is not None else ("info", "orders")
    keys = (*((paged, "every") if paged else ()), *polled)
    t = _Table(data, "[account]", keys if limits is not None else ACCOUNT_KEYS, problems)
    currencies: tuple[str, ...] | None = ()
    if paged:
        currencies = t.strings(paged)
        for i, currency in enumerate(currencies or ()):
            if limits is not None and currency not in limits.rules.currencies:
                listed = ", ".join(limits.rules.currencies)
                t.bad(paged, f"{_show(currency)} is not a currency the exchange lists ({listed})")
                currencies = None
            elif currency in currencies[:i]:
                t.bad(paged, f"{_show(currency)} is listed twice")
                currencies = None
            if currencies is None:
                break
    every = t.duration("every", positive=True) if paged else None
    if every is not None:
        _check_interval(t, "every", every, limits)
    polls: list[tuple[str, float]] = []
    bad = currencies is None or ("every" in data and every is None)
    for key in polled:
        seconds = t.duration(key, positive=True)
        if seconds is not None:
            _check_interval(t, key, seconds, limits)
            polls.append((key, seconds))
        bad = bad or (key in data and seconds is None)
    if paged and currencies and "every" not in data:
        t.bad("every", f"missing: how often to page {paged}")
    if paged and "every" in data and currencies == ():
        t.bad("every", f"pages nothing: {paged} is empty")
    if not (paged and data.get(paged)) and not any(key in data for key in polled):
        what = f"set {paged} with every, or " if paged else "set "
        problems.add("[account]", f"polls nothing ({what}{' or '.join(polled)})")
    if bad:
        return None
    return AccountConfig(currencies or (), every if currencies else None, tuple(polls))


def _storage(doc: Mapping[str, Any], ctx: _Context) -> StorageConfig | None:
    data = _section(doc, "storage", ctx.problems)
    t = _Table(data or {}, "[storage]", STORAGE_KEYS, ctx.problems)
    root_text = t.string("root", default="data")
    root: str | None = None
    local_root: Path | None = None
    if root_text is not None:
        uri = _URI.match(root_text)
        if uri is None:
            local_root = _local_path(root_text, ctx)
            root = str(local_root)
        elif uri.group(1).lower() in _OBJECT_STORES and uri.group(2).strip("/"):
            root = root_text.rstrip("/")
        else:
            t.bad(
                "root",
                f"{_show(root_text)} is neither a local path nor an object-store URI "
                f"({', '.join(s + '://bucket/prefix' for s in _OBJECT_STORES[:2])}, ...)",
            )

    journal: Path | None = None
    journal_text = t.string("journal")
    if journal_text is not None:
        if _URI.match(journal_text):
            t.bad("journal", f"{_show(journal_text)} must be a local path: the journal is fsynced")
        else:
            journal = _local_path(journal_text, ctx)
    elif "journal" not in (data or {}):
        if local_root is not None:
            journal = local_root / "journal"
        elif root is not None:
            t.bad("journal", "missing: a local directory is needed when root is an object store (it is fsynced)")

    fsync = t.duration("journal_fsync", default=0.1)
    fsync_records = t.integer("journal_fsync_records", default=100, minimum=1)
    segment_size = t.size("segment_size", default=64 * 2**20)
    segment_age = t.duration("segment_age", default=3600.0, positive=True)
    target = t.size("target_file_size", default=64 * 2**20)
    values = (root, journal, fsync, fsync_records, segment_size, segment_age, target)
    if any(v is None for v in values):
        return None
    return StorageConfig(*values)  # type: ignore[arg-type]


# --- entry points -------------------------------------------------------------------------------------------------


def _toml_problem(source: str, error: tomllib.TOMLDecodeError) -> ConfigError:
    message = str(error)
    where = "end of file"
    if m := re.match(r"^(.*) \(at line (\d+), column (\d+)\)$", message):
        message, where = m.group(1), f"line {m.group(2)}, column {m.group(3)}"
    elif m := re.match(r"^(.*) \(at end of document\)$", message):
        message = m.group(1)
    return ConfigError(f"{source}: {where}: invalid TOML: {message[:1].lower()}{message[1:]}")


def parse_config(
    text: str,
    *,
    source: str,
    environ: Mapping[str, str],
    stat: Callable[[Path], os.stat_result] = os.stat,
    read: Callable[[Path], str] = Path.read_text,
    base_dir: Path | None = None,
) -> Config:
    """The configuration in `text`, or a ConfigError (CredentialsError) whose one line names `source` and the key.

    `environ` supplies key_env/secret_env; `stat` and `read` are used only on key_file/secret_file. Relative paths
    (storage root, journal, credential files) are taken relative to `base_dir` when it is given.
    """
    try:
        doc = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as e:
        raise _toml_problem(source, e) from None
    problems = _Problems(source)
    ctx = _Context(problems, environ, stat, read, base_dir)
    for name, value in doc.items():
        if name not in TABLES:
            where, what = (f"[{name}]", "table") if isinstance(value, dict) else (name, "key")
            hint = _suggest(name, TABLES)
            problems.add(where, f"unknown {what} ({hint})" if hint else f"unknown {what}")
    exchange, limits = _exchange(doc, problems)
    credentials = _credentials(doc, ctx)
    markets = _markets(doc, problems, limits)
    account = _account(doc, problems, limits)
    storage = _storage(doc, ctx)
    problems.raise_any()
    assert exchange is not None and storage is not None  # any None above came with a problem, raised just now
    return Config(exchange, markets, account, credentials, storage, None)


def load_config(path: Path, environ: Mapping[str, str] = os.environ) -> Config:
    """The configuration in the file at `path`; relative paths in it are relative to its directory."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text (TOML files are UTF-8)") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror})") from None
    config = parse_config(text, source=str(path), environ=environ, base_dir=path.parent)
    return replace(config, path=path)


def example_config() -> str:
    """The commented example `marketrec init` writes."""
    return resources.files(__package__).joinpath("example_config.toml").read_text(encoding="utf-8")


def write_example(path: Path) -> None:
    """Write the example to `path`; a file already there is never overwritten (ConfigError)."""
    try:
        with path.open("x", encoding="utf-8") as f:  # "x": creating and checking are one step, so no race
            f.write(example_config())
    except FileExistsError:
        raise ConfigError(f"{path}: already exists; not overwriting it") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot be written ({e.strerror})") from None
