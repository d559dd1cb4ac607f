"""The collector's signer: reference vectors, an independent signer (openssl), and secrets kept out of errors."""

from __future__ import annotations

import base64
import random
import shutil
import subprocess
import traceback
import urllib.parse

import pytest

from collector.errors import CredentialsError
from collector.exchanges.signing import CONTENT_TYPE, headers, message, rest_sign

# Reference section 6 (computed with Python hmac and openssl, not from Mt.Gox): secret = bytes 0x00..0x3f.
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
KEY = "12345678-abcd-1234-abcd-50286e649d5c"


@pytest.mark.parametrize(("version", "path", "body", "expected"), VECTORS)
def test_the_reference_vectors_sign_exactly(version: int, path: str, body: bytes, expected: str) -> None:
    assert rest_sign(SECRET, version, path, body) == expected


def test_v0_signs_like_v1_the_body_alone() -> None:
    assert rest_sign(SECRET, 0, "ignored/for/v0", BODY) == VECTORS[0][3]
    assert message(0, "x", BODY) == message(1, "y", BODY) == BODY


def test_v2_signs_the_path_a_nul_and_the_body() -> None:
    assert message(2, "money/info", BODY) == b"money/info\0" + BODY
    assert message(2, "money/info", b"") == b"money/info\0"


def test_v2_cuts_the_api_prefix_and_the_query_string() -> None:
    assert message(2, "/api/2/BTCUSD/money/info?raw", BODY) == message(2, "BTCUSD/money/info", BODY)
    assert rest_sign(SECRET, 2, "/api/2/money/info?raw", BODY) == VECTORS[2][3]


@pytest.mark.parametrize("path", ["", "/money/info", "/api/1/generic/info", "?raw"])
def test_a_v2_path_that_cannot_be_what_follows_api_2_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match="v2 sign path"):
        message(2, path, BODY)


@pytest.mark.parametrize("version", [-1, 3, 10])
def test_an_unknown_version_is_refused(version: int) -> None:
    with pytest.raises(ValueError, match="unknown API version"):
        message(version, "money/info", BODY)


def test_headers_carry_key_signature_and_form_content_type() -> None:
    assert headers(KEY, SECRET, 2, "money/info", BODY) == {
        "Rest-Key": KEY,
        "Rest-Sign": VECTORS[2][3],
        "Content-Type": CONTENT_TYPE,
    }
    assert CONTENT_TYPE == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("key", ["", " " + KEY, KEY + "\n", "a b", "key\x00"])
def test_a_key_that_would_make_a_broken_header_is_refused(key: str) -> None:
    with pytest.raises(CredentialsError, match="API key"):
        headers(key, SECRET, 1, "", BODY)


# A recognisable secret-like fragment, so a leak through any message is easy to spot.
LEAKY = "c2VjcmV0LXNob3VsZC1uZXZlci1sZWFr"


@pytest.mark.parametrize(
    "secret",
    [
        LEAKY + "!",  # a character outside the alphabet
        LEAKY + "Q",  # bad length / padding
        LEAKY + "=\n",  # a newline from a secret file
        " " + LEAKY,
        LEAKY.replace("Z", "é"),  # non-ASCII
        LEAKY[:-2] + "-_",  # url-safe alphabet, not what Mt.Gox handed out
        "",
        "   ",
    ],
)
def test_a_malformed_secret_raises_credentials_error_without_quoting_it(secret: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        rest_sign(secret, 1, "", BODY)
    told = str(caught.value) + repr(caught.value) + "".join(traceback.format_exception(caught.value))
    assert "secret" in str(caught.value).lower()
    assert "\n" not in str(caught.value)
    for fragment in {secret.strip(), LEAKY, LEAKY[:12], LEAKY[-12:]} - {""}:
        assert fragment not in told
    assert caught.value.__cause__ is None


def test_a_non_string_secret_is_refused() -> None:
    with pytest.raises(CredentialsError, match="base64 string"):
        rest_sign(b"AAAA", 1, "", BODY)  # type: ignore[arg-type]


# --- an independent signer -------------------------------------------------------------------


def openssl_sign(secret_b64: str, msg: bytes) -> str:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed; the independent signer is unavailable")
    hexkey = base64.b64decode(secret_b64).hex()
    mac = subprocess.run(
        [openssl, "dgst", "-sha512", "-mac", "HMAC", "-macopt", f"hexkey:{hexkey}", "-binary"],
        input=msg,
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    assert len(mac) == 64, "openssl did not print a raw SHA-512 HMAC"
    return base64.b64encode(mac).decode()


def random_case(seed: int) -> tuple[str, str, bytes]:
    rng = random.Random(seed)
    secret = base64.b64encode(rng.randbytes(rng.choice([16, 32, 64, 100, 200]))).decode()
    fields = {"nonce": str(rng.randrange(10**15, 10**16))}
    for _ in range(rng.randrange(0, 6)):
        name = "".join(rng.choice("abcdefghij_") for _ in range(rng.randrange(1, 12)))
        fields[name] = "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(rng.randrange(0, 40)))
    body = urllib.parse.urlencode(fields).encode()
    path = rng.choice(["money/info", "BTCUSD/money/order/add", "BTCEUR/money/wallet/history", "money/idkey"])
    return secret, path, body


@pytest.mark.parametrize("seed", range(12))
def test_v1_agrees_with_openssl_on_random_bodies(seed: int) -> None:
    secret, _, body = random_case(seed)
    assert rest_sign(secret, 1, "", body) == openssl_sign(secret, body)


@pytest.mark.parametrize("seed", range(12))
def test_v2_agrees_with_openssl_on_random_bodies(seed: int) -> None:
    secret, path, body = random_case(1000 + seed)
    assert rest_sign(secret, 2, path, body) == openssl_sign(secret, path.encode() + b"\0" + body)
