-- stg_exchange_ohlc: the new bars exchanges report themselves (not ours, from trades), one shape. Each exchange's staging adds a branch.
-- materialized: view
-- depends_on: stg_kraken_ohlc
SELECT * FROM stg_kraken_ohlc
