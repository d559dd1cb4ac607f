-- duplicate_tids: trades stored more than once for one (exchange, market, tid).
SELECT exchange, market, tid, count(*) AS copies
FROM trades GROUP BY ALL HAVING count(*) > 1
ORDER BY exchange, market, tid
