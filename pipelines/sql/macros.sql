-- Macros the models share. Most are temporary, for the build; the warehouse keeps decimal_units and
-- exact_ratio (ohlc_at uses them) beside what users call (ohlc_at, in marts/ohlc_at.sql).

-- Mt.Gox scales amounts per currency in its *_int fields: BTC 1e8, JPY and SEK 1e3, other fiat 1e5
-- (reference §3). The unit is what one integer step is worth, as an exact DECIMAL.
CREATE OR REPLACE TEMP MACRO mtgox_unit(currency) AS
    CASE currency WHEN 'BTC' THEN 0.00000001 WHEN 'JPY' THEN 0.001 WHEN 'SEK' THEN 0.001 ELSE 0.00001 END;

-- An integer count of units (a JSON string or number) as an exact amount: wide enough for the absurd
-- far levels of real full depth (an ask at 179,330,000,000 USD), NULL rather than an error when it is not one.
CREATE OR REPLACE TEMP MACRO mtgox_scaled(value_int, currency) AS
    TRY_CAST(value_int AS DECIMAL(38, 0)) * mtgox_unit(currency);

-- A money object {value, value_int, display, display_short, currency} as an exact amount: from
-- value_int when present, else the literal value text (2011 answers had floats only).
CREATE OR REPLACE TEMP MACRO mtgox_money(m, fallback_currency) AS
    coalesce(mtgox_scaled(m.value_int, coalesce(m.currency, fallback_currency)), TRY_CAST(m.value AS DECIMAL(38, 8)));

-- A time in µs since the epoch as TIMESTAMPTZ (the session runs in UTC). NULL, not an error, for a number
-- no timestamp holds (a mangled "now", "stamp" or "Date" of 2^63 µs): one bad body must not stop a build,
-- and each model decides whether a missing time rejects its row.
CREATE OR REPLACE TEMP MACRO utc_us(us) AS try(CAST(make_timestamp(CAST(us AS BIGINT)) AS TIMESTAMPTZ));

-- A time in seconds since the epoch as TIMESTAMPTZ; NULL when the µs overflow (try: the product is an error).
CREATE OR REPLACE TEMP MACRO utc_s(s) AS utc_us(try(CAST(s AS BIGINT) * 1000000));

-- The answer of a Mt.Gox call without its envelope, as JSON text: v0 and `?raw` answers have none,
-- v1 wraps in "return", v2 in "data".
-- An envelope's "result" is the string "success" or "error"; a `?raw` wallet-history page has a
-- "result" too, but it is the list of entries.
CREATE OR REPLACE TEMP MACRO mtgox_payload(text, api_version) AS
    -- ltrim of a short prefix: trimming a whole full-depth body would copy megabytes.
    CASE WHEN NOT starts_with(ltrim(left(text, 64)), '{') OR try(json_type(text, '$.result')) IS DISTINCT FROM 'VARCHAR'
         THEN text
         WHEN api_version >= 2 THEN json_extract(text, '$.data')::VARCHAR
         ELSE json_extract(text, '$.return')::VARCHAR END;

-- An exact decimal as an integer count of 10^-k units (`unit` = 10^k), without the overflow of
-- multiplying a DECIMAL(38, s) by 10^k in place (DuckDB keeps the scale, so the product grows by 10^k twice).
CREATE OR REPLACE MACRO decimal_units(x, unit) AS
    CAST(trunc(x) AS HUGEINT) * unit + CAST((x - trunc(x)) * unit AS HUGEINT);

-- numerator / denominator of two exact decimals (scales up to 16 and 8), rounded half up to 12
-- decimals, computed in integers: DuckDB divides decimals in floating point.
CREATE OR REPLACE MACRO exact_ratio(numerator, denominator) AS
    CASE WHEN denominator > 0 THEN
        CAST((decimal_units(numerator, 10000000000000000) * 20000 + decimal_units(denominator, 100000000))
             // (2 * decimal_units(denominator, 100000000)) AS DECIMAL(38, 0)) * 0.000000000001
    END;

-- How many decimals Mt.Gox's *_int fields carry per currency (the scale as a power of ten).
CREATE OR REPLACE TEMP MACRO mtgox_decimals(currency) AS
    CASE currency WHEN 'BTC' THEN 8 WHEN 'JPY' THEN 3 WHEN 'SEK' THEN 3 ELSE 5 END;

-- 10^n as a BIGINT, n in 0..8 (the scales a price or amount can have here).
CREATE OR REPLACE MACRO pow10_int(n) AS
    CASE n WHEN 0 THEN 1 WHEN 1 THEN 10 WHEN 2 THEN 100 WHEN 3 THEN 1000 WHEN 4 THEN 10000 WHEN 5 THEN 100000
           WHEN 6 THEN 1000000 WHEN 7 THEN 10000000 WHEN 8 THEN 100000000 END;

-- What one unit of an integer with n decimals is worth, as an exact DECIMAL (n in 0..8).
CREATE OR REPLACE MACRO decimal_unit(n) AS
    CASE n WHEN 0 THEN 1.0 WHEN 1 THEN 0.1 WHEN 2 THEN 0.01 WHEN 3 THEN 0.001 WHEN 4 THEN 0.0001
           WHEN 5 THEN 0.00001 WHEN 6 THEN 0.000001 WHEN 7 THEN 0.0000001 WHEN 8 THEN 0.00000001 END;

-- Kraken (reference §1). Prices, volumes and amounts are decimal strings with the pair's or the asset's
-- decimals ("37500.10000"): read from their text, never through DOUBLE. NULL for text that is no plain decimal.
-- A trade's units and decimals are the string's own ("37500.10000": 3750010000 units of 1e-5), at most 8
-- decimals (what trades_stored and the bars hold).
CREATE OR REPLACE TEMP MACRO kraken_decimals(s) AS
    CASE WHEN regexp_full_match(s, '-?[0-9]{1,18}(\.[0-9]{1,8})?') THEN coalesce(length(s) - nullif(strpos(s, '.'), 0), 0) END;
CREATE OR REPLACE TEMP MACRO kraken_units(s) AS
    CASE WHEN regexp_full_match(s, '-?[0-9]{1,18}(\.[0-9]{1,8})?') THEN TRY_CAST(replace(s, '.', '') AS BIGINT) END;

-- A decimal string as an exact DECIMAL with 8 decimals (the money columns' scale). Ledger amounts have 10
-- decimals: past the 8th only zeros may follow, anything else is NULL rather than rounded.
CREATE OR REPLACE TEMP MACRO kraken_amount(s) AS
    CASE WHEN regexp_full_match(s, '-?[0-9]{1,30}(\.[0-9]{1,8}0*)?') THEN TRY_CAST(s AS DECIMAL(38, 8)) END;

-- An integer (trade_id, count, a bar's time) from its text; NULL for anything else. A plain TRY_CAST would round
-- "12.5" to 13 and take it.
CREATE OR REPLACE TEMP MACRO kraken_integer(s) AS
    CASE WHEN regexp_full_match(s, '-?[0-9]{1,18}') THEN CAST(s AS BIGINT) END;

-- Kraken's times are JSON numbers of float seconds (1688671969.9931508). Models read them with json_transform
-- as DECIMAL(38, 12), which DuckDB parses from the number's digits (read as VARCHAR or DOUBLE the same number
-- prints 1688671969.9931507); this truncates them to whole µs, as Kraken's nanosecond `last` ids do.
CREATE OR REPLACE TEMP MACRO kraken_us(seconds) AS try(CAST(trunc(seconds * 1000000) AS BIGINT));

-- Kraken asset codes to marketrec's currencies (the contract: XXBT and XBT are BTC, XETH ETH, ZUSD USD, ZEUR EUR;
-- any other code is kept as Kraken spells it).
CREATE OR REPLACE TEMP MACRO kraken_currency(asset) AS
    CASE WHEN asset IN ('XXBT', 'XBT') THEN 'BTC' WHEN asset = 'XETH' THEN 'ETH' WHEN asset = 'ZUSD' THEN 'USD'
         WHEN asset = 'ZEUR' THEN 'EUR' ELSE asset END;

-- The quote currency of a Kraken pair, legacy id or altname (XXBTZUSD, XBTUSD, XLTCXXBT, XBTUSDT): the
-- longest known quote code it ends with; NULL when it ends with none.
CREATE OR REPLACE TEMP MACRO kraken_quote(pair) AS kraken_currency(nullif(regexp_extract(pair,
    '(ZUSD|ZEUR|ZGBP|ZCAD|ZJPY|ZCHF|ZAUD|XXBT|XETH|USDT|USDC|USD|EUR|GBP|CAD|JPY|CHF|AUD|XBT|ETH|DAI)$', 1), ''));

-- The errors of an answer as one line, NULL when it has none. Every answer has `error`, an array of strings
-- ("EQuery:Unknown asset pair"; warnings, which start with W, alone are no error), or in newer error answers
-- `errors`, structured objects (reference §1.5), of which the first is named: models read them as
-- "error":"VARCHAR[]" and "errors":[{"errorClass":"VARCHAR","type":"VARCHAR"}].
CREATE OR REPLACE TEMP MACRO kraken_error(error, errors) AS coalesce(
    nullif(ltrim(regexp_replace('; ' || array_to_string(error, '; '), '; W[^;]*', '', 'g'), '; '), ''),
    CASE WHEN errors[1] IS NOT NULL THEN concat('E', errors[1].errorClass, ':', errors[1].type) END);
