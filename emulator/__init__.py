"""A Mt.Gox-compatible exchange on loopback (API v0, v1 and v2), or a Kraken-compatible one (Spot REST):
signed private calls, limits, faults, one synthetic market and its accounts behind either face.

`create_app(EmulatorConfig(...))` gives one ASGI application, usable in-process through
`httpx.ASGITransport` or over TCP through uvicorn (`marketrec emulator [--exchange kraken]`). The
face is picked in `emulator.faces`; the exception tree is drawn in `emulator.errors`.
"""
