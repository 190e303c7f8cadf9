"""What every route module shares: the caller of the current request and CORS."""

from __future__ import annotations

from chalice.app import Blueprint, CORSConfig

from chalicelib.auth import Caller
from chalicelib.services import container

# Browsers call the API from the authoring app's origin; the token travels in a
# header, never a cookie, so any origin may call and no credentials are shared.
CORS = CORSConfig(allow_origin="*", allow_headers=["Authorization", "Content-Type"], max_age=600)


def current_caller(bp: Blueprint) -> Caller:
    request = bp.current_request
    assert request is not None
    return container().caller(request.headers)
