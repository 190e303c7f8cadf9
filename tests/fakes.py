"""In-memory stand-ins for the domain tests (Cosmic Python's fakes): they keep
the same contracts as the real adapters, so tests assert behaviour, not calls."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence

from chalicelib.events import Envelope


class InMemoryPublisher:
    """A Publisher that numbers durable events per channel and records every
    delivery in order, as the realtime publisher would deliver them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq: dict[str, int] = defaultdict(int)
        self.sent: list[Envelope] = []

    def publish(self, event: Envelope, channels: Sequence[str]) -> list[Envelope]:
        copies = []
        with self._lock:
            for channel in channels:
                seq = None
                if event.durable:
                    self._seq[channel] += 1
                    seq = self._seq[channel]
                copy = event.on_channel(channel, seq)
                self.sent.append(copy)
                copies.append(copy)
        return copies

    def on(self, channel: str) -> list[Envelope]:
        return [e for e in self.sent if e.channel == channel]

    def types_on(self, channel: str) -> list[str]:
        return [e.type for e in self.on(channel)]
