"""Chalice wiring only: routes live in chalicelib/routes as blueprints, logic in
the services the composition root (chalicelib/services.py) builds.

The `on_ws_*` handlers stay here: Chalice does not wrap them inside a Blueprint.
"""

from __future__ import annotations

from chalice.app import Chalice, Response, WebsocketEvent

from chalicelib.errors import DomainError
from chalicelib.http import error_response, http_middleware
from chalicelib.logging import SERVICE
from chalicelib.routes import courses as course_routes
from chalicelib.routes import health
from chalicelib.routes import media as media_routes
from chalicelib.services import container

app = Chalice(app_name=SERVICE)
app.register_middleware(http_middleware, "http")

app.register_blueprint(health.bp)
app.register_blueprint(course_routes.bp)
app.register_blueprint(media_routes.bp)


# ---- WebSocket: parse the API Gateway event, delegate to chalicelib/realtime.py


@app.on_ws_connect()
def on_ws_connect(event: WebsocketEvent) -> Response | None:
    params = event.to_dict().get("queryStringParameters") or {}
    try:
        container().realtime.connect(event.connection_id, params.get("token"))
    except DomainError as err:
        # A non-2xx answer to $connect makes API Gateway refuse the upgrade.
        return error_response(err)
    return None


@app.on_ws_message()
def on_ws_message(event: WebsocketEvent) -> None:
    # The raw body: WebsocketEvent.body is the string 'None' when there is none.
    container().realtime.receive(event.connection_id, event.to_dict().get("body"))


@app.on_ws_disconnect()
def on_ws_disconnect(event: WebsocketEvent) -> None:
    container().realtime.disconnect(event.connection_id)
