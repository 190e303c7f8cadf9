"""Chalice wiring only: routes live in chalicelib/routes as blueprints, logic in
the services the composition root (chalicelib/services.py) builds.

The `on_ws_*` handlers stay here: Chalice does not wrap them inside a Blueprint.
"""

from __future__ import annotations

from chalice.app import Chalice

from chalicelib.http import http_middleware
from chalicelib.logging import SERVICE
from chalicelib.routes import courses as course_routes
from chalicelib.routes import health
from chalicelib.routes import media as media_routes

app = Chalice(app_name=SERVICE)
app.register_middleware(http_middleware, "http")

app.register_blueprint(health.bp)
app.register_blueprint(course_routes.bp)
app.register_blueprint(media_routes.bp)
