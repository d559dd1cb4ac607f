"""The collector: polls an exchange politely, signs private calls, and keeps every response.

Rooms: `config` (TOML -> frozen dataclasses), `exchanges/` (endpoint catalogues, signing and
classification as data plus pure functions), `schedule` and `backoff` (pure decisions),
`nonce` and `budget` (durable state shared across processes), `fetch` (the only HTTP user),
`journal` and `rawstore` (the crash-safe raw store), `state` (cursors, coverage, gaps),
`run` (the async loop that wires them). The exception tree is drawn in `collector.errors`.
"""
