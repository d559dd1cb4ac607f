"""The Kraken face's API-Sign verifier and nonce rules, pure: the official vector, each refusal, no side effects."""

from __future__ import annotations

import urllib.parse

import pytest

from emulator.auth import ApiKey
from emulator.errors import ApiError
from emulator.kraken_auth import NONCE_MAX, KrakenAuthenticator, api_sign
from tests.emulator_client import kraken_api_sign

# living-exchanges.md §0.1, Kraken's documented example.
SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
NONCE = "1616492376594"
PAYLOAD = b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
PATH = "/0/private/AddOrder"
SIGN = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="

KEY = ApiKey("vector-key", SECRET, frozenset({"get_info"}), "alice")
NO_QUERY = ApiKey("trade-only", SECRET, frozenset({"trade"}), "alice")


def params_of(body: bytes) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(body.decode()))


def check(auth: KrakenAuthenticator, body: bytes = PAYLOAD, *, key: ApiKey = KEY, sign: str | None = None,
          path: str = PATH):
    nonce = params_of(body).get("nonce", "")
    return auth.check(uri_path=path, body=body, api_key=key.key,
                      api_sign=sign if sign is not None else api_sign(key.secret, path, nonce, body),
                      params=params_of(body), right="get_info")


def test_the_official_kraken_vector_signs_to_the_documented_value() -> None:
    assert api_sign(SECRET, PATH, NONCE, PAYLOAD) == SIGN


def test_the_tests_own_signer_written_from_the_formula_agrees_with_the_vector() -> None:
    assert kraken_api_sign(SECRET, PATH, NONCE, PAYLOAD) == SIGN


def test_the_verifier_accepts_the_official_vector_with_its_documented_signature() -> None:
    auth = KrakenAuthenticator([KEY])
    verified = check(auth, sign=SIGN)
    assert verified.key == KEY and verified.nonce == int(NONCE)


def test_checking_records_nothing_and_accepting_records_the_nonce() -> None:
    auth = KrakenAuthenticator([KEY])
    verified = check(auth)
    assert auth.last_nonce(KEY.key) is None
    check(auth)  # the same nonce again is still fine: nothing was recorded
    auth.accept(verified)
    assert auth.last_nonce(KEY.key) == int(NONCE)
    with pytest.raises(ApiError, match="EAPI:Invalid nonce"):
        check(auth)


@pytest.mark.parametrize(("case", "error"), [
    ("unknown key", "EAPI:Invalid key"),
    ("no key", "EAPI:Invalid key"),
    ("body changed after signing", "EAPI:Invalid signature"),
    ("other path signed", "EAPI:Invalid signature"),
    ("signature not base64", "EAPI:Invalid signature"),
    ("no signature", "EAPI:Invalid signature"),
])
def test_each_bad_credential_gets_kraken_s_error(case: str, error: str) -> None:
    auth = KrakenAuthenticator([KEY])
    good = api_sign(SECRET, PATH, NONCE, PAYLOAD)
    kwargs = {"uri_path": PATH, "body": PAYLOAD, "api_key": KEY.key, "api_sign": good, "params": params_of(PAYLOAD),
              "right": "get_info"}
    kwargs.update({
        "unknown key": {"api_key": "someone-else"},
        "no key": {"api_key": None},
        "body changed after signing": {"body": PAYLOAD.replace(b"1.25", b"12.5")},
        "other path signed": {"api_sign": api_sign(SECRET, "/0/private/Balance", NONCE, PAYLOAD)},
        "signature not base64": {"api_sign": "not base64!"},
        "no signature": {"api_sign": None},
    }[case])
    with pytest.raises(ApiError) as caught:
        auth.check(**kwargs)
    assert caught.value.message == error


@pytest.mark.parametrize("nonce", ["", "-1", "+5", "1_000", " 12", str(NONCE_MAX + 1), "12a"])
def test_a_nonce_that_is_no_unsigned_64_bit_number_is_invalid(nonce: str) -> None:
    body = f"nonce={urllib.parse.quote(nonce)}&asset=XBT".encode()
    with pytest.raises(ApiError, match="EAPI:Invalid nonce"):
        check(KrakenAuthenticator([KEY]), body)


def test_the_largest_unsigned_64_bit_nonce_is_accepted() -> None:
    assert check(KrakenAuthenticator([KEY]), f"nonce={NONCE_MAX}".encode()).nonce == NONCE_MAX


def test_a_key_without_the_query_right_is_denied_after_its_nonce_is_checked() -> None:
    auth = KrakenAuthenticator([KEY, NO_QUERY])
    with pytest.raises(ApiError, match="EGeneral:Permission denied"):
        check(auth, key=NO_QUERY)
    assert auth.last_nonce(NO_QUERY.key) is None


def test_nonces_are_per_key() -> None:
    other = ApiKey("second", SECRET, frozenset({"get_info"}), "bob")
    auth = KrakenAuthenticator([KEY, other])
    auth.accept(check(auth))
    assert check(auth, key=other).nonce == int(NONCE)
