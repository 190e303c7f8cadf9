"""MediaService against in-memory stores: the library, download URLs, deletion."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.media import MediaService
from chalicelib.models import MediaFile, MediaLink
from chalicelib.pages import PageTokens, page_token_key
from tests.fakes import InMemoryMediaStore, InMemoryObjects, media_file

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def media(
    media_id: str, owner: str = "ann", minutes: int = 0, links: list[MediaLink] | None = None
) -> MediaFile:
    return media_file(media_id, owner, T0 + timedelta(minutes=minutes), links=links or [])


@pytest.fixture
def store() -> InMemoryMediaStore:
    return InMemoryMediaStore()


@pytest.fixture
def objects() -> InMemoryObjects:
    return InMemoryObjects()


@pytest.fixture
def service(store: InMemoryMediaStore, objects: InMemoryObjects) -> MediaService:
    return MediaService(
        store, objects, PageTokens(page_token_key("unit-test-page-token-secret-0123"))
    )


def test_the_library_lists_only_the_callers_files_newest_first(
    service: MediaService, store: InMemoryMediaStore
) -> None:
    for n in range(3):
        store.put_if_absent(media(f"m_{n}", minutes=n))
    store.put_if_absent(media("m_bob", owner="bob"))
    items, token = service.library("ann")
    assert [m.media_id for m in items] == ["m_2", "m_1", "m_0"]
    assert token is None


def test_next_token_pages_through_the_whole_library_once(
    service: MediaService, store: InMemoryMediaStore
) -> None:
    for n in range(5):
        store.put_if_absent(media(f"m_{n}", minutes=n))
    seen: list[str] = []
    token: str | None = None
    while True:
        items, token = service.library("ann", limit=2, next_token=token)
        seen += [m.media_id for m in items]
        if token is None:
            break
    assert seen == ["m_4", "m_3", "m_2", "m_1", "m_0"]


# Non-ASCII after the dot reached hmac.compare_digest as a str, which raises: a 500.
@pytest.mark.parametrize(
    "token", ["garbage!", "e30", "eyJ1IjoxfQ", "x" * 2000, "e30.ü", "ü.AAAA", "é"]
)
def test_a_forged_next_token_is_rejected(service: MediaService, token: str) -> None:
    with pytest.raises(InvalidInput) as err:
        service.library("ann", next_token=token)
    assert err.value.code == "invalid_next_token"


def test_another_users_next_token_is_rejected(
    service: MediaService, store: InMemoryMediaStore
) -> None:
    for n in range(3):
        store.put_if_absent(media(f"m_{n}", owner="bob", minutes=n))
    _, token = service.library("bob", limit=1)
    assert token is not None
    with pytest.raises(InvalidInput) as err:
        service.library("ann", next_token=token)
    assert err.value.code == "invalid_next_token"


def test_a_token_rewritten_to_name_another_user_is_rejected(service: MediaService) -> None:
    raw = json.dumps({"u": "bob", "m": "m_1", "c": "2026-11-21T10:00:00.000Z"}).encode()
    token = base64.urlsafe_b64encode(raw).decode()
    with pytest.raises(InvalidInput):
        service.library("ann", next_token=token)


def test_an_edited_next_token_is_rejected(service: MediaService, store: InMemoryMediaStore) -> None:
    # The shape is right and the owner is the caller: only the MAC tells.
    for n in range(3):
        store.put_if_absent(media(f"m_{n}", minutes=n))
    _, token = service.library("ann", limit=1)
    assert token is not None
    payload, _, mac = token.partition(".")
    position = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    position["m"] = "m_0"
    edited = base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")
    with pytest.raises(InvalidInput) as err:
        service.library("ann", next_token=f"{edited}.{mac}")
    assert err.value.code == "invalid_next_token"


def test_a_token_signed_with_another_key_is_rejected(
    service: MediaService, store: InMemoryMediaStore
) -> None:
    for n in range(3):
        store.put_if_absent(media(f"m_{n}", minutes=n))
    other = MediaService(store, InMemoryObjects(), PageTokens(page_token_key("x" * 32)))
    _, token = other.library("ann", limit=1)
    assert token is not None
    with pytest.raises(InvalidInput):
        service.library("ann", next_token=token)


def test_a_file_comes_with_a_download_url(service: MediaService, store: InMemoryMediaStore) -> None:
    store.put_if_absent(media("m_1"))
    got = service.with_download_url("m_1", "ann")
    assert got.download_url == "https://bucket.example/uploads/ann/op_m_1/m_1.mp4?signed"


def test_another_users_file_is_not_found(service: MediaService, store: InMemoryMediaStore) -> None:
    store.put_if_absent(media("m_1", owner="bob"))
    with pytest.raises(NotFound) as err:
        service.with_download_url("m_1", "ann")
    assert err.value.code == "media_not_found"


def test_deleting_removes_the_record_and_the_object(
    service: MediaService, store: InMemoryMediaStore, objects: InMemoryObjects
) -> None:
    store.put_if_absent(media("m_1"))
    service.delete("m_1", "ann")
    assert store.get("m_1") is None
    assert objects.deleted == ["uploads/ann/op_m_1/m_1.mp4"]


def test_a_linked_file_cannot_be_deleted(
    service: MediaService, store: InMemoryMediaStore, objects: InMemoryObjects
) -> None:
    store.put_if_absent(media("m_1", links=[MediaLink(course_id="c_1", chapter_id="ch_1")]))
    with pytest.raises(Conflict) as err:
        service.delete("m_1", "ann")
    assert err.value.code == "media_linked"
    assert store.get("m_1") is not None
    assert objects.deleted == []


def test_another_user_cannot_delete_a_file(
    service: MediaService, store: InMemoryMediaStore, objects: InMemoryObjects
) -> None:
    store.put_if_absent(media("m_1", owner="bob"))
    with pytest.raises(NotFound):
        service.delete("m_1", "ann")
    assert store.get("m_1") is not None
    assert objects.deleted == []
