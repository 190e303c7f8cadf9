"""GET /health: liveness for load balancers and the local stack, no token."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"], cors=True)
def health() -> dict[str, Any]:
    return {"ok": True}
