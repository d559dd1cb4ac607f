-- ledger_continuity: ledger entries whose balance is not the previous entry's balance plus their delta.
--
-- Only entries known to be consecutive are compared. idx counts the entries of an idx_series: a Mt.Gox
-- wallet numbers its own (the series is the currency), Kraken numbers every asset's entries in one sequence
-- ('*'). A run is a stretch of a series with no idx missing; an entry follows its wallet's previous entry
-- when both lie in one run (for a wallet numbered on its own: idx = previous idx + 1). A wallet whose
-- older history was never fetched starts wherever its first recorded entry is. An entry of a type with
-- no known direction (delta NULL) is reported too.
WITH numbered AS (
    SELECT *, lag(idx) OVER (PARTITION BY exchange, account, idx_series ORDER BY idx) AS series_prev_idx
    FROM account_ledger
),
runs AS (
    SELECT *, sum(CASE WHEN series_prev_idx = idx - 1 THEN 0 ELSE 1 END)
                  OVER (PARTITION BY exchange, account, idx_series ORDER BY idx ROWS UNBOUNDED PRECEDING) AS run
    FROM numbered
),
ordered AS (
    SELECT *, lag(balance) OVER w AS prev_balance, lag(run) OVER w AS prev_run
    FROM runs
    WINDOW w AS (PARTITION BY exchange, account, idx_series, currency ORDER BY idx)
)
SELECT exchange, account, currency, idx, type, value, delta, prev_balance, balance, entry_id
FROM ordered
WHERE delta IS NULL OR (prev_run = run AND balance <> prev_balance + delta)
ORDER BY exchange, account, currency, idx
