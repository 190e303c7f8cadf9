"""The URLs a member's player fetches media and posters with, one kind per
deployment (PLAYBACK_SIGNER):

- `S3PlaybackUrls`: presigned S3 GETs, on the local stack and in tests. S3
  answers Range requests on them, so a <video> element seeks.
- `CloudFrontPlaybackUrls`: in production the bucket is reachable only through
  the CloudFront distribution (Origin Access Control, infra/template.json),
  which serves only URLs signed with a key of its key group: a canned policy
  (the URL, an expiry) signed RSA-SHA1 by botocore's CloudFrontSigner, as
  CloudFront requires. CloudFront passes Range to S3 and caches the bytes
  at the edge, so a course watched by many members is read from S3 once.

The private key is a PEM in Secrets Manager, read once per container, on the
first playback: a cold start that serves no playback never reads it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from threading import Lock
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from chalicelib.errors import Unavailable
from chalicelib.store.aws_errors import translated

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3PlaybackUrls:
    def __init__(self, s3: S3Client, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def url(self, key: str, expires_in: int) -> str:
        # Presigning is local computation: no request, so no AWS error to map.
        return self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in
        )


class SecretReader(Protocol):
    """Secrets Manager's GetSecretValue, as boto3's client offers it."""

    def get_secret_value(self, *, SecretId: str) -> Mapping[str, Any]: ...  # noqa: N803


class SecretKey:
    """An RSA private key kept as a PEM in a Secrets Manager secret, loaded
    once and kept for the container's life."""

    def __init__(self, secrets: SecretReader, secret_id: str) -> None:
        self._secrets = secrets
        self._secret_id = secret_id
        self._key: rsa.RSAPrivateKey | None = None
        self._lock = Lock()

    def get(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._key is None:
                self._key = self._load()
            return self._key

    def _load(self) -> rsa.RSAPrivateKey:
        with translated("reading the playback signing key", code="playback_unavailable"):
            pem = str(self._secrets.get_secret_value(SecretId=self._secret_id)["SecretString"])
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            # CloudFront key groups hold RSA keys; anything else is a deployment error.
            raise Unavailable(
                "the playback signing key is not an RSA key", code="playback_unavailable"
            )
        return key


class CloudFrontPlaybackUrls:
    def __init__(
        self,
        domain: str,
        key_pair_id: str,
        key: Callable[[], rsa.RSAPrivateKey],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._base = f"https://{domain}/"
        self._key = key
        self._signer = CloudFrontSigner(key_pair_id, self._sign)
        self._clock = clock

    def _sign(self, message: bytes) -> bytes:
        return self._key().sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - CloudFront's algorithm

    def url(self, key: str, expires_in: int) -> str:
        expires = datetime.fromtimestamp(int(self._clock()) + expires_in, UTC)
        return self._signer.generate_presigned_url(
            self._base + quote(key, safe="/"), date_less_than=expires
        )
