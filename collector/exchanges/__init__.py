"""Exchange adapters: endpoint catalogues, signing and answer classification, as data plus pure functions.

`REGISTRY` is the one place exchanges are registered; shared code looks an adapter up by the
configured name and never branches on it.
"""

from __future__ import annotations

from .base import ExchangeAdapter
from .kraken import KRAKEN
from .mtgox import MTGOX

REGISTRY: dict[str, ExchangeAdapter] = {a.name: a for a in (MTGOX, KRAKEN)}
