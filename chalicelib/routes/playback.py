"""Playback for course members: a URL a <video> element plays and seeks."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.http import api_doc, json_response
from chalicelib.models import Playback
from chalicelib.routes.common import COURSE, current_caller, ids
from chalicelib.routes.routing import CORS, RouteBlueprint
from chalicelib.services import container

bp = RouteBlueprint(__name__)


@bp.route(COURSE + "/media/{mediaId}/playback", methods=["GET"], cors=CORS)
@api_doc(
    "A short-lived URL to play a media file linked into the course (any member); "
    "it serves HTTP Range requests",
    response=Playback,
)
def playback(courseId: str, mediaId: str) -> Response:  # noqa: N803 - the path parameters' names
    caller = current_caller(bp)
    ids(courseId=courseId, mediaId=mediaId)
    return json_response(
        container().course_features.playback.playback(courseId, mediaId, caller.user_id)
    )
