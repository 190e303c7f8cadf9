"""Where moto (5.2) behaves unlike AWS in ways the local stack must not.

Each fix patches moto's classes in place, once (every function is idempotent),
when a MotoServer starts (devstack/aws.py); tests call them the same way.

- A multipart completion is one S3 event, as in S3 (moto sent two).
- A DynamoDB transaction costs what its items cost, and one that fails leaves
  nothing behind: moto deep-copied every table a transaction touched (stream
  included) before applying it, a cost that grows with the table and that
  every other DynamoDB call waited for (devstack/aws.py serializes them); and
  it rolled back by swapping in that copy, so a stream iterator made before
  kept the discarded shard with the records of writes that never committed.
- A stream iterator reads the current table's shard.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodbstreams.models import ShardIterator
from moto.s3.models import S3Backend


def apply_moto_fixes() -> None:
    one_event_per_multipart_completion()
    transactions_undo_only_their_items()
    stream_reads_see_only_committed_writes()


_completing = threading.local()


def one_event_per_multipart_completion() -> None:
    """S3 notifies `ObjectCreated:CompleteMultipartUpload` once when it assembles
    an upload; moto (5.2) also sends `ObjectCreated:Put` for the object it stores
    on the way, so every upload reached the app's handler twice, the second time
    as "object event for a closed upload". Duplicates are the fault injector's
    job (`--fault-duplicate-events`), not moto's: inside a completion, the put is
    told not to notify. Idempotent, so every MotoServer may call it."""
    if getattr(S3Backend.put_object, "_one_event_per_completion", False):
        return
    put_object = S3Backend.put_object
    complete = S3Backend.complete_multipart_upload

    def quiet_put_object(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
        if getattr(_completing, "active", False):
            kwargs["disable_notification"] = True
        return put_object(self, *args, **kwargs)

    def complete_multipart_upload(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
        _completing.active = True
        try:
            return complete(self, *args, **kwargs)
        finally:
            _completing.active = False

    quiet_put_object._one_event_per_completion = True  # type: ignore[attr-defined]
    S3Backend.put_object = quiet_put_object  # type: ignore[method-assign]
    S3Backend.complete_multipart_upload = complete_multipart_upload  # type: ignore[method-assign]


_in_transaction = threading.local()


class _CopyTablesByReference:
    """Stands in for `copy` in moto's DynamoDB module: inside a transaction a
    table is "copied" as itself (its undo is ours, below), anything else as usual."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table) and getattr(_in_transaction, "active", False):
            return value
        return copy.deepcopy(value, memo)


def _undo_log(backend: DynamoDBBackend, items: list[dict[str, Any]]) -> list[Any] | None:
    """Each item the transaction may change, as it is now; None when the
    request is malformed, which moto then refuses itself (with its own copy)."""
    log: list[Any] = []
    try:
        for item in items:
            _, op = next(iter(item.items()))
            table = backend.tables[op["TableName"]]
            attrs = op["Item"] if "Item" in op else op["Key"]
            keys = {
                name: attrs[name] for name in (table.hash_key_attr, table.range_key_attr) if name
            }
            hash_value, range_value = backend.get_keys_value(table, keys)
            found = table.get_item(hash_value, range_value)
            log.append((table, hash_value, range_value, copy.deepcopy(found)))
    except Exception:
        return None
    return log


def _undo(log: list[Any], streams: dict[int, tuple[Any, int]]) -> None:
    for table, hash_value, range_value, before in reversed(log):
        if range_value is None:
            if before is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = before
        elif before is None:
            table.items.get(hash_value, {}).pop(range_value, None)
        else:
            table.items[hash_value][range_value] = before
    for shard, length in streams.values():
        del shard.items[length:]


def transactions_undo_only_their_items() -> None:
    """See the module docstring. Conditions are still checked by moto, item by
    item; a failure restores the items it had written and drops their stream
    records, leaving the table objects in place."""
    if getattr(DynamoDBBackend.transact_write_items, "_undoes_items", False):
        return
    original = DynamoDBBackend.transact_write_items
    dynamodb_models.copy = _CopyTablesByReference  # type: ignore[attr-defined,assignment]

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        log = _undo_log(self, transact_items)
        if log is None:
            return original(self, transact_items)
        streams = {
            id(table.stream_shard): (table.stream_shard, len(table.stream_shard.items))
            for table, *_ in log
            if table.stream_shard is not None
        }
        _in_transaction.active = True
        try:
            return original(self, transact_items)
        except Exception:
            _undo(log, streams)
            raise
        finally:
            _in_transaction.active = False

    transact_write_items._undoes_items = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def stream_reads_see_only_committed_writes() -> None:
    """A shard iterator reads the table's stream as it is now.

    moto rolls a failed transaction back by replacing the table with a copy
    taken before it, stream included; an iterator made earlier keeps the
    discarded shard, which holds the records of the writes that were rolled
    back. The outbox's stream pump got such an iterator, then read records of a
    transaction that never committed, and its checkpoint skipped the real ones
    that took their sequence numbers. (SerializeDynamoDB keeps a read from
    landing in the middle of a transaction.) Idempotent."""
    if getattr(ShardIterator.get, "_reads_current_shard", False):
        return
    get = ShardIterator.get

    def current_get(self: ShardIterator, limit: int = 1000) -> dict[str, Any]:
        table = self.streams_backend.dynamodb.get_table(self.stream_shard.table.name)
        if table.stream_shard is not None:
            self.stream_shard = table.stream_shard
        return get(self, limit)

    current_get._reads_current_shard = True  # type: ignore[attr-defined]
    ShardIterator.get = current_get  # type: ignore[method-assign]
