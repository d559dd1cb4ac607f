"""Every real Mt.Gox response in ../shared, as the collector would have recorded it, and what a build makes of it.

Sources: ../shared/fixtures/mtgox/SOURCES.md and ../shared/data/real/SOURCES.md (which client called which URL
when), each file read to confirm its shape. A capture is recorded under the collector's own endpoint name,
version and market (collector/exchanges/mtgox.py ENDPOINTS), whatever spelling the capturing client used
(`public/depth`, `code/data/getTrades.php` are the v1 and v0 depth and trades; v2 `ticker_fast` answers the
ticker's question with fewer fields). `envelope=False` marks captures taken with `?raw` or stripped of the
`result`/`return` envelope by their author; `ints=False` marks JSON-number-only money (v0 and legacy), where the
literal number text is the value. `rows` counts what this capture alone adds, counted in the file (trades,
levels, ledger entries, wallets, orders), and agrees with the SOURCES tables. Error answers land in quarantine with
the error class `collector.exchanges.mtgox.classify` gives them, and a reason naming one of `reason`.
Files the collector never asks for (order add/cancel/result, withdrawals, addresses, codes, idkey, lag,
cancelled trades, websocket messages) are listed with `endpoint=None` and why.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from collector.record import AUTH_FAILED, EXCHANGE_ERROR, NOT_JSON
from tests.pipelines_harness import Response, us
from tests.shared import shared_path

FX = "fixtures/mtgox/"
REAL = "data/real/"
CATALOGUED_DIRS = ("fixtures/mtgox", "data/real/mtgox-api-*")


@dataclass(frozen=True, slots=True)
class Capture:
    file: str  # relative to ../shared
    endpoint: str | None  # None: not an answer of anything the collector records
    why: str  # provenance (client, URL, date), or why it is not recorded
    api_version: int = 1
    market: str = "BTCUSD"  # "-" for account endpoints
    http_status: int = 200
    content_type: str = "application/json"
    envelope: bool = True
    ints: bool = True
    received: str = ""  # when the collector would have received it (UTC)
    currency: str | None = None  # wallet_history: the wallet asked for
    rows: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    quarantine: str | None = None  # the error class it is quarantined with
    reason: tuple[str, ...] = ()  # the quarantine reason names at least one of these (case-insensitive)

    @property
    def recorded(self) -> bool:
        return self.endpoint is not None

    @property
    def id(self) -> str:
        short = self.file.removeprefix(FX).removeprefix(REAL)
        return ("fx:" if self.file.startswith(FX) else "real:") + short

    def body(self) -> bytes:
        """The body as received: the file's bytes (gunzipped when this project stored it gzipped)."""
        data = shared_path(self.file).read_bytes()
        return gzip.decompress(data) if self.file.endswith(".gz") else data

    def response(self) -> Response:
        assert self.endpoint is not None, f"{self.file} is not recorded: {self.why}"
        return Response(self.endpoint, self.api_version, self.market, self.body(), us(self.received),
                        self.http_status, self.content_type, currency=self.currency)


def _rows(**tables: int) -> Mapping[str, int]:
    return MappingProxyType(tables)


def trades(file: str, n: int, received: str, why: str, *, version: int = 1, market: str = "BTCUSD",
           envelope: bool = True, ints: bool = True) -> Capture:
    return Capture(file, "trades", why, version, market, envelope=envelope, ints=ints, received=received,
                   rows=_rows(trades=n))


def depth(file: str, asks: int, bids: int, received: str, why: str, *, version: int = 1, full: bool = False,
          envelope: bool = True, ints: bool = True) -> Capture:
    return Capture(file, "full_depth" if full else "depth", why, version, envelope=envelope, ints=ints,
                   received=received, rows=_rows(depth_snapshots=1, depth_levels=asks + bids, book_top=1))


def ticker(file: str, received: str, why: str, *, version: int = 1, envelope: bool = True,
           ints: bool = True) -> Capture:
    return Capture(file, "ticker", why, version, envelope=envelope, ints=ints, received=received,
                   rows=_rows(ticker=1))


def info(file: str, wallets: int, received: str, why: str, *, envelope: bool = False) -> Capture:
    return Capture(file, "info", why, 1, "-", envelope=envelope, received=received, rows=_rows(balances=wallets))


def history(file: str, entries: int, received: str, why: str, *, version: int, currency: str,
            envelope: bool = True) -> Capture:
    return Capture(file, "wallet_history", why, version, "-", envelope=envelope, received=received,
                   currency=currency, rows=_rows(account_ledger=entries))


def orders(file: str, n: int, received: str, why: str, *, version: int = 1, envelope: bool = True,
           ints: bool = True) -> Capture:
    return Capture(file, "orders", why, version, "-", envelope=envelope, ints=ints, received=received,
                   rows=_rows(open_orders=n))


def error(file: str, endpoint: str, received: str, why: str, error_class: str, reason: tuple[str, ...], *,
          version: int = 1, status: int = 200, content_type: str = "application/json",
          market: str = "BTCUSD") -> Capture:
    market = market if endpoint in ("ticker", "trades", "depth", "full_depth") else "-"
    return Capture(file, endpoint, why, version, market, status, content_type, received=received,
                   quarantine=error_class, reason=reason)


def not_recorded(file: str, why: str) -> Capture:
    return Capture(file, None, why)


_WS = "a websocket (socket.io) channel message, not an HTTP answer"

CAPTURES: tuple[Capture, ...] = (
    # --- sferik/mtgox (2013 top level: API v1) ---
    not_recorded(FX + "sferik__mtgox/address.json", "v1 generic/bitcoin/address: a deposit address"),
    not_recorded(FX + "sferik__mtgox/buy.json", "v1 BTCUSD/order/add result (an oid)"),
    not_recorded(FX + "sferik__mtgox/sell.json", "v1 BTCUSD/order/add result (an oid)"),
    not_recorded(FX + "sferik__mtgox/cancel.json", "v1 BTCUSD/order/cancel result"),
    not_recorded(FX + "sferik__mtgox/idkey.json", "v1 generic/idkey: a websocket key"),
    not_recorded(FX + "sferik__mtgox/lag.json", "v1 generic/order/lag: the engine's queue"),
    not_recorded(FX + "sferik__mtgox/order_result.json", "v1 generic/order/result: the collector never asks it"),
    not_recorded(FX + "sferik__mtgox/withdraw.json", "v1 generic/bitcoin/send_simple: a withdrawal"),
    depth(FX + "sferik__mtgox/depth.json", 453, 513, "2013-04-13T14:01:24.042037Z",
          "v1 BTCUSD/depth/fetch, 2013-04-13, envelope, stamps and filter_min/max_price"),
    ticker(FX + "sferik__mtgox/ticker.json", "2013-04-13T12:00:00Z",
           "v1 BTCUSD/ticker, envelope (values of the wiki's v1 example; avg value has more digits than value_int)"),
    trades(FX + "sferik__mtgox/trades.json", 4, "2013-04-12T15:20:04Z",
           "v1 BTCUSD/trades/fetch, 4 real trades of 2013-04-12, one primary N"),
    info(FX + "sferik__mtgox/info.json", 2, "2013-04-13T13:05:00Z",
         "v1 generic/info, `return` only; wallets BTC and EUR"),
    history(FX + "sferik__mtgox/history.json", 1, "2013-11-16T12:00:00Z",
            "v1 generic/wallet/history (BTC), `return` only; one deposit", version=1, currency="BTC", envelope=False),
    orders(FX + "sferik__mtgox/orders.json", 2, "2013-04-15T12:00:00Z", "v1 generic/orders, envelope, 2 orders"),
    error(FX + "sferik__mtgox/error.json", "info", "2013-04-13T12:00:00Z",
          "v1 private call without a key; the spec serves it with HTTP 403", AUTH_FAILED,
          ("Identification required", "login_error_missing_rest_key"), status=403),
    error(FX + "sferik__mtgox/unknown_error.json", "trades", "2013-04-13T12:00:00Z",
          "synthetic v1 error envelope, HTTP 200", EXCHANGE_ERROR, ("Random Unknown error",)),
    error(FX + "sferik__mtgox/mysql_error", "ticker", "2011-07-03T12:00:00Z",
          "plain text with HTTP 200 (served so by the spec, as Mt.Gox did), any endpoint", NOT_JSON,
          ("MySQL error", "not_json"), content_type="text/html; charset=UTF-8"),
    # --- sferik/mtgox history ---
    not_recorded(FX + "sferik__mtgox/historical/2013-04-15_60c41a56/cancel.json", "v1 order/cancel result"),
    orders(FX + "sferik__mtgox/historical/2013-03-24_fcafcf4a/orders.json", 2, "2013-03-24T12:00:00Z",
           "v1 generic/private/orders, envelope, one line"),
    not_recorded(FX + "sferik__mtgox/historical/2013-03-24_5a27d250/withdraw.json", "v1 bitcoin/send_simple"),
    info(FX + "sferik__mtgox/historical/2013-03-23_9b25b75f/info.json", 2, "2013-03-24T01:00:30Z",
         "v1 generic/private/info with envelope; anonymised", envelope=True),
    ticker(FX + "sferik__mtgox/historical/2012-01-04_fe13929b/ticker.json", "2012-01-04T12:00:00Z",
           "v0 data/ticker.php, floats, with vwap", version=0, envelope=False, ints=False),
    not_recorded(FX + "sferik__mtgox/historical/2011-12-01_d804132a/address.json", "v0 btcAddress.php"),
    not_recorded(FX + "sferik__mtgox/historical/2011-06-27_ef81ff83/buy.json", "legacy code/buyBTC.php result"),
    not_recorded(FX + "sferik__mtgox/historical/2011-06-27_ef81ff83/sell.json", "legacy code/sellBTC.php result"),
    not_recorded(FX + "sferik__mtgox/historical/2011-06-27_ef81ff83/cancel.json", "legacy code/cancelOrder.php"),
    depth(FX + "sferik__mtgox/historical/2011-06-27_ef81ff83/depth.json", 388, 290, "2011-06-27T18:28:10Z",
          "legacy code/data/getDepth.php (v0), [price, amount] floats", version=0, envelope=False, ints=False),
    orders(FX + "sferik__mtgox/historical/2011-06-27_ef81ff83/orders.json", 7, "2011-06-27T18:30:00Z",
           "legacy code/getOrders.php (v0): usds, btcs, 7 orders, numbers", version=0, envelope=False, ints=False),
    trades(FX + "sferik__mtgox/historical/2011-06-27_ef81ff83/trades.json", 6560, "2011-06-27T18:28:09Z",
           "legacy code/data/getTrades.php (v0) after the relaunch: string numbers, *_int, µs tids", version=0,
           envelope=False),
    not_recorded(FX + "sferik__mtgox/historical/2011-06-16_d608ce69/buy.json", "legacy code/buyBTC.php"),
    not_recorded(FX + "sferik__mtgox/historical/2011-06-16_d608ce69/sell.json", "legacy code/sellBTC.php"),
    not_recorded(FX + "sferik__mtgox/historical/2011-06-16_d608ce69/cancel.json", "legacy code/cancelOrder.php"),
    not_recorded(FX + "sferik__mtgox/historical/2011-06-16_d608ce69/funds.json",
                 "legacy code/getFunds.php: the collector's v0 balance call is info.php"),
    orders(FX + "sferik__mtgox/historical/2011-06-16_d608ce69/orders.json", 14, "2011-06-16T12:00:00Z",
           "legacy code/getOrders.php (v0) before the hack: numeric oids", version=0, envelope=False, ints=False),
    error(FX + "sferik__mtgox/historical/2011-06-18_c5e2283e/error.json", "orders", "2011-06-18T12:00:00Z",
          "legacy v0 error body (captured from withdraw.php; any private v0 call answered it)", EXCHANGE_ERROR,
          ("Not logged in",), version=0),
    not_recorded(FX + "sferik__mtgox/historical/2011-06-18_c5e2283e/withdraw.json", "legacy code/withdraw.php"),
    depth(FX + "sferik__mtgox/historical/2011-06-07_3bf489ab/depth.json", 184, 171, "2011-06-08T09:52:00Z",
          "legacy code/data/getDepth.php (v0), [price, amount] floats, bids descending", version=0, envelope=False,
          ints=False),
    ticker(FX + "sferik__mtgox/historical/2011-06-07_3bf489ab/ticker.json", "2011-06-08T09:52:00Z",
           "legacy code/data/ticker.php (v0), floats", version=0, envelope=False, ints=False),
    trades(FX + "sferik__mtgox/historical/2011-06-07_3bf489ab/trades.json", 11214, "2011-06-08T09:51:58Z",
           "legacy code/data/getTrades.php (v0): floats, sequential tids 118393..129606", version=0,
           envelope=False, ints=False),
    # --- knowm/XChange ---
    depth(FX + "knowm__XChange/v0/marketdata/example-depth-data-v0.json", 192, 324, "2013-01-21T22:26:05Z",
          "v0 data/getDepth.php, float pairs printed with 17 digits, CR line ends", version=0, envelope=False,
          ints=False),
    ticker(FX + "knowm__XChange/v0/marketdata/example-ticker-data-v0.json", "2013-01-21T22:26:05Z",
           "v0 data/ticker.php, floats printed with 17 digits, CR line ends", version=0, envelope=False, ints=False),
    trades(FX + "knowm__XChange/v0/marketdata/example-trades-data-v0.json", 609, "2013-01-21T22:26:03Z",
           "v0 data/getTrades.php, *_int, no primary/properties, CR line ends", version=0, envelope=False),
    not_recorded(FX + "knowm__XChange/v0/trade/example-cancel-order-response.json", "v0 cancelOrder.php result"),
    info(FX + "knowm__XChange/v2/account/example-accountinfo-data.json", 2, "2012-04-12T12:00:00Z",
         "v1 generic/private/info?raw"),
    not_recorded(FX + "knowm__XChange/v2/account/example-deposit-response.json", "v1 generic/bitcoin/address?raw"),
    history(FX + "knowm__XChange/v2/account/example-wallethistory-response.json", 36, "2013-06-27T12:00:00Z",
            "v2 money/wallet/history currency=BTC, envelope, in/out/fee/withdraw with Trade", version=2,
            currency="BTC"),
    not_recorded(FX + "knowm__XChange/v2/account/example-withdrawal-response.json",
                 "v1 generic/bitcoin/send_simple?raw"),
    depth(FX + "knowm__XChange/v2/marketdata/polling/example-depth-data.json", 503, 429, "2013-04-08T18:09:28.293727Z",
          "v1 BTCUSD/depth/fetch?raw, filter_min/max_price", envelope=False),
    depth(FX + "knowm__XChange/v2/marketdata/polling/example-fulldepth-data.json", 4407, 3684,
          "2012-02-07T19:59:40.083327Z", "v1 BTCUSD/public/fulldepth?raw, with absurd outlier levels", full=True,
          envelope=False),
    ticker(FX + "knowm__XChange/v2/marketdata/polling/example-ticker-data.json", "2013-03-30T18:46:00.678556Z",
           "v1 BTCUSD/ticker?raw, with now", envelope=False),
    trades(FX + "knowm__XChange/v2/marketdata/polling/example-trades-data.json", 30, "2013-04-09T09:24:37Z",
           "v1 BTCUSD/trades/fetch?raw, one primary N", envelope=False),
    not_recorded(FX + "knowm__XChange/v2/marketdata/streaming/example-depth-streaming-data.json", _WS),
    not_recorded(FX + "knowm__XChange/v2/marketdata/streaming/example-ticker-streaming-data.json", _WS),
    not_recorded(FX + "knowm__XChange/v2/marketdata/streaming/example-trade-streaming-data.json", _WS),
    error(FX + "knowm__XChange/v2/trade/polling/example-failure-response-data.json", "orders", "2012-03-04T12:00:00Z",
          "v1 error envelope without token (captured from order/add; endpoint-independent)", EXCHANGE_ERROR,
          ('Invalid parameter "type"',)),
    orders(FX + "knowm__XChange/v2/trade/polling/example-openorders-data.json", 38, "2012-04-12T12:00:00Z",
           "v1 generic/private/orders?raw, 38 orders, many invalid", envelope=False),
    not_recorded(FX + "knowm__XChange/v2/trade/polling/example-success-response-data.json", "v1 order/add result"),
    not_recorded(FX + "knowm__XChange/v2/trade/polling/lag.json", "v1 order/lag?raw"),
    depth(FX + "knowm__XChange/marketdata/example-depth-data.json", 1582, 1262, "2012-02-07T19:53:48.924075Z",
          "v1 BTCUSD/public/depth?raw, Feb 2012, no filter fields", envelope=False),
    ticker(FX + "knowm__XChange/marketdata/example-ticker-data.json", "2012-04-12T12:00:00Z",
           "v1 BTCUSD/public/ticker?raw, display_short", envelope=False),
    not_recorded(FX + "knowm__XChange/marketdata/example-ticker-streaming-data.json", _WS),
    trades(FX + "knowm__XChange/marketdata/example-trades-data.json", 90, "2012-04-12T19:41:24Z",
           "v1 BTCPLN/public/trades?raw, mostly primary N (mixed currency)", market="BTCPLN", envelope=False),
    info(FX + "knowm__XChange/mtgox/example-accountinfo-data.json", 2, "2012-02-07T12:00:00Z",
         "v1 generic/private/info (payload only), no display_short"),
    not_recorded(FX + "knowm__XChange/mtgox/example-cancelledtrades-data.json",
                 "v1 BTCUSD/public/cancelledtrades: not an endpoint the collector records"),
    depth(FX + "knowm__XChange/mtgox/example-depth-data.json", 1582, 1262, "2012-02-07T19:53:48.924075Z",
          "v1 BTCUSD/public/depth?raw, compact JSON", envelope=False),
    ticker(FX + "knowm__XChange/mtgox/example-trade-data.json", "2012-02-17T12:00:00Z",
           "v1 BTCUSD/public/ticker?raw (misnamed), no display_short", envelope=False),
    trades(FX + "knowm__XChange/mtgox/example-trades-data.json", 169, "2012-02-07T19:48:32Z",
           "v1 BTCPLN/public/trades?raw, one line", market="BTCPLN", envelope=False),
    trades(FX + "knowm__XChange/mtgox/marketdata/example-trades-data.json", 36, "2012-02-26T01:16:06Z",
           "v1 BTCPLN/public/trades?raw", market="BTCPLN", envelope=False),
    orders(FX + "knowm__XChange/mtgox/trade/example-openorders-data.json", 11, "2012-02-21T12:00:00Z",
           "v1 generic/private/orders?raw, 11 orders", envelope=False),
    # --- barmstrong/mtgox (guten-mtgox) ---
    not_recorded(FX + "barmstrong__mtgox/add.json", "v1 order/add result"),
    not_recorded(FX + "barmstrong__mtgox/cancel.json", "v1 order/cancel result"),
    not_recorded(FX + "barmstrong__mtgox/id_key.json", "v1 generic/private/idkey"),
    depth(FX + "barmstrong__mtgox/depth.json", 1, 1, "2012-05-18T12:00:00Z",
          "v1 BTCUSD/public/depth with envelope, trimmed to one level a side"),
    error(FX + "barmstrong__mtgox/error.json", "orders", "2012-05-18T12:00:00Z",
          "synthetic v1 error envelope, HTTP 200", EXCHANGE_ERROR, ("foo error",)),
    info(FX + "barmstrong__mtgox/info.json", 2, "2012-03-29T12:00:00Z",
         "v1 generic/private/info?raw, anonymised"),
    orders(FX + "barmstrong__mtgox/orders.json", 1, "2012-05-18T12:00:00Z", "v1 generic/private/orders, envelope"),
    ticker(FX + "barmstrong__mtgox/ticker.json", "2012-05-18T12:00:00Z", "v1 BTCUSD/public/ticker, envelope"),
    trades(FX + "barmstrong__mtgox/trades.json", 1, "2012-05-18T12:00:00Z",
           "v1 BTCUSD/public/trades, envelope, trimmed to one trade"),
    depth(FX + "barmstrong__mtgox/historical/2012-03-29_d8e76fe8/depth.json", 1464, 1455,
          "2012-03-29T01:49:00Z", "v1 BTCUSD/public/depth?raw, 575 KB", envelope=False),
    orders(FX + "barmstrong__mtgox/historical/2012-03-29_d8e76fe8/orders.json", 1, "2012-03-29T01:49:00Z",
           "v1 generic/private/orders?raw, oid edited", envelope=False),
    ticker(FX + "barmstrong__mtgox/historical/2012-03-29_d8e76fe8/ticker.json", "2012-03-29T01:49:00Z",
           "v1 BTCUSD/public/ticker?raw", envelope=False),
    trades(FX + "barmstrong__mtgox/historical/2012-03-29_d8e76fe8/trades.json", 2650, "2012-03-29T01:48:58Z",
           "v1 BTCUSD/public/trades?raw, 24 h", envelope=False),
    # --- arvicco/mtgox ---
    error(FX + "arvicco__mtgox/multi-ticker.json", "ticker", "2012-01-17T12:00:00Z",
          "v1 BTCEUR/public/ticker with envelope whose display strings hold bytes that are not UTF-8: "
          "classify cannot decode it", NOT_JSON, ("UTF-8", "utf8", "not_json", "not JSON", "decode"),
          market="BTCEUR"),
    error(FX + "arvicco__mtgox/multi-ticker1.json", "ticker", "2012-01-18T12:00:00Z",
          "as multi-ticker.json, a day later", NOT_JSON, ("UTF-8", "utf8", "not_json", "not JSON", "decode"),
          market="BTCEUR"),
    ticker(FX + "arvicco__mtgox/ticker.json", "2012-01-17T12:00:00Z", "v0 data/ticker.php, floats",
           version=0, envelope=False, ints=False),
    ticker(FX + "arvicco__mtgox/ticker1.json", "2012-01-18T12:00:00Z", "v0 data/ticker.php, hand-edited copy",
           version=0, envelope=False, ints=False),
    not_recorded(FX + "arvicco__mtgox/io-depth.json", _WS),
    not_recorded(FX + "arvicco__mtgox/io-ticker.json", _WS),
    not_recorded(FX + "arvicco__mtgox/redeem_btc_code.json", "v0 redeemCode.php"),
    not_recorded(FX + "arvicco__mtgox/withdraw.json", "v0 withdraw.php"),
    not_recorded(FX + "arvicco__mtgox/withdraw_btc_code.json", "v0 withdraw.php (BTC2CODE)"),
    not_recorded(FX + "arvicco__mtgox/withdraw_usd_code.json", "v0 withdraw.php (USD2CODE)"),
    not_recorded(FX + "arvicco__mtgox/withdraw_dwolla.json", "v0 withdraw.php (Dwolla) error"),
    # --- the rest ---
    ticker(FX + "mattcarrier__mtgox4j-client/TickerFast.json", "2013-05-03T03:08:05.892271Z",
           "v2 BTCUSD/money/ticker_fast with envelope and now: last*, buy, sell only", version=2),
    not_recorded(FX + "SKoschnicke__mtgox-haskell/DepthMsg.json", _WS),
    # --- data/real: the same captures as stored for the cross-checks ---
    not_recorded(REAL + "mtgox-api-pyalgotrade-2013-01-01/trades-mgtox-usd-2013-01-01.csv",
                 "a CSV pyalgotrade wrote from v1 trades pages (primary=Y only), not a response body; "
                 "test_pipelines_real_ohlc replays it"),
    depth(REAL + "mtgox-api-sferik/2011-06-07_3bf489a/depth.json", 184, 171, "2011-06-08T09:52:00Z",
          "= fixtures sferik historical 2011-06-07 depth (v0)", version=0, envelope=False, ints=False),
    ticker(REAL + "mtgox-api-sferik/2011-06-07_3bf489a/ticker.json", "2011-06-08T09:52:00Z",
           "= fixtures sferik historical 2011-06-07 ticker (v0)", version=0, envelope=False, ints=False),
    trades(REAL + "mtgox-api-sferik/2011-06-07_3bf489a/trades.json", 11214, "2011-06-08T09:51:58Z",
           "= fixtures sferik historical 2011-06-07 trades (v0)", version=0, envelope=False, ints=False),
    depth(REAL + "mtgox-api-sferik/2011-06-27_ef81ff8/depth.json", 388, 290, "2011-06-27T18:28:10Z",
          "= fixtures sferik historical 2011-06-27 depth (v0)", version=0, envelope=False, ints=False),
    trades(REAL + "mtgox-api-sferik/2011-06-27_ef81ff8/trades.json", 6560, "2011-06-27T18:28:09Z",
           "= fixtures sferik historical 2011-06-27 trades (v0)", version=0, envelope=False),
    depth(REAL + "mtgox-api-sferik/2013-04-13_1acffb3/depth.json", 453, 513, "2013-04-13T14:01:24.042037Z",
          "= fixtures sferik depth.json (v1)"),
    ticker(REAL + "mtgox-api-sferik/2013-04-13_1acffb3/ticker.json", "2013-04-13T12:00:00Z",
           "= fixtures sferik ticker.json (v1)"),
    trades(REAL + "mtgox-api-sferik/2013-04-13_1acffb3/trades.json", 4, "2013-04-12T15:20:04Z",
           "= fixtures sferik trades.json (v1)"),
    depth(REAL + "mtgox-api-xchange/v0/marketdata/example-depth-data-v0.json", 192, 324, "2013-01-21T22:26:05Z",
          "= fixtures XChange v0 depth", version=0, envelope=False, ints=False),
    ticker(REAL + "mtgox-api-xchange/v0/marketdata/example-ticker-data-v0.json", "2013-01-21T22:26:05Z",
           "= fixtures XChange v0 ticker", version=0, envelope=False, ints=False),
    trades(REAL + "mtgox-api-xchange/v0/marketdata/example-trades-data-v0.json", 609, "2013-01-21T22:26:03Z",
           "= fixtures XChange v0 trades", version=0, envelope=False),
    depth(REAL + "mtgox-api-xchange/v1/marketdata/polling/example-depth-data.json", 503, 429,
          "2013-04-08T18:09:28.293727Z", "= fixtures XChange v2/ depth (v1 ?raw)", envelope=False),
    depth(REAL + "mtgox-api-xchange/v1/marketdata/polling/example-fulldepth-data.json.gz", 4407, 3684,
          "2012-02-07T19:59:40.083327Z", "= fixtures XChange v2/ full depth (v1 ?raw), gzipped here", full=True,
          envelope=False),
    ticker(REAL + "mtgox-api-xchange/v1/marketdata/polling/example-ticker-data.json", "2013-03-30T18:46:00.678556Z",
           "= fixtures XChange v2/ ticker (v1 ?raw)", envelope=False),
    trades(REAL + "mtgox-api-xchange/v1/marketdata/polling/example-trades-data.json", 30, "2013-04-09T09:24:37Z",
           "= fixtures XChange v2/ trades (v1 ?raw)", envelope=False),
    not_recorded(REAL + "mtgox-api-xchange/v1/marketdata/streaming/example-depth-streaming-data.json", _WS),
    not_recorded(REAL + "mtgox-api-xchange/v1/marketdata/streaming/example-ticker-streaming-data.json", _WS),
    not_recorded(REAL + "mtgox-api-xchange/v1/marketdata/streaming/example-trade-streaming-data.json", _WS),
)

RECORDED = tuple(c for c in CAPTURES if c.recorded)
LOADING = tuple(c for c in RECORDED if c.quarantine is None)
ERRORS = tuple(c for c in RECORDED if c.quarantine is not None)
