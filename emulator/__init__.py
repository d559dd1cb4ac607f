"""A Mt.Gox-compatible exchange on loopback: API v0, v1 and v2, signed private calls, limits, faults.

`create_app(EmulatorConfig(...))` gives one ASGI application, usable in-process through
`httpx.ASGITransport` or over TCP through uvicorn (`marketrec emulator`). The exception tree is
drawn in `emulator.errors`.
"""
