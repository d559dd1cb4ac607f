"""The emulated exchange: a request in, a reply out, with no HTTP library in sight.

`Exchange.handle(Call) -> Reply` applies, in the order a real front end would: the anti-DDoS
limiter, injected faults, the 10-second URL cache, authentication, then the method itself and
the version's envelope. The ASGI adapter (`app.py`) only turns HTTP into `Call` and `Reply`
back into HTTP, so everything here runs the same in-process and over TCP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from . import account_views as av
from . import market_views as mv
from .account import cancel_order, history_page, place_order
from .auth import ApiKey, Authenticator
from .config import EmulatorConfig
from .errors import ApiError
from .faults import MYSQL_ERROR, Fault, error_body, html_error_page, truncate_body
from .limits import CachedResponse, LimitPolicy, RateLimiter, ResponseCache, anti_ddos_page, too_many_requests_body
from .market import DAY_US
from .model import Trade
from .money import FIAT
from .routes import Route, UnknownPair, UnknownRoute, resolve
from .synthetic import derive_rng
from .world import OnWorld, World

JSON = "application/json"
PAGE_LIMIT = {0: 100, 1: 1000}  # trades per `since` page; v2 pages by 24 h of time instead


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request, as the exchange sees it."""

    method: str
    version: int
    path: str  # after /api/<version>/, without the query string
    query: str
    body: bytes
    client: str
    # The key and the signature headers: Rest-Key and Rest-Sign, or Kraken's API-Key and API-Sign.
    rest_key: str | None = None
    rest_sign: str | None = None


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # answer only after this long (the `slow` fault)
    drop: bool = False  # send part of the body, then close the connection
    # For the request log:
    endpoint: str | None = None
    key: str | None = None
    fault: str | None = None
    blocked: bool = False
    # Faster than a limit allows: flagged even while the client is not (yet) blocked, so a test can
    # prove from the log that a client never broke a limit, not only that it was never blocked.
    violation: bool = False
    cache_hit: bool = False
    params: dict[str, str] = field(default_factory=dict)


class Exchange(OnWorld):
    """The whole emulated exchange: market, accounts, keys, limits, faults."""

    # What the app and the banner need of a face (emulator.faces): its name, address, route and auth headers.
    TITLE = "Mt.Gox emulator"
    URL_TEMPLATE = "http://{host}:{port}/api/{{0,1,2}}/"
    ROUTE = "/api/{version:int}/{path:path}"
    AUTH_HEADERS = ("Rest-Key", "Rest-Sign")

    def __init__(self, config: EmulatorConfig, world: World | None = None) -> None:
        super().__init__(config, world)
        self.auth = Authenticator(self.keys)
        self.limiter = RateLimiter(LimitPolicy(
            min_interval_s=config.public_interval_s, heavy_per_hour=config.heavy_per_hour,
            violations_to_block=config.violations_to_block, violation_window_s=config.violation_window_s,
            cooloff_s=config.cooloff_s, block_style=config.block_style))
        self.cache = ResponseCache(config.cache_s)
        self._oid_rng = derive_rng(config.seed, "oids")

    @staticmethod
    def limits_text(config: EmulatorConfig) -> str:
        return (f"limits: one request per endpoint every {config.public_interval_s:g} s, full depth "
                f"{config.heavy_per_hour}/h, cache {config.cache_s:g} s; faults: {config.faults or 'none'}")

    @staticmethod
    def not_found_body() -> bytes:
        return orjson.dumps({"result": "error", "error": "Method not found", "token": "unknown_method"})

    # -- the request pipeline ------------------------------------------------------------------

    def handle(self, call: Call) -> Reply:
        if call.version not in (0, 1, 2):
            return self.unknown_version(call)
        self._requests += 1
        params = dict(parse_qsl(call.query, keep_blank_values=True))
        form = dict(parse_qsl(call.body.decode("utf-8", "replace"), keep_blank_values=True)) if call.body else {}
        params.update(form)
        raw = "raw" in params
        try:
            route = resolve(call.version, call.path)
        except UnknownRoute:
            return self._error(call.version, ApiError("Method not found", "unknown_method", 404), raw, params)
        except UnknownPair as e:
            msg = f"Invalid currency pair {e.args[0]}"
            return self._error(call.version, ApiError(msg, "invalid_currency", 404), raw, params)
        endpoint = route.endpoint
        now_s = self.config.wall_clock()
        self.market.advance_wall(int(now_s * 1_000_000))

        cur = self._currency(route, params)
        limit_key = f"{endpoint.name}:{cur or '-'}"
        decision = self.limiter.check(call.client, limit_key, now_s, heavy=endpoint.heavy)
        if not decision.allowed:
            reply = self._blocked(decision.retry_after_s or 0.0, endpoint.name, params)
            reply.violation = decision.violation
            return reply

        fault = self.faults.next(endpoint.name, endpoint.trades)
        if fault is not None and fault.kind not in ("slow", "truncate", "drop", "overlap", "repeat"):
            reply = self._fault_reply(fault, endpoint.name, params)
            reply.violation = decision.violation
            return reply

        reply = self._answer(call, route, cur, params, raw, fault)
        reply.violation = decision.violation
        reply.endpoint, reply.params = endpoint.name, params
        if fault is not None:
            reply.fault = fault.label
            if fault.kind == "slow":
                reply.delay_s = fault.param if fault.param is not None else 30.0
            elif fault.kind == "truncate" and reply.status == 200:
                reply.body = truncate_body(reply.body, self.config.seed, self._requests)
            elif fault.kind == "drop":
                reply.drop = True
        return reply

    def _answer(
        self, call: Call, route: Route, cur: str | None, params: dict[str, str], raw: bool, fault: Fault | None
    ) -> Reply:
        endpoint = route.endpoint
        page_fault = fault is not None and fault.kind in ("overlap", "repeat")
        cacheable = call.method == "GET" and not endpoint.private and not page_fault
        cache_key = f"{call.version}/{call.path}?{call.query}"
        if cacheable:
            hit = self.cache.get(cache_key, self.config.wall_clock())
            if hit is not None:
                return Reply(hit.status, hit.body, hit.content_type, cache_hit=True)
        key: ApiKey | None = None
        try:
            if endpoint.private:
                key = self.auth.verify(
                    version=call.version, path=call.path, body=call.body, rest_key=call.rest_key,
                    rest_sign=call.rest_sign, params=params, now_us=self.wall_us(), right=endpoint.right or "",
                )
            payload = self._dispatch(route, cur, params, key, fault)
        except ApiError as e:
            reply = self._error(call.version, e, raw, params)
            reply.key = call.rest_key
            return reply
        if isinstance(payload, Reply):
            return payload
        body = orjson.dumps(self._envelope(call.version, payload, raw))
        if cacheable:
            self.cache.put(cache_key, CachedResponse(200, body, JSON, self.config.wall_clock()),
                           self.config.wall_clock())
        return Reply(200, body, key=key.key if key else None)

    @staticmethod
    def _envelope(version: int, payload: Any, raw: bool) -> Any:
        if version == 0 or raw:
            return payload
        return {"result": "success", ("data" if version >= 2 else "return"): payload}

    def _error(self, version: int, err: ApiError, raw: bool, params: dict[str, str]) -> Reply:
        if version == 0:
            body: dict[str, Any] = {"error": err.message}
        else:
            body = {"result": "error", "error": err.message}
            if err.token is not None:
                body["token"] = err.token
        return Reply(err.status, orjson.dumps(body), params=params)

    def _blocked(self, retry_after_s: float, endpoint: str, params: dict[str, str]) -> Reply:
        retry = {"Retry-After": str(max(1, round(retry_after_s)))}
        if self.config.block_style == "429":
            return Reply(429, too_many_requests_body(), JSON, retry, endpoint=endpoint, blocked=True, params=params)
        page = anti_ddos_page(retry_after_s)
        return Reply(503, page, "text/html; charset=UTF-8", retry, endpoint=endpoint, blocked=True, params=params)

    def _fault_reply(self, fault: Fault, endpoint: str, params: dict[str, str]) -> Reply:
        if fault.kind == "mysql":  # served with HTTP 200, as Mt.Gox did
            reply = Reply(200, MYSQL_ERROR, "text/html; charset=UTF-8")
        elif fault.kind == "html":
            reply = Reply(502, html_error_page(502), "text/html; charset=UTF-8")
        else:
            status = int(fault.kind.removeprefix("http"))
            reply = Reply(status, error_body(status), JSON)
        reply.endpoint, reply.fault, reply.params = endpoint, fault.label, params
        return reply

    def unknown_version(self, call: Call) -> Reply:
        err = ApiError(f"Unknown API version {call.version}", "unknown_method", 404)
        return self._error(1, err, False, {})

    # -- methods -------------------------------------------------------------------------------

    def _currency(self, route: Route, params: dict[str, str]) -> str | None:
        if route.currency is not None or route.version != 0:
            return route.currency
        if route.endpoint.name in ("ticker", "depth", "trades"):
            return params.get("Currency", "USD").upper()
        return None

    def _dispatch(
        self, route: Route, cur: str | None, params: dict[str, str], key: ApiKey | None, fault: Fault | None
    ) -> Any:
        name, v = route.endpoint.name, route.version
        if v == 0 and name in ("ticker", "depth", "trades") and cur not in FIAT:
            raise ApiError(f'Invalid parameter "Currency": {cur} is not traded', "invalid_currency")
        m = self.market
        if name == "ticker":
            return mv.v0_ticker_json(m, cur) if v == 0 else mv.ticker_json(m, cur, version=v)
        if name == "ticker_fast":
            return mv.ticker_fast_json(m, cur)
        if name in ("depth", "fulldepth"):
            return mv.v0_depth_json(m, cur) if v == 0 else mv.depth_json(m, cur, full=name == "fulldepth")
        if name == "trades":
            return mv.trades_json(self._trades(v, cur, params, fault), version=v)
        if name == "cancelledtrades":
            return []
        if name == "lag":
            rng = derive_rng(self.config.seed, "lag", m.now_us // 60_000_000)
            return mv.lag_json(rng.randrange(0, 8), rng.randrange(0, 2_000_000))
        if name == "currency":
            code = cur or params.get("currency", "USD").upper()
            if code not in FIAT:
                raise ApiError('Invalid parameter "currency"', "invalid_currency")
            return mv.currency_json(code)
        assert key is not None  # every remaining method is private
        return self._private(route, cur, params, key)

    def _trades(self, version: int, cur: str, params: dict[str, str], fault: Fault | None) -> list[Trade]:
        since = _int_param(params, "since", required=False, minimum=0)
        m = self.market
        if fault is not None and fault.kind == "overlap" and since is not None:
            # Step the cursor back so the page repeats trades the client already has.
            feed = m.feeds.get(cur)
            if feed is not None:
                i = max(0, feed.after(since) - int(fault.param if fault.param is not None else 5))
                since = feed.tids[i] - 1 if i < len(feed.tids) else since
        page = m.trades_page(cur, since, limit=PAGE_LIMIT.get(version),
                             window_us=DAY_US if version >= 2 and since is not None else None)
        if fault is not None and fault.kind == "repeat" and page:
            page = page + page[-min(len(page), 3):]  # the tail again, as a stuttering backend sent it
        return page

    def _private(self, route: Route, cur: str | None, params: dict[str, str], key: ApiKey) -> Any:
        name = route.endpoint.name
        acct = self.accounts[key.account]
        now_us = self.market.now_us
        if name == "info":
            return av.info_payload(acct, sorted(key.rights))
        if name == "idkey":
            return av.idkey_payload(acct)
        if name == "orders":
            return av.v0_orders_payload(acct) if route.version == 0 else av.orders_payload(acct)
        if name == "funds":
            return av.v0_funds_payload(acct)
        if name == "wallet_history":
            code = params.get("currency", "").upper()
            if not code:
                raise ApiError("Currency parameter is mandatory", "invalid_parameter")
            if code not in acct.balances:
                raise ApiError(f'Invalid parameter "currency": no {code} wallet', "invalid_parameter")
            page = _int_param(params, "page", required=False, minimum=1) or 1
            records, entries, current, max_page = history_page(acct, code, page)
            wanted = params.get("type")
            if wanted:
                entries = [e for e in entries if e.type == wanted]
            return av.history_payload(records, entries, current, max_page)
        if name == "history_csv":
            if cur not in acct.balances:
                raise ApiError(f"No {cur} wallet", "invalid_parameter", 404)
            return Reply(200, av.history_csv(acct, cur).encode(), "text/csv; charset=UTF-8")
        if name == "order_add":
            side = params.get("type", "")
            amount = _int_param(params, "amount_int", required=True, minimum=1)
            price = _int_param(params, "price_int", required=False, minimum=1)
            order, fills = place_order(
                acct, self.market.book(cur), currency=cur, side=side, amount_int=amount, price_int=price,
                now_us=now_us, new_tid=self.market.new_tid, new_oid=self._new_oid,
            )
            self.market.record(fills)
            return av.order_add_payload(order.oid if order else self._last_oid)
        if name == "order_cancel":
            oid = params.get("oid", "")
            if not oid:
                raise ApiError('Invalid parameter "oid"', "invalid_parameter")
            cancelled = cancel_order(acct, self.market.book(cur), oid, now_us)
            return av.order_cancel_payload(cancelled.oid, self._new_oid())
        raise ApiError("Method not found", "unknown_method", 404)  # pragma: no cover - table and code agree

    def _new_oid(self) -> str:
        self._last_oid = str(uuid.UUID(int=self._oid_rng.getrandbits(128), version=4))
        return self._last_oid


def _int_param(params: dict[str, str], name: str, *, required: bool, minimum: int) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        if required:
            raise ApiError(f'Missing parameter "{name}"', "invalid_parameter")
        return None
    try:
        value = int(text)
    except ValueError:
        raise ApiError(f'Invalid parameter "{name}" (should be an integer)', "invalid_parameter") from None
    if value < minimum:
        raise ApiError(f'Invalid parameter "{name}" (should be at least {minimum})', "invalid_parameter")
    return value


