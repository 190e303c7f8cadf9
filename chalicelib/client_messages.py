"""What a WebSocket client may send: one model per `action`, and the parser
that turns a frame into one of them or into an error the client can act on.

Part of the WebSocket contract with chalicelib/events.py (what the server
sends): docs/events.schema.json holds both, generated from these models.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from chalicelib.errors import InvalidInput
from chalicelib.models import MAX_INT

MAX_CHANNEL_LENGTH = 140
MAX_TOKEN_LENGTH = 16 * 1024


class _ClientMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class SubscribeMessage(_ClientMessage):
    """Receive a channel's events; with `since`, first every durable one after it."""

    action: Literal["subscribe"]
    channel: str = Field(max_length=MAX_CHANNEL_LENGTH)
    since: int | None = Field(default=None, ge=0, le=MAX_INT)


class UnsubscribeMessage(_ClientMessage):
    action: Literal["unsubscribe"]
    channel: str = Field(max_length=MAX_CHANNEL_LENGTH)


class PingMessage(_ClientMessage):
    """Keeps a connection under API Gateway's 10-minute idle limit; answered by `pong`."""

    action: Literal["ping"]


class AuthenticateMessage(_ClientMessage):
    """A fresh token for this connection (the same user), before or after the
    one it connected with expires; answered by `authenticated`."""

    action: Literal["authenticate"]
    # Cognito ID tokens run to a few KB; a frame holds 32 KB.
    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)


ClientMessage = Annotated[
    SubscribeMessage | UnsubscribeMessage | PingMessage | AuthenticateMessage,
    Field(discriminator="action"),
]
CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(
    ClientMessage, config=ConfigDict(defer_build=True)
)
ACTIONS = ("subscribe", "unsubscribe", "ping", "authenticate")


def parse_message(body: str | None) -> ClientMessage:
    """One client message, or InvalidInput with a code the client can act on."""
    if not body or not body.strip():
        raise InvalidInput("the message is empty", code="invalid_message")
    try:
        document = json.loads(body)
    except ValueError:
        raise InvalidInput("the message is not valid JSON", code="invalid_message") from None
    except RecursionError:
        # A few KB of "[[[[..." exhausts the parser's stack well inside a frame.
        raise InvalidInput("the message is nested too deeply", code="invalid_message") from None
    if not isinstance(document, dict):
        raise InvalidInput("the message must be a JSON object", code="invalid_message")
    action = document.get("action")
    if action not in ACTIONS:
        raise InvalidInput(
            f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}",
            code="unknown_action",
        )
    try:
        return CLIENT_MESSAGE.validate_python(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][1:]) or 'message'}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)
        )
        raise InvalidInput(
            f"invalid {action} message: {problems}", code="invalid_message"
        ) from None
