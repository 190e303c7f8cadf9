"""Identity: JWT verification and the caller.

HS256 with a shared secret serves the local stack and the tests; RS256 through a
JWKS URL with issuer and audience checks serves Cognito user pools. Either way a
token's `sub` is the user id.

PyJWT (with the cryptography it loads) is imported by what verifies or mints
a token, not by this module: the roles here are read by every function, and
the S3-event and sweep functions, which verify no token, would otherwise pay
for it in their cold start (docs/PERFORMANCE.md#cold-start).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from chalicelib.errors import Unauthenticated
from chalicelib.ids import is_user_id
from chalicelib.settings import Settings

if TYPE_CHECKING:
    import jwt

Role = Literal["owner", "editor", "viewer"]
ROLES: tuple[Role, ...] = ("owner", "editor", "viewer")
WRITERS: frozenset[Role] = frozenset({"owner", "editor"})

# RFC 7519 NumericDate claims. PyJWT converts them with int(), so it would take
# "1900000000" (a string) as a date: only JSON numbers are accepted here.
NUMERIC_DATES = ("exp", "iat", "nbf")


@dataclass(frozen=True)
class Caller:
    user_id: str
    # When the token's rights end (epoch seconds): its `exp` plus the clock
    # skew leeway, the last moment REST still accepts it. A WebSocket
    # connection keeps it, and loses its subscriptions past it.
    expires_at: int | None = field(default=None, compare=False)


class TokenVerifier:
    def __init__(self, settings: Settings, jwks_client: jwt.PyJWKClient | None = None) -> None:
        import jwt

        self._settings = settings
        self._jwks = jwks_client
        if settings.auth_mode == "jwks" and self._jwks is None:
            # PyJWKClient caches keys; the cache lives as long as the Lambda container.
            self._jwks = jwt.PyJWKClient(settings.auth_jwks_url, cache_keys=True, lifespan=3600)

    def verify(self, token: str | None) -> Caller:
        import jwt

        if not token:
            raise Unauthenticated("a bearer token is required")
        s = self._settings
        options: jwt.types.Options = {"require": ["sub", "exp"]}
        try:
            if s.auth_mode == "jwks":
                assert self._jwks is not None
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=["RS256"],
                    audience=s.auth_audience,
                    issuer=s.auth_issuer,
                    leeway=s.auth_leeway_seconds,
                    options=options,
                )
            else:
                claims = jwt.decode(
                    token,
                    s.auth_jwt_secret,
                    algorithms=["HS256"],
                    leeway=s.auth_leeway_seconds,
                    options=options,
                )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired", code="token_expired") from None
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError):
            raise Unauthenticated("the token is not valid", code="invalid_token") from None
        for name in NUMERIC_DATES:
            value = claims.get(name)
            if name in claims and (not isinstance(value, int | float) or isinstance(value, bool)):
                raise Unauthenticated(
                    f"the token's {name} claim must be a number", code="invalid_token"
                )
        sub = claims.get("sub")
        if not isinstance(sub, str) or not is_user_id(sub):
            raise Unauthenticated(
                "the token's subject is not a valid user id", code="invalid_token"
            )
        return Caller(user_id=sub, expires_at=int(claims["exp"]) + s.auth_leeway_seconds)


def bearer_token(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization") or headers.get("Authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def mint_token(secret: str, user_id: str, ttl_seconds: int = 3600, **claims: Any) -> str:
    """A development token (HS256). Used by the local stack's /dev/token, the
    scripts/mint_token.py command and the tests; never by production code paths."""
    import jwt

    now = int(time.time())
    payload = {"sub": user_id, "iat": now, "exp": now + ttl_seconds, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")
