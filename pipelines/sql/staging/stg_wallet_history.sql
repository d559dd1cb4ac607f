-- stg_wallet_history: the new ledger entries of every exchange, one shape. Each exchange's staging adds a branch.
-- materialized: view
-- depends_on: stg_mtgox_wallet_history, stg_kraken_ledgers
--
-- A Mt.Gox wallet numbers its own entries (idx_series is the currency); its delta follows from the entry's
-- type (account_ledger). Kraken numbers the account's entries in one sequence and sends the signed amount.
SELECT *, currency AS idx_series FROM stg_mtgox_wallet_history
UNION ALL BY NAME
SELECT * FROM stg_kraken_ledgers
