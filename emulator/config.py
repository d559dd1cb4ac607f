"""The emulator's settings: one frozen dataclass, checked when it is made."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import StartupError

# The exchanges the emulator can pretend to be (`emulator.faces` maps each to its front end), and the
# interval each documents between two public calls: Mt.Gox "do not request results more often than" 10 s;
# Kraken "1 per second (or less) would remain within the rate limits".
EXCHANGES = ("mtgox", "kraken")
DOCUMENTED_INTERVAL_S = {"mtgox": 10.0, "kraken": 1.0}
# Kraken's verification tiers, which set the private call counter (emulator.kraken_limits).
KRAKEN_TIERS = ("starter", "intermediate", "pro")


@dataclass(frozen=True)
class EmulatorConfig:
    seed: int = 1
    replay: Path | None = None  # real trades to serve instead of the synthetic market
    replay_currency: str = "USD"  # for replay files that do not name their currency
    speed: float = 1.0  # market seconds per wall second
    history_hours: float = 48.0  # synthetic tape before start-up, so `since` has a past
    book_levels: int = 4000  # full-depth levels of the busiest currency
    min_interval_s: float | None = None  # between two public calls; None: the exchange's documented interval
    heavy_per_hour: int = 5  # full depth: "up to 5 requests per hour"
    violations_to_block: int = 3
    violation_window_s: float = 600.0
    cooloff_s: float = 300.0
    block_style: str = "html"  # "html": anti-DDoS page with 503; "429": JSON with Retry-After
    cache_s: float = 10.0  # "All API methods are cached for 10 seconds"
    faults: str = ""
    request_log: Path | None = None
    keys: Path | None = None
    # The wall-clock second the synthetic market's history ends at (None: start-up). The same seed and
    # epoch give the same tape and accounts whenever the emulator starts: a data set can be continued.
    epoch: float | None = None
    exchange: str = "mtgox"  # which exchange's API to serve, one of EXCHANGES
    kraken_tier: str = "starter"
    # Kraken: after "EAPI:Rate limit exceeded", "additional calls will be restricted for a few seconds".
    kraken_cooloff_s: float = 5.0
    wall_clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        checks = [
            (self.exchange in EXCHANGES, f"--exchange must be one of {', '.join(EXCHANGES)}, got {self.exchange!r}"),
            (self.kraken_tier in KRAKEN_TIERS,
             f"--tier must be one of {', '.join(KRAKEN_TIERS)}, got {self.kraken_tier!r}"),
            (self.kraken_cooloff_s >= 0, f"the Kraken cool-off must not be negative, got {self.kraken_cooloff_s}"),
            # Kraken's trade cursor is a time; replayed pre-2011 tids are not, so only the synthetic market fits.
            (self.exchange != "kraken" or self.replay is None, "--replay is for the Mt.Gox emulator, not Kraken"),
            (self.speed > 0, f"--speed must be positive, got {self.speed}"),
            (self.history_hours >= 0, f"history must not be negative, got {self.history_hours}"),
            (self.book_levels >= 10, f"--book-levels must be at least 10, got {self.book_levels}"),
            (self.min_interval_s is None or self.min_interval_s >= 0,
             f"--min-interval must not be negative, got {self.min_interval_s}"),
            (self.heavy_per_hour >= 0, f"--full-depth-per-hour must not be negative, got {self.heavy_per_hour}"),
            (self.violations_to_block >= 1, "--violations-to-block must be at least 1"),
            (self.cooloff_s >= 0, f"--cooloff must not be negative, got {self.cooloff_s}"),
            (self.cache_s >= 0, f"--cache-seconds must not be negative, got {self.cache_s}"),
            (self.block_style in ("html", "429"), f"--block-style must be html or 429, got {self.block_style!r}"),
            (self.epoch is None or self.epoch <= self.wall_clock() + 60, "--epoch must not be in the future"),
            (self.epoch is None or self.replay is None, "--epoch is for the synthetic market, not --replay"),
        ]
        for ok, message in checks:
            if not ok:
                raise StartupError(message)

    @property
    def public_interval_s(self) -> float:
        """Seconds between two public calls of one endpoint: as configured, else the exchange's documented one."""
        return DOCUMENTED_INTERVAL_S[self.exchange] if self.min_interval_s is None else self.min_interval_s
