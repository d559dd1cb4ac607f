"""Mt.Gox, API versions 0, 1 and 2 (reference: ../shared/reference/mtgox-api.md).

Paths, envelopes, limits and the quirks a recorder must handle: v0 answers bare JSON, v1 wraps
in `return`, v2 in `data`; errors come as JSON envelopes with any HTTP status, as HTML pages
when the anti-DDoS front end steps in, or as `MySQL error, please retry later` with HTTP 200.
Trade pages follow `since=<tid>`; tids jump in June 2011 from small integers to microseconds.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

import orjson

from .. import record as rc
from . import signing
from .base import (
    ACCOUNT,
    BOOK,
    LIVE,
    EndpointSpec,
    ExchangeAdapter,
    ExchangeRules,
    HistoryPage,
    Limits,
    Request,
    TradesPage,
)

# "USD, AUD, CAD, CHF, CNY, DKK, EUR, GBP, HKD, JPY, NZD, PLN, RUB, SEK, SGD, THB", later "+ NOK, CZK" (§3).
# INR and KRW channels existed late 2013 but their scaling is undocumented, so they stay out.
CURRENCIES = ("USD", "AUD", "CAD", "CHF", "CNY", "DKK", "EUR", "GBP", "HKD", "JPY", "NZD", "PLN", "RUB", "SEK",
              "SGD", "THB", "NOK", "CZK")
PAIRS = frozenset(f"BTC{c}" for c in CURRENCIES)
RULES = ExchangeRules(
    name="mtgox",
    documented_min_interval_s=10.0,  # "All API methods are cached for 10 seconds" (§7)
    full_depth_per_hour=5,  # "limit to 5 requests per hour" (§7)
    pairs=PAIRS,
    currencies=("BTC", *CURRENCIES),
    api_versions=frozenset({0, 1, 2}),
    pair_hint=f"BTC<CUR> with CUR in {', '.join(CURRENCIES)}",
)

# Tids below this are the sequential ones of 2010-2011; a page asked with one never reaches
# past the relaunch, so an empty page there means: jump to just before the first µs tid.
MICRO_TID_MIN = 10**12
FIRST_MICRO_TID = 1309108565842636
RELAUNCH_DAY_US = 1_309_046_400_000_000  # 2011-06-26 00:00 UTC: a date before it starts at the first tid

ENDPOINTS: dict[str, EndpointSpec] = {
    e.name: e
    for e in (
        EndpointSpec("ticker", LIVE, paths={0: "data/ticker.php", 1: "{pair}/ticker", 2: "{pair}/money/ticker"}),
        EndpointSpec("trades", LIVE, paging="since", paths={0: "data/getTrades.php", 1: "{pair}/trades",
                                            2: "{pair}/money/trades/fetch"}),
        EndpointSpec("depth", BOOK, paths={0: "data/getDepth.php", 1: "{pair}/depth/fetch",
                                           2: "{pair}/money/depth/fetch"}),
        EndpointSpec("full_depth", BOOK, heavy=True, paths={1: "{pair}/depth/full", 2: "{pair}/money/depth/full"}),
        EndpointSpec("wallet_history", ACCOUNT, private=True, per_market=False, paging="pages",
                     paths={0: "history_{cur}.csv", 1: "generic/private/wallet/history", 2: "money/wallet/history"}),
        EndpointSpec("info", ACCOUNT, private=True, per_market=False,
                     paths={0: "info.php", 1: "generic/private/info", 2: "money/info"}),
        EndpointSpec("orders", ACCOUNT, private=True, per_market=False,
                     paths={0: "getOrders.php", 1: "generic/private/orders", 2: "money/orders"}),
    )
}

# Mt.Gox's anti-DDoS blocks were reported to last minutes: five minutes pass before the next call.
LIMITS = Limits(min_interval_s=10.0, heavy_per_hour=5, trades_page_cap={0: 100, 1: 1000, 2: None}, cooloff_s=300.0)


def build(
    spec: EndpointSpec, version: int, market: str = "-", *, since: int | None = None, page: int | None = None,
    currency: str | None = None,
) -> Request:
    template = spec.paths.get(version)
    if template is None:
        raise ValueError(f"{spec.name} is not available in Mt.Gox API v{version}")
    sign_path = template.format(pair=market, cur=currency or "")
    params: dict[str, str] = {}
    if version == 0 and spec.per_market:
        params["Currency"] = market[3:]
    if since is not None:
        params["since"] = str(since)
    if spec.name == "wallet_history" and version > 0:
        params["currency"] = currency or ""
        if page is not None and page > 1:
            params["page"] = str(page)
    return Request(
        endpoint=spec.name, market=market if spec.per_market else "-", api_version=version,
        method="POST" if spec.private else "GET", path=f"{version}/{sign_path}", sign_path=sign_path,
        params=params, private=spec.private,
    )


def classify(status: int | None, content_type: str, body: bytes, private: bool) -> tuple[str | None, Any]:
    """What an answer is: (None, decoded JSON) for a good one, else (error class, decoded or None)."""
    if status is None:
        return rc.CONNECTION, None
    # Judged by the body, as QtBitcoinTrader did: "MySQL error, please retry later" came as text/html.
    html = body.lstrip()[:1] == b"<"
    if status == 429 or (html and status in (403, 429, 503)):
        return rc.RATE_LIMITED, None  # the anti-DDoS front end, not the API
    if html:
        return rc.HTML_PAGE, None
    if status == 200 and "text/csv" in content_type:
        return (None, None) if body.startswith(b"Index,") else (rc.NOT_JSON, None)
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        decoded = None
    if status == 403 and private:
        return rc.AUTH_FAILED, decoded
    if 400 <= status < 500:
        return rc.HTTP_4XX, decoded
    if status >= 500:
        return rc.HTTP_5XX, decoded
    if decoded is None:
        return rc.NOT_JSON, None  # truncated JSON, "MySQL error, please retry later", ...
    if isinstance(decoded, dict) and (decoded.get("result") == "error" or (
            "error" in decoded and "result" not in decoded)):
        return rc.EXCHANGE_ERROR, decoded
    return None, decoded


def payload(decoded: Any, version: int) -> Any:
    if version == 0 or not isinstance(decoded, dict) or "result" not in decoded:
        return decoded  # v0, or a ?raw answer
    return decoded.get("data" if version >= 2 else "return")


def trades_page(decoded: Any, version: int) -> TradesPage:
    rows = payload(decoded, version) or []
    tids, times = [], []
    for row in rows:
        tid, date = int(row["tid"]), int(row["date"])
        tids.append(tid)
        # µs tids carry the sub-second part of the time; sequential ones do not.
        times.append(tid if tid >= MICRO_TID_MIN and tid // 1_000_000 == date else date * 1_000_000)
    cap = LIMITS.trades_page_cap.get(version)
    full = bool(rows) and (cap is None or len(rows) >= cap)
    return TradesPage(tuple(tids), tuple(times), full)


def next_since(since: int | None, page: TradesPage) -> int | None:
    """The cursor after a page: its highest tid; past the last sequential tid, the relaunch."""
    if page.tids:
        return max(page.tids)
    if since is not None and since < MICRO_TID_MIN:
        return FIRST_MICRO_TID - 1  # nothing more before June 2011: cross the gap
    return None


def history_page(decoded: Any, version: int, body: bytes, params: Mapping[str, str] | None = None) -> HistoryPage:
    if version == 0:  # history_<CUR>.csv: the whole ledger in one answer
        rows = csv.DictReader(io.StringIO(body.decode("utf-8", "replace")))
        return HistoryPage(tuple(int(row["Index"]) for row in rows), 1, 1)
    data = payload(decoded, version) or {}
    indexes = tuple(int(e["Index"]) for e in data.get("result", []))
    return HistoryPage(indexes, int(data.get("current_page", 1)), int(data.get("max_page", 1)))


def cursor_at(time_us: int) -> int:
    """Since June 2011 a tid is its trade's time in µs; before, tids were sequential and no date has one."""
    return time_us if time_us >= RELAUNCH_DAY_US else 0


def time_at(cursor: int) -> int | None:
    """The time in µs a tid stands for, None for a sequential one (before June 2011)."""
    return cursor if cursor >= RELAUNCH_DAY_US else None


def sign(key: str, secret_b64: str, req: Request, params: Mapping[str, str], body: bytes) -> dict[str, str]:
    """Rest-Key and Rest-Sign (v2 signs the path after /api/2/, a NUL and the body)."""
    return signing.headers(key, secret_b64, req.api_version, req.sign_path, body)


MTGOX = ExchangeAdapter(
    name="mtgox", rules=RULES, endpoints=ENDPOINTS, pairs=PAIRS, limits=LIMITS, build=build, classify=classify,
    trades_page=trades_page, history_page=history_page, next_since=next_since, payload=payload, sign=sign,
    cursor_at=cursor_at, time_at=time_at,
)
