-- stg_mtgox_trades: one row per trade of each new Mt.Gox trades answer (v0, v1, v2, `?raw`), typed.
-- depends_on: stg_responses
--
-- `problem` is NULL for a good row; otherwise it names what is wrong, and the whole answer goes to
-- quarantine. An answer that is not a list of trades gives one row with only its identity and problem.
-- Prices and amounts stay integers, in the currency's own scale: price_int with Mt.Gox's scale for
-- the currency (BTC 1e8, JPY and SEK 1e3, other fiat 1e5). The 2011 answers had only JSON floats;
-- their literal text is read as an exact decimal, in that scale when it fits, else in 1e-8 units.
-- The structure is parsed once per body (json_transform) and every field is read as text, then cast:
-- converting inside json_transform is several times slower.
WITH answers AS (
    SELECT record_id, exchange, market, api_version, received_at, try(decode(body)) AS text
    FROM raw_new
    WHERE exchange = 'mtgox' AND endpoint = 'trades' AND error_class IS NULL
),
pages AS (
    -- v1 wraps the list in "return", v2 in "data"; v0 and `?raw` answers are the bare list.
    SELECT record_id, exchange, market, api_version, received_at, text IS NULL AS not_text,
        CASE WHEN api_version = 0 THEN coalesce(
                 try(json_transform(text, '[{"date":"VARCHAR","price":"VARCHAR","amount":"VARCHAR","price_int":"VARCHAR","amount_int":"VARCHAR","tid":"VARCHAR","price_currency":"VARCHAR","item":"VARCHAR","trade_type":"VARCHAR","primary":"VARCHAR","properties":"VARCHAR"}]')),
                 try(json_transform(text, '{"return":[{"date":"VARCHAR","price":"VARCHAR","amount":"VARCHAR","price_int":"VARCHAR","amount_int":"VARCHAR","tid":"VARCHAR","price_currency":"VARCHAR","item":"VARCHAR","trade_type":"VARCHAR","primary":"VARCHAR","properties":"VARCHAR"}]}')).return)
             WHEN api_version = 1 THEN coalesce(
                 try(json_transform(text, '{"return":[{"date":"VARCHAR","price":"VARCHAR","amount":"VARCHAR","price_int":"VARCHAR","amount_int":"VARCHAR","tid":"VARCHAR","price_currency":"VARCHAR","item":"VARCHAR","trade_type":"VARCHAR","primary":"VARCHAR","properties":"VARCHAR"}]}')).return,
                 try(json_transform(text, '[{"date":"VARCHAR","price":"VARCHAR","amount":"VARCHAR","price_int":"VARCHAR","amount_int":"VARCHAR","tid":"VARCHAR","price_currency":"VARCHAR","item":"VARCHAR","trade_type":"VARCHAR","primary":"VARCHAR","properties":"VARCHAR"}]')))
             ELSE coalesce(
                 try(json_transform(text, '{"data":[{"date":"VARCHAR","price":"VARCHAR","amount":"VARCHAR","price_int":"VARCHAR","amount_int":"VARCHAR","tid":"VARCHAR","price_currency":"VARCHAR","item":"VARCHAR","trade_type":"VARCHAR","primary":"VARCHAR","properties":"VARCHAR"}]}')).data,
                 try(json_transform(text, '[{"date":"VARCHAR","price":"VARCHAR","amount":"VARCHAR","price_int":"VARCHAR","amount_int":"VARCHAR","tid":"VARCHAR","price_currency":"VARCHAR","item":"VARCHAR","trade_type":"VARCHAR","primary":"VARCHAR","properties":"VARCHAR"}]')))
        END AS trades
    FROM answers
),
rows AS (
    -- An answer that is not a list of trades still gives one row (all NULL) to carry its problem.
    SELECT record_id, exchange, market, api_version, received_at, not_text, trades IS NULL AS not_list,
        unnest(CASE WHEN trades IS NULL THEN [NULL] ELSE trades END, recursive := true)
    FROM pages
),
typed AS (
    SELECT record_id, exchange, market, api_version, received_at, not_text, not_list,
        TRY_CAST(tid AS BIGINT) AS tid,
        TRY_CAST(date AS BIGINT) AS date_s,
        coalesce(price_currency, substr(market, 4)) AS price_currency,
        TRY_CAST(price_int AS BIGINT) AS price_int,
        -- Only where there is no *_int (CASE evaluates its branch for those rows alone). try(): a number of 30
        -- digits overflows DECIMAL(38) when scaled, an error that would stop the build; NULL rejects the trade.
        CASE WHEN price_int IS NULL THEN TRY_CAST(try(TRY_CAST(price AS DECIMAL(38, 8)) * 100000000) AS BIGINT) END
            AS price_e8,
        TRY_CAST(amount_int AS BIGINT) AS amount_int,
        CASE WHEN amount_int IS NULL THEN TRY_CAST(try(TRY_CAST(amount AS DECIMAL(38, 8)) * 100000000) AS BIGINT) END
            AS amount_e8,
        trade_type AS side,
        CASE "primary" WHEN 'Y' THEN true WHEN 'N' THEN false END AS "primary",
        properties,
        coalesce(item, left(market, 3)) AS item
    FROM rows
),
scaled AS (
    SELECT *,
        mtgox_decimals(price_currency) AS currency_decimals,
        -- Since the June 2011 relaunch a tid is the trade's time in µs (tid // 1e6 = date); before, only seconds.
        -- try(): a date past year 294246 overflows the µs (an error); NULL rejects the trade instead.
        CASE WHEN tid >= 1000000000000 AND tid // 1000000 = date_s THEN tid ELSE try(date_s * 1000000) END AS ts_us
    FROM typed
),
offsets AS (
    SELECT *,
        try(ts_us - tid) AS ts_offset_us,  -- overflows only for absurd tids (a negative 2^63)
        CASE WHEN price_int IS NOT NULL THEN price_int
             WHEN price_e8 % pow10_int(8 - currency_decimals) = 0 THEN price_e8 // pow10_int(8 - currency_decimals)
             ELSE price_e8 END AS price_units,
        CASE WHEN price_int IS NOT NULL OR price_e8 % pow10_int(8 - currency_decimals) = 0 THEN currency_decimals
             ELSE 8 END AS price_decimals,
        coalesce(amount_int, amount_e8) AS amount_units
    FROM scaled
)
SELECT record_id, exchange, market, received_at, tid, ts_offset_us, price_units, price_decimals, amount_units,
    8 AS amount_decimals,
    side, "primary", properties, price_currency, item,
    CASE WHEN not_text THEN 'trades: the body is not UTF-8 text'
         WHEN not_list THEN 'trades: the body is not a JSON list of trades' || CASE WHEN api_version > 0
             THEN ' (bare or under "' || CASE WHEN api_version >= 2 THEN 'data' ELSE 'return' END || '")' ELSE '' END
         WHEN tid IS NULL THEN 'trades: a trade without a tid'
         WHEN date_s IS NULL THEN 'trades: trade ' || tid || ' has no date'
         WHEN ts_offset_us IS NULL THEN 'trades: trade ' || tid || ' has a date no timestamp holds: ' || date_s
         WHEN price_units IS NULL OR price_units <= 0 THEN 'trades: trade ' || tid || ' has no valid price'
         -- The bars keep prices as BIGINT 1e-8 units and the trades view as DECIMAL(18, 0) units: a price of ten
         -- billion a coin (never seen) would overflow them and stop the build, so it is rejected here.
         WHEN price_units >= 10000000000 * pow10_int(price_decimals)
             THEN 'trades: trade ' || tid || ' has an impossible price (ten billion or more): ' || price_units
                  || 'e-' || price_decimals
         -- Zero amounts are real: bitcoincharts' Mt.Gox file has three 0 BTC trades in July 2010.
         WHEN amount_units IS NULL OR amount_units < 0 THEN 'trades: trade ' || tid || ' has no valid amount'
         -- Likewise for amounts (DECIMAL(18, 8) in the view, sums in BIGINT in the bars).
         WHEN amount_units > 2100000000000000
             THEN 'trades: trade ' || tid || ' has an impossible amount (more than the 21 million BTC there will be): '
                  || amount_units || 'e-8'
    END AS problem
FROM offsets
