-- stg_ticker: the new ticker snapshots of every exchange, one shape. Each exchange's staging adds a branch.
-- materialized: view
-- depends_on: stg_mtgox_ticker, stg_kraken_ticker
SELECT * FROM stg_mtgox_ticker
UNION ALL BY NAME
SELECT * FROM stg_kraken_ticker
