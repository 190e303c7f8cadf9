"""GET /health: liveness for load balancers and the local stack, no token."""

from __future__ import annotations

from typing import Any

from chalicelib.http import api_doc
from chalicelib.models import WireModel
from chalicelib.routes.routing import RouteBlueprint

bp = RouteBlueprint(__name__)


class Health(WireModel):
    ok: bool


@bp.route("/health", methods=["GET"], cors=True)
@api_doc("Liveness: answers without a token", response=Health, auth=False)
def health() -> dict[str, Any]:
    return {"ok": True}
