"""Chalice wiring only: routes live in chalicelib/routes as blueprints, logic in
the services the composition root (chalicelib/services.py) builds. The routes
are registered from chalicelib/routes/routes.json, and each route module is
imported on its first request (chalicelib/routes/routing.py says why).

The functions that serve no REST route (WebSocket, S3 events, the sweep, outbox
delivery, processing, the fanout workers) are blueprints of chalicelib/functions:
Lambda imports their modules, not this one, so they do not pay for the routes
(chalicelib/functions/__init__.py).
"""

from __future__ import annotations

from chalice.app import Chalice

from chalicelib.functions import loading

with loading():
    from chalicelib.chalice_cli import refuse_unsupported
    from chalicelib.functions import fanout, outbox, processing, uploads, websocket
    from chalicelib.http import http_middleware
    from chalicelib.logging import SERVICE, share_json_logs
    from chalicelib.routes.routing import load_table, register_routes

# `chalice deploy` and `chalice local` stop here, before they act (docs/OPERATIONS.md#deploy).
refuse_unsupported()
app = Chalice(app_name=SERVICE, configure_logs=False)
share_json_logs(app.log)
# Chalice still calls its WebSocket support experimental and refuses to package
# the on_ws_* handlers without this opt-in.
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.register_middleware(http_middleware, "http")

register_routes(app, load_table())
app.register_blueprint(websocket.bp)
app.register_blueprint(uploads.bp)
app.register_blueprint(outbox.bp)
app.register_blueprint(processing.bp)
app.register_blueprint(fanout.bp)
