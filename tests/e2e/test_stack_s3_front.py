"""The local S3 front refuses what S3 refuses: presigned URLs with a wrong
signature, a foreign key, past their expiry or with a body of another length
than the one they sign; anonymous requests to the media bucket. It answers a
form-encoded part PUT (curl's default) at once, as S3 does."""

from __future__ import annotations

import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import boto3
import pytest
import requests
from botocore.config import Config

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]

BUCKET = "media-bucket"
KEY = "uploads/front/op_1/part-checks.bin"


def s3_error(response: requests.Response) -> tuple[str, str]:
    root = ET.fromstring(response.content)  # noqa: S314 - our own stack's answer
    return root.findtext("Code") or "", root.findtext("Message") or ""


def s3_client(stack: Stack, access_key: str = "devstack") -> Any:
    return boto3.client(
        "s3",
        endpoint_url=stack.moto_url,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key="devstack",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


@pytest.fixture
def upload_id(stack: Stack) -> Iterator[str]:
    s3 = s3_client(stack)
    created = s3.create_multipart_upload(Bucket=BUCKET, Key=KEY)["UploadId"]
    yield created
    s3.abort_multipart_upload(Bucket=BUCKET, Key=KEY, UploadId=created)


def refusal(url: str) -> tuple[int, str]:
    """A PUT of a 10-byte part to `url`: S3's status and error code."""
    response = requests.put(url, data=b"0123456789", timeout=5)
    return response.status_code, s3_error(response)[0]


def part_url(stack: Stack, upload_id: str, length: int | None = 10, expires: int = 60) -> str:
    params: dict[str, Any] = {"Bucket": BUCKET, "Key": KEY, "UploadId": upload_id, "PartNumber": 1}
    if length is not None:
        params["ContentLength"] = length
    url: str = s3_client(stack).generate_presigned_url(
        "upload_part", Params=params, ExpiresIn=expires
    )
    return url


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_presigned_part_put_of_the_signed_length_is_accepted(
    stack: Stack, upload_id: str
) -> None:
    response = requests.put(part_url(stack, upload_id), data=b"0123456789", timeout=5)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"]


def test_a_part_put_longer_than_its_signed_length_is_refused(stack: Stack, upload_id: str) -> None:
    response = requests.put(part_url(stack, upload_id), data=b"0123456789+", timeout=5)
    assert response.status_code == 403
    assert s3_error(response)[0] == "SignatureDoesNotMatch"
    parts = s3_client(stack).list_parts(Bucket=BUCKET, Key=KEY, UploadId=upload_id)
    assert parts.get("Parts", []) == []


def test_a_forged_signature_is_refused(stack: Stack, upload_id: str) -> None:
    url = with_query(part_url(stack, upload_id), **{"X-Amz-Signature": "0" * 64})
    response = requests.put(url, data=b"0123456789", timeout=5)
    assert response.status_code == 403
    code, message = s3_error(response)
    assert code == "SignatureDoesNotMatch"
    assert "does not match" in message


def test_a_url_edited_to_another_part_number_is_refused(stack: Stack, upload_id: str) -> None:
    url = with_query(part_url(stack, upload_id), partNumber="2")
    assert refusal(url) == (403, "SignatureDoesNotMatch")


def test_a_url_signed_with_a_key_the_stack_does_not_know_is_refused(
    stack: Stack, upload_id: str
) -> None:
    url = s3_client(stack, access_key="someone-else").generate_presigned_url(
        "upload_part",
        Params={"Bucket": BUCKET, "Key": KEY, "UploadId": upload_id, "PartNumber": 1},
        ExpiresIn=60,
    )
    assert refusal(url) == (403, "InvalidAccessKeyId")


def test_an_expired_url_is_refused_as_s3_refuses_it(stack: Stack, upload_id: str) -> None:
    url = part_url(stack, upload_id, expires=1)
    time.sleep(2.1)
    response = requests.put(url, data=b"0123456789", timeout=5)
    assert response.status_code == 403
    assert s3_error(response) == ("AccessDenied", "Request has expired")


def test_an_expiry_over_a_week_is_a_malformed_url(stack: Stack, upload_id: str) -> None:
    url = with_query(part_url(stack, upload_id), **{"X-Amz-Expires": "604801"})
    assert refusal(url) == (400, "AuthorizationQueryParametersError")


def test_a_refusal_reaches_a_browser_with_the_buckets_cors_headers(
    stack: Stack, upload_id: str
) -> None:
    url = with_query(part_url(stack, upload_id), **{"X-Amz-Signature": "0" * 64})
    response = requests.put(url, data=b"0123456789", headers={"Origin": stack.base_url}, timeout=5)
    assert response.status_code == 403
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_an_anonymous_read_of_the_media_bucket_is_refused(stack: Stack) -> None:
    s3_client(stack).put_object(Bucket=BUCKET, Key="uploads/front/anonymous.txt", Body=b"x")
    response = requests.get(f"{stack.moto_url}/{BUCKET}/uploads/front/anonymous.txt", timeout=5)
    assert response.status_code == 403
    assert s3_error(response)[0] == "AccessDenied"


def curl_put(url: str, path: Path) -> tuple[int, str]:
    """`curl -X PUT --data-binary @path url`, bounded by curl's own --max-time of
    one second: S3's status and body."""
    curl = shutil.which("curl")
    assert curl is not None, "curl is installed by `make test` (browser-deps)"
    command = [curl, "-sS", "--max-time", "1", "-o", "-", "-w", "\n%{http_code}", "-X", "PUT"]
    command += ["--data-binary", f"@{path}", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
    # Exit status 28 is curl's "Operation timed out": no answer within the second.
    assert done.returncode == 0, f"curl exited {done.returncode}: {done.stderr}"
    text, _, status = done.stdout.rpartition("\n")
    return int(status), text


def test_curl_data_binary_put_of_a_part_is_answered_within_a_second(
    stack: Stack, upload_id: str, tmp_path: Path
) -> None:
    """`curl --data-binary` sends Content-Type application/x-www-form-urlencoded,
    which S3 ignores; the bytes land as sent."""
    part = tmp_path / "part"
    part.write_bytes(b"0123456789")
    assert curl_put(part_url(stack, upload_id), part)[0] == 200
    parts = s3_client(stack).list_parts(Bucket=BUCKET, Key=KEY, UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 10)]


def test_curl_data_binary_put_through_the_apis_part_url_is_answered_within_a_second(
    stack: Stack, tmp_path: Path
) -> None:
    """The user's path: the API signs a part URL for the part's length; curl's
    form-encoded PUT of that part gets S3's answer within a second, and a
    longer file is refused as S3 refuses it."""
    part, longer = tmp_path / "part", tmp_path / "longer"
    part.write_bytes(bytes(range(256)) * 4)
    longer.write_bytes(part.read_bytes() + b"!")
    body = {"filename": "c.mp4", "contentType": "video/mp4", "size": 1024}
    started = stack.call("POST", "/uploads", "curl", {**body, "target": {"type": "library"}})
    operation_id = started.json()["operationId"]
    signed = stack.call("POST", f"/uploads/{operation_id}/parts", "curl", {"partNumbers": [1]})
    url = signed.json()["urls"]["1"]

    status, text = curl_put(url, longer)
    assert (status, "<Code>SignatureDoesNotMatch</Code>" in text) == (403, True)
    assert curl_put(url, part)[0] == 200
    parts = stack.call("GET", f"/uploads/{operation_id}", "curl").json()["parts"]
    assert [(p["partNumber"], p["size"]) for p in parts] == [(1, 1024)]
