"""The one interface every service publishes through.

The realtime implementation (chalicelib/broadcast.py) numbers durable events per
channel, keeps them for replay and fans them out to the channel's WebSocket
connections; tests use an in-memory implementation of the same protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chalicelib.events import Envelope


class Publisher(Protocol):
    def publish(self, event: Envelope, channels: Sequence[str]) -> list[Envelope]:
        """Deliver `event` to every channel; return the copy stamped for each channel
        (with its `seq` when the event is durable), in the order of `channels`."""
        ...
