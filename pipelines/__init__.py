"""The pipelines: DuckDB SQL that turns the raw store into the tables people query.

    raw/**/part-*.parquet (manifests say which)        pipelines/sql/staging/stg_*.sql
        │  new files only (by path, size, sha256)  ──▶  typed rows, or quarantine with a reason
        ▼                                               pipelines/sql/marts/*.sql
    data/warehouse.duckdb  ◀────────────────────────── trades, ticker, depth_*, book_top, account_*,
                                                        balances, ohlc (+ ohlc_at, ohlc_filled), coverage, gaps
                                                        pipelines/sql/checks/*.sql: one invariant each

`build(root)` makes or updates the warehouse; `check(warehouse)` runs the invariants. The pipelines
read files only: they never import the collector (the raw record's columns are the contract).

Tables (every column is documented in pipelines/sql/*.sql and the README):

    trades          exchange, market, tid, ts, price, amount, side, "primary", properties, price_currency, item
    ticker          exchange, market, record_id, api_version, received_at, now, currency, high, low, avg, vwap,
                    vol, last, last_local, last_orig, last_all, buy, sell
    depth_snapshots snapshot_id, exchange, market, endpoint, api_version, received_at, now, currency,
                    asks, bids, filter_min_price, filter_max_price
    depth_levels    snapshot_id, exchange, market, received_at, side ('ask'|'bid'), price, amount, stamp
    book_top        snapshot_id, exchange, market, received_at, best_bid, best_ask, spread, mid,
                    bid_amount_1pct, ask_amount_1pct, bid_amount_5pct, ask_amount_5pct
    account_ledger  exchange, account, currency, idx, ts, type, value, delta, balance, info, tid, order_id,
                    record_id, fee, idx_series, entry_id, ref_id
    account_trades  exchange, account, tid, ts, side ('buy'|'sell'), amount, price, price_currency,
                    quote_amount, fee, fee_currency, order_id
    balances        exchange, account, currency, ts, balance, source ('ledger'|'info')
    ohlc            exchange, market, interval, bucket, open, high, low, close, volume, quote_volume, vwap,
                    trades, volume_primary, quote_volume_primary
    exchange_ohlc   exchange, market, minutes, bucket, open, high, low, close, vwap, volume, trades,
                    received_at, record_id (the bars an exchange reports itself: Kraken's OHLC)
    coverage, gaps  from the collector's data/meta/*.parquet
    quarantine      record_id, exchange, endpoint, market, api_version, received_at, http_status,
                    error_class, reason, file

Money is DECIMAL (amounts DECIMAL(18,8), prices DECIMAL(18,8), book prices DECIMAL(38,8)); times
are TIMESTAMPTZ in UTC with microseconds.

Errors (one tree, here): PipelineError ─┬─ WarehouseError   the warehouse cannot be opened or written
                                        ├─ RawStoreError    the raw store is missing or unreadable
                                        └─ CheckFailed      invariants that do not hold (names the rows)
"""
