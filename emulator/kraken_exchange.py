"""The Kraken face of the emulator: `KrakenExchange.handle(Call) -> Reply`, like `exchange.Exchange`.

It serves Kraken's Spot REST API (`/0/public/<Method>`, `/0/private/<Method>`) on the same world as the
Mt.Gox face (`world.World`: same seed, same trades, books, accounts and keys). The pipeline, in the
order a real front end would apply it:

* public calls: the per-IP limiter (one call per `public_interval_s` per IP, method and pair; faster
  calls are flagged, and after `violations_to_block` of them in the window the IP gets
  `EGeneral:Too many requests` for `cooloff_s`), then faults, then the method;
* private calls: faults, then API-Key/API-Sign/nonce/permission (`kraken_auth`), then the key's call
  counter (`kraken_limits`), then the method; the nonce is recorded only for a call that is answered.

Errors are `{"error": [...]}` with HTTP 200, as Kraken answers them; only an unknown method is a 404.
Faults keep the `--faults` kinds and look like Kraken's failures: `mysql` is `EService:Unavailable`
with HTTP 200 (its backend-failure answer), http502/http504 and `html` are Cloudflare error pages,
http503 is `EService:Unavailable` with HTTP 503; truncate, slow, drop, overlap and repeat act as in
the Mt.Gox face. Kraken documents no cache, so none is kept (`cache_s` is Mt.Gox's).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson

from . import kraken_account_views as kav
from . import kraken_views as kv
from .config import EmulatorConfig
from .errors import ApiError
from .exchange import JSON, Call, Reply
from .faults import DEFAULT_OVERLAP, Fault, truncate_body
from .kraken_auth import RIGHTS, KrakenAuthenticator
from .kraken_limits import RATE_LIMIT_EXCEEDED, TIERS, CallCounter, cost
from .kraken_model import ASSETS, PAIRS, KrakenPair, find_asset, find_pair
from .limits import LimitPolicy, RateLimiter
from .world import OnWorld, World

PUBLIC = {"Time": "time", "SystemStatus": "system_status", "Assets": "assets", "AssetPairs": "asset_pairs",
          "Ticker": "ticker", "Depth": "depth", "Trades": "trades", "OHLC": "ohlc"}
PRIVATE = {"Balance": "balance", "Ledgers": "ledgers", "TradesHistory": "trades_history",
           "QueryLedgers": "query_ledgers", "QueryTrades": "query_trades"}
PASS_THROUGH_FAULTS = frozenset({"slow", "truncate", "drop", "overlap", "repeat"})
REPEATED_TAIL = 3  # the `repeat` fault re-sends a page's last trades, as the Mt.Gox face does

UNKNOWN_METHOD = "EGeneral:Unknown method"
TOO_MANY_REQUESTS = "EGeneral:Too many requests"
INVALID_ARGUMENTS = "EGeneral:Invalid arguments"
UNKNOWN_PAIR = "EQuery:Unknown asset pair"
SERVICE_UNAVAILABLE = "EService:Unavailable"
HTML = "text/html; charset=UTF-8"


def error_body(*errors: str) -> bytes:
    return orjson.dumps({"error": list(errors)})


class KrakenExchange(OnWorld):
    """Kraken's Spot REST API on the emulator's world."""

    TITLE = "Kraken emulator"
    URL_TEMPLATE = "http://{host}:{port}/ (Kraken Spot REST: /0/public/<Method>, /0/private/<Method>)"
    ROUTE = "/{version:int}/{path:path}"
    AUTH_HEADERS = ("API-Key", "API-Sign")

    def __init__(self, config: EmulatorConfig, world: World | None = None) -> None:
        super().__init__(config, world)
        self.auth = KrakenAuthenticator(self.keys)
        self.limiter = RateLimiter(LimitPolicy(
            min_interval_s=config.public_interval_s, heavy_per_hour=0, violations_to_block=config.violations_to_block,
            violation_window_s=config.violation_window_s, cooloff_s=config.cooloff_s))
        self.counter = CallCounter(TIERS[config.kraken_tier], config.kraken_cooloff_s)
        self._books: dict[str, tuple[tuple[int, ...], kav.AccountBook]] = {}

    @staticmethod
    def limits_text(config: EmulatorConfig) -> str:
        tier = TIERS[config.kraken_tier]
        return (f"limits: public one call every {config.public_interval_s:g} s per IP, method and pair; private "
                f"counter {config.kraken_tier} (max {tier.maximum:g}, -{tier.decay_per_s:g}/s, ledger and trade "
                f"history cost 2), cool-off {config.kraken_cooloff_s:g} s; faults: {config.faults or 'none'}")

    @staticmethod
    def not_found_body() -> bytes:
        return error_body(UNKNOWN_METHOD)

    # -- the request pipeline ------------------------------------------------------------------------------------

    def handle(self, call: Call) -> Reply:
        self._requests += 1
        params = dict(parse_qsl(call.query, keep_blank_values=True))
        if call.body:
            params.update(parse_qsl(call.body.decode("utf-8", "replace"), keep_blank_values=True))
        scope, _, method = call.path.partition("/")
        table = {"public": PUBLIC, "private": PRIVATE}.get(scope, {}) if call.version == 0 else {}
        if method not in table:
            return Reply(404, self.not_found_body(), params=params)
        endpoint, private = table[method], scope == "private"
        now_s = self.config.wall_clock()
        self.market.advance_wall(int(now_s * 1_000_000))

        violation = False
        if not private:
            decision = self.limiter.check(call.client, f"{endpoint}:{_pair_key(params)}", now_s)
            violation = decision.violation
            if not decision.allowed:
                return Reply(200, error_body(TOO_MANY_REQUESTS), endpoint=endpoint, blocked=True,
                             violation=violation, params=params)

        fault = self.faults.next(endpoint, endpoint == "trades")
        if fault is not None and fault.kind not in PASS_THROUGH_FAULTS:
            reply = _fault_reply(fault)
        else:
            reply = self._answer(call, method, private, params, fault, now_s)
            if fault is not None:
                self._spoil(reply, fault)
        reply.endpoint, reply.params = endpoint, params
        reply.fault = fault.label if fault is not None else None
        reply.violation = reply.violation or violation
        return reply

    def _spoil(self, reply: Reply, fault: Fault) -> None:
        if fault.kind == "slow":
            reply.delay_s = fault.param if fault.param is not None else 30.0
        elif fault.kind == "truncate" and reply.status == 200:
            reply.body = truncate_body(reply.body, self.config.seed, self._requests)
        elif fault.kind == "drop":
            reply.drop = True

    def _answer(self, call: Call, method: str, private: bool, params: dict[str, str], fault: Fault | None,
                now_s: float) -> Reply:
        try:
            if not private:
                return _ok(self._public(method, params, fault))
            verified = self.auth.check(uri_path=f"/0/{call.path}", body=call.body, api_key=call.rest_key,
                                       api_sign=call.rest_sign, params=params, right=RIGHTS[method])
            decision = self.counter.charge(verified.key.key, cost(method), now_s)
            if not decision.allowed:
                return Reply(200, error_body(RATE_LIMIT_EXCEEDED), key=call.rest_key, violation=True)
            payload = self._private(method, params, verified.key.account)
            self.auth.accept(verified)
            reply = _ok(payload)
            reply.key = verified.key.key
            return reply
        except ApiError as e:
            return Reply(200, error_body(e.message), key=call.rest_key)

    # -- methods -------------------------------------------------------------------------------------------------

    def _public(self, method: str, params: dict[str, str], fault: Fault | None) -> Any:
        m = self.market
        if method == "Time":
            return kv.time_json(m.now_us)
        if method == "SystemStatus":
            return kv.system_status_json(m.now_us)
        if method == "Assets":
            names = _csv(params.get("asset", ""))
            assets = [find_asset(n) for n in names]
            if any(a is None for a in assets):
                raise ApiError("EQuery:Unknown asset")
            return kv.assets_json([a.code for a in assets if a is not None] or list(ASSETS))
        if method == "AssetPairs":
            return {p.pair_id: kv.asset_pair_json(p) for p in _pairs(params.get("pair", ""))}
        if method == "Ticker":
            out: dict[str, Any] = {}
            for p in _pairs(params.get("pair", "")):
                out.update(kv.ticker_json(m, p))
            return out
        pair = _one_pair(params)
        if method == "Depth":
            count = _int(params, "count", kv.DEPTH_DEFAULT, minimum=1)
            return kv.depth_json(m, pair, min(count, kv.DEPTH_MAX))
        if method == "Trades":
            since = _opt_int(params, "since")
            count = min(_int(params, "count", kv.TRADES_MAX, minimum=1), kv.TRADES_MAX)
            overlap = fault is not None and fault.kind == "overlap" and since is not None
            step = int(fault.param if fault and fault.param is not None else DEFAULT_OVERLAP) if overlap else 0
            repeat = REPEATED_TAIL if fault is not None and fault.kind == "repeat" else 0
            return kv.trades_json(m, pair, since, count, step_back=step, repeat_tail=repeat)
        interval = _int(params, "interval", 1, minimum=1)
        if interval not in kv.OHLC_INTERVALS:
            raise ApiError(f"{INVALID_ARGUMENTS}:interval")
        return kv.ohlc_json(m, pair, interval, _opt_int(params, "since"))

    def _private(self, method: str, params: dict[str, str], account_name: str) -> Any:
        account = self.accounts[account_name]
        if method == "Balance":
            return kav.balance_json(account)
        book = self._book(account_name)
        handlers = {"Ledgers": kav.ledgers_json, "TradesHistory": kav.trades_history_json,
                    "QueryLedgers": kav.query_ledgers_json, "QueryTrades": kav.query_trades_json}
        return handlers[method](book, params)

    def _book(self, account_name: str) -> kav.AccountBook:
        """The account's ledger and fills, rebuilt only when its history has grown (it only ever grows)."""
        account = self.accounts[account_name]
        version = tuple(len(account.history.get(c, ())) for c in account.wallets())
        cached = self._books.get(account_name)
        if cached is None or cached[0] != version:
            cached = self._books[account_name] = (version, kav.account_book(account, self.market))
        return cached[1]


def _ok(payload: Any) -> Reply:
    return Reply(200, orjson.dumps({"error": [], "result": payload}), JSON)


def _fault_reply(fault: Fault) -> Reply:
    if fault.kind == "mysql":  # Kraken's answer when its backend fails: HTTP 200, an error
        return Reply(200, error_body(SERVICE_UNAVAILABLE))
    if fault.kind == "http503":
        return Reply(503, error_body(SERVICE_UNAVAILABLE))
    status = 502 if fault.kind == "html" else int(fault.kind.removeprefix("http"))
    return Reply(status, cloudflare_page(status), HTML)


_PHRASES = {502: "Bad gateway", 504: "Gateway time-out"}


def cloudflare_page(status: int) -> bytes:
    """An error page of the kind Kraken's CDN sends when the API behind it does not answer."""
    phrase = _PHRASES.get(status, "Error")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en-US"><head><title>api.kraken.com | {status}: {phrase}</title></head>\n'
        f'<body><div id="cf-error-details"><h1>{phrase} <span>Error code {status}</span></h1>\n'
        "<p>The web server reported a gateway error. Please try again in a few minutes.</p>\n"
        "<p>Cloudflare Ray ID: 0000000000000000 &bull; Performance &amp; security by Cloudflare</p>\n"
        "</div></body></html>\n"
    ).encode()


def _csv(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _pairs(text: str) -> list[KrakenPair]:
    """The pairs a csv names, or all of them for none; an unknown one is Kraken's EQuery error."""
    names = _csv(text)
    pairs = [find_pair(n) for n in names]
    if any(p is None for p in pairs):
        raise ApiError(UNKNOWN_PAIR)
    return [p for p in pairs if p is not None] or list(PAIRS.values())


def _one_pair(params: dict[str, str]) -> KrakenPair:
    name = params.get("pair", "").strip()
    if not name:
        raise ApiError(f"{INVALID_ARGUMENTS}:pair")
    pair = find_pair(name)
    if pair is None:
        raise ApiError(UNKNOWN_PAIR)
    return pair


def _pair_key(params: dict[str, str]) -> str:
    """The limiter's name for the pair(s) a call asks for: every spelling of a pair is the same budget."""
    names = _csv(params.get("pair", ""))
    found = [find_pair(n) for n in names]
    return ",".join(p.pair_id if p else n for p, n in zip(found, names, strict=True)) or "-"


def _int(params: dict[str, str], name: str, default: int, *, minimum: int) -> int:
    value = _opt_int(params, name, minimum=minimum)
    return default if value is None else value


def _opt_int(params: dict[str, str], name: str, *, minimum: int = 0) -> int | None:
    """A whole-number parameter, None when absent; anything else is Kraken's invalid-arguments error."""
    text = params.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < minimum:
        raise ApiError(f"{INVALID_ARGUMENTS}:{name}")
    return int(text)
