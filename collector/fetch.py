"""One request: sign, send, and turn whatever happened into a raw record. The only httpx user.

The transport is injected (`httpx.AsyncClient(transport=...)`), so tests and the demo can
point it anywhere. The body is kept byte for byte: `Accept-Encoding: identity` asks the
exchange not to compress, so what is stored is what was sent.
"""

from __future__ import annotations

import contextlib
import email.utils
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from . import record as rc
from .exchanges.base import ExchangeAdapter, Request
from .keylock import KeyLock
from .nonce import NonceStore
from .record import RawRecord


def _user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"marketrec/{version('marketrec')}"
    except PackageNotFoundError:
        return "marketrec"


@dataclass(frozen=True, slots=True)
class Credentials:
    key: str
    secret: str

    def __repr__(self) -> str:
        return f"Credentials(key={self.key!r}, secret=<hidden>)"


@dataclass(frozen=True, slots=True)
class Outcome:
    record: RawRecord  # record_id is assigned by the journal
    decoded: Any  # the parsed answer when it was good JSON
    retry_after_s: float | None


class Fetcher:
    def __init__(
        self,
        adapter: ExchangeAdapter,
        *,
        base_url: str,
        timeout_s: float,
        run_id: str,
        credentials: Credentials | None = None,
        nonces: NonceStore | None = None,
        use_tonce: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        key_lock: KeyLock | None = None,
    ) -> None:
        self.adapter = adapter
        self.base_url = base_url.rstrip("/")
        # Records keep the path from the host on (/api/2/..., /0/public/...), whatever the exchange puts first.
        self._path_prefix = urllib.parse.urlsplit(self.base_url).path
        self.run_id = run_id
        self.credentials = credentials
        self.nonces = nonces
        self.use_tonce = use_tonce
        self.clock = clock
        self.key_lock = key_lock
        self.client = httpx.AsyncClient(
            transport=transport, timeout=timeout_s,
            headers={"User-Agent": _user_agent(), "Accept-Encoding": "identity"},
        )

    async def close(self) -> None:
        await self.client.aclose()
        if self.key_lock is not None:
            self.key_lock.close()

    def _now_us(self) -> int:
        return int(self.clock() * 1_000_000)

    def _prepare(self, req: Request) -> tuple[dict[str, str], bytes, dict[str, str]]:
        """Parameters as recorded (nonce kept), the POST body, and the headers (signature)."""
        params = dict(req.params)
        if not req.private:
            return params, b"", {}
        if self.credentials is None or self.nonces is None:
            raise ValueError(f"{req.endpoint} is private and no credentials are configured")
        now_us = self._now_us()
        if self.use_tonce:
            params["tonce"] = str(now_us)  # unique within ±10 s on the exchange's side; no state needed
        else:
            # Durable before the request goes out: a crash after this can only skip a nonce.
            params["nonce"] = str(self.nonces.take(self.credentials.key, now_us))
        body = urllib.parse.urlencode(params).encode()
        hdrs = self.adapter.sign(self.credentials.key, self.credentials.secret, req, params, body)
        return params, body, hdrs

    def turn(self, req: Request) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold this around taking the request's rate slot and fetching it.

        For a call with a nonce, the key's lock: nonces then reach the exchange in the order they
        are taken. Taken before the slot, so the slot's time is when the request really leaves:
        a call that waited for the lock after its slot would go out later than the budget knows,
        and the endpoint's next call could then follow it too closely.
        """
        if req.private and not self.use_tonce and self.key_lock is not None:
            return self.key_lock.held()
        return contextlib.nullcontext()

    async def fetch(self, req: Request) -> Outcome:
        params, body, hdrs = self._prepare(req)
        url = f"{self.base_url}/{req.path}"
        sent = self._now_us()
        status: int | None = None
        content = b""
        content_type = ""
        retry_after: float | None = None
        error: str | None
        decoded: Any = None
        try:
            if req.method == "GET":
                response = await self.client.get(url, params=params)
            else:
                response = await self.client.post(url, content=body, headers=hdrs)
            status, content = response.status_code, response.content
            content_type = response.headers.get("content-type", "")
            retry_after = parse_retry_after(response.headers.get("retry-after"), self.clock())
            error, decoded = self.adapter.classify(status, content_type, content, req.private)
        except httpx.TimeoutException:
            error = rc.TIMEOUT
        except httpx.TransportError:
            error = rc.CONNECTION
        received = self._now_us()
        record = RawRecord(
            record_id="", exchange=self.adapter.name, endpoint=req.endpoint, market=req.market,
            api_version=req.api_version, method=req.method, path=f"{self._path_prefix}/{req.path}",
            params=orjson.dumps(params).decode(), sent_at=sent, received_at=max(received, sent),
            http_status=status, error_class=error, body=content, collector_run=self.run_id,
        )
        return Outcome(record, decoded, retry_after)


def parse_retry_after(value: str | None, now_s: float) -> float | None:
    """Retry-After as seconds from now: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now_s)
