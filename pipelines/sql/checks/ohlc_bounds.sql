-- ohlc_bounds: bars whose open or close lies outside [low, high], or whose low exceeds high.
SELECT exchange, market, "interval", bucket, open, high, low, close
FROM ohlc
WHERE NOT (low <= open AND open <= high AND low <= close AND close <= high)
ORDER BY exchange, market, "interval", bucket
