"""docs/asyncapi.json: the WebSocket API as an AsyncAPI 3 document.

Built from the same models as docs/events.schema.json (chalicelib/events.py):
every message's payload is that model's JSON Schema, so the two documents
cannot disagree. The document is the server's view, as AsyncAPI 3 has it:
the server *sends* events on the `user:{userId}` and `course:{courseId}`
channels and control replies on the connection, and *receives* the client
messages there, each with its reply.
"""

from __future__ import annotations

from typing import Any

from chalicelib import event_schema, events

# Which channels each event type reaches, as chalicelib/events.py routes them
# (upload_channels, link_channels, chapter_channels). A new event type must be
# placed here: the generator refuses one it does not know, rather than guess.
CHANNELS_OF: dict[str, tuple[str, ...]] = {
    "upload.started": ("user", "course"),
    "upload.progress": ("user", "course"),
    "upload.completed": ("user", "course"),
    "upload.failed": ("user", "course"),
    "upload.aborted": ("user", "course"),
    "media.linked": ("course", "user"),
    "media.unlinked": ("course", "user"),
    "chapter.updated": ("course",),
    "chapter.deleted": ("course",),
    "course.updated": ("course",),
    # the course, and each member's own channel
    "course.deleted": ("course", "user"),
    # issue 11's processing step: the owner and every course whose chapters hold it.
    "media.updated": ("user", "course"),
}
CONTROL = ("subscribed", "unsubscribed", "pong", "authenticated", "error")
# client message model -> the reply it gets (`error` for anything refused)
REPLIES: dict[str, str] = {
    "SubscribeMessage": "Subscribed",
    "UnsubscribeMessage": "Unsubscribed",
    "PingMessage": "Pong",
    "AuthenticateMessage": "Authenticated",
}


def _asyncapi_schema(schema: Any) -> Any:
    """JSON Schema as AsyncAPI's Schema Object has it: references into
    components, and `discriminator` as the property's name (OpenAPI's
    `{propertyName, mapping}`: the mapping is what each branch's `const` says)."""
    if isinstance(schema, list):
        return [_asyncapi_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = value.replace("#/$defs/", "#/components/schemas/")
        elif key == "discriminator" and isinstance(value, dict):
            out[key] = value["propertyName"]
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: _asyncapi_schema(sub) for name, sub in value.items()}
        else:
            out[key] = _asyncapi_schema(value)
    return out


def _schemas() -> dict[str, Any]:
    """The event schema's definitions, as components."""
    schemas: dict[str, Any] = _asyncapi_schema(event_schema.json_schema()["$defs"])
    return schemas


def _message(name: str, summary: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": name,
        "summary": summary,
        "contentType": "application/json",
        "payload": {"$ref": f"#/components/schemas/{name}"},
    }


def asyncapi() -> dict[str, Any]:
    schemas = _schemas()
    server_types = {cls.model_fields["type"].default: cls.__name__ for cls in events.EVENT_TYPES}
    unknown = sorted(set(server_types) - set(CHANNELS_OF) - set(CONTROL))
    if unknown:
        raise SystemExit(
            f"scripts/gen_asyncapi.py: place {', '.join(unknown)} in CHANNELS_OF "
            "(the channels chalicelib/events.py routes it to)"
        )
    messages: dict[str, Any] = {}
    for type_name, model in server_types.items():
        cls = events.EVENTS_BY_TYPE[type_name]
        if type_name in CONTROL:
            summary = f"`{type_name}`: a control reply, to this connection alone."
        elif cls.durable:
            summary = f"`{type_name}`: durable (a seq per channel, replayed after `since`)."
        else:
            summary = f"`{type_name}`: transient (no seq, never replayed)."
        own = str(cls.__dict__.get("__doc__") or "").strip()
        messages[model] = _message(model, f"{summary} {own}".strip())
    for model in REPLIES:
        description = str(schemas[model].get("description") or "").strip()
        messages[model] = _message(model, description or f"`{model}`")

    on = {
        scope: [server_types[t] for t in server_types if scope in CHANNELS_OF.get(t, ())]
        for scope in ("user", "course")
    }
    connection = [*REPLIES, *(server_types[t] for t in CONTROL)]
    channels: dict[str, Any] = {
        "user": {
            "address": "user:{userId}",
            "title": "A user's channel",
            "description": "Every connection joins its token's user channel at $connect; "
            "subscribe to it (with `since`) to have it replayed after a reconnect. "
            "Uploads of the user, and links of the user's media.",
            "parameters": {"userId": {"description": "the token's `sub`"}},
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in on["user"]},
        },
        "course": {
            "address": "course:{courseId}",
            "title": "A course's channel",
            "description": 'Members subscribe with `{"action": "subscribe", "channel": '
            '"course:{id}"}`. Chapter uploads, links and chapter changes of the course.',
            "parameters": {"courseId": {"description": "the course's id"}},
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in on["course"]},
        },
        "connection": {
            "address": None,
            "title": "The connection itself",
            "description": "What a client sends (JSON with `action`) and the control "
            "replies only its connection receives.",
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in connection},
        },
    }
    operations: dict[str, Any] = {}
    for scope in ("user", "course"):
        operations[f"send{scope.title()}Events"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{scope}"},
            "title": f"Events on a {scope} channel",
            "messages": [{"$ref": f"#/channels/{scope}/messages/{n}"} for n in on[scope]],
        }
    for client, reply in REPLIES.items():
        action = client.removesuffix("Message")
        operations[f"receive{action}"] = {
            "action": "receive",
            "channel": {"$ref": "#/channels/connection"},
            "title": f"`{action.lower()}` from a client",
            "messages": [{"$ref": f"#/channels/connection/messages/{client}"}],
            "reply": {
                "channel": {"$ref": "#/channels/connection"},
                "messages": [
                    {"$ref": f"#/channels/connection/messages/{reply}"},
                    {"$ref": "#/channels/connection/messages/Error"},
                ],
            },
        }
    return {
        "asyncapi": "3.0.0",
        "id": event_schema.SCHEMA_ID,
        "info": {
            "title": "course-media WebSocket API",
            "version": "1",
            "description": "Generated by scripts/gen_asyncapi.py from chalicelib/events.py "
            "(the models docs/events.schema.json comes from); do not edit. The server's "
            "view: it sends events and control replies, and receives client messages. "
            "Every server message is one envelope (`v, id, type, channel, seq, at, "
            "operationId, courseId, data, resources`). See docs/realtime.md.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "{host}:{port}",
                "pathname": "/ws",
                "protocol": "ws",
                "description": "the local stack (make run)",
                "variables": {
                    "host": {"default": "127.0.0.1", "description": "--host / DEVSTACK_HOST"},
                    "port": {"default": "8000", "description": "--port / DEVSTACK_PORT"},
                },
                "security": [{"$ref": "#/components/securitySchemes/token"}],
            },
            "aws": {
                "host": "{apiId}.execute-api.{region}.amazonaws.com",
                "pathname": "/ws",
                "protocol": "wss",
                "description": "a deployed stack (the WebSocketURL output)",
                "variables": {
                    "apiId": {"default": "apiId"},
                    "region": {"default": "us-east-1"},
                },
                "security": [{"$ref": "#/components/securitySchemes/token"}],
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "token": {
                    "type": "httpApiKey",
                    "in": "query",
                    "name": "token",
                    "description": "The API's JWT as `?token=` on connect (browsers "
                    "cannot set headers on a WebSocket); `authenticate` renews it in place.",
                }
            },
        },
    }
