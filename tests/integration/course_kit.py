"""Shared set-up for the course, media and linking tests against moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.dynamodb.responses import DynamoHandler

from chalicelib import services
from chalicelib.models import MediaFile
from chalicelib.services import Container
from chalicelib.settings import get_settings
from tests.conftest import auth
from tests.fakes import InMemoryPublisher, media_file

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture
def publisher(aws: dict[str, str]) -> InMemoryPublisher:
    fake = InMemoryPublisher()
    services.reset(Container(get_settings(), delivery=fake))
    return fake


@pytest.fixture
def atomic_moto() -> Iterator[None]:
    """Make moto answer one DynamoDB request at a time, as DynamoDB applies each
    request atomically. moto does not: a failed transaction restores a copy of
    the whole table taken before it began, undoing other threads' writes."""
    import threading

    lock = threading.Lock()
    original = DynamoHandler.call_action

    def serialised(self: DynamoHandler) -> Any:
        with lock:
            return original(self)

    DynamoHandler.call_action = serialised  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoHandler.call_action = original  # type: ignore[method-assign]


def add_media(media_id: str, owner: str, minutes: int = 0) -> MediaFile:
    """Until uploads create them, tests put media files straight in the store."""
    media = media_file(media_id, owner, T0 + timedelta(minutes=minutes))
    assert services.container().media_store.put_if_absent(media)
    return media


def call(client: Any, method: str, path: str, user: str, body: Any = None) -> Any:
    kwargs: dict[str, Any] = {"headers": auth(user)}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    return getattr(client.http, method.lower())(path, **kwargs)


def body(response: Any) -> Any:
    return json.loads(response.body) if response.body else None


def error_code(response: Any) -> str:
    return str(body(response)["error"]["code"])
