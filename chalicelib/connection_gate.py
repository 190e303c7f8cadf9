"""The WebSocket API's `$connect` and `$disconnect`: who may open a connection,
and what is stored for it.

API Gateway's WebSocket API has no authorizer for our tokens (browsers cannot
send headers on a WebSocket), so `$connect` verifies `?token=` itself and a bad
one refuses the upgrade. Apart from chalicelib/realtime.py (`$default`, the
messages), because API Gateway runs each route as a function of its own: these
two never subscribe, replay or reply, and their cold start loads none of the
event classes or the broadcast that the messages need
(docs/PERFORMANCE.md#cold-start).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chalicelib.auth import Caller
from chalicelib.channels import user_channel
from chalicelib.domain.connections import Connection


class Verifier(Protocol):
    """Who a token names (chalicelib/auth.py's TokenVerifier)."""

    def verify(self, token: str | None) -> Caller: ...


class OpenConnections(Protocol):
    """Where connections are kept (chalicelib/store/connections.py)."""

    def add(
        self,
        connection_id: str,
        user_id: str,
        channels: Sequence[str] = (),
        *,
        token_expires_at: int | None = None,
    ) -> Connection: ...

    def remove(self, connection_id: str) -> None: ...


class ConnectionGate:
    def __init__(self, connections: OpenConnections, verifier: Verifier) -> None:
        self._connections = connections
        self._verifier = verifier

    def connect(self, connection_id: str, token: str | None) -> Caller:
        """Raises Unauthenticated for a missing, forged or expired token. The
        connection keeps the token's expiry: its rights end with it. It starts
        subscribed to its user's own channel, which needs no check."""
        caller = self._verifier.verify(token)
        self._connections.add(
            connection_id,
            caller.user_id,
            [user_channel(caller.user_id)],
            token_expires_at=caller.expires_at,
        )
        return caller

    def disconnect(self, connection_id: str) -> None:
        self._connections.remove(connection_id)
