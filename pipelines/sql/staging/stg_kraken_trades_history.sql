-- stg_kraken_trades_history: one row per fill of each new Kraken TradesHistory page, in stg_account_trades' shape.
-- depends_on: stg_responses
--
-- {"error": [], "result": {"trades": {TXID: {ordertxid, postxid, pair, time, type, ordertype, price, cost, fee, vol,
-- margin, misc, trade_id, maker, ...}}, "count": N}}, 50 fills a page. side is type (buy or sell), amount vol,
-- quote_amount cost; fee and price are in the pair's quote currency. tid is trade_id, the id of the public trade
-- (trades.tid). Fills of 2014 answers have no trade_id; theirs is made as for 2013 public trades: the time in µs
-- times 1000 plus the fill's rank among the page's fills of the same µs.
WITH answers AS (
    SELECT record_id, exchange, received_at, collector_run, try(decode(body)) AS text
    FROM raw_new
    WHERE exchange = 'kraken' AND endpoint = 'trades_history' AND error_class IS NULL
),
parsed AS (
    SELECT *,
        try(json_transform(text, '{"error":"VARCHAR[]","errors":[{"errorClass":"VARCHAR","type":"VARCHAR"}],
            "result":{"trades":"MAP(VARCHAR, STRUCT(ordertxid VARCHAR, pair VARCHAR, time DECIMAL(38, 12), type VARCHAR, ordertype VARCHAR, price VARCHAR, cost VARCHAR, fee VARCHAR, vol VARCHAR, trade_id VARCHAR))"}}'))
            AS s
    FROM answers
),
pages AS (
    SELECT record_id, exchange, received_at, collector_run, s.result.trades AS fills,
        CASE WHEN text IS NULL THEN 'trades_history: the body is not UTF-8 text'
             WHEN s IS NULL THEN 'trades_history: the body is not a JSON object'
             WHEN error IS NOT NULL
                 THEN 'trades_history: Kraken answered an error: ' || error
             WHEN s.result.trades IS NULL THEN 'trades_history: the answer has no result with a trades object of fills'
        END AS problem
    FROM (SELECT *, kraken_error(s.error, s.errors) AS error FROM parsed)
),
fills AS (
    SELECT record_id, exchange, received_at, collector_run, position, e.key AS txid, e.value AS f,
        kraken_us(e.value.time) AS ts_us, kraken_integer(e.value.trade_id) AS trade_id
    FROM (SELECT *, unnest(map_entries(fills)) AS e, generate_subscripts(map_keys(fills), 1) AS position
          FROM pages WHERE problem IS NULL)
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY record_id, ts_us, trade_id IS NULL ORDER BY position) - 1 AS same_us
    FROM fills
),
typed AS (
    SELECT *,
        coalesce(trade_id, CASE WHEN same_us < 1000 THEN try(ts_us * 1000 + same_us) END) AS tid,
        kraken_quote(f.pair) AS quote,
        TRY_CAST(kraken_amount(f.vol) AS DECIMAL(18, 8)) AS amount,
        TRY_CAST(kraken_amount(f.price) AS DECIMAL(18, 8)) AS price,
        TRY_CAST(kraken_amount(f.cost) AS DECIMAL(18, 8)) AS quote_amount,
        TRY_CAST(kraken_amount(f.fee) AS DECIMAL(18, 8)) AS fee
    FROM ranked
)
SELECT record_id, exchange, received_at, collector_run, tid, utc_us(ts_us) AS ts, f.type AS side, amount, price,
    quote AS price_currency, quote_amount, fee, quote AS fee_currency, f.ordertxid AS order_id,
    CASE WHEN ts_us IS NULL OR utc_us(ts_us) IS NULL THEN 'trades_history: fill ' || txid || ' has no valid time'
         WHEN f.trade_id IS NOT NULL AND trade_id IS NULL
             THEN 'trades_history: fill ' || txid || ' has a trade_id that is no integer: ' || f.trade_id
         WHEN trade_id IS NULL AND same_us >= 1000
             THEN 'trades_history: more than 1000 fills at one µs in one page, no tid left for ' || txid
         WHEN tid IS NULL THEN 'trades_history: fill ' || txid || ' has a time no tid holds'
         WHEN f.type IS DISTINCT FROM 'buy' AND f.type IS DISTINCT FROM 'sell'
             THEN 'trades_history: fill ' || txid || ' has type ' || coalesce('"' || f.type || '"', 'none')
                  || ', not buy or sell'
         WHEN amount IS NULL OR amount < 0 OR price IS NULL OR price <= 0 OR quote_amount IS NULL OR fee IS NULL
             THEN 'trades_history: fill ' || txid || ' has a vol, price, cost or fee that is no exact decimal of at '
                  || 'most 8 decimals (' || coalesce(f.vol, '-') || ', ' || coalesce(f.price, '-') || ', '
                  || coalesce(f.cost, '-') || ', ' || coalesce(f.fee, '-') || ')'
    END AS problem
FROM typed
UNION ALL BY NAME
SELECT record_id, exchange, received_at, collector_run, problem FROM pages WHERE problem IS NOT NULL
