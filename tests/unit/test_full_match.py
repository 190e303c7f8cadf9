"""Ids, channels, keys and subjects are matched in full. Python's `$` also
matches before a trailing newline, so `c_1\\n` passed for `c_1`, and
`course:c_1\\n` was taken as a channel. (Chalice's test client strips the
newline from a path before routing, so the route checks are tested here.)"""

from __future__ import annotations

import pytest

from chalicelib.errors import InvalidInput
from chalicelib.ids import is_operation_id, is_user_id, parse_channel
from chalicelib.routes.common import ids


@pytest.mark.parametrize("value", ["c_1\n", "c_1\r\n", "\nc_1"])
def test_a_path_id_with_a_newline_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput):
        ids(courseId=value)
    ids(courseId=value.strip())


def test_a_user_id_with_a_trailing_newline_is_not_a_user_id() -> None:
    assert is_user_id("alice")
    assert not is_user_id("alice\n")


@pytest.mark.parametrize("channel", ["course:c_1\n", "user:alice\n"])
def test_a_channel_with_a_trailing_newline_is_not_a_channel(channel: str) -> None:
    assert parse_channel(channel.strip())
    assert parse_channel(channel) is None


def test_an_operation_id_with_a_trailing_newline_is_not_an_operation_id() -> None:
    assert is_operation_id("op_0123abcd")
    assert not is_operation_id("op_0123abcd\n")
