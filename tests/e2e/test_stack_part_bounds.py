"""Bytes bounded by the declaration, on every route family, as the local S3 front
enforces it: each part URL the API signs (REST, Companion's routes, Uppy's
signRequest) lets S3 take exactly that part's length and nothing else, and no
route signs a part number past the upload's part count. An upload of N declared
bytes can therefore hold no more than N bytes in S3."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pytest
import requests

from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("stack")]

MIB = 1024**2
PART = 8 * MIB  # the server's part size for files up to 80,000 MiB
SIZE = PART + 1000  # two parts: 8 MiB, then 1,000 bytes
DATA = bytes(range(256)) * (SIZE // 256) + bytes(SIZE % 256)


@dataclass
class Family:
    """How one route family signs part n of an upload: `sign(n)` answers the
    API's response (a URL on success)."""

    name: str
    key: str
    upload_id: str
    sign: Any


def s3_code(response: requests.Response) -> str:
    root = ET.fromstring(response.content)  # noqa: S314 - our own stack's answer
    return root.findtext("Code") or ""


def with_part_number(url: str, number: int) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query["partNumber"] = str(number)
    return urlunsplit(parts._replace(query=urlencode(query)))


def rest(stack: Stack, user: str) -> Family:
    body = {
        "filename": "b.mp4",
        "contentType": "video/mp4",
        "size": SIZE,
        "target": {"type": "library"},
    }
    started = stack.call("POST", "/uploads", user, body)
    assert started.status_code == 201, started.text
    upload = started.json()
    assert (upload["partSize"], upload["partCount"]) == (PART, 2)
    op = upload["operationId"]

    def sign(n: int) -> requests.Response:
        return stack.call("POST", f"/uploads/{op}/parts", user, {"partNumbers": [n]})

    return Family("rest", upload["key"], upload["uploadId"], sign)


def companion(stack: Stack, user: str) -> Family:
    body = {"filename": "b.mp4", "type": "video/mp4", "metadata": {"size": SIZE}}
    created = stack.call("POST", "/s3/multipart", user, body)
    assert created.status_code == 200, created.text
    key, upload_id = created.json()["key"], created.json()["uploadId"]

    def sign(n: int) -> requests.Response:
        return stack.call("GET", f"/s3/multipart/{upload_id}/{n}?key={quote(key, safe='')}", user)

    return Family("companion", key, upload_id, sign)


def signer(stack: Stack, user: str) -> Family:
    file = {"name": "b.mp4", "type": "video/mp4", "size": SIZE, "meta": {}}
    created = stack.call("POST", "/s3/sign", user, {"method": "POST", "key": "f1", "file": file})
    assert created.status_code == 200, created.text
    key = created.json()["key"]
    # The browser creates the S3 upload itself, through the presigned URL.
    made = requests.post(created.json()["url"], headers={"Content-Type": "video/mp4"}, timeout=10)
    assert made.status_code == 200, made.text
    match = re.search(r"<UploadId>(.+?)</UploadId>", made.text)
    assert match is not None
    upload_id = match.group(1)

    def sign(n: int) -> requests.Response:
        request = {"method": "PUT", "key": key, "uploadId": upload_id, "partNumber": n}
        return stack.call("POST", "/s3/sign", user, request)

    return Family("signer", key, upload_id, sign)


def url_of(family: Family, answer: requests.Response, n: int) -> str:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return str(body["urls"][str(n)] if family.name == "rest" else body["url"])


@pytest.mark.parametrize("make", [rest, companion, signer], ids=["rest", "companion", "signer"])
def test_a_part_url_takes_exactly_its_part_and_no_part_past_the_count(
    make: Any, stack: Stack
) -> None:
    user = f"bounds-{make.__name__}"
    family: Family = make(stack, user)
    first, last = url_of(family, family.sign(1), 1), url_of(family, family.sign(2), 2)

    # One byte more than the part, or one less, and S3 refuses it (the length is signed).
    too_long = requests.put(first, data=DATA[: PART + 1], timeout=30)
    assert (too_long.status_code, s3_code(too_long)) == (403, "SignatureDoesNotMatch")
    last_too_long = requests.put(last, data=DATA[PART:] + b"!", timeout=10)
    assert (last_too_long.status_code, s3_code(last_too_long)) == (403, "SignatureDoesNotMatch")
    short = requests.put(last, data=DATA[PART:-1], timeout=10)
    assert (short.status_code, s3_code(short)) == (403, "SignatureDoesNotMatch")

    # No route signs part 3 of a 2-part upload; the API says so in its own format...
    refused = family.sign(3)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "invalid_part_number"
    # ...and a part URL edited to name part 3 is refused by S3.
    edited = requests.put(with_part_number(last, 3), data=DATA[PART:], timeout=10)
    assert (edited.status_code, s3_code(edited)) == (403, "SignatureDoesNotMatch")

    # The exact parts are taken, and S3 holds exactly the declared bytes.
    assert requests.put(first, data=DATA[:PART], timeout=30).status_code == 200
    assert requests.put(last, data=DATA[PART:], timeout=10).status_code == 200
    listed = stack.call(
        "GET", f"/s3/multipart/{family.upload_id}?key={quote(family.key, safe='')}", user
    )
    assert listed.status_code == 200, listed.text
    assert [(p["PartNumber"], p["Size"]) for p in listed.json()] == [(1, PART), (2, 1000)]
