"""What every face of the emulator serves: the market, the accounts and the API keys.

The Mt.Gox face (`exchange.Exchange`) and the Kraken face (`kraken_exchange.KrakenExchange`) are two front
ends on one world: built here from the configuration alone, so the same seed and epoch give the same
trades, books, accounts and keys whichever exchange the emulator pretends to be. Each face keeps its own
request state (nonces, limits, faults), as two exchanges would.
"""

from __future__ import annotations

from .account import Account
from .account_seed import generate_accounts
from .auth import ApiKey, default_keys, load_keys
from .book import Book
from .config import EmulatorConfig
from .faults import FaultInjector, parse_faults
from .market import DAY_US, Market
from .replay import load_replay
from .synthetic import SyntheticConfig, derive_rng


class World:
    """The market, the accounts and the keys of one configuration."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        now_us = self.wall_us()
        if config.replay is not None:
            trades = load_replay(config.replay, currency=config.replay_currency)
            self.market = Market.replay(trades, now_wall_us=now_us, seed=config.seed,
                                        book_levels=config.book_levels, speed=config.speed)
        else:
            synth = SyntheticConfig(seed=config.seed, book_levels=config.book_levels)
            origin_us = now_us if config.epoch is None else int(config.epoch * 1_000_000)
            self.market = Market.synthetic(synth, now_wall_us=origin_us,
                                           history_us=int(config.history_hours * 3600e6), speed=config.speed)
        self.keys: list[ApiKey] = load_keys(config.keys) if config.keys is not None else default_keys(config.seed)
        self.accounts = self._make_accounts()
        self.market.on_book_refresh = self._restore_own_orders
        # From an epoch in the past, the market catches up now: left to the first request, generating
        # hours or days of trades would stall the event loop that times the clients' requests.
        self.market.advance_wall(now_us)

    def wall_us(self) -> int:
        return int(self.config.wall_clock() * 1_000_000)

    def _make_accounts(self) -> dict[str, Account]:
        names = sorted({k.account for k in self.keys})
        m = self.market
        busiest = max(m.feeds, key=lambda c: len(m.feeds[c].trades))
        fiat = [busiest] + (["EUR"] if busiest != "EUR" and "EUR" in m.feeds else [])
        history = [t for c in fiat for t in m.feeds[c].trades if t.primary]
        history.sort(key=lambda t: t.tid)
        start = history[0].time_us if history else m.now_us - DAY_US
        rng = derive_rng(self.config.seed, "accounts")
        return generate_accounts(rng, names, history, start, m.now_us, currencies=tuple(fiat))

    def _restore_own_orders(self, book: Book, bid_floor: int, ask_ceiling: int) -> None:
        """A book refresh replaced the market makers' quotes near the mid; put our orders back."""
        for acct in self.accounts.values():
            for order in acct.orders.values():
                if order.currency != book.currency:
                    continue
                if order.type == "bid" and order.price_int >= bid_floor:
                    book.bids.add(order.price_int, order.amount_int, order.priority)
                elif order.type == "ask" and order.price_int <= ask_ceiling:
                    book.asks.add(order.price_int, order.amount_int, order.priority)


class OnWorld:
    """What every face keeps of its own on a world: the configuration, the world's parts, the fault plan."""

    def __init__(self, config: EmulatorConfig, world: World | None = None) -> None:
        self.config = config
        self.world = world or World(config)
        self.market, self.keys, self.accounts = self.world.market, self.world.keys, self.world.accounts
        self.faults = FaultInjector(parse_faults(config.faults), config.seed)
        self._requests = 0

    def inject_faults(self, spec: str) -> None:
        """Replace the fault plan while serving (`spec` as for --faults; "" for none): an outage that ends."""
        self.faults = FaultInjector(parse_faults(spec), self.config.seed)

    def wall_us(self) -> int:
        return self.world.wall_us()
