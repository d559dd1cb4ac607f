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

-- A time in µs since the epoch as TIMESTAMPTZ (the session runs in UTC).
CREATE OR REPLACE TEMP MACRO utc_us(us) AS CAST(make_timestamp(CAST(us AS BIGINT)) AS TIMESTAMPTZ);

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
