"""Token verification: HS256 with a shared secret, RS256 through a JWKS URL.

The JWKS case uses a locally generated RSA key whose JWK set a tiny server on
a free loopback port serves (PyJWKClient accepts only http and https URLs), so
the client really fetches and parses it, without reaching any network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from chalicelib.auth import Caller, TokenVerifier, bearer_token, mint_token
from chalicelib.errors import Unauthenticated
from chalicelib.settings import Settings

SECRET = "unit-test-secret-0123456789abcdef"
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"
AUDIENCE = "app-client-1"
TABLES: dict[str, Any] = {
    "courses_table": "c",
    "media_table": "m",
    "uploads_table": "u",
    "connections_table": "x",
    "events_table": "e",
    "outbox_table": "o",
    "media_bucket": "b",
    "websocket_endpoint": "http://127.0.0.1:9/api",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_signed(header: Mapping[str, Any], claims: Mapping[str, Any], key: bytes) -> str:
    """A token PyJWT itself would refuse to produce (alg none, HMAC with a public key)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    if header["alg"] == "none":
        return signing_input + "."
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _claims(user: str = "alice", ttl: int = 600, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": user, "iat": now, "exp": now + ttl, **extra}


def _reason(verifier: TokenVerifier, token: str | None) -> str:
    with pytest.raises(Unauthenticated) as raised:
        verifier.verify(token)
    assert raised.value.status == 401
    return raised.value.code


# ---- HS256 ------------------------------------------------------------------


@pytest.fixture
def hs256() -> TokenVerifier:
    return TokenVerifier(Settings(**TABLES, auth_mode="hs256", auth_jwt_secret=SECRET))


def test_a_valid_hs256_token_names_the_caller(hs256: TokenVerifier) -> None:
    assert hs256.verify(mint_token(SECRET, "alice")) == Caller(user_id="alice")


def test_an_expired_token_is_refused_as_expired(hs256: TokenVerifier) -> None:
    assert _reason(hs256, mint_token(SECRET, "alice", ttl_seconds=-120)) == "token_expired"


def test_a_token_expired_within_the_clock_skew_leeway_is_accepted(hs256: TokenVerifier) -> None:
    assert hs256.verify(mint_token(SECRET, "alice", ttl_seconds=-5)).user_id == "alice"


def test_a_token_signed_with_another_secret_is_refused(hs256: TokenVerifier) -> None:
    forged = mint_token("someone-elses-secret-0123456789abcdef", "alice")
    assert _reason(hs256, forged) == "invalid_token"


@pytest.mark.parametrize("token", [None, ""])
def test_a_missing_token_is_refused(hs256: TokenVerifier, token: str | None) -> None:
    assert _reason(hs256, token) == "unauthorized"


def test_a_token_with_another_hmac_algorithm_is_refused(hs256: TokenVerifier) -> None:
    token = jwt.encode(_claims(), SECRET * 2, algorithm="HS512")
    assert _reason(hs256, token) == "invalid_token"


def test_an_unsigned_token_is_refused(hs256: TokenVerifier) -> None:
    token = _hand_signed({"alg": "none", "typ": "JWT"}, _claims(), b"")
    assert _reason(hs256, token) == "invalid_token"


@pytest.mark.parametrize("missing", ["sub", "exp"])
def test_a_token_without_sub_or_exp_is_refused(hs256: TokenVerifier, missing: str) -> None:
    claims = _claims()
    del claims[missing]
    assert _reason(hs256, jwt.encode(claims, SECRET, algorithm="HS256")) == "invalid_token"


@pytest.mark.parametrize("sub", ["a/b", "user:1", "", "x" * 200, "../etc"])
def test_a_subject_unfit_for_keys_and_channels_is_refused(hs256: TokenVerifier, sub: str) -> None:
    token = jwt.encode(_claims(user=sub), SECRET, algorithm="HS256")
    assert _reason(hs256, token) == "invalid_token"


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_a_date_claim_given_as_a_numeric_string_is_refused(
    hs256: TokenVerifier, claim: str
) -> None:
    claims = _claims()
    claims[claim] = str(int(time.time()) + (600 if claim == "exp" else -10))
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    assert _reason(hs256, token) == "invalid_token"


def test_a_subject_with_a_trailing_newline_is_refused(hs256: TokenVerifier) -> None:
    token = jwt.encode(_claims(user="alice\n"), SECRET, algorithm="HS256")
    assert _reason(hs256, token) == "invalid_token"


def test_the_callers_rights_end_when_rest_stops_accepting_the_token(
    hs256: TokenVerifier,
) -> None:
    # exp plus the 30-second leeway the verifier allows for clock skew.
    claims = _claims(ttl=90)
    caller = hs256.verify(jwt.encode(claims, SECRET, algorithm="HS256"))
    assert caller.expires_at == claims["exp"] + 30


def test_garbage_is_refused(hs256: TokenVerifier) -> None:
    assert _reason(hs256, "not.a.jwt") == "invalid_token"


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        ({"Authorization": "Bearer abc"}, "abc"),
        ({"authorization": "bearer abc "}, "abc"),
        ({"Authorization": "Basic abc"}, None),
        ({"Authorization": "Bearer "}, None),
        ({}, None),
    ],
)
def test_the_bearer_token_is_read_from_the_authorization_header(
    headers: dict[str, str], token: str | None
) -> None:
    assert bearer_token(headers) == token


# ---- RS256 through JWKS ------------------------------------------------------


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(signing_key: rsa.RSAPrivateKey) -> Iterator[str]:
    jwk = RSAAlgorithm.to_jwk(signing_key.public_key(), as_dict=True)
    jwk.update({"kid": "key-1", "use": "sig", "alg": "RS256"})
    document = json.dumps({"keys": [jwk]}).encode()

    class JwksHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), JwksHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def jwks(jwks_url: str) -> TokenVerifier:
    settings = Settings(
        **TABLES,
        auth_mode="jwks",
        auth_jwks_url=jwks_url,
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        page_token_secret="a-page-token-secret-of-32-characters",
    )
    return TokenVerifier(settings)


def _rs256(key: rsa.RSAPrivateKey, kid: str = "key-1", **claims: Any) -> str:
    payload = _claims(iss=ISSUER, aud=AUDIENCE) | claims
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def test_a_valid_rs256_token_names_the_caller(
    jwks: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    assert jwks.verify(_rs256(signing_key)) == Caller(user_id="alice")


def test_a_token_from_another_issuer_is_refused(
    jwks: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    token = _rs256(signing_key, iss="https://elsewhere.example")
    assert _reason(jwks, token) == "invalid_token"


def test_a_token_for_another_audience_is_refused(
    jwks: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    assert _reason(jwks, _rs256(signing_key, aud="another-client")) == "invalid_token"


def test_an_expired_rs256_token_is_refused_as_expired(
    jwks: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    token = _rs256(signing_key, exp=int(time.time()) - 120)
    assert _reason(jwks, token) == "token_expired"


def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(jwks: TokenVerifier) -> None:
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _reason(jwks, _rs256(impostor)) == "invalid_token"


def test_a_token_naming_an_unknown_kid_is_refused(
    jwks: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    assert _reason(jwks, _rs256(signing_key, kid="key-9")) == "invalid_token"


def test_an_hs256_token_keyed_with_the_public_key_is_refused(
    jwks: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    public_pem = signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": "key-1"}
    token = _hand_signed(header, _claims(iss=ISSUER, aud=AUDIENCE), public_pem)
    assert _reason(jwks, token) == "invalid_token"


def test_an_hs256_development_token_is_refused_in_jwks_mode(jwks: TokenVerifier) -> None:
    assert _reason(jwks, mint_token(SECRET, "alice")) == "invalid_token"
