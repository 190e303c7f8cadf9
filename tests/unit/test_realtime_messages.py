"""What a client may send on the WebSocket, and the error codes it gets back."""

from __future__ import annotations

import pytest

from chalicelib.errors import InvalidInput
from chalicelib.events import PingMessage, SubscribeMessage, UnsubscribeMessage
from chalicelib.realtime import parse_message


def test_subscribe_with_since_is_read() -> None:
    message = parse_message('{"action": "subscribe", "channel": "course:c_1", "since": 41}')

    assert message == SubscribeMessage(action="subscribe", channel="course:c_1", since=41)


def test_subscribe_without_since_replays_nothing() -> None:
    message = parse_message('{"action": "subscribe", "channel": "course:c_1"}')

    assert isinstance(message, SubscribeMessage)
    assert message.since is None


def test_unsubscribe_and_ping_are_read() -> None:
    assert isinstance(
        parse_message('{"action": "unsubscribe", "channel": "course:c_1"}'), UnsubscribeMessage
    )
    assert isinstance(parse_message('{"action": "ping"}'), PingMessage)


@pytest.mark.parametrize("body", ["", "None", "   ", "{", "null", '"ping"', "42"])
def test_a_message_that_is_not_a_json_object_is_invalid(body: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_message(body if body != "None" else None)

    assert caught.value.code == "invalid_message"


def test_an_unknown_action_is_named_in_the_error() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_message('{"action": "publish", "channel": "course:c_1"}')

    assert caught.value.code == "unknown_action"
    assert "publish" in caught.value.message


def test_a_boolean_since_is_invalid() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_message('{"action": "subscribe", "channel": "course:c_1", "since": true}')

    assert caught.value.code == "invalid_message"
    assert "since" in caught.value.message


def test_an_overlong_channel_is_invalid() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_message('{"action": "subscribe", "channel": "course:' + "c" * 500 + '"}')

    assert caught.value.code == "invalid_message"
