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
- A multipart completion reads each part once and writes the parts to the
  object's file as they are: moto read every part twice and copied the whole
  object four times (two of them for the full-object checksum it gives an
  upload that asked for none), seconds for a few hundred MiB, which the app's
  `complete` waited for.
- A key larger than moto keeps in memory goes straight to its file: moto
  copied it into memory first (holding the GIL every other request waits
  for), then into the file.
- moto's dispatcher finds each request's service without listing its own
  package directory first (it did, under a lock every request takes).
"""

from __future__ import annotations

import base64
import binascii
import copy
import threading
from collections.abc import Iterator
from typing import Any, cast

from moto import backends as moto_backends
from moto.core.compat import HAS_CRT
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodbstreams.models import ShardIterator
from moto.s3.exceptions import EntityTooSmall, InvalidPart, MalformedXML
from moto.s3.models import (
    DEFAULT_TEXT_ENCODING,
    FakeKey,
    FakeMultipart,
    MultipartChecksumBuilder,
    S3Backend,
)
from moto.settings import S3_UPLOAD_PART_MIN_SIZE
from moto.utilities.utils import md5_hash


def patched_attributes() -> list[tuple[object, str]]:
    """Every (owner, attribute) the fixes replace, for a test to restore."""
    return [
        (S3Backend, "put_object"),
        (S3Backend, "complete_multipart_upload"),
        (FakeMultipart, "complete"),
        (FakeKey, "value"),
        (DynamoDBBackend, "transact_write_items"),
        (dynamodb_models, "copy"),
        (ShardIterator, "get"),
        (moto_backends, "list_of_moto_modules"),
    ]


def apply_moto_fixes() -> None:
    one_event_per_multipart_completion()
    transactions_undo_only_their_items()
    stream_reads_see_only_committed_writes()
    large_keys_go_straight_to_file()
    multipart_completion_reads_each_part_once()
    dispatch_without_listing_moto()


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


def _crc32_stands_in(algorithm: str) -> bool:
    """Whether moto's full-object checksum of this algorithm is CRC32, which
    runs part by part: CRC32 itself, and CRC64NVME without awscrt (which the
    stack does not install), for which moto falls back to CRC32
    (moto/s3/utils.py compute_checksum)."""
    return algorithm == "CRC32" or (algorithm == "CRC64NVME" and not HAS_CRT)


class _AssembledParts:
    """A completed upload's parts in order, standing in for their join: the
    object's value setter (large_keys_go_straight_to_file) writes them to the
    object's file one after the other, so the whole object is never one more
    bytes in memory. Only S3Backend.complete_multipart_upload sees it, and only
    passes it on to put_object, which passes it to FakeKey."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self._length = sum(len(chunk) for chunk in chunks)

    def __len__(self) -> int:
        return self._length


def multipart_completion_reads_each_part_once() -> None:
    """`FakeMultipart.complete`, with the same checks, ETag, checksum and body,
    built from one read of each part; a full-object CRC runs over the parts as
    they are read instead of over another copy of the object. Checksums it
    cannot run part by part go to moto's own. Idempotent."""
    if getattr(FakeMultipart.complete, "_reads_each_part_once", False):
        return
    large_keys_go_straight_to_file()  # the setter that writes _AssembledParts
    original = FakeMultipart.complete

    def complete(
        self: FakeMultipart, body: Iterator[tuple[int, str]]
    ) -> tuple[bytes, str, tuple[str, str, int] | None]:
        builder = MultipartChecksumBuilder(
            self.metadata.get("x-amz-checksum-algorithm"),
            self.metadata.get("x-amz-checksum-type"),
        )
        composite = builder.checksum_type == "COMPOSITE"
        if not composite and not _crc32_stands_in(builder.checksum_algorithm):
            return original(self, body)
        chunks: list[bytes] = []
        md5s = bytearray()
        crc = 0
        last = None
        for number, etag in body:
            part = self.parts.get(number)
            if part is None or part.etag.replace('"', "") != etag.replace('"', ""):
                raise InvalidPart()
            if last is not None and last.contentsize < S3_UPLOAD_PART_MIN_SIZE:
                raise EntityTooSmall()
            md5s.extend(bytes.fromhex(part.etag.replace('"', "")))
            value = part.value
            chunks.append(value)
            if composite:
                builder.addPart(value)
            else:
                crc = binascii.crc32(value, crc)
            last = part
        if not chunks:
            raise MalformedXML
        full_etag = md5_hash()
        full_etag.update(bytes(md5s))
        if composite:
            checksum = builder.build()
        else:
            digest = base64.b64encode(crc.to_bytes(4, "big")).decode()
            checksum = (builder.checksum_type, digest, 1)
        assembled = cast(bytes, _AssembledParts(chunks))
        return assembled, f"{full_etag.hexdigest()}-{len(chunks)}", checksum

    complete._reads_each_part_once = True  # type: ignore[attr-defined]
    FakeMultipart.complete = complete  # type: ignore[method-assign]


def large_keys_go_straight_to_file() -> None:
    """moto holds a key's bytes in a SpooledTemporaryFile, which writes into
    an in-memory buffer and only then, past its size, rolls over to a file:
    every part of an upload and every assembled object was copied once more
    than it needed, all under the GIL. A value past the size rolls over first.
    What the key holds, and where, is unchanged. Idempotent."""
    current = FakeKey.__dict__["value"]
    if getattr(current.fset, "_straight_to_file", False):
        return

    def set_value(self: FakeKey, new_value: bytes | str | _AssembledParts) -> None:
        data = new_value.encode(DEFAULT_TEXT_ENCODING) if isinstance(new_value, str) else new_value
        buffer = self._value_buffer
        buffer.seek(0)
        buffer.truncate()
        if len(data) > self._max_buffer_size:
            buffer.rollover()
        for chunk in data.chunks if isinstance(data, _AssembledParts) else [data]:
            buffer.write(chunk)
        self.contentsize = len(data)

    set_value._straight_to_file = True  # type: ignore[attr-defined]
    FakeKey.value = property(current.fget, set_value)  # type: ignore[method-assign,assignment]


def dispatch_without_listing_moto() -> None:
    """moto's server asks, for every request and under the dispatcher's one
    lock, whether the host names one of moto's packages: `os.listdir` of moto
    and an `isdir` per entry (174 of them), about a millisecond a request.
    The packages do not change while the stack runs; list them once. Idempotent."""
    if getattr(moto_backends.list_of_moto_modules, "_listed_once", False):
        return
    modules = tuple(moto_backends.list_of_moto_modules())

    def list_of_moto_modules() -> Iterator[str]:
        return iter(modules)

    list_of_moto_modules._listed_once = True  # type: ignore[attr-defined]
    moto_backends.list_of_moto_modules = list_of_moto_modules
