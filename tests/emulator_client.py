"""Talking to a running emulator from tests: real HTTP, and signers written apart from the emulator's."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from emulator.app import create_app
from emulator.auth import ApiKey
from emulator.config import EmulatorConfig
from emulator.exchange import Exchange
from emulator.server import ServerThread

_last_nonce = 0


def next_nonce() -> int:
    """One increasing nonce source for every test: max(now in µs, last + 1)."""
    global _last_nonce
    _last_nonce = max(int(time.time() * 1e6), _last_nonce + 1)
    return _last_nonce


def rest_sign(secret_b64: str, version: int, path: str, body: bytes) -> str:
    """Mt.Gox signing from the reference, independent of emulator.auth: v2 prefixes `path NUL`."""
    message = (path.encode() + b"\0" + body) if version == 2 else body
    return base64.b64encode(hmac.new(base64.b64decode(secret_b64), message, hashlib.sha512).digest()).decode()


def kraken_api_sign(secret_b64: str, uri_path: str, nonce: str, body: bytes) -> str:
    """Kraken's API-Sign from the reference (living-exchanges §0.1), independent of emulator.kraken_auth:
    base64(HMAC-SHA512(base64decode(secret), uri_path + SHA256(nonce + body)))."""
    inner = hashlib.sha256((nonce + body.decode()).encode()).digest()
    mac = hmac.new(base64.b64decode(secret_b64), uri_path.encode() + inner, "sha512")
    return base64.b64encode(mac.digest()).decode()


@dataclass
class Emulator:
    url: str
    exchange: Exchange
    http: httpx.Client

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(f"/api/{path}", params=params)

    def private(
        self, version: int, path: str, key: ApiKey, params: dict[str, Any] | None = None, *, query: str = ""
    ) -> httpx.Response:
        """A signed POST of `path` (after /api/<version>/) with a fresh nonce."""
        fields = {**(params or {}), "nonce": next_nonce()}
        body = urllib.parse.urlencode(fields).encode()
        headers = {
            "Rest-Key": key.key,
            "Rest-Sign": rest_sign(key.secret, version, path, body),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        url = f"/api/{version}/{path}" + (f"?{query}" if query else "")
        return self.http.post(url, content=body, headers=headers)

    def kraken_public(self, method: str, **params: Any) -> httpx.Response:
        return self.http.get(f"/0/public/{method}", params=params)

    def kraken_private(
        self, method: str, key: ApiKey, params: dict[str, Any] | None = None, *, nonce: int | None = None,
        secret: str | None = None,
    ) -> httpx.Response:
        """A signed POST of /0/private/<method>, the nonce first in the body (a fresh one unless given)."""
        fields = {"nonce": next_nonce() if nonce is None else nonce, **(params or {})}
        body = urllib.parse.urlencode(fields).encode()
        path = f"/0/private/{method}"
        headers = {
            "API-Key": key.key,
            "API-Sign": kraken_api_sign(secret or key.secret, path, str(fields["nonce"]), body),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return self.http.post(path, content=body, headers=headers)

    def key(self, account: str, right: str = "trade") -> ApiKey:
        return next(k for k in self.exchange.keys if k.account == account and right in k.rights)


@contextmanager
def running_emulator(config: EmulatorConfig | None = None) -> Iterator[Emulator]:
    """An emulator on a free loopback port, served by uvicorn in a thread."""
    app = create_app(config or EmulatorConfig(min_interval_s=0, cache_s=0))
    with ServerThread(app) as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
        yield Emulator(srv.url, app.state.exchange, http)
    app.state.request_log.close()
