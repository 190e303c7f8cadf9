"""GET /health: liveness for load balancers and the local stack, no token."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.http import api_doc
from chalicelib.models import WireModel

bp = Blueprint(__name__)


class Health(WireModel):
    ok: bool


@bp.route("/health", methods=["GET"], cors=True)
@api_doc("Liveness: answers without a token", response=Health, auth=False)
def health() -> dict[str, Any]:
    return {"ok": True}
