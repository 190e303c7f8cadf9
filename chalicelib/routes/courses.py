"""Course, member, chapter and chapter-media routes.

Who may call what is decided by the services (chalicelib/courses.py,
chalicelib/linking.py); these handlers only parse, delegate and shape the answer.
"""

from __future__ import annotations

from typing import Annotated

from chalice.app import Response
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from chalicelib.auth import Role
from chalicelib.errors import InvalidInput
from chalicelib.http import api_doc, json_response, parse_body, validate
from chalicelib.ids import ResourceId, is_user_id
from chalicelib.models import (
    MAX_CHAPTER_ITEMS,
    MAX_INT,
    Chapter,
    Course,
    CourseSummary,
    JsonInt,
    Member,
    WireModel,
    not_null,
    omittable,
    whole_number,
    without_null,
)
from chalicelib.routes.common import (
    CHAPTER,
    CHAPTER_MEDIA,
    COURSE,
    PageQuery,
    current_caller,
    ids,
)
from chalicelib.routes.routing import CORS, RouteBlueprint
from chalicelib.services import container

bp = RouteBlueprint(__name__)


def _stripped(title: str) -> str:
    if not title.strip():
        raise ValueError("a title needs a character other than whitespace")
    return title.strip()


# Bounded as sent, then stripped: the document can state the length of what is
# sent and that it holds a non-space (`\S`), not the length after stripping.
Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    Field(json_schema_extra={"pattern": r"\S"}),
    AfterValidator(_stripped),
]
Id = ResourceId


class StrictRequest(WireModel):
    model_config = ConfigDict(strict=True)


class CreateCourse(StrictRequest):
    title: Title


class PatchCourse(StrictRequest):
    # The title is all a course patch changes, so the document requires it;
    # a body without one is still answered 400 `empty_patch`.
    model_config = ConfigDict(strict=True, json_schema_extra={"required": ["version", "title"]})

    version: JsonInt = Field(ge=1, le=MAX_INT)
    title: Title | None = omittable()

    _given = field_validator("title", mode="before")(not_null)


class CourseList(WireModel):
    courses: list[CourseSummary]
    next_token: str | None


class MemberList(WireModel):
    members: list[Member]


class PutMember(StrictRequest):
    role: Role


class CreateChapter(StrictRequest):
    title: Title


class PatchChapter(StrictRequest):
    # Either change or both; neither is 400 `empty_patch`.
    model_config = ConfigDict(
        strict=True,
        json_schema_extra={"anyOf": [{"required": ["title"]}, {"required": ["itemOrder"]}]},
    )

    version: JsonInt = Field(ge=1, le=MAX_INT)
    title: Title | None = omittable()
    item_order: list[Id] | None = Field(
        default=None, max_length=MAX_CHAPTER_ITEMS, json_schema_extra=without_null
    )

    _given = field_validator("title", "item_order", mode="before")(not_null)


class LinkMedia(StrictRequest):
    position: (
        Annotated[int, Field(ge=0, le=MAX_CHAPTER_ITEMS), BeforeValidator(whole_number)] | None
    ) = None


class ChapterList(WireModel):
    chapters: list[Chapter]


def _user(user_id: str) -> None:
    if not is_user_id(user_id):
        raise InvalidInput(
            "userId is not a valid user id", details=[{"field": "userId", "issue": "invalid_id"}]
        )


@bp.route("/courses", methods=["POST"], cors=CORS)
@api_doc(
    "Create a course; the caller becomes its owner",
    body=CreateCourse,
    response=Course,
    status=201,
    errors=(409,),
)
def create_course() -> Response:
    caller = current_caller(bp)
    assert bp.current_request is not None
    body = parse_body(bp.current_request, CreateCourse)
    return json_response(container().courses.create_course(caller.user_id, body.title), 201)


@bp.route("/courses", methods=["GET"], cors=CORS)
@api_doc(
    "The caller's courses with their role, most recently changed first",
    response=CourseList,
    query=PageQuery,
)
def list_courses() -> Response:
    caller = current_caller(bp)
    assert bp.current_request is not None
    query = validate(PageQuery, dict(bp.current_request.query_params or {}))
    courses, token = container().course_features.course_list.courses(
        caller.user_id, query.limit, query.next_token
    )
    return json_response(CourseList(courses=courses, next_token=token))


@bp.route(COURSE, methods=["GET"], cors=CORS)
@api_doc("A course with its members, chapters and their items", response=Course)
def get_course(courseId: str) -> Response:  # noqa: N803 - the path parameter's name
    caller = current_caller(bp)
    ids(courseId=courseId)
    return json_response(container().courses.get_course(courseId, caller.user_id))


@bp.route(COURSE, methods=["PATCH"], cors=CORS)
@api_doc(
    "Retitle a course at the version read (owners, editors)",
    body=PatchCourse,
    response=Course,
    errors=(403, 409),
)
def patch_course(courseId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    assert bp.current_request is not None
    ids(courseId=courseId)
    body = parse_body(bp.current_request, PatchCourse)
    if body.title is None:
        raise InvalidInput("nothing to change: give title", code="empty_patch")
    course = container().courses.rename_course(
        courseId, caller.user_id, version=body.version, title=body.title
    )
    return json_response(course)


@bp.route(COURSE, methods=["DELETE"], cors=CORS)
@api_doc(
    "Delete a course with its chapters (owners); linked files stay in their owners' libraries",
    status=204,
    errors=(403, 409),
)
def delete_course(courseId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    ids(courseId=courseId)
    container().course_features.removal.delete_course(courseId, caller.user_id)
    return Response(body="", status_code=204)


@bp.route(COURSE + "/members", methods=["GET"], cors=CORS)
@api_doc("The course's members: owners, then editors, then viewers", response=MemberList)
def list_members(courseId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    ids(courseId=courseId)
    members = container().courses.list_members(courseId, caller.user_id)
    return json_response(MemberList(members=members))


@bp.route(COURSE + "/members/{userId}", methods=["PUT"], cors=CORS)
@api_doc(
    "Add a member or change their role (owners only)",
    body=PutMember,
    response=Member,
    errors=(403, 409),
)
def put_member(courseId: str, userId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    assert bp.current_request is not None
    ids(courseId=courseId)
    _user(userId)
    body = parse_body(bp.current_request, PutMember)
    member = container().courses.set_member(courseId, caller.user_id, userId, body.role)
    return json_response(member)


@bp.route(COURSE + "/members/{userId}", methods=["DELETE"], cors=CORS)
@api_doc("Remove a member (owners only; never the last owner)", status=204, errors=(403, 409))
def delete_member(courseId: str, userId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    ids(courseId=courseId)
    _user(userId)
    container().courses.remove_member(courseId, caller.user_id, userId)
    return Response(body="", status_code=204)


@bp.route(COURSE + "/chapters", methods=["POST"], cors=CORS)
@api_doc(
    "Add a chapter at the end (owners, editors)",
    body=CreateChapter,
    response=Chapter,
    status=201,
    errors=(403, 409),
)
def create_chapter(courseId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    assert bp.current_request is not None
    ids(courseId=courseId)
    body = parse_body(bp.current_request, CreateChapter)
    chapter = container().courses.create_chapter(courseId, caller.user_id, body.title)
    return json_response(chapter, 201)


@bp.route(COURSE + "/chapters", methods=["GET"], cors=CORS)
@api_doc("The course's chapters, ordered by position", response=ChapterList)
def list_chapters(courseId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    ids(courseId=courseId)
    chapters = container().courses.list_chapters(courseId, caller.user_id)
    return json_response(ChapterList(chapters=chapters))


@bp.route(CHAPTER, methods=["GET"], cors=CORS)
@api_doc("One chapter with its items (the path events name in `resources`)", response=Chapter)
def get_chapter(courseId: str, chapterId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    ids(courseId=courseId, chapterId=chapterId)
    return json_response(container().courses.read_chapter(courseId, chapterId, caller.user_id))


@bp.route(CHAPTER, methods=["PATCH"], cors=CORS)
@api_doc(
    "Retitle or reorder a chapter at the version read (owners, editors)",
    body=PatchChapter,
    response=Chapter,
    errors=(403, 409),
)
def patch_chapter(courseId: str, chapterId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    assert bp.current_request is not None
    ids(courseId=courseId, chapterId=chapterId)
    body = parse_body(bp.current_request, PatchChapter)
    chapter = container().courses.patch_chapter(
        courseId,
        chapterId,
        caller.user_id,
        version=body.version,
        title=body.title,
        item_order=body.item_order,
    )
    return json_response(chapter)


@bp.route(CHAPTER, methods=["DELETE"], cors=CORS)
@api_doc(
    "Delete a chapter (owners, editors); its files are unlinked and stay in their libraries",
    status=204,
    errors=(403, 409),
)
def delete_chapter(courseId: str, chapterId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    ids(courseId=courseId, chapterId=chapterId)
    container().course_features.removal.delete_chapter(courseId, chapterId, caller.user_id)
    return Response(body="", status_code=204)


@bp.route(CHAPTER_MEDIA, methods=["PUT"], cors=CORS)
@api_doc(
    "Link the caller's media file into a chapter (idempotent; owners, editors)",
    body=LinkMedia,
    response=Chapter,
    errors=(403, 409),
)
def link_media(courseId: str, chapterId: str, mediaId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    assert bp.current_request is not None
    ids(courseId=courseId, chapterId=chapterId, mediaId=mediaId)
    body = parse_body(bp.current_request, LinkMedia)
    chapter = container().linker.link(
        courseId, chapterId, mediaId, caller.user_id, position=body.position
    )
    return json_response(chapter)


@bp.route(CHAPTER_MEDIA, methods=["DELETE"], cors=CORS)
@api_doc(
    "Unlink a media file from a chapter (owners, editors)", response=Chapter, errors=(403, 409)
)
def unlink_media(courseId: str, chapterId: str, mediaId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    ids(courseId=courseId, chapterId=chapterId, mediaId=mediaId)
    chapter = container().linker.unlink(courseId, chapterId, mediaId, caller.user_id)
    return json_response(chapter)
