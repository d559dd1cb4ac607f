"""Mt.Gox request signing (reference section 6). Pure: no clock, no I/O.

    Rest-Key:  the API key (a uuid)
    Rest-Sign: base64(HMAC-SHA512(base64decode(secret), message))

The message is the url-encoded POST body for v0 and v1, and `path + NUL + body` for v2, where
`path` is what follows `/api/2/` without the query string (`BTCUSD/money/order/add`). The body
must be the exact bytes that go on the wire, nonce included, so the caller encodes it once and
sends what it signed.

No error message, `repr` or traceback this module produces contains the secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from ..errors import CredentialsError

VERSIONS = (0, 1, 2)
_V2_PREFIX = "/api/2/"
CONTENT_TYPE = "application/x-www-form-urlencoded"


def message(version: int, path: str, body: bytes) -> bytes:
    """The bytes signed for a call of API `version`.

    For v2, `path` is the part after `/api/2/`. A full `/api/2/...` path or a query string is
    cut off rather than refused: signing `money/info?raw` would give a signature the exchange
    rejects with a bare 403, which is much harder to trace than the path itself.
    """
    if version in (0, 1):
        return body
    if version != 2:
        raise ValueError(f"unknown API version {version!r} (expected one of {', '.join(map(str, VERSIONS))})")
    path = path.split("?", 1)[0]
    if path.startswith(_V2_PREFIX):
        path = path[len(_V2_PREFIX) :]
    if not path or path.startswith("/"):
        # "/money/info" or "/api/1/..." would be signed as given and refused by the exchange: a caller bug.
        raise ValueError(f"v2 sign path must follow /api/2/ (e.g. 'money/info'), got {path!r}")
    return path.encode() + b"\0" + body


def decode_secret(secret_b64: str) -> bytes:
    """The raw HMAC key. CredentialsError (never quoting the secret) when it is not usable base64."""
    if not isinstance(secret_b64, str):
        raise CredentialsError(f"API secret must be a base64 string, got {type(secret_b64).__name__}")
    try:
        # validate=True: a stray newline or space from a secret file is refused here, with a reason,
        # instead of being skipped silently and producing a wrong key that only shows as a 403 later.
        raw = base64.b64decode(secret_b64, validate=True)
    except (binascii.Error, ValueError):
        # The decoder's own message is dropped: it is not needed, and future versions might quote input.
        raise CredentialsError(_bad_secret(secret_b64)) from None
    if not raw:
        raise CredentialsError("API secret is empty")
    return raw


def _bad_secret(secret_b64: str) -> str:
    # Describe the fault by category only; no character of the secret is ever echoed.
    if not secret_b64.strip():
        return "API secret is empty"
    if secret_b64 != secret_b64.strip():
        return "API secret is not valid base64: it has leading or trailing whitespace (a newline from a file?)"
    if not secret_b64.isascii():
        return "API secret is not valid base64: it contains non-ASCII characters"
    return "API secret is not valid base64 (wrong characters or padding)"


def rest_sign(secret_b64: str, version: int, path: str, body: bytes) -> str:
    """The Rest-Sign header value for one request."""
    mac = hmac.new(decode_secret(secret_b64), message(version, path, body), hashlib.sha512).digest()
    return base64.b64encode(mac).decode("ascii")


def headers(key: str, secret_b64: str, version: int, path: str, body: bytes) -> dict[str, str]:
    """Rest-Key, Rest-Sign and Content-Type for a signed POST whose body is exactly `body`."""
    if not isinstance(key, str) or not key or not key.isprintable() or any(c.isspace() for c in key):
        # A key with a newline would otherwise surface as an obscure header error inside httpx.
        raise CredentialsError("API key is empty or contains whitespace or control characters")
    return {"Rest-Key": key, "Rest-Sign": rest_sign(secret_b64, version, path, body), "Content-Type": CONTENT_TYPE}
