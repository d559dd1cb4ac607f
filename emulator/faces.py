"""Which front end serves which `--exchange`: the one place the emulator picks a face."""

from __future__ import annotations

from typing import Protocol

from .config import EXCHANGES, EmulatorConfig
from .exchange import Call, Exchange, Reply
from .kraken_exchange import KrakenExchange


class Face(Protocol):
    """What the ASGI app and the banner need of an exchange's front end."""

    TITLE: str
    URL_TEMPLATE: str  # str.format'ed with host and port
    ROUTE: str  # a Starlette path with {version:int} and {path:path}
    AUTH_HEADERS: tuple[str, str]  # the key's and the signature's header names
    config: EmulatorConfig

    def handle(self, call: Call) -> Reply: ...
    def not_found_body(self) -> bytes: ...
    def limits_text(self, config: EmulatorConfig) -> str: ...


FACES: dict[str, type[Exchange] | type[KrakenExchange]] = {"mtgox": Exchange, "kraken": KrakenExchange}
assert set(FACES) == set(EXCHANGES), "config.EXCHANGES and FACES must name the same exchanges"


def make_face(config: EmulatorConfig) -> Face:
    return FACES[config.exchange](config)
