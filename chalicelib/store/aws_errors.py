"""The one translation of AWS failures into domain errors, for every adapter.

botocore fails in two ways: the service answered with an error (`ClientError`,
with a code), or no answer came (`BotoCoreError`: connection refused, timeouts).
Both stop here. Throttling is the caller's to retry soon (429); any other
failure a retry may fix is a 503; both carry `Retry-After`. An adapter handles
the codes that mean something in its domain (a failed condition, a missing
upload) before it calls `translate`, so no AWS error reaches a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import DomainError, Throttled, Unavailable
from chalicelib.logging import logger

AwsError = ClientError | BotoCoreError
AWS_ERRORS = (ClientError, BotoCoreError)

# DynamoDB's, S3's (`SlowDown`) and the generic AWS query protocol's names for
# "too many requests".
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestThrottledException",
        "SlowDown",
    }
)


def error_code(exc: AwsError) -> str:
    """The service's error code, or the class name of a failure without an answer."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def translate(exc: AwsError, doing: str, *, code: str) -> DomainError:
    """The domain error for an AWS failure that means nothing more specific;
    `code` names the adapter for the client and the operator alike."""
    aws_code = error_code(exc)
    logger.warning("AWS call failed", extra={"doing": doing, "code": code, "awsCode": aws_code})
    if aws_code in THROTTLING_CODES:
        return Throttled(f"too many requests while {doing}; retry shortly")
    return Unavailable(f"storage failed while {doing}; retry shortly", code=code)


@contextmanager
def translated(doing: str, *, code: str) -> Iterator[None]:
    """Run AWS calls whose every failure is `translate`d."""
    try:
        yield
    except AWS_ERRORS as exc:
        raise translate(exc, doing, code=code) from None
