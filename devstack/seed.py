"""The demo course: an owner, two editors, a viewer and two chapters, created through the
app's own REST API (in process), so the data is exactly what a client would make.

A call that fails leaves the demo incomplete, not the stack down: /dev/demo
says what is missing in its `note`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.auth import mint_token

log = logging.getLogger("devstack.seed")

OWNER = "alice"
EDITORS = ("bob", "carol")
# A viewer watches: plays what the chapters hold, changes nothing.
VIEWERS = ("dana",)
COURSE_TITLE = "Demo course"
CHAPTERS = ("Welcome", "Getting started")
# Long enough for a working day; /dev/demo hands out fresh ones on every call.
TOKEN_TTL_SECONDS = 12 * 3600

# (method, path, headers, body) -> (status, headers, body), as RestGateway.invoke.
Invoke = Callable[[str, str, dict[str, str], bytes | None], tuple[int, Any, bytes]]


class SeedError(RuntimeError):
    pass


@dataclass
class Demo:
    secret: str
    course_id: str | None = None
    course_title: str = COURSE_TITLE
    chapter_ids: list[str] = field(default_factory=list)
    members: dict[str, str] = field(default_factory=dict)  # user id -> role
    note: str = ""

    def token(self, user_id: str) -> str:
        return mint_token(self.secret, user_id, TOKEN_TTL_SECONDS)

    def describe(self) -> dict[str, Any]:
        """GET /dev/demo: what the demo page needs, with fresh tokens."""
        return {
            "courseId": self.course_id,
            "title": self.course_title,
            "chapterIds": self.chapter_ids,
            "users": [
                {"userId": user, "role": role, "token": self.token(user)}
                for user, role in self.members.items()
            ],
            "note": self.note,
        }


def _call(invoke: Invoke, token: str, method: str, path: str, body: Any) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    status, _, raw = invoke(method, path, headers, json.dumps(body).encode())
    if not 200 <= status < 300:
        raise SeedError(f"{method} {path} answered {status}: {raw[:200].decode(errors='replace')}")
    document = json.loads(raw or b"{}")
    return document if isinstance(document, dict) else {}


def seed(invoke: Invoke, secret: str) -> Demo:
    demo = Demo(secret=secret, members={OWNER: "owner"})
    try:
        course = _call(invoke, demo.token(OWNER), "POST", "/courses", {"title": COURSE_TITLE})
        demo.course_id = str(course["courseId"])
        for user, role in [*((e, "editor") for e in EDITORS), *((v, "viewer") for v in VIEWERS)]:
            path = f"/courses/{demo.course_id}/members/{user}"
            _call(invoke, demo.token(OWNER), "PUT", path, {"role": role})
            demo.members[user] = role
        for title in CHAPTERS:
            path = f"/courses/{demo.course_id}/chapters"
            chapter = _call(invoke, demo.token(OWNER), "POST", path, {"title": title})
            demo.chapter_ids.append(str(chapter["chapterId"]))
    except (SeedError, KeyError, ValueError) as exc:
        demo.note = f"demo data incomplete: {exc}"
        log.warning(demo.note)
    for editor in EDITORS:
        demo.members.setdefault(editor, "editor")
    for viewer in VIEWERS:
        demo.members.setdefault(viewer, "viewer")
    return demo
