-- stg_ticker: the new ticker snapshots of every exchange, one shape. Each exchange's staging adds a branch.
-- materialized: view
-- depends_on: stg_mtgox_ticker
SELECT * FROM stg_mtgox_ticker
