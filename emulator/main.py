"""Running the emulator as a program: build it, say where it listens and with which keys, serve."""

from __future__ import annotations

from collections.abc import Callable

from .app import create_app
from .config import EmulatorConfig
from .errors import StartupError
from .faces import FACES
from .server import bind, serve


def banner(config: EmulatorConfig, host: str, port: int, keys: list[tuple[str, str, str, str]]) -> str:
    source = f"replay of {config.replay}" if config.replay else f"synthetic market, seed {config.seed}"
    face = FACES[config.exchange]
    lines = [
        f"{face.TITLE} on {face.URL_TEMPLATE.format(host=host, port=port)} ({source}, speed x{config.speed:g})",
        face.limits_text(config),
        "API keys of this emulator (test keys, not real ones):" if config.keys is None
        else f"API keys of this emulator (from {config.keys}; their secrets are in that file):",
    ]
    # Seeded keys are printed whole: the banner is how a user learns them. The secrets of a --keys file are
    # the file owner's, and printing them would copy them into every terminal log and service journal.
    lines += [f"  account={a}  rights={r}  key={k}" + (f"  secret={s}" if config.keys is None else "")
              for k, s, r, a in keys]
    return "\n".join(lines)


def run(config: EmulatorConfig, host: str, port: int, echo: Callable[[str], None] = print) -> None:
    """Serve until interrupted. Start-up problems raise StartupError with one line."""
    try:
        sock = bind(host, port)
    except OSError as e:
        raise StartupError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    app = create_app(config)
    ex = app.state.exchange
    keys = [(k.key, k.secret, ",".join(sorted(k.rights)), k.account) for k in ex.keys]
    echo(banner(config, host, sock.getsockname()[1], keys))
    try:
        serve(app, sock)
    finally:
        app.state.request_log.close()
