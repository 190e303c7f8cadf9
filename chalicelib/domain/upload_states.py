"""The upload's state machine: one table of allowed transitions, used by every
transition the services make and by the store's conditional write.

    uploading  -> completing  (the client asks S3 to assemble the parts)
    completing -> uploading   (S3 refused the parts: the client may fix and retry)
    completing -> completing  (a retried complete)
    open       -> completed   (S3 says the object exists)
    open       -> failed      (the object has the wrong size, or the upload went stale)
    open       -> aborted     (the uploader cancelled)

Terminal states (`completed`, `failed`, `aborted`) have no way out: a duplicate
or late event that would move one changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

from chalicelib.errors import Conflict

UploadStatus = Literal["uploading", "completing", "completed", "failed", "aborted"]
STATUSES: tuple[UploadStatus, ...] = get_args(UploadStatus)
OPEN_STATUSES: frozenset[UploadStatus] = frozenset({"uploading", "completing"})
TERMINAL_STATUSES: frozenset[UploadStatus] = frozenset(set(STATUSES) - OPEN_STATUSES)

TRANSITIONS: Mapping[UploadStatus, frozenset[UploadStatus]] = {
    "uploading": frozenset({"completing", "completed", "failed", "aborted"}),
    "completing": frozenset({"uploading", "completing", "completed", "failed", "aborted"}),
    "completed": frozenset(),
    "failed": frozenset(),
    "aborted": frozenset(),
}


def can_move(current: str, to: UploadStatus) -> bool:
    return to in TRANSITIONS.get(current, frozenset())  # type: ignore[call-overload]


def sources_of(to: UploadStatus) -> frozenset[UploadStatus]:
    """Every status an upload may be in for a move to `to`: the condition of
    the store's write, so a race lost to another writer changes nothing."""
    return frozenset(s for s, targets in TRANSITIONS.items() if to in targets)


def not_open(status: str) -> Conflict:
    return Conflict(f"the upload is no longer open (it is {status})", code="upload_not_open")


def require_move(current: str, to: UploadStatus) -> None:
    """Refuse a move the table does not allow, as the client sees it (409)."""
    if not can_move(current, to):
        raise not_open(current)
