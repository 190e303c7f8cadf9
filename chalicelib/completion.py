"""S3 ObjectCreated notifications, delivered through SQS, become completed uploads.

One SQS message carries one S3 notification, which may hold several records.
A message is reported back as a batch item failure only when handling it raised
an error worth retrying, so one bad record does not redeliver the others
(the event source mapping has `ReportBatchItemFailures`). Messages we cannot
read, test events and keys we did not issue are logged and dropped: retrying
them could never succeed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import unquote_plus

from chalicelib.errors import DomainError
from chalicelib.logging import logger


class ObjectCreatedHandler(Protocol):
    def object_created(self, key: str, size: int) -> str: ...


def s3_records(body: str) -> list[tuple[str, int]]:
    """(key, size) of every ObjectCreated record in one SQS message body.
    S3 URL-encodes keys in notifications (a space arrives as `+`)."""
    try:
        document = json.loads(body)
    except ValueError:
        logger.warning("dropping an SQS message that is not JSON")
        return []
    if not isinstance(document, dict):
        return []
    found: list[tuple[str, int]] = []
    for record in document.get("Records") or []:
        if not isinstance(record, dict):
            continue
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        obj = (record.get("s3") or {}).get("object") or {}
        key, size = obj.get("key"), obj.get("size")
        if isinstance(key, str) and isinstance(size, int):
            found.append((unquote_plus(key), size))
    if not found and document.get("Event") != "s3:TestEvent":
        logger.warning("dropping an SQS message without ObjectCreated records")
    return found


class CompletionHandler:
    def __init__(self, uploads: ObjectCreatedHandler) -> None:
        self._uploads = uploads

    def handle(self, messages: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, str]]]:
        """Handle a batch of raw SQS records; return Lambda's partial-batch response."""
        failures: list[dict[str, str]] = []
        for message in messages:
            message_id = str(message.get("messageId", ""))
            try:
                for key, size in s3_records(str(message.get("body", ""))):
                    outcome = self._uploads.object_created(key, size)
                    logger.info("object created", extra={"key": key, "outcome": outcome})
            except DomainError as err:
                if not err.retryable and err.status < 500:
                    logger.warning("dropping an S3 event", extra={"code": err.code})
                    continue
                logger.exception("S3 event failed; SQS will redeliver it")
                failures.append({"itemIdentifier": message_id})
            except Exception:
                logger.exception("S3 event failed; SQS will redeliver it")
                failures.append({"itemIdentifier": message_id})
        return {"batchItemFailures": failures}
