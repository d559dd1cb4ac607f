"""Kraken's names and number formats for the emulator's market: pairs, assets, decimals, ids, times. Pure.

The market underneath is Mt.Gox's: fiat in integer units of 1e-5, BTC in 1e-8. Kraken prints every
price, volume and amount as a decimal string; here they are printed exactly from those integers, with
at least the decimals Kraken uses at that place and more only when a value needs them, so nothing
is ever rounded away. The pairs advertise the market's real precision (prices to 1e-5, Mt.Gox's tick,
as Kraken's own pairs such as ETHXBT have), not today's XXBTZUSD tick of 0.1.

Ids look like Kraken's (`LGBRJU-SQZ4L-5HLS3C`): base32 letters of a hash of what the entry is, so the
same account and seed give the same ids in every run.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from .money import CURRENCIES


@dataclass(frozen=True, slots=True)
class KrakenAsset:
    code: str  # Kraken's asset id: XXBT, ZUSD
    altname: str  # XBT, USD
    currency: str  # the market's currency code: BTC, USD
    decimals: int  # of amounts and balances in Ledgers and Balance
    display_decimals: int


@dataclass(frozen=True, slots=True)
class KrakenPair:
    pair_id: str  # the legacy id answers are keyed by: XXBTZUSD
    altname: str  # XBTUSD
    wsname: str  # XBT/USD
    base: KrakenAsset
    quote: KrakenAsset

    @property
    def currency(self) -> str:
        """The market's fiat currency of the pair (its feed and book)."""
        return self.quote.currency

    def spellings(self) -> set[str]:
        """Every name a request may give the pair: id, altname, wsname, and BTC for XBT (Kraken accepts both)."""
        names = {self.pair_id, self.altname, self.wsname}
        return names | {n.replace("XBT", "BTC") for n in names if "XBT" in n}


# Amount decimals as Kraken's Ledgers and Balance print them (XXBT '0.7812500000'); fiat gets the market's 5.
XXBT = KrakenAsset("XXBT", "XBT", "BTC", 10, 5)
ZUSD = KrakenAsset("ZUSD", "USD", "USD", CURRENCIES["USD"].decimals, 2)
ZEUR = KrakenAsset("ZEUR", "EUR", "EUR", CURRENCIES["EUR"].decimals, 2)
ASSETS: dict[str, KrakenAsset] = {a.code: a for a in (XXBT, ZUSD, ZEUR)}
BY_CURRENCY: dict[str, KrakenAsset] = {a.currency: a for a in ASSETS.values()}

PAIRS: dict[str, KrakenPair] = {
    p.pair_id: p
    for p in (
        KrakenPair("XXBTZUSD", "XBTUSD", "XBT/USD", XXBT, ZUSD),
        KrakenPair("XXBTZEUR", "XBTEUR", "XBT/EUR", XXBT, ZEUR),
    )
}
_BY_SPELLING = {name: p for p in PAIRS.values() for name in p.spellings()}
PAIR_BY_CURRENCY = {p.currency: p for p in PAIRS.values()}

PRICE_DECIMALS = 5  # Trades, Ticker, Depth print prices so ('3535.50000'); pair_decimals says the same
VOLUME_DECIMALS = 8  # Trades, Ticker's v and c, OHLC volumes ('0.00300000')
BOOK_VOLUME_DECIMALS = 3  # Depth volumes and Ticker's lot volumes ('0.801', '1.000'), more when needed


def find_pair(name: str) -> KrakenPair | None:
    """The pair a request names, in any spelling Kraken accepts (case-insensitive), or None."""
    return _BY_SPELLING.get(name.strip().upper())


def find_asset(name: str) -> KrakenAsset | None:
    """An asset by id (XXBT) or altname (XBT, also BTC), or None."""
    key = name.strip().upper()
    return ASSETS.get(key) or next((a for a in ASSETS.values() if key in (a.altname, a.currency)), None)


def decimal_text(units: int, scale_decimals: int, min_decimals: int) -> str:
    """The exact decimal of `units` × 10^-scale_decimals, with at least `min_decimals` decimals.

    Trailing zeros beyond `min_decimals` are dropped, digits are never cut: 9498000 at scale 5 with 5
    decimals is '94.98000', with 1 decimal '94.98'; 150000000 BTC units with 10 decimals '1.5000000000'.
    """
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**scale_decimals)
    digits = f"{frac:0{scale_decimals}d}" if scale_decimals else ""
    digits = (digits[:min_decimals] + digits[min_decimals:].rstrip("0")).ljust(min_decimals, "0")
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"


def fiat_text(units: int, currency: str, min_decimals: int = PRICE_DECIMALS) -> str:
    return decimal_text(units, CURRENCIES[currency].decimals, min_decimals)


def btc_text(units: int, min_decimals: int = VOLUME_DECIMALS) -> str:
    return decimal_text(units, CURRENCIES["BTC"].decimals, min_decimals)


def asset_text(units: int, asset: KrakenAsset) -> str:
    """An amount or balance of `asset` as Ledgers and Balance print it (XXBT with 10 decimals)."""
    return decimal_text(units, CURRENCIES[asset.currency].decimals, asset.decimals)


def time_text(time_us: int) -> str:
    """Float seconds as Kraken sends times ('1548111751.5556'), exact to the microsecond, for a JSON number."""
    whole, frac = divmod(time_us, 1_000_000)
    return f"{whole}.{(f'{frac:06d}'.rstrip('0') or '0')}"


def rfc1123(unix_s: int) -> str:
    """Kraken's Time `rfc1123`: 'Wed,  9 Jan 19 01:50:54 +0000' (day padded with a space, two-digit year)."""
    t = datetime.fromtimestamp(unix_s, UTC)
    return f"{t:%a}, {t.day:2d} {t:%b %y %H:%M:%S} +0000"


def kraken_id(prefix: str, *parts: object, lengths: tuple[int, ...] = (5, 5, 6)) -> str:
    """A Kraken-style id (`L` + 'GBRJU-SQZ4L-5HLS3C'): base32 groups of a hash of `parts`, stable across runs."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=20, person=prefix.encode()[:16]).digest()
    letters = base64.b32encode(digest).decode("ascii")
    groups, at = [], 0
    for n in lengths:
        groups.append(letters[at : at + n])
        at += n
    return prefix + "-".join(groups)
