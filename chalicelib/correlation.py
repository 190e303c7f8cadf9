"""One correlation id from a request to the log lines of every event it causes.

A REST request's id is API Gateway's request id (chalicelib/http.py), a
WebSocket message's the WebSocket API's; both become the Powertools logger's
correlation id for the invocation. Work that continues elsewhere carries it:
an upload keeps the id of the request that started it (its item's
`correlationId`), so the S3 event that completes it, arriving through SQS with
nothing of ours in it, logs and publishes under that same id; a message the app
sends to a queue carries it as the `correlationId` message attribute, which the
consumer adopts. docs/OPERATIONS.md#logs-and-correlation-ids shows the query.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.ids import new_id
from chalicelib.logging import logger

ATTRIBUTE = "correlationId"
# The log lines' key.
KEY = "correlation_id"


def current() -> str | None:
    found = logger.thread_safe_get_current_keys().get(KEY)
    return str(found) if found else None


def _set(correlation_id: str) -> None:
    # Per thread (a context variable), never the formatter's shared keys: in
    # Lambda one invocation runs at a time, but the local stack runs many at
    # once on one logger, and a shared key put one request's id (and path) on
    # another invocation's lines.
    logger.thread_safe_append_keys(**{KEY: correlation_id})


def adopt(correlation_id: str | None) -> None:
    """Log under this id from now on in this invocation (None changes nothing)."""
    if correlation_id:
        _set(correlation_id)


def sqs_attributes() -> dict[str, dict[str, str]]:
    """The MessageAttributes that carry the current id to a queue's consumer."""
    found = current()
    return {ATTRIBUTE: {"DataType": "String", "StringValue": found}} if found else {}


def adopt_sqs(record: Mapping[str, Any]) -> str:
    """Take a Lambda SQS record's id (its attribute, else one for the message)."""
    attributes = record.get("messageAttributes") or {}
    carried = attributes.get(ATTRIBUTE, {}).get("stringValue")
    found = str(carried) if carried else f"sqs_{record.get('messageId') or new_id('msg')}"
    _set(found)
    return found


def adopt_websocket(event: Mapping[str, Any]) -> str:
    """Take the WebSocket API's request id for this connect, message or disconnect."""
    context = event.get("requestContext") or {}
    found = str(context.get("requestId") or new_id("req"))
    _set(found)
    return found
