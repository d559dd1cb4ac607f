-- ledger_continuity: ledger entries whose balance is not the previous entry's balance plus their delta.
--
-- Only consecutive entries (idx = previous idx + 1) are compared: a wallet whose older history was
-- never fetched starts wherever its first recorded entry is. An entry of a type with no known
-- direction (delta NULL) is reported too.
WITH ordered AS (
    SELECT *, lag(idx) OVER w AS prev_idx, lag(balance) OVER w AS prev_balance
    FROM account_ledger
    WINDOW w AS (PARTITION BY exchange, account, currency ORDER BY idx)
)
SELECT exchange, account, currency, idx, type, value, delta, prev_balance, balance
FROM ordered
WHERE delta IS NULL OR (prev_idx = idx - 1 AND balance <> prev_balance + delta)
ORDER BY exchange, account, currency, idx
