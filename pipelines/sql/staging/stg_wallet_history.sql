-- stg_wallet_history: the new ledger entries of every exchange, one shape. Each exchange's staging adds a branch.
-- materialized: view
-- depends_on: stg_mtgox_wallet_history
SELECT * FROM stg_mtgox_wallet_history
