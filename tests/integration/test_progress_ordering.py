"""No connection sees an upload's progress after the upload's end, however long
the progress fan-out takes: the terminal event waits for the claimed broadcast
to return (chalicelib/uploads/announce.py), not a fixed drain."""

from __future__ import annotations

import threading
import time
from typing import Any

from chalicelib.services import Container
from chalicelib.settings import get_settings
from tests.conftest import auth, use_container
from tests.fakes import FakeConnectionsApi

WATCHERS = 1000
POST_LATENCY = 0.04
# The Lambda that fans the progress out is the slower one (a busy or smaller
# one, with fewer senders): 1,000 posts at 40 ms through 8 senders take 5 s,
# while the end goes out through 32 in about 1.3 s, so the end would overtake
# progress that a fixed 500 ms wait after the claim let start first.
SLOW_SENDERS = 8


class SlowConnectionsApi(FakeConnectionsApi):
    """A message lands only after the endpoint's latency, as API Gateway's do."""

    def __init__(self) -> None:
        super().__init__()
        self.first_progress = threading.Event()

    def post(self, connection_id: str, payload: bytes) -> int:
        time.sleep(POST_LATENCY)
        status = super().post(connection_id, payload)
        if b'"upload.progress"' in payload:
            self.first_progress.set()
        return status


def _call(client: Any, method: str, path: str, body: dict[str, Any]) -> Any:
    import json

    response = getattr(client.http, method)(path, headers=auth("alice"), body=json.dumps(body))
    assert response.status_code in (200, 201, 202), response.body
    return json.loads(response.body)


def test_a_thousand_watchers_never_see_progress_after_the_upload_ends(client: Any) -> None:
    api = SlowConnectionsApi()
    container = use_container(transport=api)
    course = container.courses.create_course("alice", "Physics")
    chapter = container.courses.create_chapter(course.course_id, "alice", "Motion")
    channel = f"course:{course.course_id}"
    watchers = [f"watch{i:04d}=" for i in range(WATCHERS)]
    container.connections.add_many((w, f"viewer{i}", [channel]) for i, w in enumerate(watchers))
    target = {"type": "chapter", "courseId": course.course_id, "chapterId": chapter.chapter_id}
    upload = _call(
        client,
        "post",
        "/uploads",
        {"filename": "a.mp4", "contentType": "video/mp4", "size": 1024, "target": target},
    )
    operation_id = upload["operationId"]

    # The progress fan-out, in the Lambda that took the report, is still going
    # out when another Lambda cancels the upload and delivers its end.
    slower = get_settings().model_copy(update={"broadcast_workers": SLOW_SENDERS})
    reporting = Container(slower, transport=api)
    reporter = threading.Thread(
        target=reporting.progress.report, args=(operation_id, "alice", 512), name="progress"
    )
    reporter.start()
    assert api.first_progress.wait(10)
    uploads = container.uploads
    uploads.abort(uploads.owned("alice", operation_id))
    reporter.join()

    late = []
    for watcher in watchers:
        seen = [t for t in api.types(watcher) if t in ("upload.progress", "upload.aborted")]
        assert seen[-1] == "upload.aborted", (watcher, seen)
        if "upload.progress" in seen[seen.index("upload.aborted") :]:
            late.append(watcher)
    assert late == []
    assert all("upload.progress" in api.types(w) for w in watchers)
