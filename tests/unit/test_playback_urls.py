"""Signed CloudFront URLs in the format CloudFront checks: a canned policy
(the URL and an expiry) signed RSA-SHA1 with the key group's private key,
carried as `Expires`, `Signature` and `Key-Pair-Id`; and the private key read
once from Secrets Manager."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from chalicelib.errors import Unavailable
from chalicelib.store.playback_urls import CloudFrontPlaybackUrls, SecretKey

NOW = 1_796_000_000
DOMAIN = "d111111abcdef8.cloudfront.net"
KEY_PAIR_ID = "K2JCJMDEHXQW5F"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signed(key: rsa.RSAPrivateKey, object_key: str, expires_in: int = 600) -> str:
    urls = CloudFrontPlaybackUrls(DOMAIN, KEY_PAIR_ID, lambda: key, clock=lambda: NOW + 0.7)
    return urls.url(object_key, expires_in)


def cloudfront_signature(text: str) -> bytes:
    """CloudFront's URL-safe base64: + becomes -, = becomes _, / becomes ~."""
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


def test_the_url_names_the_object_on_the_distribution_and_carries_the_three_parameters(
    key: rsa.RSAPrivateKey,
) -> None:
    url = signed(key, "uploads/ann/op_1/Lecture 1 \u00e9t\u00e9.mp4")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", DOMAIN)
    assert parts.path == "/uploads/ann/op_1/Lecture%201%20%C3%A9t%C3%A9.mp4"
    query = parse_qs(parts.query)
    assert set(query) == {"Expires", "Signature", "Key-Pair-Id"}
    assert query["Expires"] == [str(NOW + 600)]
    assert query["Key-Pair-Id"] == [KEY_PAIR_ID]


def test_the_signature_verifies_over_the_canned_policy_with_the_public_key(
    key: rsa.RSAPrivateKey,
) -> None:
    url = signed(key, "posters/ann/m_1.jpg", expires_in=3600)
    resource, _, query = url.partition("?")
    params = parse_qs(query)
    # The canned policy exactly as CloudFront rebuilds it: no whitespace, this order.
    policy = json.dumps(
        {
            "Statement": [
                {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": NOW + 3600}}}
            ]
        },
        separators=(",", ":"),
    ).encode()
    signature = cloudfront_signature(params["Signature"][0])
    key.public_key().verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    tampered = policy.replace(b"m_1", b"m_2")
    with pytest.raises(InvalidSignature):
        key.public_key().verify(signature, tampered, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303


class Secrets:
    def __init__(self, answer: str | Exception) -> None:
        self.answer = answer
        self.calls: list[str] = []

    def get_secret_value(self, *, SecretId: str) -> Mapping[str, Any]:  # noqa: N803 - boto3's name
        self.calls.append(SecretId)
        if isinstance(self.answer, Exception):
            raise self.answer
        return {"SecretString": self.answer}


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_the_private_key_is_read_from_secrets_manager_once(key: rsa.RSAPrivateKey) -> None:
    secrets = Secrets(pem(key))
    loader = SecretKey(secrets, "course-media/playback-key")

    first, second = loader.get(), loader.get()

    assert secrets.calls == ["course-media/playback-key"]
    assert first is second
    assert first.public_key().public_numbers() == key.public_key().public_numbers()


def test_a_key_that_is_not_rsa_is_refused_as_unavailable() -> None:
    secrets = Secrets(pem(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(Unavailable) as err:
        SecretKey(secrets, "k").get()
    assert err.value.code == "playback_unavailable"


def test_secrets_manager_failing_is_a_503_the_client_may_retry() -> None:
    denied = ClientError({"Error": {"Code": "InternalServiceError"}}, "GetSecretValue")
    with pytest.raises(Unavailable) as err:
        SecretKey(Secrets(denied), "k").get()
    assert err.value.code == "playback_unavailable"
    assert err.value.retry_after is not None
