"""The stale-upload sweep and the progress replay the realtime service asks for."""

from __future__ import annotations

from typing import Any

import boto3

from chalicelib.services import container
from tests.conftest import REGION
from tests.integration.uploads_kit import MIB, Harness, harness_fixture  # noqa: F401

SIZE = 17 * MIB


def _age(h: Harness, upload: dict[str, Any], hours: float) -> None:
    """Let `hours` pass on the container's clock, so the upload is that old."""
    assert upload["status"] == "uploading"
    h.clock.advance(hours * 3600)


def _sweep(h: Harness) -> None:
    event = h.client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    h.client.lambda_.invoke("expire_stale_uploads", event)


def test_the_sweep_expires_uploads_open_too_long(harness: Harness) -> None:
    stale = harness.start("alice", SIZE)
    _age(harness, stale, container().settings.stale_upload_after_hours + 1)

    _sweep(harness)

    _, body = harness.call("get", f"/uploads/{stale['operationId']}", "alice")
    assert (body["status"], body["reason"]) == ("failed", "expired")
    assert harness.multipart_uploads() == []
    failed = harness.publisher.on("user:alice")[-1]
    assert (failed.type, failed.data.reason) == ("upload.failed", "expired")


def test_the_sweep_leaves_younger_uploads_alone(harness: Harness) -> None:
    young = harness.start("alice", SIZE)
    _age(harness, young, container().settings.stale_upload_after_hours - 1)

    _sweep(harness)

    _, body = harness.call("get", f"/uploads/{young['operationId']}", "alice")
    assert body["status"] == "uploading"
    assert harness.publisher.types_on("user:alice") == ["upload.started"]


def test_a_second_sweep_changes_nothing(harness: Harness) -> None:
    stale = harness.start("alice", SIZE)
    _age(harness, stale, container().settings.stale_upload_after_hours + 1)
    _sweep(harness)
    sent = len(harness.publisher.sent)

    _sweep(harness)

    assert len(harness.publisher.sent) == sent


def test_current_progress_replays_each_open_upload_of_a_user(harness: Harness) -> None:
    first = harness.start("alice", SIZE)
    second = harness.start("alice", SIZE)
    harness.start("bob", SIZE)
    harness.call(
        "post", f"/uploads/{first['operationId']}/progress", "alice", {"bytesUploaded": MIB}
    )

    replay = container().progress.current_progress("user:alice")

    by_operation = {e.operationId: e.data.bytes_uploaded for e in replay}  # type: ignore[union-attr]
    assert by_operation == {first["operationId"]: MIB, second["operationId"]: 0}
    assert {e.type for e in replay} == {"upload.progress"}


def test_current_progress_of_a_course_covers_uploads_into_its_chapters_only(
    harness: Harness,
) -> None:
    target = harness.chapter_target("alice")
    into_chapter = harness.start("alice", SIZE, target)
    harness.start("alice", SIZE)

    replay = container().progress.current_progress(f"course:{target['courseId']}")

    assert [e.operationId for e in replay] == [into_chapter["operationId"]]
    assert replay[0].courseId == target["courseId"]


def test_current_progress_leaves_out_closed_uploads(harness: Harness) -> None:
    upload = harness.start("alice", SIZE)
    harness.call("delete", f"/uploads/{upload['operationId']}", "alice")

    assert container().progress.current_progress("user:alice") == []


def test_the_sweep_finds_stale_uploads_in_every_shard_of_the_index_and_the_old_key(
    harness: Harness,
) -> None:
    ddb = boto3.session.Session(region_name=REGION).client("dynamodb")
    table = container().settings.uploads_table

    def key(upload: dict[str, Any]) -> dict[str, Any]:
        return {"operationId": {"S": upload["operationId"]}}

    stale = [harness.start("alice", SIZE) for _ in range(8)]
    shards = {ddb.get_item(TableName=table, Key=key(u))["Item"]["openSince"]["S"] for u in stale}
    assert len(shards) > 1  # the uploads' index writes went to several partitions
    # One upload as stored before the sharding: the bare marker.
    ddb.update_item(
        TableName=table,
        Key=key(stale[0]),
        UpdateExpression="SET openSince = :open",
        ExpressionAttributeValues={":open": {"S": "open"}},
    )
    _age(harness, stale[-1], container().settings.stale_upload_after_hours + 1)

    _sweep(harness)

    for upload in stale:
        _, body = harness.call("get", f"/uploads/{upload['operationId']}", "alice")
        assert (body["status"], body["reason"]) == ("failed", "expired"), upload["operationId"]
