"""The local stack's moto completes a multipart upload as moto does (the same
object, ETag and checksum, the same refusals), only without copying the object
over and over: the fix must change the cost of `complete`, nothing a client sees."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from devstack.moto_fixes import apply_moto_fixes, patched_attributes

REGION = "us-east-1"
BUCKET = "completion-bucket"
MIB = 1024**2
# Two full parts and a short last one: S3's smallest valid upload with a tail.
PARTS = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(1234)]

# What CreateMultipartUpload asks for: nothing (the browser's presigned flow),
# boto3 upload_file's CRC32, and the other kinds moto distinguishes.
CHECKSUMS: list[dict[str, str]] = [
    {},
    {"ChecksumAlgorithm": "CRC32"},
    {"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"},
    {"ChecksumAlgorithm": "SHA256"},
]


@pytest.fixture
def patched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Restores what apply_moto_fixes patches, so other tests meet moto as it is."""
    for owner, name in patched_attributes():
        monkeypatch.setattr(owner, name, getattr(owner, name))


def _upload(
    s3: Any,
    key: str,
    checksum: dict[str, str],
    parts: list[bytes],
    *,
    etags: list[str] | None = None,
) -> dict[str, Any]:
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key, **checksum)["UploadId"]
    algorithm = checksum.get("ChecksumAlgorithm")
    sent = []
    for number, body in enumerate(parts, 1):
        extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
        answer = s3.upload_part(
            Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=body, **extra
        )
        part = {"PartNumber": number, "ETag": answer["ETag"]}
        part.update({k: v for k, v in answer.items() if k.startswith("Checksum")})
        sent.append(part)
    for part, etag in zip(sent, etags or [], strict=False):
        part["ETag"] = etag
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": sent}
    )
    head = s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    seen = {k: v for k, v in head.items() if k.startswith("Checksum") or k == "ETag"}
    return {"body_md5": hashlib.md5(body).hexdigest(), "length": len(body), **seen}  # noqa: S324


def _outcomes(parts: list[bytes], etags: list[str] | None = None) -> list[Any]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        found: list[Any] = []
        for i, checksum in enumerate(CHECKSUMS):
            try:
                found.append(_upload(s3, f"k{i}", checksum, parts, etags=etags))
            except ClientError as exc:
                found.append(exc.response["Error"]["Code"])
        return found


def test_a_completion_gives_what_moto_gives(patched: None) -> None:
    before = _outcomes(PARTS)
    apply_moto_fixes()
    after = _outcomes(PARTS)
    assert after == before
    whole = b"".join(PARTS)
    part_md5s = b"".join(hashlib.md5(p).digest() for p in PARTS)  # noqa: S324
    for outcome in after:
        assert outcome["body_md5"] == hashlib.md5(whole).hexdigest()  # noqa: S324
        assert outcome["length"] == len(whole)
        assert outcome["ETag"] == f'"{hashlib.md5(part_md5s).hexdigest()}-3"'  # noqa: S324
    # A full-object CRC32 is the CRC32 of the whole object, run part by part or not.
    full = base64.b64encode(binascii.crc32(whole).to_bytes(4, "big")).decode()
    assert after[2]["ChecksumType"] == "FULL_OBJECT"
    assert after[2]["ChecksumCRC32"] == full


def test_a_completion_refuses_what_moto_refuses(patched: None) -> None:
    short_first = [os.urandom(1234), *PARTS[1:]]
    wrong_etag = ['"' + "0" * 32 + '"']
    before = [_outcomes(short_first), _outcomes(PARTS, wrong_etag)]
    apply_moto_fixes()
    after = [_outcomes(short_first), _outcomes(PARTS, wrong_etag)]
    assert after == before
    assert set(after[0]) == {"EntityTooSmall"}
    assert set(after[1]) == {"InvalidPart"}


def test_an_object_reads_back_what_was_put_whatever_its_size(patched: None) -> None:
    # Past moto's in-memory size (5 MiB less 1 KiB) a key's bytes go to a file.
    apply_moto_fixes()
    bodies = {"small": b"tiny", "large": os.urandom(6 * MIB), "empty": b""}
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        for key, body in bodies.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        for key, body in bodies.items():
            assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body
