-- stg_mtgox_ticker: one row per new Mt.Gox ticker answer, every price exact.
-- depends_on: stg_responses
--
-- v1/v2 send money objects (value_int scaled by each object's own currency: last_orig may be in
-- another currency than the market's); v0 sends {"ticker": {...}} with JSON floats, read from their text.
WITH answers AS (
    SELECT r.record_id, r.exchange, r.market, r.api_version, r.received_at, try(decode(r.body)) AS text
    FROM raw_new AS r
    WHERE r.error_class IS NULL AND r.exchange = 'mtgox' AND r.endpoint = 'ticker'
),
parsed AS (
    SELECT *, try(json_transform(mtgox_payload(text, api_version), '{
        "ticker": {"high":"VARCHAR","low":"VARCHAR","avg":"VARCHAR","vwap":"VARCHAR","vol":"VARCHAR","last_all":"VARCHAR",
                   "last_local":"VARCHAR","last_orig":"VARCHAR","last":"VARCHAR","buy":"VARCHAR","sell":"VARCHAR"},
        "high":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "low":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "avg":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "vwap":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "vol":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "last_local":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "last_orig":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "last_all":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "last":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "buy":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "sell":{"value":"VARCHAR","value_int":"VARCHAR","currency":"VARCHAR"},
        "now":"VARCHAR"}')) AS t
    FROM answers
),
typed AS (
    SELECT record_id, exchange, market, api_version, received_at, substr(market, 4) AS currency,
        utc_us(TRY_CAST(t.now AS BIGINT)) AS now,
        TRY_CAST(coalesce(mtgox_money(t.high, substr(market, 4)), TRY_CAST(t.ticker.high AS DECIMAL(38, 8))) AS DECIMAL(18, 8)) AS high,
        TRY_CAST(coalesce(mtgox_money(t.low, substr(market, 4)), TRY_CAST(t.ticker.low AS DECIMAL(38, 8))) AS DECIMAL(18, 8)) AS low,
        TRY_CAST(coalesce(mtgox_money(t.avg, substr(market, 4)), TRY_CAST(t.ticker.avg AS DECIMAL(38, 8))) AS DECIMAL(18, 8)) AS avg,
        TRY_CAST(coalesce(mtgox_money(t.vwap, substr(market, 4)), TRY_CAST(t.ticker.vwap AS DECIMAL(38, 8))) AS DECIMAL(18, 8)) AS vwap,
        TRY_CAST(coalesce(mtgox_money(t.vol, 'BTC'), TRY_CAST(t.ticker.vol AS DECIMAL(38, 8))) AS DECIMAL(18, 8)) AS vol,
        TRY_CAST(coalesce(mtgox_money(t.last, substr(market, 4)), TRY_CAST(t.ticker.last AS DECIMAL(38, 8))) AS DECIMAL(18, 8)) AS last,
        TRY_CAST(coalesce(mtgox_money(t.last_local, substr(market, 4)), TRY_CAST(t.ticker.last_local AS DECIMAL(38, 8))) AS DECIMAL(18, 8)) AS last_local,
        TRY_CAST(coalesce(mtgox_money(t.last_orig, substr(market, 4)), TRY_CAST(t.ticker.last_orig AS DECIMAL(38, 8))) AS DECIMAL(18, 8)) AS last_orig,
        coalesce(t.last_orig.currency, CASE WHEN t.ticker.last_orig IS NOT NULL THEN substr(market, 4) END) AS last_orig_currency,
        TRY_CAST(coalesce(mtgox_money(t.last_all, substr(market, 4)), TRY_CAST(t.ticker.last_all AS DECIMAL(38, 8))) AS DECIMAL(18, 8)) AS last_all,
        TRY_CAST(coalesce(mtgox_money(t.buy, substr(market, 4)), TRY_CAST(t.ticker.buy AS DECIMAL(38, 8))) AS DECIMAL(18, 8)) AS buy,
        TRY_CAST(coalesce(mtgox_money(t.sell, substr(market, 4)), TRY_CAST(t.ticker.sell AS DECIMAL(38, 8))) AS DECIMAL(18, 8)) AS sell,
        text IS NULL AS not_text, t IS NULL AS not_json
    FROM parsed
)
SELECT * EXCLUDE (not_text, not_json),
    CASE WHEN not_text THEN 'ticker: the body is not UTF-8 text'
         WHEN not_json THEN 'ticker: the body is not a JSON object'
         WHEN last IS NULL AND buy IS NULL AND sell IS NULL THEN 'ticker: the answer has no last, buy or sell price'
    END AS problem
FROM typed
