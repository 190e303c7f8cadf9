"""A WebSocket connection as the realtime service sees it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Connection:
    connection_id: str
    user_id: str
    connected_at: int  # epoch seconds
    expires_at: int  # epoch seconds: API Gateway closes every connection by then
    # The `exp` of the token the connection last presented (epoch seconds).
    token_expires_at: int

    @property
    def rights_until(self) -> int:
        """When its subscriptions stop receiving: the sooner of the two."""
        return min(self.expires_at, self.token_expires_at)
