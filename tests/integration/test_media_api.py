"""Media library routes through chalice.test.Client against moto."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chalicelib import services
from tests.fakes import InMemoryPublisher
from tests.integration.course_kit import add_media, body, call, error_code, publisher

pytestmark = pytest.mark.integration
__all__ = ["publisher"]


@pytest.fixture
def api(client: Any, publisher: InMemoryPublisher) -> Any:
    return client


def test_the_library_lists_the_callers_files_newest_first(api: Any) -> None:
    for n in range(3):
        add_media(f"m_{n}", "ann", minutes=n)
    add_media("m_bob", "bob")
    listed = body(call(api, "GET", "/media", "ann"))
    assert [m["mediaId"] for m in listed["items"]] == ["m_2", "m_1", "m_0"]
    assert listed["nextToken"] is None


def test_next_token_continues_the_library(api: Any) -> None:
    for n in range(3):
        add_media(f"m_{n}", "ann", minutes=n)
    first = body(call(api, "GET", "/media?limit=2", "ann"))
    rest = body(call(api, "GET", f"/media?limit=2&nextToken={first['nextToken']}", "ann"))
    assert [m["mediaId"] for m in first["items"] + rest["items"]] == ["m_2", "m_1", "m_0"]
    assert rest["nextToken"] is None


@pytest.mark.parametrize("query", ["nextToken=forged", "limit=0", "limit=abc", "colour=red"])
def test_a_bad_library_query_is_400(api: Any, query: str) -> None:
    response = call(api, "GET", f"/media?{query}", "ann")
    assert response.status_code == 400


def test_another_users_next_token_is_400(api: Any) -> None:
    for n in range(2):
        add_media(f"m_{n}", "bob", minutes=n)
    token = body(call(api, "GET", "/media?limit=1", "bob"))["nextToken"]
    response = call(api, "GET", f"/media?nextToken={token}", "ann")
    assert response.status_code == 400
    assert error_code(response) == "invalid_next_token"


def test_a_well_formed_but_forged_next_token_is_400(api: Any) -> None:
    # What a client could build from a real token's visible payload: the
    # caller's own id and a plausible position, without the server's MAC.
    raw = json.dumps({"u": "ann", "m": "m_zzz", "c": "2099-01-01T00:00:00.000Z"}).encode()
    forged = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    for token in (forged, f"{forged}.AAAAAAAAAAAAAAAAAAAAAA"):
        response = call(api, "GET", f"/media?nextToken={token}", "ann")
        assert response.status_code == 400
        assert error_code(response) == "invalid_next_token"


def test_a_media_file_comes_with_a_download_url(api: Any) -> None:
    media = add_media("m_1", "ann")
    got = body(call(api, "GET", "/media/m_1", "ann"))
    assert got["mediaId"] == "m_1"
    assert media.key in got["downloadUrl"]


def test_another_users_media_file_is_404(api: Any) -> None:
    add_media("m_1", "bob")
    response = call(api, "GET", "/media/m_1", "ann")
    assert response.status_code == 404
    assert error_code(response) == "media_not_found"


def test_deleting_a_media_file_answers_204_and_removes_the_object(api: Any) -> None:
    c = services.container()
    media = add_media("m_1", "ann")
    c.aws.s3.put_object(Bucket=c.settings.media_bucket, Key=media.key, Body=b"x")
    assert call(api, "DELETE", "/media/m_1", "ann").status_code == 204
    assert call(api, "GET", "/media/m_1", "ann").status_code == 404
    assert c.aws.s3.list_objects_v2(Bucket=c.settings.media_bucket).get("KeyCount", 0) == 0


def test_deleting_another_users_media_file_is_404(api: Any) -> None:
    add_media("m_1", "bob")
    assert call(api, "DELETE", "/media/m_1", "ann").status_code == 404
    assert call(api, "GET", "/media/m_1", "bob").status_code == 200
