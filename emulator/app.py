"""The ASGI face of the exchange: HTTP in, `Call`; `Reply`, HTTP out; and the request log.

Kept thin on purpose: decisions live in the exchange's front end (`exchange.py` for Mt.Gox,
`kraken_exchange.py` for Kraken, picked in `faces.py`), so in-process tests (`httpx.ASGITransport`)
and real TCP clients (uvicorn) meet the same exchange. The front end names its route and the
headers that carry the API key and the signature.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .config import EmulatorConfig
from .exchange import Call, Reply
from .faces import Face, make_face
from .requestlog import RequestLog, RequestLogEntry, scrub_params

Scope = MutableMapping[str, Any]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class DroppedResponse(Response):
    """Announces the whole body, sends half of it and hangs up: a connection dropped mid-answer.

    Over TCP the server closes the socket and the client sees an incomplete message; in-process
    transports have no socket to close, so this fault is for real TCP tests.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})


def create_app(config: EmulatorConfig | None = None, *, exchange: Face | None = None) -> Starlette:
    """One ASGI application serving the configured exchange: /api/0, /api/1 and /api/2 like Mt.Gox did,
    or /0/public and /0/private like Kraken."""
    config = config or EmulatorConfig()
    ex = exchange or make_face(config)
    log = RequestLog(config.request_log)
    key_header, sign_header = ex.AUTH_HEADERS

    async def api(request: Request) -> Response:
        arrived = time.perf_counter()
        when = datetime.fromtimestamp(config.wall_clock(), UTC)
        body = await request.body()
        call = Call(
            method=request.method,
            version=request.path_params["version"],
            path=request.path_params["path"],
            query=request.url.query,
            body=body,
            client=request.client.host if request.client else "-",
            rest_key=request.headers.get(key_header),
            rest_sign=request.headers.get(sign_header),
        )
        reply = ex.handle(call)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        response = _response(reply)
        sent = len(reply.body) // 2 if reply.drop else len(reply.body)
        log.write(RequestLogEntry(
            time=when, client=call.client, method=call.method, path=request.url.path,
            params=scrub_params(reply.params), status=None if reply.drop else reply.status, bytes=sent,
            cache_hit=reply.cache_hit, endpoint=reply.endpoint, key=call.rest_key, fault=reply.fault,
            blocked=reply.blocked, violation=reply.violation, duration_ms=(time.perf_counter() - arrived) * 1000,
        ))
        return response

    async def not_found(request: Request) -> Response:
        return Response(ex.not_found_body(), status_code=404, media_type="application/json")

    app = Starlette(routes=[
        Route(ex.ROUTE, api, methods=["GET", "POST"]),
        Route("/{anything:path}", not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ])
    app.state.exchange = ex
    app.state.request_log = log
    return app


def _response(reply: Reply) -> Response:
    cls = DroppedResponse if reply.drop else Response
    return cls(reply.body, status_code=reply.status, media_type=reply.content_type, headers=reply.headers)
