"""The caller's media library. Another user's media file is a 404, exactly as a
missing one, so media ids reveal nothing."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.http import api_doc, json_response, validate
from chalicelib.models import MediaFile, WireModel
from chalicelib.routes.common import PageQuery, current_caller, ids
from chalicelib.routes.routing import CORS, RouteBlueprint
from chalicelib.services import container

bp = RouteBlueprint(__name__)


class Library(WireModel):
    items: list[MediaFile]
    next_token: str | None


@bp.route("/media", methods=["GET"], cors=CORS)
@api_doc("The caller's media library, newest first", response=Library, query=PageQuery)
def library() -> Response:
    caller = current_caller(bp)
    assert bp.current_request is not None
    query = validate(PageQuery, dict(bp.current_request.query_params or {}))
    items, token = container().media.library(caller.user_id, query.limit, query.next_token)
    return json_response(Library(items=items, next_token=token))


@bp.route("/media/{mediaId}", methods=["GET"], cors=CORS)
@api_doc("One of the caller's media files, with a short-lived downloadUrl", response=MediaFile)
def get_media(mediaId: str) -> Response:  # noqa: N803 - the path parameter's name
    caller = current_caller(bp)
    ids(mediaId=mediaId)
    return json_response(container().media.with_download_url(mediaId, caller.user_id))


@bp.route("/media/{mediaId}", methods=["DELETE"], cors=CORS)
@api_doc(
    "Delete a media file and its object; 409 while linked into a chapter", status=204, errors=(409,)
)
def delete_media(mediaId: str) -> Response:  # noqa: N803
    caller = current_caller(bp)
    ids(mediaId=mediaId)
    container().media.delete(mediaId, caller.user_id)
    return Response(body="", status_code=204)
