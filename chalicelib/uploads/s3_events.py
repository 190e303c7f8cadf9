"""The `s3_events` Lambda's side of SQS: S3 notifications read out of the
messages, sorted by what can be done with them.

- A message or record that cannot be read (not JSON, nested past any real
  notification, not S3's shape, a key no S3 event would carry), that is not
  ours (another bucket, S3's test event, another event type), or whose claim
  S3 does not bear out (chalicelib/uploads/completion.py) is **dropped**: one
  WARNING line and one `S3EventsDropped` metric with its `reason`, and the
  message is acknowledged. Retrying it could never succeed.
- A failure a retry can cure (an AWS error: unavailable, throttled) is
  **retried**: the message is reported back as a batch item failure and SQS
  redelivers it alone (the event source has `ReportBatchItemFailures`); after 5
  receives it moves to the dead-letter queue.
- Anything else raising is a defect in this code: logged with its traceback and
  retried like an AWS error, so it reaches the dead-letter queue where an
  operator can redrive it once the defect is fixed, rather than being lost.

docs/OPERATIONS.md says what each kind means for an operator.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote_plus

from chalicelib.correlation import adopt_sqs
from chalicelib.domain.upload_policy import parse_key
from chalicelib.errors import DomainError
from chalicelib.logging import logger
from chalicelib.uploads.completion import Dropped, Outcome

DROPPED_METRIC = "S3EventsDropped"
# S3's own limit on a key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024


@dataclass(frozen=True)
class ObjectClaim:
    """What one ObjectCreated record says: this object exists, with this size."""

    bucket: str
    key: str
    size: int


class ObjectCreatedHandler(Protocol):
    def object_created(self, key: str, size: int) -> Outcome: ...


class DropCounter(Protocol):
    """Counts drops by reason (chalicelib/metrics.py's EmfMetrics)."""

    def count(
        self, name: str, value: float = 1, *, dimensions: Mapping[str, str] | None = None
    ) -> None: ...


def read_message(body: str) -> list[ObjectClaim | Dropped] | Dropped:
    """The claims of one SQS message body, record by record, or why the whole
    message is dropped. S3 URL-encodes keys in notifications (a space arrives as `+`)."""
    try:
        document = json.loads(body)
    except RecursionError:
        # Python's parser gives up past about 1,000 levels; S3's notifications nest 5.
        return Dropped("not_json", "dropping an SQS message nested too deep to be S3's")
    except ValueError:
        return Dropped("not_json", "dropping an SQS message that is not JSON")
    if not isinstance(document, dict):
        kind = "null" if document is None else type(document).__name__
        return Dropped(
            "not_an_object", "dropping an SQS message that is not a JSON object", {"json": kind}
        )
    if document.get("Event") == "s3:TestEvent":
        return Dropped("test_event", "dropping S3's test event")
    records = document.get("Records")
    if not isinstance(records, list) or not records:
        return Dropped("no_records", "dropping an SQS message without S3 records")
    return [_claim(record) for record in records]


def _claim(record: Any) -> ObjectClaim | Dropped:
    if not isinstance(record, dict) or not isinstance(record.get("eventName"), str):
        return Dropped("malformed_record", "dropping an S3 record that is not S3's shape")
    if not record["eventName"].startswith("ObjectCreated:"):
        return Dropped(
            "not_object_created",
            "dropping an S3 record that is not ObjectCreated",
            {"eventName": record["eventName"][:64]},
        )
    s3 = record.get("s3")
    bucket = s3.get("bucket") if isinstance(s3, dict) else None
    obj = s3.get("object") if isinstance(s3, dict) else None
    name = bucket.get("name") if isinstance(bucket, dict) else None
    key = obj.get("key") if isinstance(obj, dict) else None
    size = obj.get("size") if isinstance(obj, dict) else None
    # The size is compared with the declared one: only a real, non-negative integer.
    if not (isinstance(name, str) and isinstance(key, str) and type(size) is int and size >= 0):
        return Dropped("malformed_record", "dropping an S3 record that is not S3's shape")
    decoded = unquote_plus(key)
    if (
        not decoded
        or len(decoded.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES
        or any(unicodedata.category(ch) == "Cc" for ch in decoded)
    ):
        return Dropped(
            "bad_key",
            "dropping an S3 record whose key S3 would not issue",
            {"key": repr(decoded[:80])},
        )
    if parse_key(decoded) is None:
        return Dropped("foreign_key", "dropping an S3 event for a key we did not issue")
    return ObjectClaim(bucket=name, key=decoded, size=size)


class S3EventsHandler:
    """The `s3_events` Lambda's work: one SQS batch of S3 notifications."""

    def __init__(
        self, uploads: ObjectCreatedHandler, *, media_bucket: str, metrics: DropCounter
    ) -> None:
        self._uploads = uploads
        self._bucket = media_bucket
        self._metrics = metrics

    def handle(self, event: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
        """Handle Lambda's SQS event; return its partial-batch response.

        Each message that raised is reported by its id, the whole batch failing
        too rather than raising, so SQS redelivers exactly those messages. The
        contract Powertools' BatchProcessor kept, in a loop: importing it (with
        the parser models it loads) cost about 50 ms of this function's cold
        start (docs/PERFORMANCE.md#cold-start)."""
        failures = []
        for record in event.get("Records") or []:
            try:
                self._message(record)
            except Exception:  # logged where it was raised; SQS redelivers the message
                failures.append({"itemIdentifier": str(record.get("messageId"))})
        return {"batchItemFailures": failures}

    def _message(self, record: Mapping[str, Any]) -> None:
        # Drops are logged once per message and reason (a message of 10 bad
        # records is one line, counted 10).
        adopt_sqs(record)
        drops: dict[str, list[Dropped]] = {}
        try:
            read = read_message(str(record.get("body") or ""))
            for claim in [read] if isinstance(read, Dropped) else read:
                if isinstance(claim, ObjectClaim) and claim.bucket != self._bucket:
                    claim = Dropped(
                        "foreign_bucket",
                        "dropping an S3 event from another bucket",
                        {"bucket": claim.bucket[:255]},
                    )
                outcome = claim if isinstance(claim, Dropped) else self._object_created(claim)
                if isinstance(outcome, Dropped):
                    drops.setdefault(outcome.reason, []).append(outcome)
        finally:
            for same in drops.values():
                self._drop(same, str(record.get("messageId")))

    def _object_created(self, claim: ObjectClaim) -> Outcome:
        try:
            outcome = self._uploads.object_created(claim.key, claim.size)
        except DomainError as err:
            if not err.retryable and err.status < 500:
                return Dropped(
                    "refused", "dropping an S3 event", {"code": err.code, "key": claim.key}
                )
            logger.exception("S3 event failed; SQS will redeliver it", extra={"key": claim.key})
            raise
        except Exception:
            logger.exception("S3 event failed; SQS will redeliver it", extra={"key": claim.key})
            raise
        if isinstance(outcome, Dropped):
            return Dropped(outcome.reason, outcome.message, {"key": claim.key, **outcome.details})
        logger.info("object created", extra={"key": claim.key, "outcome": outcome})
        return outcome

    def _drop(self, same: list[Dropped], message_id: str) -> None:
        first = same[0]
        extra = {"reason": first.reason, "messageId": message_id, "records": len(same)}
        logger.warning(first.message, extra={**extra, **first.details})
        self._metrics.count(DROPPED_METRIC, len(same), dimensions={"reason": first.reason})
