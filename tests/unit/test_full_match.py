"""Ids, channels, keys and subjects are matched in full. Python's `$` also
matches before a trailing newline, so `c_1\\n` passed for `c_1`, and
`course:c_1\\n` was taken as a channel. (Chalice's test client strips the
newline from a path before routing, so the route checks are tested here.)"""

from __future__ import annotations

import pytest

from chalicelib.auth import USER_ID
from chalicelib.errors import InvalidInput
from chalicelib.realtime import CHANNEL
from chalicelib.routes.courses import ids


@pytest.mark.parametrize("value", ["c_1\n", "c_1\r\n", "\nc_1"])
def test_a_path_id_with_a_newline_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput):
        ids(courseId=value)
    ids(courseId=value.strip())


def test_a_user_id_with_a_trailing_newline_is_not_a_user_id() -> None:
    assert USER_ID.match("alice")
    assert not USER_ID.match("alice\n")


@pytest.mark.parametrize("channel", ["course:c_1\n", "user:alice\n"])
def test_a_channel_with_a_trailing_newline_is_not_a_channel(channel: str) -> None:
    assert CHANNEL.match(channel.strip())
    assert not CHANNEL.match(channel)
