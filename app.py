"""Chalice wiring only: routes live in chalicelib/routes as blueprints, logic in
the services the composition root (chalicelib/services.py) builds.

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
    from chalicelib.routes import courses as course_routes
    from chalicelib.routes import health, uppy_signer
    from chalicelib.routes import media as media_routes
    from chalicelib.routes import playback as playback_routes
    from chalicelib.routes import uploads as upload_routes
    from chalicelib.routes import uppy as uppy_routes

# `chalice deploy` and `chalice local` stop here, before they act (docs/OPERATIONS.md#deploy).
refuse_unsupported()
app = Chalice(app_name=SERVICE, configure_logs=False)
share_json_logs(app.log)
# Chalice still calls its WebSocket support experimental and refuses to package
# the on_ws_* handlers without this opt-in.
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.register_middleware(http_middleware, "http")

app.register_blueprint(health.bp)
app.register_blueprint(course_routes.bp)
app.register_blueprint(media_routes.bp)
app.register_blueprint(playback_routes.bp)
app.register_blueprint(upload_routes.bp)
app.register_blueprint(uppy_routes.bp)
app.register_blueprint(uppy_signer.bp)
app.register_blueprint(websocket.bp)
app.register_blueprint(uploads.bp)
app.register_blueprint(outbox.bp)
app.register_blueprint(processing.bp)
app.register_blueprint(fanout.bp)
