"""The WebSocket API's three functions: parse API Gateway's event and delegate
to chalicelib/connection_gate.py ($connect, $disconnect) or
chalicelib/realtime.py ($default) (docs/realtime.md)."""

from __future__ import annotations

from chalice.app import Response, WebsocketEvent

from chalicelib.functions import FunctionBlueprint, loading

with loading():
    from chalicelib.correlation import adopt_websocket
    from chalicelib.errors import DomainError
    from chalicelib.http import error_response
    from chalicelib.services import container

bp = FunctionBlueprint(__name__)


@bp.on_ws_connect()
def on_ws_connect(event: WebsocketEvent) -> Response | None:
    adopt_websocket(event.to_dict())
    params = event.to_dict().get("queryStringParameters") or {}
    try:
        container().connection_gate.connect(event.connection_id, params.get("token"))
    except DomainError as err:
        # A non-2xx answer to $connect makes API Gateway refuse the upgrade.
        return error_response(err)
    return None


@bp.on_ws_message()
def on_ws_message(event: WebsocketEvent) -> None:
    adopt_websocket(event.to_dict())
    # The raw body: WebsocketEvent.body is the string 'None' when there is none.
    container().realtime.receive(event.connection_id, event.to_dict().get("body"))


@bp.on_ws_disconnect()
def on_ws_disconnect(event: WebsocketEvent) -> None:
    adopt_websocket(event.to_dict())
    container().connection_gate.disconnect(event.connection_id)
