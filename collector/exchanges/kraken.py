"""Kraken Spot REST (reference: ../shared/reference/living-exchanges.md §0.1 and §1).

Mt.Gox's closest living relative: a base64 secret, HMAC-SHA512, an always-increasing nonce, form
bodies. What differs is data here: paths under /0/public and /0/private; the envelope
`{"error": [...], "result": ...}` (HTTP status codes other than 200 mean the request did not reach
the API); answers keyed by Kraken's pair id (`XXBTZUSD`, or `XBTUSD` in newer answers) whatever
alias was asked; trades paged with `since` = the previous answer's `last` (a nanosecond string);
ledgers and trade history paged 50 at a time with `ofs`; and a per-key call counter instead of a
per-endpoint interval for private calls (`COUNTERS`, by verification tier).

marketrec names markets as for Mt.Gox (`BTCUSD`); `PAIRS` maps them to Kraken's names.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

import orjson

from .. import record as rc
from ..budget import CallCounter
from ..errors import CredentialsError
from .base import ACCOUNT, BOOK, LIVE, EndpointSpec, ExchangeAdapter, ExchangeRules, HistoryPage, Limits, Request
from .base import TradesPage as Page
from .signing import decode_secret


@dataclass(frozen=True, slots=True)
class Pair:
    altname: str  # what a request's pair= says
    pair_id: str  # the legacy id answers are keyed by
    base: str  # Kraken asset codes
    quote: str


# marketrec's name -> Kraken's. Answers may use either spelling as their key (ccxt 2024 captures: XBTUSDT).
PAIRS: dict[str, Pair] = {
    "BTCUSD": Pair("XBTUSD", "XXBTZUSD", "XXBT", "ZUSD"),
    "BTCEUR": Pair("XBTEUR", "XXBTZEUR", "XXBT", "ZEUR"),
    "ETHUSD": Pair("ETHUSD", "XETHZUSD", "XETH", "ZUSD"),
    "ETHEUR": Pair("ETHEUR", "XETHZEUR", "XETH", "ZEUR"),
    "ETHBTC": Pair("ETHXBT", "XETHXXBT", "XETH", "XXBT"),
}
ASSETS = {"XXBT": "BTC", "XBT": "BTC", "XETH": "ETH", "ETH": "ETH", "ZUSD": "USD", "USD": "USD", "ZEUR": "EUR",
          "EUR": "EUR"}

RULES = ExchangeRules(
    name="kraken",
    # "Calling the public endpoints at a frequency of 1 per second (or less) would remain within the rate limits".
    documented_min_interval_s=1.0,
    full_depth_per_hour=1,  # Kraken has no full-depth method (Depth's count goes to 500); nothing uses this
    pairs=frozenset(PAIRS),
    currencies=("BTC", "ETH", "USD", "EUR"),
    api_versions=frozenset({0}),
    pair_hint=f"one of {', '.join(sorted(PAIRS))} (marketrec's names; Kraken's XBTUSD is BTCUSD)",
    # Time (the exchange's clock) and AssetPairs (the pair's decimals and limits) are polled like a market's
    # endpoints: AssetPairs for the market's pair, Time once whatever the market (it is recorded under "-").
    market_endpoints=("ticker", "depth", "trades", "ohlc", "asset_pairs", "time"),
    account_polls=("ledgers", "trades_history", "balance"),
    per_currency_history=None,
    tiers=("starter", "intermediate", "pro"),  # Kraken's verification tiers set the private call counter
)

ENDPOINTS: dict[str, EndpointSpec] = {
    e.name: e
    for e in (
        EndpointSpec("ticker", LIVE, paths={0: "public/Ticker"}),
        EndpointSpec("trades", LIVE, paging="since", paths={0: "public/Trades"}),
        EndpointSpec("depth", BOOK, paths={0: "public/Depth"}),
        EndpointSpec("ohlc", BOOK, paths={0: "public/OHLC"}),
        EndpointSpec("asset_pairs", BOOK, paths={0: "public/AssetPairs"}),
        EndpointSpec("time", BOOK, per_market=False, paths={0: "public/Time"}),
        EndpointSpec("ledgers", ACCOUNT, private=True, per_market=False, paging="pages",
                     paths={0: "private/Ledgers"}),
        EndpointSpec("trades_history", ACCOUNT, private=True, per_market=False, paging="pages",
                     paths={0: "private/TradesHistory"}),
        EndpointSpec("balance", ACCOUNT, private=True, per_market=False, paths={0: "private/Balance"}),
    )
}
HISTORY_PAGE = 50  # "50 results are returned at a time, the most recent by default"
TRADES_PAGE = 1000  # Trades' count defaults to (and tops at) 1000
DEPTH_COUNT = 100
# "Additional calls will be restricted for a few seconds (or possibly longer)": a minute lets a starter-tier
# counter (15 points, 0.33 a second) decay most of the way before the next call.
LIMITS = Limits(min_interval_s=1.0, heavy_per_hour=1, trades_page_cap={0: TRADES_PAGE}, cooloff_s=60.0)

# The private call counter per verification tier (max, decay per second); ledger and trade-history calls cost 2.
# One below the documented maximum: the counter is per key, and another client of the key may have spent a call.
_COSTS = (("ledgers:-", 2.0), ("trades_history:-", 2.0), ("balance:-", 1.0))
COUNTERS: dict[str, CallCounter] = {
    tier: CallCounter("private", _COSTS, limit - 1.0, decay)
    for tier, (limit, decay) in {"starter": (15.0, 0.33), "intermediate": (20.0, 0.5), "pro": (20.0, 1.0)}.items()
}
RATE_ERRORS = ("EAPI:Rate limit exceeded", "EGeneral:Too many requests", "EService: Throttled", "EService:Throttled",
               "EGeneral:Temporary lockout")
AUTH_ERRORS = ("EAPI:Invalid key", "EAPI:Invalid signature", "EAPI:Invalid nonce", "EGeneral:Permission denied")


def build(
    spec: EndpointSpec, version: int, market: str = "-", *, since: int | None = None, page: int | None = None,
    currency: str | None = None,
) -> Request:
    template = spec.paths.get(version)
    if template is None:
        raise ValueError(f"{spec.name} is not available in Kraken's API v{version}")
    params: dict[str, str] = {}
    if spec.per_market:
        params["pair"] = PAIRS[market].altname
    if spec.name == "trades" and since is not None:
        params["since"] = str(since)
    if spec.name == "depth":
        params["count"] = str(DEPTH_COUNT)
    if spec.name == "ohlc":
        params["interval"] = "1"
    if spec.name in ("ledgers", "trades_history"):
        params["ofs"] = str(((page or 1) - 1) * HISTORY_PAGE)
    path = f"{version}/{template}"
    return Request(endpoint=spec.name, market=market if spec.per_market else "-", api_version=version,
                   method="POST" if spec.private else "GET", path=path, sign_path=f"/{path}", params=params,
                   private=spec.private)


def api_sign(secret_b64: str, uri_path: str, nonce: str, body: bytes) -> str:
    """base64(HMAC-SHA512(base64decode(secret), uri_path + SHA256(nonce + body)))."""
    digest = hashlib.sha256(nonce.encode() + body).digest()
    mac = hmac.new(decode_secret(secret_b64), uri_path.encode() + digest, hashlib.sha512).digest()
    return base64.b64encode(mac).decode("ascii")


def sign(key: str, secret_b64: str, req: Request, params: Mapping[str, str], body: bytes) -> dict[str, str]:
    """API-Key, API-Sign and Content-Type for a private POST whose body is exactly `body`."""
    if not key or not key.isprintable() or any(c.isspace() for c in key):
        raise CredentialsError("API key is empty or contains whitespace or control characters")
    return {"API-Key": key, "API-Sign": api_sign(secret_b64, req.sign_path, params.get("nonce", ""), body),
            "Content-Type": "application/x-www-form-urlencoded"}


def errors_of(decoded: Any) -> list[str]:
    """The error strings of an answer: the documented `error` array, or the structured `errors` objects."""
    if not isinstance(decoded, dict):
        return []
    errors = decoded.get("error")
    if isinstance(errors, list):
        return [str(e) for e in errors if not str(e).startswith("W")]  # warnings alone are no failure
    if isinstance(decoded.get("errors"), list):
        return [f"E{e.get('errorClass', '')}:{e.get('type', '')}" if isinstance(e, dict) else str(e)
                for e in decoded["errors"]]
    return []


def classify(status: int | None, content_type: str, body: bytes, private: bool) -> tuple[str | None, Any]:
    if status is None:
        return rc.CONNECTION, None
    html = body.lstrip()[:1] == b"<"
    if status == 429 or (html and status in (403, 429, 503)):
        return rc.RATE_LIMITED, None
    if html:
        return rc.HTML_PAGE, None
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        decoded = None
    if 400 <= status < 500:
        return rc.HTTP_4XX, decoded
    if status >= 500:
        return rc.HTTP_5XX, decoded
    if status != 200 or decoded is None:
        return (rc.NOT_JSON if decoded is None else rc.HTTP_4XX), decoded
    errors = errors_of(decoded)
    if any(e.startswith(RATE_ERRORS) for e in errors):
        return rc.RATE_LIMITED, decoded
    if any(e.startswith(AUTH_ERRORS) for e in errors):
        return rc.AUTH_FAILED, decoded
    if errors or not isinstance(decoded, dict) or "result" not in decoded:
        return rc.EXCHANGE_ERROR, decoded
    return None, decoded


def payload(decoded: Any, version: int) -> Any:
    return decoded.get("result") if isinstance(decoded, dict) else None


def _rows(result: Any) -> list[Any]:
    # The one key besides "last": the pair id, spelled however this answer spells it.
    if not isinstance(result, dict):
        return []
    return next((v for k, v in result.items() if k != "last" and isinstance(v, list)), [])


def time_us(value: Any) -> int:
    """Float seconds as Kraken sends them (1688671969.9931508) to µs, exactly from the number's digits,
    truncated (as the pipelines read them)."""
    try:
        return int(Decimal(str(value)).scaleb(6).to_integral_value(rounding=ROUND_FLOOR))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a time: {value!r}") from exc


def trades_page(decoded: Any, version: int) -> Page:
    result = payload(decoded, version)
    rows = _rows(result)
    times = tuple(time_us(r[2]) for r in rows)
    # trade_id (7th element) when sent. 2013 rows have six elements and no id: the time in µs x 1000 plus the
    # row's rank among the answer's rows of the same µs, as the pipelines number them (stg_kraken_trades).
    tids, rank = [], Counter[int]()
    for row, t in zip(rows, times, strict=True):
        if len(row) > 6 and isinstance(row[6], int):
            tids.append(int(row[6]))
        else:
            tids.append(t * 1000 + rank[t])
            rank[t] += 1
    last = result.get("last") if isinstance(result, dict) else None
    cursor = int(last) if last is not None and str(last).isdigit() else None
    # The first trade's ns time is known only to the µs: the end of that µs claims no trade outside the page
    # (a trade earlier in the same µs may not be in it), at the price of leaving the first trade's µs uncovered.
    floor = cursor_at(min(times) + 1) - 1 if times else None
    return Page(tuple(tids), times, len(rows) >= TRADES_PAGE, cursor, floor)


def next_since(since: int | None, page: Page) -> int | None:
    """The cursor after a page: its `last`; None when the page was empty (caught up)."""
    if not page.tids or page.cursor is None or (since is not None and page.cursor <= since):
        return None
    return page.cursor


def cursor_at(time_us: int) -> int:
    """`since` for a time: the trade cursor is nanoseconds (a `last` looks like 1688671969993150842)."""
    return time_us * 1000


def time_at(cursor: int) -> int:
    """The time in µs a `last` stands for (nanoseconds, truncated)."""
    return cursor // 1000


def history_page(decoded: Any, version: int, body: bytes, params: Mapping[str, str] | None = None) -> HistoryPage:
    """Ledger or trade-history entries (their times in µs as the order index) and which page of how many."""
    result = payload(decoded, version) or {}
    entries = result.get("ledger", result.get("trades", {})) if isinstance(result, dict) else {}
    indexes = tuple(time_us(e["time"]) for e in entries.values()) if isinstance(entries, dict) else ()
    count = int(result.get("count", len(indexes))) if isinstance(result, dict) else 0
    ofs = int((params or {}).get("ofs", 0))
    return HistoryPage(indexes, ofs // HISTORY_PAGE + 1, max(1, -(-count // HISTORY_PAGE)))


KRAKEN = ExchangeAdapter(
    name="kraken", rules=RULES, endpoints=ENDPOINTS, pairs=frozenset(PAIRS), limits=LIMITS, build=build,
    classify=classify, trades_page=trades_page, history_page=history_page, next_since=next_since, payload=payload,
    sign=sign, counters=COUNTERS, cursor_at=cursor_at, time_at=time_at,
)
