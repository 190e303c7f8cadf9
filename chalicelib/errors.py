"""Domain errors. Adapters turn AWS errors into these; chalicelib/http.py turns
these into the contract's HTTP error format, in one place.

They derive from ChaliceUnhandledError only so that Chalice lets them reach our
middleware instead of flattening them into its own 500 body; nothing else about
them is Chalice-specific.
"""

from __future__ import annotations

from typing import Any

from chalice.app import ChaliceUnhandledError


class DomainError(ChaliceUnhandledError):
    status = 500
    code = "internal_error"
    # Seconds after which a retry may succeed (the Retry-After header); None for
    # errors a retry cannot fix.
    retry_after: int | None = None

    def __init__(
        self, message: str, *, code: str | None = None, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: list[dict[str, Any]] = details or []

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later (throttling, an outage):
        an S3 event that failed so is redelivered, not dropped."""
        return self.retry_after is not None


class InvalidInput(DomainError):
    status = 400
    code = "validation_error"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class VersionConflict(Conflict):
    """An optimistic write lost: the record moved past the version the writer read."""

    code = "version_conflict"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class Throttled(DomainError):
    status = 429
    code = "throttled"
    retry_after = 1


class Unavailable(DomainError):
    """A dependency failed in a way the caller may retry."""

    status = 503
    code = "unavailable"
    # Long enough for botocore's own retries to have given up on a blip,
    # short enough that a browser's retry lands once a failover is done.
    retry_after = 5
