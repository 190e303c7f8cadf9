"""Lambda's DynamoDB stream event source mapping, for the app's
`@app.on_dynamodb_record` handlers.

moto keeps a table's stream (describe_stream, get_shard_iterator, get_records)
but invokes nothing. A StreamPump reads it as Lambda's poller does and invokes
the handler with Lambda-shaped batches, with the mapping's settings from
infra/template.json:

- records pass the mapping's FilterCriteria or are skipped (and checkpointed),
  as Lambda filters before it invokes;
- up to BatchSize records per invocation, in shard order;
- ReportBatchItemFailures: a returned `batchItemFailures` names the first record
  to retry; the checkpoint moves to just before it and the batch is retried from
  there. An answer Lambda cannot read (an id not in the batch) retries the whole
  batch;
- a handler that raises (a crash, a timeout) fails the batch: with
  BisectBatchOnFunctionError it is split in two and each half retried (a split
  does not count as a retry, as in Lambda);
- after MaximumRetryAttempts retries, or once the first record is older than
  MaximumRecordAgeInSeconds, the batch is given up: its description (shard,
  sequence numbers; never the records) goes to the OnFailure SQS destination,
  and the pump goes on past it. This is what docs/OPERATIONS.md tells an
  operator to redrive.

`pump_once` makes one pass and returns; the devstack runs it in a thread
(StreamPoller), tests call it (or `drain`) directly, so a test decides when the
"Lambda" runs.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from devstack.handlers import StreamHandler, lambda_context

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger("devstack.streams")

ACCOUNT = "123456789012"


class UnsupportedFilter(ValueError):
    """A FilterCriteria pattern this pump cannot evaluate: refused at start,
    never silently passed."""


def _matches_value(rule: Any, value: Any, present: bool) -> bool:
    if isinstance(rule, dict):
        if set(rule) == {"exists"}:
            return present is bool(rule["exists"])
        raise UnsupportedFilter(f"filter rule {rule!r}")
    return present and value == rule


def matches(pattern: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """EventBridge-style matching of the subset Lambda filters use here: nested
    objects, lists of literal values, and {"exists": bool}."""
    for name, rule in pattern.items():
        present = isinstance(record, Mapping) and name in record
        value = record.get(name) if present else None
        if isinstance(rule, dict):
            if not matches(rule, value if isinstance(value, Mapping) else {}):
                return False
            continue
        if not isinstance(rule, list):
            raise UnsupportedFilter(f"filter {name}: {rule!r}")
        if not any(_matches_value(r, value, present) for r in rule):
            return False
    return True


def check_filters(patterns: Sequence[Mapping[str, Any]]) -> None:
    """Evaluate each pattern once, so an unsupported one fails at start."""
    for pattern in patterns:
        matches(pattern, {})


@dataclass
class _Shard:
    shard_id: str
    checkpoint: str | None = None  # the last sequence number done with
    # The batch being retried: its first sequence number and how often it failed.
    failing: str | None = None
    failures: int = 0
    retry_at: float = 0.0
    started: bool = False


@dataclass
class PumpReport:
    invocations: int = 0
    delivered: int = 0
    failed_batches: int = 0
    given_up: list[dict[str, Any]] = field(default_factory=list)


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.timestamp()
    return float(value or 0)


def lambda_record(raw: Mapping[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda passes it to a function."""
    change = dict(raw.get("dynamodb") or {})
    change["ApproximateCreationDateTime"] = _epoch(change.get("ApproximateCreationDateTime"))
    return {
        "eventID": raw.get("eventID", uuid.uuid4().hex),
        "eventName": raw.get("eventName"),
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": raw.get("awsRegion", region),
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


class StreamPump:
    def __init__(
        self,
        handler: StreamHandler,
        ddb: DynamoDBClient,
        streams: DynamoDBStreamsClient,
        sqs: SQSClient,
        region: str,
        *,
        clock: Callable[[], float] = time.time,
        retry_delay_seconds: float = 0.5,
    ) -> None:
        check_filters(handler.filters)
        self.handler = handler
        self._ddb = ddb
        self._streams = streams
        self._sqs = sqs
        self._region = region
        self._clock = clock
        self._retry_delay = retry_delay_seconds
        self._lock = threading.Lock()
        self._shards: dict[str, _Shard] = {}
        self.stream_arn: str | None = None
        self.delivered = 0
        self.given_up = 0

    # ---- the stream -----------------------------------------------------------
    def resolve(self) -> bool:
        try:
            table = self._ddb.describe_table(TableName=self.handler.table_name)["Table"]
        except ClientError:
            return False
        arn = table.get("LatestStreamArn")
        if not arn:
            raise RuntimeError(f"table {self.handler.table_name} has no stream")
        self.stream_arn = arn
        return True

    def _records(self, shard: _Shard) -> list[dict[str, Any]]:
        """The shard's records past its checkpoint (from the mapping's starting
        position the first time), oldest first."""
        assert self.stream_arn is not None
        if shard.checkpoint is None:
            kwargs: dict[str, Any] = {"ShardIteratorType": "TRIM_HORIZON"}
        else:
            kwargs = {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "SequenceNumber": shard.checkpoint,
            }
        iterator = self._streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard.shard_id, **kwargs
        )["ShardIterator"]
        found: list[dict[str, Any]] = []
        while iterator and len(found) < 1000:
            page = self._streams.get_records(ShardIterator=iterator, Limit=1000)
            records = [dict(r) for r in page.get("Records", [])]
            if not records:
                break
            found.extend(records)
            iterator = page.get("NextShardIterator", "")
        return found

    def _start(self, shard: _Shard) -> None:
        """LATEST: what the shard held before the mapping began is not delivered."""
        if self.handler.starting_position == "LATEST" and not shard.started:
            existing = self._records(shard)
            if existing:
                shard.checkpoint = existing[-1]["dynamodb"]["SequenceNumber"]
        shard.started = True

    # ---- one pass -------------------------------------------------------------
    def pump_once(self) -> PumpReport:
        """Deliver what every shard holds past its checkpoint, up to the first
        batch that fails (retried on a later pass, after a delay)."""
        report = PumpReport()
        with self._lock:
            if self.stream_arn is None and not self.resolve():
                return report
            assert self.stream_arn is not None
            description = self._streams.describe_stream(StreamArn=self.stream_arn)
            for raw in description["StreamDescription"].get("Shards", []):
                shard = self._shards.setdefault(raw["ShardId"], _Shard(raw["ShardId"]))
                self._start(shard)
                if shard.retry_at > self._clock():
                    continue
                self._pump_shard(shard, report)
        self.delivered += report.delivered
        return report

    def drain(self, passes: int = 50) -> PumpReport:
        """Pump until nothing is left or a batch keeps failing (tests)."""
        total = PumpReport()
        for _ in range(passes):
            report = self.pump_once()
            total.invocations += report.invocations
            total.delivered += report.delivered
            total.failed_batches += report.failed_batches
            total.given_up += report.given_up
            if report.invocations == 0 or report.failed_batches:
                break
        return total

    def _pump_shard(self, shard: _Shard, report: PumpReport) -> None:
        size = max(1, self.handler.batch_size)
        batch: list[dict[str, Any]] = []
        for raw in self._records(shard):
            if not self._passes(raw):
                if not batch:
                    # Filtered out, nothing pending before it: done with it.
                    shard.checkpoint = raw["dynamodb"]["SequenceNumber"]
                continue
            batch.append(raw)
            if len(batch) == size:
                if self._invoke(shard, batch, report) < len(batch):
                    return  # retried from there on a later pass
                batch = []
        if batch:
            self._invoke(shard, batch, report)

    def _passes(self, raw: Mapping[str, Any]) -> bool:
        if not self.handler.filters:
            return True
        record = lambda_record(raw, self.stream_arn or "", self._region)
        return any(matches(pattern, record) for pattern in self.handler.filters)

    def _invoke(self, shard: _Shard, batch: list[dict[str, Any]], report: PumpReport) -> int:
        """Run one batch as Lambda would; how many of its records are done."""
        first = batch[0]["dynamodb"]["SequenceNumber"]
        done = self._attempt(batch, report, bisect=self.handler.bisect_on_error)
        if done == len(batch):
            shard.checkpoint = batch[-1]["dynamodb"]["SequenceNumber"]
            shard.failing, shard.failures, shard.retry_at = None, 0, 0.0
            return done
        if done:
            shard.checkpoint = batch[done - 1]["dynamodb"]["SequenceNumber"]
        failed_first = batch[done]["dynamodb"]["SequenceNumber"]
        if shard.failing != failed_first:
            shard.failing, shard.failures = failed_first, 0
        shard.failures += 1
        report.failed_batches += 1
        if self._exhausted(shard, batch[done]):
            self._give_up(shard, batch[done:], report)
            return len(batch)
        shard.retry_at = self._clock() + min(5.0, self._retry_delay * 2 ** (shard.failures - 1))
        log.warning(
            "%s failed on %s (attempt %d); retrying from there",
            self.handler.name,
            first,
            shard.failures,
        )
        return done

    def _attempt(self, batch: list[dict[str, Any]], report: PumpReport, *, bisect: bool) -> int:
        """Invoke; on a crash with bisection, split and try each half. Returns
        how many records from the start of `batch` are done."""
        report.invocations += 1
        event = {"Records": [lambda_record(r, self.stream_arn or "", self._region) for r in batch]}
        try:
            result = self.handler.invoke(event, lambda_context(self.handler.name))
        except Exception:
            log.exception("handler %s failed on a batch of %d", self.handler.name, len(batch))
            if bisect and len(batch) > 1:
                half = len(batch) // 2
                done = self._attempt(batch[:half], report, bisect=True)
                if done < half:
                    return done
                return half + self._attempt(batch[half:], report, bisect=True)
            return 0
        done = self._done(result, batch)
        report.delivered += done
        return done

    def _done(self, result: Any, batch: list[dict[str, Any]]) -> int:
        if not self.handler.report_item_failures:
            return len(batch)
        failures = result.get("batchItemFailures") if isinstance(result, dict) else None
        if not failures:
            return len(batch)
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        reported = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
        if any(item not in sequence for item in reported):
            return 0  # an answer Lambda cannot read fails the whole batch
        return min(sequence.index(item) for item in reported)

    def _exhausted(self, shard: _Shard, first: Mapping[str, Any]) -> bool:
        retries = shard.failures - 1
        limit = self.handler.maximum_retry_attempts
        if limit is not None and limit >= 0 and retries >= limit:
            return True
        age_limit = self.handler.maximum_record_age_seconds
        created = _epoch(first["dynamodb"].get("ApproximateCreationDateTime"))
        return age_limit is not None and age_limit >= 0 and self._clock() - created > age_limit

    def _give_up(self, shard: _Shard, batch: list[dict[str, Any]], report: PumpReport) -> None:
        """Skip the batch, as Lambda does, and say so where the mapping says."""
        info = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{self._region}:{ACCOUNT}:function:"
                f"{self.handler.name}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": shard.failures,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": datetime.fromtimestamp(
                    _epoch(batch[0]["dynamodb"].get("ApproximateCreationDateTime")), UTC
                ).isoformat(),
                "approximateArrivalOfLastRecord": datetime.fromtimestamp(
                    _epoch(batch[-1]["dynamodb"].get("ApproximateCreationDateTime")), UTC
                ).isoformat(),
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        log.error(
            "%s gave up on %d records after %d attempts",
            self.handler.name,
            len(batch),
            shard.failures,
        )
        if self.handler.on_failure_queue:
            url = self._sqs.get_queue_url(QueueName=self.handler.on_failure_queue)["QueueUrl"]
            self._sqs.send_message(QueueUrl=url, MessageBody=json.dumps(info))
        shard.checkpoint = batch[-1]["dynamodb"]["SequenceNumber"]
        shard.failing, shard.failures, shard.retry_at = None, 0, 0.0
        self.given_up += len(batch)
        report.given_up.append(info)


class StreamPoller(threading.Thread):
    """The pump on a thread, as long as the stack runs."""

    def __init__(self, pump: StreamPump, stop: threading.Event, interval: float = 0.1) -> None:
        super().__init__(name=f"stream-{pump.handler.name}", daemon=True)
        self.pump = pump
        self._stop_event = stop
        self._interval = interval

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                report = self.pump.pump_once()
            except (BotoCoreError, ClientError):
                if self._stop_event.is_set():
                    return
                log.exception("reading the stream of %s failed", self.pump.handler.table_name)
                self._stop_event.wait(1)
                continue
            if not report.invocations:
                self._stop_event.wait(self._interval)
