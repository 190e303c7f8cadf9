"""Identifiers: the one place that says what an id looks like, and issues them.

Every id that crosses a boundary (a path parameter, a body field, a token's
`sub`, a channel name, Uppy's file metadata, an object key) is checked against
a pattern defined here and nowhere else. An id outside its pattern cannot name
anything we issued, so it is refused before it reaches DynamoDB, whose key size
limit would turn it into a 5xx, or an S3 key, whose segments it becomes.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime
from typing import Annotated

from pydantic import StringConstraints

# Course, chapter and media ids (and any other resource id we issue).
RESOURCE_ID = r"[A-Za-z0-9_.-]{1,128}"
# User ids come from the identity provider (a token's `sub`) and become parts
# of S3 keys and channel names: a safe alphabet that still holds e-mail-like ids.
USER_ID = r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}"
# What new_id("op") issues.
OPERATION_ID = r"op_[0-9a-f]{1,64}"

_RESOURCE = re.compile(RESOURCE_ID)
_USER = re.compile(USER_ID)
_OPERATION = re.compile(OPERATION_ID)

# For pydantic models: anchored, because pydantic searches rather than matches.
ResourceId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=f"^{RESOURCE_ID}$")
]
UserId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=f"^{USER_ID}$")]


def is_resource_id(value: object) -> bool:
    return isinstance(value, str) and _RESOURCE.fullmatch(value) is not None


def is_user_id(value: object) -> bool:
    return isinstance(value, str) and _USER.fullmatch(value) is not None


def is_operation_id(value: object) -> bool:
    return isinstance(value, str) and _OPERATION.fullmatch(value) is not None


def parse_channel(channel: object) -> tuple[str, str] | None:
    """(scope, id) of `user:{userId}` or `course:{courseId}`; None for anything else."""
    if not isinstance(channel, str):
        return None
    scope, _, ident = channel.partition(":")
    if (scope == "user" and is_user_id(ident)) or (scope == "course" and is_resource_id(ident)):
        return scope, ident
    return None


def new_id(prefix: str) -> str:
    """A prefixed id that sorts by creation time: `op_0193a1b2c3d4e5f6a7b8c9d0e1f2`."""
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(8)}"


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    """The wire form of a timestamp: UTC, milliseconds, `Z`."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
