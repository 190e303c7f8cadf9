"""Every course, chapter, member and media route, and an upload into a chapter,
against an owner, an editor, a viewer and a non-member: allowed, 403 or 404
exactly as docs/API.md says ("Roles"), and a refused call writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from chalicelib import services
from tests.fakes import InMemoryPublisher
from tests.integration.course_kit import add_media, body, call, error_code, publisher

pytestmark = pytest.mark.integration
__all__ = ["publisher"]

USERS = {"owner": "olga", "editor": "eddie", "viewer": "vera", "outsider": "mallory"}
MEDIA_OWNER = "eddie"


@dataclass
class World:
    course_id: str
    chapter_id: str
    # A chapter of each user's own to delete, so each allowed deletion finds one.
    spares: dict[str, str]

    def version(self) -> int:
        return services.container().courses.get_chapter(self.course_id, self.chapter_id).version

    def course_version(self) -> int:
        return services.container().courses.get_course(self.course_id, "olga").version


@dataclass
class Route:
    method: str
    path: str
    expect: dict[str, int]
    body: Callable[[World, str], Any] = field(default=lambda w, u: None)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = [
    Route("POST", "/courses", dict.fromkeys(USERS, 201), lambda w, u: {"title": "Mine"}),
    Route("GET", "/courses", dict.fromkeys(USERS, 200)),
    Route("GET", "/courses/{c}", {"owner": 200, "editor": 200, "viewer": 200, "outsider": 404}),
    Route(
        "PATCH",
        "/courses/{c}",
        {"owner": 200, "editor": 200, "viewer": 403, "outsider": 404},
        lambda w, u: {"title": f"By {u}", "version": w.course_version()},
    ),
    Route("DELETE", "/courses/{c}", {"owner": 204, "editor": 403, "viewer": 403, "outsider": 404}),
    Route(
        "GET",
        "/courses/{c}/members",
        {"owner": 200, "editor": 200, "viewer": 200, "outsider": 404},
    ),
    Route(
        "PUT",
        "/courses/{c}/members/newbie",
        {"owner": 200, "editor": 403, "viewer": 403, "outsider": 404},
        lambda w, u: {"role": "viewer"},
    ),
    Route(
        "DELETE",
        "/courses/{c}/members/extra",
        {"owner": 204, "editor": 403, "viewer": 403, "outsider": 404},
    ),
    Route(
        "POST",
        "/courses/{c}/chapters",
        {"owner": 201, "editor": 201, "viewer": 403, "outsider": 404},
        lambda w, u: {"title": "New"},
    ),
    Route(
        "GET",
        "/courses/{c}/chapters",
        {"owner": 200, "editor": 200, "viewer": 200, "outsider": 404},
    ),
    Route(
        "GET",
        "/courses/{c}/chapters/{ch}",
        {"owner": 200, "editor": 200, "viewer": 200, "outsider": 404},
    ),
    Route(
        "PATCH",
        "/courses/{c}/chapters/{ch}",
        {"owner": 200, "editor": 200, "viewer": 403, "outsider": 404},
        lambda w, u: {"title": f"By {u}", "version": w.version()},
    ),
    Route(
        "DELETE",
        "/courses/{c}/chapters/{spare}",
        {"owner": 204, "editor": 204, "viewer": 403, "outsider": 404},
    ),
    Route(
        "PUT",
        "/courses/{c}/chapters/{ch}/media/m_{user}",
        {"owner": 200, "editor": 200, "viewer": 403, "outsider": 404},
    ),
    Route(
        "DELETE",
        "/courses/{c}/chapters/{ch}/media/m_linked",
        {"owner": 200, "editor": 200, "viewer": 403, "outsider": 404},
    ),
    Route(
        "POST",
        "/uploads",
        {"owner": 201, "editor": 201, "viewer": 403, "outsider": 404},
        lambda w, u: {
            "filename": f"{u}.mp4",
            "contentType": "video/mp4",
            "size": 8 * 1024 * 1024,
            "target": {"type": "chapter", "courseId": w.course_id, "chapterId": w.chapter_id},
        },
    ),
    Route(
        "GET",
        "/courses/{c}/media/m_linked/playback",
        {"owner": 200, "editor": 200, "viewer": 200, "outsider": 404},
    ),
    Route("GET", "/media", dict.fromkeys(USERS, 200)),
    Route("GET", "/media/m_eddie", {"owner": 404, "editor": 200, "viewer": 404, "outsider": 404}),
    Route(
        "DELETE", "/media/m_eddie", {"owner": 404, "editor": 204, "viewer": 404, "outsider": 404}
    ),
]

ERROR_CODES = {403: {"forbidden"}, 404: {"course_not_found", "media_not_found"}}


@pytest.fixture
def world(client: Any, publisher: InMemoryPublisher) -> World:
    courses = services.container().courses
    course_id = courses.create_course("olga", "Biology").course_id
    for user, role in (("eddie", "editor"), ("vera", "viewer"), ("extra", "viewer")):
        courses.set_member(course_id, "olga", user, role)  # type: ignore[arg-type]
    chapter_id = courses.create_chapter(course_id, "olga", "Cells").chapter_id
    spares = {u: courses.create_chapter(course_id, "olga", u).chapter_id for u in USERS.values()}
    for user in USERS.values():
        add_media(f"m_{user}", user)
    add_media("m_linked", MEDIA_OWNER)
    linker = services.container().linker
    linker.link(course_id, chapter_id, "m_linked", MEDIA_OWNER)
    linker.link(course_id, spares[MEDIA_OWNER], "m_linked", MEDIA_OWNER)
    return World(course_id, chapter_id, spares)


def state(publisher: InMemoryPublisher) -> tuple[Any, ...]:
    """Everything a refused call could have changed."""
    c = services.container()
    scans = [
        sorted(map(repr, c.aws.ddb.scan(TableName=name)["Items"]))
        for name in (c.settings.courses_table, c.settings.media_table, c.settings.uploads_table)
    ]
    objects = c.aws.s3.list_objects_v2(Bucket=c.settings.media_bucket).get("KeyCount", 0)
    multipart = c.aws.s3.list_multipart_uploads(Bucket=c.settings.media_bucket).get("Uploads", [])
    return (*scans, objects, len(multipart), len(publisher.sent))


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_each_role_gets_exactly_the_documented_answer(
    client: Any, world: World, publisher: InMemoryPublisher, route: Route
) -> None:
    # Refused callers go first, so "writes nothing" is checked against an
    # untouched world; then the allowed ones, whose writes may follow each other.
    order = sorted(USERS, key=lambda role: route.expect[role] < 400)
    before: tuple[Any, ...] | None = state(publisher)
    for role in order:
        user = USERS[role]
        expected = route.expect[role]
        if expected < 400 and before is not None:
            assert state(publisher) == before, "a refused call wrote something"
            before = None
        path = route.path.format(
            c=world.course_id, ch=world.chapter_id, user=user, spare=world.spares[user]
        )
        response = call(client, route.method, path, user, route.body(world, user))
        assert response.status_code == expected, f"{role}: {body(response)}"
        if expected >= 400:
            assert error_code(response) in ERROR_CODES[expected]
    if before is not None:
        assert state(publisher) == before
