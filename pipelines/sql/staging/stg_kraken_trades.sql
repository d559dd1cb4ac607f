-- stg_kraken_trades: one row per trade of each new Kraken Trades answer, typed, in stg_trades' shape.
-- depends_on: stg_responses
--
-- {"error": [], "result": {PAIR: [[price, volume, time, "b"|"s", "m"|"l", misc, trade_id], ...], "last": "<ns>"}}:
-- the key is Kraken's pair id, spelled as the answer spells it (XXBTZUSD or XBTUSD), so it is the one key that is
-- not "last"; the raw record's market already names the market marketrec's way (BTCUSD). A row is read by
-- position, the first seven elements; extras are ignored (2024 answers add an 8th, a string id).
-- Prices and volumes are strings: units and decimals come from the text ("37500.10000": 3750010000 units of
-- 1e-5). Times are JSON numbers: the body is read a second time with numbers as DECIMAL, parsed from their
-- digits, and truncated to µs (kraken_us).
-- tid is trade_id. 2013 rows have six elements and no trade_id; their tid is the time in µs times 1000 plus the
-- row's rank among the answer's rows of the same µs (0 for the first). That is unique and increasing within
-- an answer, and unlike a position in the page it is the same in every page that holds the trade (pages
-- overlap: repeats still collapse), unless a page ends inside a run of trades of one µs. It lies far above
-- any trade_id (about 1.4e18 against millions), and ts_offset_us = ts - tid stays exact.
-- `problem` is NULL for a good row; otherwise the whole answer goes to quarantine.
WITH answers AS (
    SELECT record_id, exchange, market, received_at, try(decode(body)) AS text
    FROM raw_new
    WHERE exchange = 'kraken' AND endpoint = 'trades' AND error_class IS NULL
),
parsed AS (
    SELECT record_id, exchange, market, received_at, text,
        try(json_transform(text, '{"error":"VARCHAR[]","errors":[{"errorClass":"VARCHAR","type":"VARCHAR"}],
                                   "result":"MAP(VARCHAR, VARCHAR[][])"}')) AS s
    FROM answers
),
keyed AS (
    SELECT record_id, count(*) AS pairs, any_value(e.key) AS pair, any_value(e.value) AS trades
    FROM (SELECT record_id, unnest(map_entries(s.result)) AS e FROM parsed)
    WHERE e.key <> 'last'
    GROUP BY record_id
),
numbers AS (
    -- Only the answers that passed: the second read of a body costs as much as the first.
    SELECT record_id, e.value AS numbers
    FROM (SELECT p.record_id, k.pair,
              unnest(map_entries(try(json_transform(p.text, '{"result":"MAP(VARCHAR, DECIMAL(38, 12)[][])"}')).result)) AS e
          FROM parsed AS p JOIN keyed AS k USING (record_id) WHERE k.pairs = 1)
    WHERE e.key = pair
),
pages AS (
    SELECT p.record_id, p.exchange, p.market, p.received_at, k.trades, n.numbers,
        CASE WHEN p.text IS NULL THEN 'trades: the body is not UTF-8 text'
             WHEN p.s IS NULL THEN 'trades: the body is not a JSON object'
             WHEN p.error IS NOT NULL
                 THEN 'trades: Kraken answered an error: ' || p.error
             WHEN p.s.result IS NULL THEN 'trades: the answer has no result object of trade lists'
             WHEN k.pairs IS NULL THEN 'trades: the result names no pair, only "last"'
             WHEN k.pairs > 1 THEN 'trades: the result names ' || k.pairs || ' pairs, not one'
             WHEN k.trades IS NULL OR n.numbers IS NULL THEN 'trades: the pair''s value is not a list of trades'
        END AS problem
    FROM (SELECT *, kraken_error(s.error, s.errors) AS error FROM parsed) AS p
        LEFT JOIN keyed AS k USING (record_id) LEFT JOIN numbers AS n USING (record_id)
),
rows AS (
    SELECT record_id, exchange, market, received_at,
        unnest(trades) AS r, unnest(numbers) AS x, generate_subscripts(trades, 1) AS position
    FROM pages WHERE problem IS NULL
),
typed AS (
    SELECT record_id, exchange, market, received_at, position, len(r) AS elements,
        r[1] AS price_text, r[2] AS volume_text, r[4] AS side_text, r[5] AS type_text,
        kraken_units(r[1]) AS price_units, kraken_decimals(r[1]) AS price_decimals,
        kraken_units(r[2]) AS amount_units, kraken_decimals(r[2]) AS amount_decimals,
        kraken_us(x[3]) AS ts_us,
        CASE WHEN len(r) >= 7 THEN kraken_integer(r[7]) END AS trade_id
    FROM rows
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY record_id, ts_us, elements = 6 ORDER BY position) - 1 AS same_us
    FROM typed
),
ids AS (
    SELECT *,
        CASE WHEN elements >= 7 THEN trade_id WHEN elements = 6 AND same_us < 1000 THEN try(ts_us * 1000 + same_us) END
            AS tid
    FROM ranked
)
SELECT record_id, exchange, market, received_at, tid, try(ts_us - tid) AS ts_offset_us,
    price_units, price_decimals, amount_units, amount_decimals,
    CASE side_text WHEN 'b' THEN 'bid' WHEN 's' THEN 'ask' END AS side,
    NULL::BOOLEAN AS "primary",
    CASE type_text WHEN 'm' THEN 'market' WHEN 'l' THEN 'limit' END AS properties,
    substr(market, 4) AS price_currency, left(market, 3) AS item,
    CASE WHEN elements IS NULL OR elements < 6 THEN 'trades: row ' || position || ' is not a list of at least 6 elements'
         WHEN ts_us IS NULL THEN 'trades: row ' || position || ' has no valid time'
         WHEN elements >= 7 AND trade_id IS NULL THEN 'trades: row ' || position || ' has no integer trade_id'
         WHEN elements = 6 AND same_us >= 1000
             THEN 'trades: more than 1000 trades at one µs in one answer, no tid left for row ' || position
         WHEN tid IS NULL OR try(ts_us - tid) IS NULL THEN 'trades: row ' || position || ' has a time no tid holds'
         WHEN price_units IS NULL OR price_units <= 0
             THEN 'trades: trade ' || tid || ' has no valid price: ' || coalesce('"' || price_text || '"', 'none')
         -- As for Mt.Gox: the trades view and the bars would overflow on a price of ten billion or more.
         WHEN price_units >= 10000000000 * pow10_int(price_decimals)
             THEN 'trades: trade ' || tid || ' has an impossible price (ten billion or more): ' || price_text
         WHEN amount_units IS NULL OR amount_units < 0
             THEN 'trades: trade ' || tid || ' has no valid volume: ' || coalesce('"' || volume_text || '"', 'none')
         WHEN amount_units >= 10000000000 * pow10_int(amount_decimals)
             THEN 'trades: trade ' || tid || ' has an impossible volume (ten billion or more): ' || volume_text
         WHEN side_text IS DISTINCT FROM 'b' AND side_text IS DISTINCT FROM 's'
             THEN 'trades: trade ' || tid || ' has side ' || coalesce('"' || side_text || '"', 'none') || ', not b or s'
         WHEN type_text IS DISTINCT FROM 'm' AND type_text IS DISTINCT FROM 'l'
             THEN 'trades: trade ' || tid || ' has order type ' || coalesce('"' || type_text || '"', 'none')
                  || ', not m or l'
    END AS problem
FROM ids
UNION ALL BY NAME
SELECT record_id, exchange, market, received_at, problem FROM pages WHERE problem IS NOT NULL
