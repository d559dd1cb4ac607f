-- stg_info: the new account balances snapshots of every exchange, one shape. Each exchange's staging adds a branch.
-- materialized: view
-- depends_on: stg_mtgox_info, stg_kraken_balance
SELECT * FROM stg_mtgox_info
UNION ALL BY NAME
SELECT * FROM stg_kraken_balance
