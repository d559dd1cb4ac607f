"""The emulator's exceptions.

    EmulatorError                  anything the emulator refuses to start with or to serve
    ├── StartupError               bad start-up input; the CLI prints it as one line and exits 2
    │   ├── ReplayFileError        a replay file that cannot be read (names the file and line)
    │   ├── KeysFileError          a --keys file that cannot be read (names the file and entry)
    │   └── FaultSpecError         a --faults spec that cannot be parsed (names the bad part)
    └── ApiError                   a request the exchange answers with an error envelope
        ├── AuthError              HTTP 403: missing or unknown key, bad signature, nonce, rights
        └── OrderError             an order the book or the account refuses

`ApiError` carries what Mt.Gox sent back: the HTTP status, the message and the token, so the
app renders it in the version's error shape (`{"result":"error",...}` or v0's `{"error":...}`).
"""

from __future__ import annotations


class EmulatorError(Exception):
    """Base of everything the emulator raises on purpose."""


class StartupError(EmulatorError):
    """Bad start-up input (files, options); the message is one line naming the problem."""


class ReplayFileError(StartupError):
    """A replay file that cannot be parsed."""


class KeysFileError(StartupError):
    """A --keys file that cannot be parsed."""


class FaultSpecError(StartupError):
    """A --faults spec that cannot be parsed."""


class ApiError(EmulatorError):
    """An error the exchange reports to the client in its error envelope."""

    def __init__(self, message: str, token: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.token = token
        self.status = status


class AuthError(ApiError):
    """Authentication or authorisation failed (always HTTP 403, as Mt.Gox answered)."""

    def __init__(self, message: str, token: str) -> None:
        super().__init__(message, token, status=403)


class OrderError(ApiError):
    """An order the exchange refuses (bad amount, not enough funds, unknown oid)."""
