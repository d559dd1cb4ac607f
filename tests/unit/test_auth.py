"""Signing, key files and the Authenticator's checks, in the order a forged request meets them."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

from emulator.auth import ApiKey, Authenticator, default_keys, load_keys, message_to_sign, sign
from emulator.errors import AuthError, KeysFileError

# Reference section 6: secret = bytes 0x00..0x3f.
SECRET = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="
BODY = b"nonce=1365000000000000"
ORDER_BODY = b"nonce=1365000000000001&type=bid&amount_int=100000000&price_int=9000000"
VECTORS = [
    (1, "", BODY, "+Eq7SV/pJyx0z9J00j9bbkLlUQ29lBWdVbACimg4Qj0LYpxNhDaQHnlJyg3gTCcTtKEI9XHrU6fgotyzfm4V5g=="),
    (
        2,
        "BTCUSD/money/info",
        BODY,
        "RlwNvlsxJc9rdvBsRI1CyU81bv4VHTpTPOa9bw7htRQKA+2Jwoe1NOoNr7ZJlXggT1O6Fvr3zjovTcpRcifpaA==",
    ),
    (2, "money/info", BODY, "CbEi6VU60mclzPOl8VyVR2RNPmjyjAZq80xymHZdaAqY35Bu/fvqB/IX0bAuh4J8vRcu6Sm6PQe3cUS1mzK8Cw=="),
    (
        2,
        "BTCUSD/money/order/add",
        ORDER_BODY,
        "MkkHU2Q51+XMYwBaF1gb9rf4Otm9iHMQ/SbkjIr2f8Ex/rYVYwb/IoIjhHQEbkoQO8ddVD6zc1F10uebUCO4Kg==",
    ),
]

NOW_US = 1_365_000_000_000_000
ALICE = ApiKey("11111111-aaaa-4aaa-8aaa-111111111111", SECRET, frozenset({"get_info", "trade"}), "alice")
BOB_SECRET = base64.b64encode(bytes(range(100, 164))).decode()
BOB = ApiKey("22222222-bbbb-4bbb-8bbb-222222222222", BOB_SECRET, frozenset({"get_info"}), "bob")


# --- signing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "path", "body", "expected"), VECTORS)
def test_reference_vectors_sign_as_documented(version: int, path: str, body: bytes, expected: str) -> None:
    assert sign(SECRET, message_to_sign(version, path, body)) == expected


def test_v0_and_v1_sign_the_body_and_v2_the_path_a_nul_and_the_body() -> None:
    assert message_to_sign(0, "ignored", BODY) == BODY
    assert message_to_sign(1, "ignored", BODY) == BODY
    assert message_to_sign(2, "money/info", BODY) == b"money/info\0" + BODY


def test_v2_message_ignores_the_api_prefix_and_the_query_string() -> None:
    assert message_to_sign(2, "/api/2/money/info?raw", BODY) == message_to_sign(2, "money/info", BODY)


def test_an_unknown_version_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="version"):
        message_to_sign(3, "money/info", BODY)


@pytest.mark.parametrize(
    "message",
    [message_to_sign(1, "", BODY), message_to_sign(2, "BTCUSD/money/order/add", ORDER_BODY)],
    ids=["v1", "v2"],
)
def test_sign_agrees_with_openssl(message: bytes) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed; the independent signer is unavailable")
    hexkey = base64.b64decode(SECRET).hex()
    mac = subprocess.run(
        [openssl, "dgst", "-sha512", "-mac", "HMAC", "-macopt", f"hexkey:{hexkey}", "-binary"],
        input=message,
        capture_output=True,
        check=True,
    ).stdout
    assert len(mac) == 64
    assert sign(SECRET, message) == base64.b64encode(mac).decode()


# --- the Authenticator -----------------------------------------------------------------------


def auth() -> Authenticator:
    return Authenticator([ALICE, BOB])


def call(
    a: Authenticator,
    key: ApiKey | None = ALICE,
    *,
    body: bytes = b"nonce=100",
    version: int = 2,
    path: str = "BTCUSD/money/info",
    sign_with: str | None = None,
    rest_sign: str | None = None,
    rest_key: str | None = None,
    now_us: int = NOW_US,
    right: str = "get_info",
) -> ApiKey:
    """Verify a call whose params are parsed from `body` and which is signed correctly unless told."""
    params = dict(p.split("=", 1) for p in body.decode().split("&") if p)
    if rest_sign is None and key is not None:
        rest_sign = sign(sign_with or key.secret, message_to_sign(version, path, body))
    return a.verify(
        version=version,
        path=path,
        body=body,
        rest_key=rest_key if rest_key is not None else (key.key if key else None),
        rest_sign=rest_sign,
        params=params,
        now_us=now_us,
        right=right,
    )


def rejection(a: Authenticator, **kwargs: object) -> AuthError:
    with pytest.raises(AuthError) as info:
        call(a, **kwargs)  # type: ignore[arg-type]
    assert info.value.status == 403
    return info.value


def test_a_correctly_signed_call_returns_its_key_in_every_version() -> None:
    a = auth()
    for i, version in enumerate((0, 1, 2)):
        assert call(a, version=version, body=f"nonce={i + 1}".encode()) == ALICE


def test_a_missing_key_is_refused_with_the_captured_message_and_token() -> None:
    err = rejection(auth(), key=None)
    assert (err.message, err.token) == (
        "Identification required to access private API",
        "login_error_missing_rest_key",
    )


def test_an_unknown_key_is_refused() -> None:
    err = rejection(auth(), rest_key="33333333-cccc-4ccc-8ccc-333333333333")
    assert (err.message, err.token) == ("Unknown API key", "login_error_invalid_rest_key")


@pytest.mark.parametrize(
    "bad_sign",
    [
        base64.b64encode(b"\0" * 64).decode(),  # well-formed but wrong
        "not base64 at all!",
        "",
    ],
    ids=["wrong", "not-base64", "empty"],
)
def test_a_bad_signature_is_refused(bad_sign: str) -> None:
    err = rejection(auth(), rest_sign=bad_sign)
    assert (err.message, err.token) == ("Invalid request signature", "login_error_invalid_rest_sign")


def test_a_signature_made_with_another_keys_secret_is_refused() -> None:
    err = rejection(auth(), sign_with=BOB_SECRET)
    assert err.token == "login_error_invalid_rest_sign"


def test_a_v1_signature_does_not_pass_for_a_v2_call() -> None:
    body = b"nonce=100"
    v1_sign = sign(SECRET, message_to_sign(1, "", body))
    err = rejection(auth(), body=body, rest_sign=v1_sign, version=2)
    assert err.token == "login_error_invalid_rest_sign"


def test_a_bad_signature_with_a_stale_nonce_reports_the_signature_and_does_not_consume_the_nonce() -> None:
    a = auth()
    call(a, body=b"nonce=100")
    err = rejection(a, body=b"nonce=50", rest_sign=base64.b64encode(b"x" * 64).decode())
    assert err.token == "login_error_invalid_rest_sign"
    forged = rejection(a, body=b"nonce=1000", rest_sign=base64.b64encode(b"x" * 64).decode())
    assert forged.token == "login_error_invalid_rest_sign"
    # The forged nonce 1000 was not recorded, so the next honest nonce above 100 still passes.
    assert call(a, body=b"nonce=101") == ALICE
    assert a.last_nonce(ALICE.key) == 101


@pytest.mark.parametrize(
    "body",
    [b"type=bid", b"nonce=", b"nonce=12a", b"nonce=-5", b"nonce=+5", b"nonce=1_000", b"nonce=99999999999999999999"],
)
def test_a_missing_or_malformed_nonce_is_refused(body: bytes) -> None:
    err = rejection(auth(), body=body)
    assert (err.message, err.token) == ("Missing or malformed nonce", "login_error_invalid_nonce")


def test_nonce_and_tonce_together_are_refused() -> None:
    err = rejection(auth(), body=f"nonce=100&tonce={NOW_US}".encode())
    assert err.token == "login_error_invalid_nonce"


def test_nonce_must_increase_strictly_per_key() -> None:
    a = auth()
    call(a, body=b"nonce=100")
    for stale in (b"nonce=100", b"nonce=99"):
        err = rejection(a, body=stale)
        assert (err.message, err.token) == (
            "Invalid nonce: it must be greater than the previous one",
            "login_error_invalid_nonce",
        )
    assert call(a, body=b"nonce=101") == ALICE


def test_nonces_of_different_keys_are_independent() -> None:
    a = auth()
    call(a, ALICE, body=b"nonce=1000")
    assert call(a, BOB, body=b"nonce=5") == BOB
    assert call(a, ALICE, body=b"nonce=1001") == ALICE
    assert rejection(a, key=BOB, body=b"nonce=5").token == "login_error_invalid_nonce"


def test_a_tonce_inside_the_window_is_accepted_once() -> None:
    a = auth()
    tonce = NOW_US - 3_000_000
    assert call(a, body=f"tonce={tonce}".encode()) == ALICE
    err = rejection(a, body=f"tonce={tonce}".encode(), now_us=NOW_US + 1_000_000)
    assert (err.message, err.token) == (
        "Invalid tonce: outside the allowed window or already used",
        "login_error_invalid_tonce",
    )


def test_tonces_need_not_increase() -> None:
    a = auth()
    assert call(a, body=f"tonce={NOW_US + 5_000_000}".encode()) == ALICE
    assert call(a, body=f"tonce={NOW_US - 5_000_000}".encode()) == ALICE


@pytest.mark.parametrize("offset_s", [11, -11])
def test_a_tonce_eleven_seconds_off_is_refused(offset_s: int) -> None:
    err = rejection(auth(), body=f"tonce={NOW_US + offset_s * 1_000_000}".encode())
    assert err.token == "login_error_invalid_tonce"


def test_the_tonce_window_edge_is_inclusive() -> None:
    assert call(auth(), body=f"tonce={NOW_US - 10_000_000}".encode()) == ALICE


def test_the_same_tonce_is_fine_for_another_key() -> None:
    a = auth()
    call(a, ALICE, body=f"tonce={NOW_US}".encode())
    assert call(a, BOB, body=f"tonce={NOW_US}".encode()) == BOB


def test_used_tonces_are_forgotten_once_they_leave_the_window() -> None:
    a = Authenticator([ALICE], tonce_window_us=1_000)
    for i in range(1_000):
        now = NOW_US + i * 10_000
        call(a, body=f"tonce={now}".encode(), now_us=now)
    assert a.tonces_remembered(ALICE.key) <= 2  # only what could still be replayed is kept


def test_a_key_without_the_right_is_refused_after_every_other_check() -> None:
    a = auth()
    err = rejection(a, key=BOB, body=b"nonce=7", right="trade")
    assert (err.message, err.token) == ('This API key lacks the "trade" right', "login_error_missing_right")
    # The refused call did not consume nonce 7.
    assert a.last_nonce(BOB.key) is None
    assert call(a, BOB, body=b"nonce=7") == BOB


def test_a_stale_nonce_is_reported_before_a_missing_right() -> None:
    a = auth()
    call(a, BOB, body=b"nonce=10")
    assert rejection(a, key=BOB, body=b"nonce=9", right="trade").token == "login_error_invalid_nonce"


def test_a_right_the_key_holds_is_accepted() -> None:
    assert call(auth(), ALICE, right="trade") == ALICE


def test_messages_never_contain_the_secret_or_the_signature() -> None:
    a = auth()
    good = sign(SECRET, message_to_sign(2, "BTCUSD/money/info", b"nonce=1"))
    call(a, body=b"nonce=1")
    errors = [
        rejection(a, body=b"nonce=1"),  # stale, correctly signed
        rejection(a, body=b"nonce=2", rest_sign=good),  # signature of another body
        rejection(a, key=BOB, body=b"nonce=3", right="trade"),
    ]
    for err in errors:
        for secret in (SECRET, BOB_SECRET, good):
            assert secret not in str(err)


def test_an_unknown_right_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="right"):
        call(auth(), right="fly")


def test_keys_by_id_gives_read_access() -> None:
    a = auth()
    assert a.keys_by_id[BOB.key] == BOB
    with pytest.raises(TypeError):
        a.keys_by_id["x"] = BOB  # type: ignore[index]


def test_duplicate_keys_are_refused_by_the_authenticator() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Authenticator([ALICE, ALICE])


# --- keys ------------------------------------------------------------------------------------


def test_repr_hides_the_secret() -> None:
    assert SECRET not in repr(ALICE)
    assert SECRET not in str(ALICE)
    assert ALICE.key in repr(ALICE)


def test_default_keys_are_deterministic_for_a_seed_and_differ_for_another() -> None:
    first, again, other = default_keys(7), default_keys(7), default_keys(8)
    assert first == again
    assert {k.key for k in first}.isdisjoint(k.key for k in other)
    assert {k.secret for k in first}.isdisjoint(k.secret for k in other)


def test_default_keys_have_the_documented_accounts_and_rights() -> None:
    keys = default_keys(1)
    assert [(k.account, k.rights) for k in keys] == [
        ("alice", frozenset({"get_info", "trade", "deposit", "withdraw"})),
        ("alice", frozenset({"get_info"})),
        ("bob", frozenset({"get_info", "trade"})),
    ]
    for k in keys:
        assert len(base64.b64decode(k.secret, validate=True)) == 64
        parts = k.key.split("-")
        assert [len(p) for p in parts] == [8, 4, 4, 4, 12]
        assert parts[2][0] == "4"
    assert len({k.key for k in keys}) == 3


def test_default_keys_sign_and_verify() -> None:
    keys = default_keys(3)
    a = Authenticator(keys)
    for k in keys:
        assert call(a, k, body=b"nonce=1") == k


def write_keys(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "keys.json"
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return path


def entry(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {"key": ALICE.key, "secret": SECRET, "rights": ["get_info"], "account": "alice"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_a_valid_keys_file_loads(tmp_path: Path) -> None:
    doc = {"keys": [entry(), entry(key=BOB.key, secret=BOB_SECRET, rights=["get_info", "trade"], account="bob")]}
    path = write_keys(tmp_path, doc)
    keys = load_keys(path)
    assert keys == [
        ApiKey(ALICE.key, SECRET, frozenset({"get_info"}), "alice"),
        ApiKey(BOB.key, BOB_SECRET, frozenset({"get_info", "trade"}), "bob"),
    ]


# A secret-like value used where a secret might leak into a message.
LEAKY = "c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw=="


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ([entry()], "expected an object"),
        ({"keys": []}, '"keys" is empty'),
        ({"keys": ["alice"]}, "key #1: expected an object"),
        ({"keys": [entry(secret=None)]}, "key #1: missing field(s) secret"),
        (
            {"keys": [entry(), entry(key=BOB.key, rights=None, account=None)]},
            "key #2: missing field(s) rights, account",
        ),
        ({"keys": [entry(secret="not base64!!" + LEAKY)]}, "key #1: secret is not valid base64"),
        ({"keys": [entry(secret="")]}, "key #1: secret must be a non-empty string"),
        ({"keys": [entry(secret=12)]}, "key #1: secret must be a non-empty string"),
        ({"keys": [entry(rights=["get_info", "launch_missiles"])]}, "key #1: unknown right(s) launch_missiles"),
        ({"keys": [entry(rights="get_info")]}, "key #1: rights must be a list of strings"),
        ({"keys": [entry(), entry(secret=LEAKY)]}, "key #2: duplicate key (same as key #1)"),
        ({"keys": [entry(password=LEAKY)]}, "key #1: unknown field(s) password"),
    ],
)
def test_a_bad_keys_file_is_one_line_naming_the_file_and_never_the_secret(
    tmp_path: Path, doc: object, expected: str
) -> None:
    path = write_keys(tmp_path, doc)
    with pytest.raises(KeysFileError) as info:
        load_keys(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert SECRET not in message
    assert LEAKY not in message


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(f'{{\n  "keys": [\n    {{"key": "k", "secret": "{SECRET}" "rights": []}}\n  ]\n}}\n')
    with pytest.raises(KeysFileError) as info:
        load_keys(path)
    message = str(info.value)
    assert message.startswith(f"{path}: line 3 ")
    assert "not valid JSON" in message
    assert SECRET not in message
    assert "\n" not in message


def test_an_unreadable_keys_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(KeysFileError, match=r"absent\.json: cannot read"):
        load_keys(path)
