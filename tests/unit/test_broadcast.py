"""The fan-out sender and the message encoding, against a fake @connections API
(the adapter's retries and answers run for real; only the HTTP exchange is faked)."""

from __future__ import annotations

import json

import pytest

from chalicelib.broadcast import BroadcastDelivery, DeliveryError, FanOut, encode
from chalicelib.events import Pong, PongData, UploadProgress, UploadProgressData
from chalicelib.management_api import ConnectionsApi
from chalicelib.models import LibraryTarget
from tests.fakes import EVENT_AT, FakeConnectionsApi, InMemoryConnections


@pytest.fixture
def api() -> FakeConnectionsApi:
    return FakeConnectionsApi()


@pytest.fixture
def connections_api(api: FakeConnectionsApi) -> ConnectionsApi:
    return ConnectionsApi(api, sleep=lambda _: None)


def test_every_connection_gets_its_own_message(
    api: FakeConnectionsApi, connections_api: ConnectionsApi
) -> None:
    fanout = FanOut(connections_api, workers=4)

    report = fanout.send([(f"c{i}=", f'{{"n": {i}}}'.encode()) for i in range(20)])

    assert report.delivered == 20
    assert all(api.received(f"c{i}=") == [{"n": i}] for i in range(20))


def test_gone_connections_are_reported_not_raised(
    api: FakeConnectionsApi, connections_api: ConnectionsApi
) -> None:
    api.close("c1=", "c3=")
    fanout = FanOut(connections_api, workers=4)

    report = fanout.send([(f"c{i}=", b"{}") for i in range(5)])

    assert report.delivered == 3
    assert sorted(report.gone) == ["c1=", "c3="]


def test_a_throttled_post_is_retried_until_delivered(
    api: FakeConnectionsApi, connections_api: ConnectionsApi
) -> None:
    api.throttle("c1=", times=2)

    assert connections_api.post("c1=", b'{"ok": 1}') is True
    assert api.received("c1=") == [{"ok": 1}]


def test_throttling_beyond_the_retry_budget_fails_that_delivery_only(
    api: FakeConnectionsApi, connections_api: ConnectionsApi
) -> None:
    api.throttle("c1=", times=100)
    fanout = FanOut(connections_api, workers=2)

    report = fanout.send([("c1=", b"{}"), ("c2=", b"{}")])

    assert report.failed == ["c1="]
    assert report.delivered == 1
    assert api.posts == 4 + 1  # four attempts for c1, one for c2


def test_the_retry_budget_is_bounded(
    api: FakeConnectionsApi, connections_api: ConnectionsApi
) -> None:
    api.throttle("c1=", times=100)

    with pytest.raises(DeliveryError, match="429"):
        connections_api.post("c1=", b"{}")

    assert api.posts == 4


def test_messages_to_one_connection_arrive_in_order_and_stop_when_it_is_gone(
    api: FakeConnectionsApi, connections_api: ConnectionsApi
) -> None:
    fanout = FanOut(connections_api, workers=4)

    messages = [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
    assert fanout.send_in_order("c1=", messages) is True
    api.close("c1=")
    assert fanout.send_in_order("c1=", [b'{"n": 4}']) is False
    assert api.received("c1=") == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_an_event_within_the_limit_is_sent_whole() -> None:
    pong = Pong.new(PongData(), at=EVENT_AT)

    assert json.loads(encode(pong, 128 * 1024)) == pong.wire()


def test_an_event_over_the_limit_is_sent_without_data_but_with_its_resources() -> None:
    event = UploadProgress.new(
        UploadProgressData(
            bytes_uploaded=1,
            total_bytes=2,
            percent=50.0,
            bytes_per_second=None,
            eta_seconds=None,
            filename="x" * 5000,
            target=LibraryTarget(type="library"),
        ),
        operation_id="op_1",
        resources=["/uploads/op_1"],
        at=EVENT_AT,
    )

    message = json.loads(encode(event, 1024))

    assert message["data"] is None
    assert message["resources"] == ["/uploads/op_1"]
    assert message["id"] == event.id


def _progress() -> UploadProgress:
    data = UploadProgressData(
        bytes_uploaded=1, total_bytes=2, percent=50.0, bytes_per_second=None,
        eta_seconds=None, filename="a.mp4", target=LibraryTarget(type="library"),
    )  # fmt: skip
    return UploadProgress.new(data, operation_id="op_1", at=EVENT_AT)


def test_a_connection_on_two_of_a_progress_events_channels_gets_it_once(
    api: FakeConnectionsApi, connections_api: ConnectionsApi
) -> None:
    connections = InMemoryConnections()
    connections.add("uploader=", "alice", ["user:alice", "course:c1"])
    connections.add("watcher=", "bob", ["course:c1"])
    delivery = BroadcastDelivery(
        connections, FanOut(connections_api, workers=2), max_message_bytes=128 * 1024
    )
    event = _progress()

    delivery.deliver([event.on_channel("user:alice", None), event.on_channel("course:c1", None)])

    assert [m["id"] for m in api.received("uploader=")] == [event.id]
    assert [m["channel"] for m in api.received("watcher=")] == ["course:c1"]


def test_a_durable_event_reaches_a_connection_once_per_channel_with_each_seq(
    api: FakeConnectionsApi, connections_api: ConnectionsApi
) -> None:
    connections = InMemoryConnections()
    connections.add("uploader=", "alice", ["user:alice", "course:c1"])
    delivery = BroadcastDelivery(
        connections, FanOut(connections_api, workers=2), max_message_bytes=128 * 1024
    )
    durable = _DurablePong.new(PongData(), at=EVENT_AT)

    delivery.deliver([durable.on_channel("user:alice", 7), durable.on_channel("course:c1", 3)])

    assert [(m["channel"], m["seq"]) for m in api.received("uploader=")] == [
        ("user:alice", 7),
        ("course:c1", 3),
    ]


class _DurablePong(Pong):
    """Any durable event: its copies keep their channel's seq."""

    durable = True
