-- stg_mtgox_trades: one row per trade of each new Mt.Gox trades answer (v0, v1, v2, `?raw`), typed.
-- depends_on: stg_responses
--
-- `problem` is NULL for a good row; otherwise it names what is wrong, and the whole answer goes to
-- quarantine. An answer that is not a list of trades gives one row with only its identity and problem.
-- Exact values come from price_int/amount_int and the currency's scale; the 2011 answers that had
-- only JSON floats are read from the number's literal text, which DECIMAL takes exactly.
-- The structure is parsed once per body (json_transform) and every field is read as text, then cast:
-- converting inside json_transform is several times slower.
WITH answers AS (
    SELECT r.record_id, r.exchange, r.market, r.api_version, r.received_at, try(decode(r.body)) AS text
    FROM raw_new AS r JOIN stg_responses AS s USING (record_id)
    WHERE s.reason IS NULL AND r.exchange = 'mtgox' AND r.endpoint = 'trades'
),
pages AS (
    SELECT *,
        CASE WHEN starts_with(ltrim(text), '[') THEN try(json_transform(text,
                 '[{"date":"VARCHAR","price":"VARCHAR","amount":"VARCHAR","price_int":"VARCHAR","amount_int":"VARCHAR","tid":"VARCHAR","price_currency":"VARCHAR","item":"VARCHAR","trade_type":"VARCHAR","primary":"VARCHAR","properties":"VARCHAR"}]'))
             WHEN api_version >= 2 THEN try(json_transform(text,
                 '{"data":[{"date":"VARCHAR","price":"VARCHAR","amount":"VARCHAR","price_int":"VARCHAR","amount_int":"VARCHAR","tid":"VARCHAR","price_currency":"VARCHAR","item":"VARCHAR","trade_type":"VARCHAR","primary":"VARCHAR","properties":"VARCHAR"}]}')).data
             ELSE try(json_transform(text,
                 '{"return":[{"date":"VARCHAR","price":"VARCHAR","amount":"VARCHAR","price_int":"VARCHAR","amount_int":"VARCHAR","tid":"VARCHAR","price_currency":"VARCHAR","item":"VARCHAR","trade_type":"VARCHAR","primary":"VARCHAR","properties":"VARCHAR"}]}')).return
        END AS trades
    FROM answers
),
rows AS (
    SELECT record_id, exchange, market, received_at, unnest(trades, recursive := true)
    FROM pages WHERE trades IS NOT NULL
),
typed AS (
    SELECT record_id, exchange, market, received_at,
        TRY_CAST(tid AS BIGINT) AS tid,
        TRY_CAST(date AS BIGINT) AS date_s,
        coalesce(price_currency, substr(market, 4)) AS price_currency,
        TRY_CAST(coalesce(mtgox_scaled(price_int, coalesce(price_currency, substr(market, 4))),
                          TRY_CAST(price AS DECIMAL(38, 8))) AS DECIMAL(18, 8)) AS price,
        TRY_CAST(coalesce(mtgox_scaled(amount_int, 'BTC'), TRY_CAST(amount AS DECIMAL(38, 8))) AS DECIMAL(18, 8))
            AS amount,
        trade_type AS side,
        CASE "primary" WHEN 'Y' THEN true WHEN 'N' THEN false END AS "primary",
        properties,
        coalesce(item, left(market, 3)) AS item
    FROM rows
)
SELECT record_id, exchange, market, received_at, tid,
    -- Since the June 2011 relaunch a tid is the trade's time in µs (tid // 1e6 = date); before, only seconds.
    utc_us(CASE WHEN tid >= 1000000000000 AND tid // 1000000 = date_s THEN tid ELSE date_s * 1000000 END) AS ts,
    price, amount, side, "primary", properties, price_currency, item,
    CASE WHEN tid IS NULL THEN 'trades: a trade without a tid'
         WHEN date_s IS NULL THEN 'trades: trade ' || tid || ' has no date'
         WHEN price IS NULL OR price <= 0 THEN 'trades: trade ' || tid || ' has no valid price'
         WHEN amount IS NULL OR amount <= 0 THEN 'trades: trade ' || tid || ' has no valid amount'
    END AS problem
FROM typed
UNION ALL BY NAME
SELECT record_id, exchange, market, received_at,
    CASE WHEN text IS NULL THEN 'trades: the body is not UTF-8 text'
         ELSE 'trades: the body is not a JSON list of trades' || CASE WHEN api_version > 0 THEN ' (bare or under "'
             || CASE WHEN api_version >= 2 THEN 'data' ELSE 'return' END || '")' ELSE '' END
    END AS problem
FROM pages WHERE trades IS NULL
