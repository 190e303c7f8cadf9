"""A WebSocket client that behaves as the documented one (RealtimeClient in
packages/client/src/realtime.js, docs/realtime.md), for the chaos suite.

- Every channel is subscribed on connect; after the first time, with `since` =
  the last seq seen on it, so the server replays what was missed.
- Durable events are taken in seq order per channel: a repeat (seq already seen)
  is dropped; a gap asks for a replay from the last seq seen and drops events
  until the `subscribed` that starts it; what was dropped past that replay
  (a live post that overtook the reply) is asked for again once it is in.
- One event published to two channels has one id: it is held once.
- A closed socket (the server found it gone, or we recycled it) is reopened
  with a short back-off, and every channel is subscribed again with `since`.

What it holds is what the suite checks; it also counts what it dropped, so a
report can tell what the server sent twice from what a client kept twice.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

# Refusals a retry can cure (docs/realtime.md, "Client messages").
RETRYABLE = {"throttled", "connection_store_unavailable", "event_log_unavailable", "internal_error"}


@dataclass(frozen=True)
class Held:
    """One durable event as the client kept it."""

    channel: str
    seq: int
    id: str
    type: str
    operation_id: str | None


@dataclass
class Tally:
    """What one client saw besides what it holds."""

    deliveries: int = 0  # durable event messages received, repeats included
    repeats: int = 0  # dropped: seq already seen on the channel
    gaps: int = 0  # a seq skipped ahead: a replay was asked for
    same_id: int = 0  # dropped: the id was held already (from another channel)
    resyncs: int = 0  # `subscribed` said the replay cannot catch up
    gone: int = 0  # sockets the server closed
    recycled: int = 0  # sockets we closed to reconnect
    refused: dict[str, int] = field(default_factory=dict)
    handshake_5xx: int = 0


class ChaosClient:
    def __init__(self, url: Callable[[], str], channels: list[str], name: str) -> None:
        self._url = url
        self.channels = list(channels)
        self.name = name
        self.tally = Tally()
        self.held: list[Held] = []
        # The seq a channel's holding starts after (see `expected_after`).
        self.begins: dict[str, int] = {}
        self._last: dict[str, int] = {}
        self._resyncing: set[str] = set()
        # As RealtimeClient: the highest seq dropped while a replay was awaited,
        # and the seq at which to ask again for what overtook the replay's reply.
        self._dropped: dict[str, int] = {}
        self._ask_again_at: dict[str, int] = {}
        # As RealtimeClient: the lowest `since` asked for since the channel's
        # last `subscribed`. Only a reply below it is a restarted sequence; one
        # below the last seq held was read before events that overtook it.
        self._asked: dict[str, int] = {}
        self._ids: set[str] = set()
        # What arrived, in order, to explain a failure: (socket number, kind, channel, seq).
        self.trace: list[tuple[int, str, str | None, int | None]] = []
        self._sockets = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._socket: ClientConnection | None = None
        self._planned = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"chaos-{name}", daemon=True)

    # ---- lifecycle ---------------------------------------------------------
    def start(self, timeout: float = 15.0) -> None:
        """Connect and wait until every channel has answered `subscribed` once."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise AssertionError(f"{self.name}: not subscribed within {timeout} s")

    def recycle(self) -> None:
        """Close the socket and reconnect, as before API Gateway's 2-hour cap."""
        with self._lock:
            sock, self._planned = self._socket, True
        if sock is not None:
            sock.close(1000, "recycling")

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            sock = self._socket
        if sock is not None:
            sock.close()
        self._thread.join(timeout=10)

    def caught_up(self, heads: dict[str, int]) -> bool:
        with self._lock:
            return all(self._last.get(c, -1) >= heads.get(c, 0) for c in self.channels)

    def last_seq(self, channel: str) -> int | None:
        with self._lock:
            return self._last.get(channel)

    # ---- the connection loop -------------------------------------------------
    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                with connect(self._url(), open_timeout=10, close_timeout=2) as sock:
                    attempt = 0
                    planned = self._session(sock)
            except InvalidStatus as refused:
                if refused.response.status_code >= 500:
                    self.tally.handshake_5xx += 1
                attempt += 1
                self._stop.wait(min(2.0, 0.1 * 2**attempt))
                continue
            except (OSError, TimeoutError):
                attempt += 1
                self._stop.wait(min(2.0, 0.1 * 2**attempt))
                continue
            if self._stop.is_set():
                return
            if planned:
                self.tally.recycled += 1
            else:
                self.tally.gone += 1
                self._stop.wait(0.2)

    def _session(self, sock: ClientConnection) -> bool:
        """Subscribe and read until the socket closes; True if we closed it."""
        with self._lock:
            self._socket, self._planned = sock, False
            self._sockets += 1
            # A new connection subscribes every channel with `since` anyway.
            self._resyncing.clear()
            self._dropped.clear()
            self._ask_again_at.clear()
            self._asked.clear()
        try:
            for channel in self.channels:
                self._subscribe(sock, channel)
            for raw in sock:
                self._receive(sock, raw)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._socket = None
        return self._planned

    def _subscribe(self, sock: ClientConnection, channel: str) -> None:
        with self._lock:
            since = self._last.get(channel)
        message: dict[str, Any] = {"action": "subscribe", "channel": channel}
        if since is not None:
            message["since"] = since
            with self._lock:
                self._asked[channel] = min(self._asked.get(channel, since), since)
        with self._lock:
            self.trace.append((self._sockets, "subscribe", channel, since))
        sock.send(json.dumps(message))

    # ---- incoming messages ---------------------------------------------------
    def _receive(self, sock: ClientConnection, raw: str | bytes) -> None:
        message = json.loads(raw)
        kind = message.get("type")
        data = message.get("data") if isinstance(message.get("data"), dict) else {}
        with self._lock:
            self.trace.append(
                (
                    self._sockets,
                    str(kind),
                    message.get("channel") or data.get("channel"),
                    message.get("seq") if message.get("seq") is not None else data.get("seq"),
                )
            )
        if kind == "subscribed":
            again = self._subscribed(message["data"])
            if again is not None:
                self._subscribe(sock, again)
        elif kind == "error":
            code = str(message["data"]["code"])
            self.tally.refused[code] = self.tally.refused.get(code, 0) + 1
            if code in RETRYABLE:
                time.sleep(0.1)
                for channel in self._unconfirmed():
                    self._subscribe(sock, channel)
        elif message.get("seq") is not None and message.get("channel"):
            self._event(sock, message)

    def _unconfirmed(self) -> list[str]:
        with self._lock:
            return [c for c in self.channels if c not in self._last or c in self._resyncing]

    def _subscribed(self, data: dict[str, Any]) -> str | None:
        """Take a `subscribed`; the channel to ask again for, if any."""
        channel, seq = str(data["channel"]), int(data["seq"])
        ask_now = False
        with self._lock:
            self._resyncing.discard(channel)
            dropped = self._dropped.pop(channel, None)
            last = self._last.get(channel)
            asked = self._asked.pop(channel, None)
            if last is None:
                self._last[channel] = seq
                self.begins.setdefault(channel, seq)
            elif (asked is not None and seq < asked) or data.get("replayComplete") is False:
                self.tally.resyncs += 1
                restarted = asked is not None and seq < asked
                self._last[channel] = seq if restarted else max(seq, last)
            if dropped is not None and dropped > seq:
                ask_now = self._last[channel] >= seq
                if ask_now:
                    self._resyncing.add(channel)
                else:
                    self._ask_again_at[channel] = seq
            if all(c in self._last for c in self.channels):
                self._ready.set()
        return channel if ask_now else None

    def _event(self, sock: ClientConnection, message: dict[str, Any]) -> None:
        channel, seq = str(message["channel"]), int(message["seq"])
        resubscribe = False
        with self._lock:
            self.tally.deliveries += 1
            last = self._last.get(channel)
            if last is None:
                # An event before the first `subscribed`: holding starts at it.
                self.begins.setdefault(channel, seq - 1)
            elif seq <= last:
                self.tally.repeats += 1
                return
            elif seq > last + 1:
                self.tally.gaps += 1
                self._dropped[channel] = max(seq, self._dropped.get(channel, 0))
                resubscribe = channel not in self._resyncing
                self._resyncing.add(channel)
            if not resubscribe and (last is None or seq == last + 1):
                self._last[channel] = seq
                event = Held(channel, seq, message["id"], message["type"], message["operationId"])
                self.held.append(event)
                if event.id in self._ids:
                    self.tally.same_id += 1
                self._ids.add(event.id)
                ask_at = self._ask_again_at.get(channel)
                if ask_at is None or seq < ask_at:
                    return
                del self._ask_again_at[channel]
                self._resyncing.add(channel)
                resubscribe = True
        if resubscribe:
            self._subscribe(sock, channel)

    # ---- what it holds -------------------------------------------------------
    def on_channel(self, channel: str) -> list[Held]:
        with self._lock:
            return [h for h in self.held if h.channel == channel]

    def held_ids(self) -> list[str]:
        """Every event once, as the page is handed them (deduplicated by id)."""
        seen: dict[str, None] = {}
        with self._lock:
            for h in self.held:
                seen.setdefault(h.id, None)
        return list(seen)
