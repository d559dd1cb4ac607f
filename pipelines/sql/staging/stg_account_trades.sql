-- stg_account_trades: the new fills of every exchange that reports its account's fills itself, one shape. Each exchange's staging adds a branch.
-- materialized: view
-- depends_on: stg_kraken_trades_history
--
-- Mt.Gox has no branch: its fills are made from the legs of its wallet history (account_trades).
SELECT * FROM stg_kraken_trades_history
