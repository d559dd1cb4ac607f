-- stg_trades: the new trades of every exchange, one shape. Each exchange's staging adds a branch.
-- materialized: view
-- depends_on: stg_mtgox_trades, stg_kraken_trades
SELECT * FROM stg_mtgox_trades
UNION ALL BY NAME
SELECT * FROM stg_kraken_trades
