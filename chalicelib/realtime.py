"""The WebSocket service behind `$default` (chalicelib/connection_gate.py has
`$connect` and `$disconnect`).

`$default` is the only message route: it dispatches on `action`, and every
problem with a message is answered with an `error` message on the same
connection, which stays open. `authenticate` renews a connection's rights with a
fresh token, verified as `$connect` verifies the first.

Replies go straight to the one connection, in order; they are control events
(no channel seq) except the replayed durable events, which keep their seq.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from chalicelib.auth import Role
from chalicelib.broadcast import ChannelConnections, FanOut, encode, forget_gone
from chalicelib.channels import user_channel
from chalicelib.client_messages import (
    AuthenticateMessage,
    ClientMessage,
    PingMessage,
    UnsubscribeMessage,
    parse_message,
)
from chalicelib.clock import Clock, utc
from chalicelib.connection_gate import Verifier
from chalicelib.domain.connections import Connection
from chalicelib.errors import DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated
from chalicelib.events import (
    Authenticated,
    AuthenticatedData,
    Envelope,
    Error,
    ErrorData,
    Pong,
    PongData,
    Subscribed,
    SubscribedData,
    Unsubscribed,
    UnsubscribedData,
    UploadProgress,
)
from chalicelib.ids import parse_channel
from chalicelib.logging import logger

# Replies go out one after another (their order is the point), at a round trip
# each: more missed events than this would not fit in one Lambda invocation.
# The client is told the replay is incomplete and refetches instead.
MAX_REPLAY = 500


class ConnectionRepository(ChannelConnections, Protocol):
    """The connections and their subscriptions (chalicelib/store/connections.py);
    connections are added by chalicelib/connection_gate.py."""

    def reauthenticate(self, conn: Connection, token_expires_at: int) -> Connection: ...
    def get(self, connection_id: str) -> Connection | None: ...
    def subscribe(self, conn: Connection, channel: str) -> None: ...
    def unsubscribe(self, connection_id: str, channel: str) -> None: ...
    def subscribers(self, channel: str, user_id: str) -> list[str]: ...


class EventHistory(Protocol):
    """The channels' durable events (chalicelib/store/events.py)."""

    def current_seq(self, channel: str) -> int: ...
    def since(self, channel: str, seq: int, through: int | None = None) -> list[Envelope]: ...


class Memberships(Protocol):
    """Course roles (chalicelib/courses.py's CourseService)."""

    def role_of(self, course_id: str, user_id: str) -> Role | None: ...


class UploadsProgress(Protocol):
    """The latest progress of a channel's open uploads (the uploads service)."""

    def current_progress(self, channel: str) -> list[UploadProgress]: ...


# ---- replies ----------------------------------------------------------------


def error_reply(err: DomainError, at: datetime) -> Error:
    return Error.new(ErrorData(code=err.code, message=err.message), at=at)


# ---- one connection's messages ---------------------------------------------


class LiveAccess:
    """What the server sends one connection outside a broadcast: replies, in
    order, and the end of a user's subscription to a channel. The course service
    ends a removed member's access through it, so it needs neither that service
    nor the realtime service that asks the course service about memberships;
    a course's deletion ends every subscription to its channel through it."""

    def __init__(
        self,
        connections: ConnectionRepository,
        fanout: FanOut,
        max_message_bytes: int,
        clock: Clock = time.time,
    ) -> None:
        self._connections = connections
        self._fanout = fanout
        self._max_bytes = max_message_bytes
        self._clock = clock

    def reply(self, connection_id: str, replies: list[Envelope]) -> None:
        payloads = [encode(envelope, self._max_bytes) for envelope in replies]
        if not self._fanout.send_in_order(connection_id, payloads):
            # The client left while we answered: forget it now rather than at
            # the next broadcast.
            forget_gone(self._connections, connection_id)

    def revoke(self, user_id: str, channel: str) -> int:
        """End a user's subscriptions to `channel` (a member removed from a
        course): each of their connections gets `unsubscribed` and no further
        events of the channel. Returns how many connections were affected."""
        return self._end(self._connections.subscribers(channel, user_id), channel)

    def end_channel(self, channel: str) -> int:
        """End every subscription to `channel` (a deleted course), whoever
        holds it: each connection gets `unsubscribed`. Returns how many."""
        return self._end(self._connections.connections_on(channel), channel)

    def _end(self, connection_ids: Sequence[str], channel: str) -> int:
        revoked = 0
        for connection_id in connection_ids:
            try:
                self._connections.unsubscribe(connection_id, channel)
            except NotFound:
                continue  # it closed meanwhile; $disconnect removes the rest
            left = Unsubscribed.new(UnsubscribedData(channel=channel), at=utc(self._clock))
            self.reply(connection_id, [left])
            revoked += 1
        return revoked


# ---- the service ------------------------------------------------------------


class RealtimeService:
    def __init__(
        self,
        *,
        connections: ConnectionRepository,
        events: EventHistory,
        live: LiveAccess,
        verifier: Verifier,
        memberships: Memberships,
        uploads: UploadsProgress,
        max_replay: int = MAX_REPLAY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._connections = connections
        self._events = events
        self._live = live
        self._verifier = verifier
        self._memberships = memberships
        self._uploads = uploads
        self._max_replay = max_replay
        self._clock = clock

    def receive(self, connection_id: str, body: str | None) -> None:
        """Handle one client message; every failure becomes an `error` reply."""
        try:
            replies = self._dispatch(connection_id, parse_message(body))
        except DomainError as err:
            replies = [error_reply(err, utc(self._clock))]
        except Exception:
            logger.exception("websocket message failed", connection_id=connection_id)
            replies = [
                Error.new(
                    ErrorData(code="internal_error", message="the message failed; retry"),
                    at=utc(self._clock),
                )
            ]
        self._live.reply(connection_id, replies)

    # ---- actions -----------------------------------------------------------
    def _dispatch(self, connection_id: str, message: ClientMessage) -> list[Envelope]:
        if isinstance(message, PingMessage):
            return [Pong.new(PongData(), at=utc(self._clock))]
        conn = self._connections.get(connection_id)
        if conn is None:
            raise NotFound(
                "this connection is not registered; reconnect", code="connection_unknown"
            )
        if isinstance(message, AuthenticateMessage):
            return self._authenticate(conn, message.token)
        if isinstance(message, UnsubscribeMessage):
            return self._unsubscribe(conn, message.channel)
        if conn.token_expires_at <= self._clock():
            raise Unauthenticated(
                "this connection's token has expired; send authenticate with a fresh token "
                "(or reconnect), then subscribe with since",
                code="token_expired",
            )
        return self._subscribe(conn, message.channel, message.since)

    def _authenticate(self, conn: Connection, token: str) -> list[Envelope]:
        caller = self._verifier.verify(token)
        if caller.user_id != conn.user_id:
            # Channels were authorised for the user who connected: another
            # user's token would inherit them. That user connects afresh.
            raise Forbidden(
                "the token names another user; open a new connection for them",
                code="token_subject_mismatch",
            )
        assert caller.expires_at is not None
        renewed = self._connections.reauthenticate(conn, caller.expires_at)
        expires_at = datetime.fromtimestamp(renewed.token_expires_at, UTC)
        return [Authenticated.new(AuthenticatedData(expires_at=expires_at), at=utc(self._clock))]

    def _subscribe(self, conn: Connection, channel: str, since: int | None) -> list[Envelope]:
        self._authorize(conn.user_id, channel)
        # Subscribe first, then read the seq. A publisher stores its event
        # before it looks for connections, so any event numbered after `seq`
        # finds this subscription and arrives live: replaying up to `seq`
        # misses nothing. (An event can arrive both ways; clients dedupe on `id`.)
        self._connections.subscribe(conn, channel)
        seq = self._events.current_seq(channel)
        if since is None:
            return [Subscribed.new(SubscribedData(channel=channel, seq=seq), at=utc(self._clock))]
        missed = seq - since
        replay = (
            self._events.since(channel, since, through=seq)
            if 0 < missed <= self._max_replay
            else []
        )
        complete = [event.seq for event in replay] == list(range(since + 1, seq + 1))
        return [
            Subscribed.new(
                SubscribedData(channel=channel, seq=seq, replay_complete=complete),
                at=utc(self._clock),
            ),
            *replay,
            *(
                progress if progress.channel == channel else progress.on_channel(channel, None)
                for progress in self._uploads.current_progress(channel)
            ),
        ]

    def _unsubscribe(self, conn: Connection, channel: str) -> list[Envelope]:
        if parse_channel(channel) is None:
            raise InvalidInput(f"{channel!r} is not a channel", code="invalid_channel")
        if channel == user_channel(conn.user_id):
            # Every connection keeps its own user channel: that is where its
            # uploads' events arrive.
            raise InvalidInput(
                "a connection cannot leave its own user channel", code="invalid_channel"
            )
        self._connections.unsubscribe(conn.connection_id, channel)
        return [Unsubscribed.new(UnsubscribedData(channel=channel), at=utc(self._clock))]

    def _authorize(self, user_id: str, channel: str) -> None:
        parsed = parse_channel(channel)
        if parsed is None:
            raise InvalidInput(
                f"{channel!r} is not a channel; expected user:{{userId}} or course:{{courseId}}",
                code="invalid_channel",
            )
        scope, key = parsed
        if scope == "user" and key != user_id:
            raise Forbidden("only your own user channel can be subscribed")
        if scope == "course" and self._memberships.role_of(key, user_id) is None:
            raise Forbidden("only members of a course can subscribe to it", code="not_a_member")
