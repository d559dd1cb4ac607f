-- ohlc_exchange_bars: 1-minute bars that differ from the exchange's own committed bar, where our trades cover the minute whole.
--
-- exchange_ohlc holds the bars an exchange reports (Kraken's OHLC), ohlc ours, made from trades. A minute is
-- compared when both have a bar and our trades are known to be complete around it: we hold a trade before
-- it and one after it, and no trade id between those two is missing (ids that count one by one, as
-- Kraken's trade_id does; a market whose ids do not is never found complete, so never compared).
-- Open, high, low, close, volume and the number of trades must be equal; the VWAP is rounded as each side
-- chooses and is not compared.
WITH theirs AS (
    SELECT exchange, market, bucket, open, high, low, close, volume, trades FROM exchange_ohlc WHERE minutes = 1
),
markets AS (SELECT DISTINCT exchange, market FROM theirs),
steps AS (
    SELECT exchange, market, ts, tid, tid - lag(tid) OVER (PARTITION BY exchange, market ORDER BY ts, tid) AS step
    FROM trades WHERE (exchange, market) IN (SELECT (exchange, market) FROM markets)
),
runs AS (
    -- A run of trades with no id missing; a new one starts after every hole.
    SELECT exchange, market, date_trunc('minute', ts) AS minute,
        sum(CASE WHEN step = 1 THEN 0 ELSE 1 END)
            OVER (PARTITION BY exchange, market ORDER BY ts, tid ROWS UNBOUNDED PRECEDING) AS run
    FROM steps
),
minutes AS (
    SELECT exchange, market, minute, min(run) AS first_run, max(run) AS last_run FROM runs GROUP BY ALL
),
covered AS (
    -- The nearest minute with trades before the bar's and the nearest after: one run across them.
    SELECT t.*
    FROM theirs AS t
    ASOF JOIN minutes AS before ON before.exchange = t.exchange AND before.market = t.market AND t.bucket > before.minute
    ASOF JOIN minutes AS after ON after.exchange = t.exchange AND after.market = t.market AND t.bucket < after.minute
    WHERE before.last_run = after.first_run
),
ours AS (
    SELECT exchange, market, bucket, open, high, low, close, volume, trades FROM ohlc
    WHERE "interval" = '1m' AND (exchange, market) IN (SELECT (exchange, market) FROM markets)
)
SELECT t.exchange, t.market, t.bucket AS minute,
    concat_ws(', ', CASE WHEN o.open <> t.open THEN 'open' END, CASE WHEN o.high <> t.high THEN 'high' END,
              CASE WHEN o.low <> t.low THEN 'low' END, CASE WHEN o.close <> t.close THEN 'close' END,
              CASE WHEN o.volume <> t.volume THEN 'volume' END, CASE WHEN o.trades <> t.trades THEN 'trades' END)
        AS differs,
    o.open AS our_open, t.open AS their_open, o.high AS our_high, t.high AS their_high, o.low AS our_low,
    t.low AS their_low, o.close AS our_close, t.close AS their_close, o.volume AS our_volume, t.volume AS their_volume,
    o.trades AS our_trades, t.trades AS their_trades
FROM covered AS t JOIN ours AS o USING (exchange, market, bucket)
WHERE o.open <> t.open OR o.high <> t.high OR o.low <> t.low OR o.close <> t.close OR o.volume <> t.volume
   OR o.trades <> t.trades
ORDER BY t.exchange, t.market, t.bucket
