"""One validated settings object, read from the environment.

`chalice package` imports app.py without any of these variables, so nothing at
import time may read settings: the composition root reads them on first use and
fails fast with a message that names every missing or invalid variable.

A plain pydantic model over `os.environ`, not pydantic-settings: every variable
here is a flat string, and importing pydantic-settings (with the dotenv, asyncio
and argparse modules it pulls in) cost about 80 ms of CPU of every function's
cold start on top of pydantic itself (bench/coldstart.py, docs/PERFORMANCE.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class SettingsError(RuntimeError):
    """The environment does not describe a runnable deployment."""


# RFC 7518 3.2: an HS256 key must be at least as long as the hash output (256
# bits). One rule for the server, the local stack and scripts/mint_token.py, so
# a secret one of them accepts is never refused by another.
MIN_HS256_SECRET_LENGTH = 32
HS256_SECRET_RULE = (
    f"AUTH_JWT_SECRET must be at least {MIN_HS256_SECRET_LENGTH} characters "
    "(256 bits, RFC 7518 section 3.2) in hs256 mode"
)


def hs256_secret_problem(secret: str) -> str | None:
    """Why `secret` cannot sign HS256 tokens, or None when it can."""
    if len(secret) < MIN_HS256_SECRET_LENGTH:
        return f"{HS256_SECRET_RULE}; this one has {len(secret)}"
    return None


class Settings(BaseModel):
    # Each field is read from the variable of its name in capitals (AWS_REGION
    # for aws_region); unknown variables are ignored, as a Lambda environment
    # holds many.
    model_config = ConfigDict(extra="ignore", frozen=True)

    aws_region: str = "us-east-1"

    # DynamoDB tables, one per aggregate (infra/template.json defines them all).
    courses_table: str
    media_table: str
    uploads_table: str
    connections_table: str
    events_table: str
    outbox_table: str

    media_bucket: str
    # The S3 endpoint presigned URLs point at. Empty means the regional AWS
    # endpoint; the local stack points it at moto's server.
    s3_endpoint_url: str = ""

    # The API Gateway @connections endpoint, https://{api}.execute-api.{region}.amazonaws.com/{stage}.
    # Required: every service publishes events, so a deployment without it
    # would fail on its first write rather than at start.
    websocket_endpoint: str = Field(min_length=1)

    # Identity: HS256 with a shared secret (local stack, tests) or RS256 via JWKS (Cognito).
    auth_mode: Literal["hs256", "jwks"] = "hs256"
    auth_jwt_secret: str = ""
    auth_jwks_url: str = ""
    auth_issuer: str = ""
    auth_audience: str = ""
    auth_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # Signs the media library's page tokens (chalicelib/media.py). Required in
    # jwks mode; in hs256 mode a key is derived from AUTH_JWT_SECRET instead.
    page_token_secret: str = ""

    # Uploads
    upload_max_bytes: int = Field(default=50 * 1024**3, gt=0, le=5 * 1024**4)
    upload_allowed_types: str = (
        "video/*,audio/*,image/*,application/pdf,"
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    )
    presign_expiry_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    download_url_expiry_seconds: int = Field(default=300, ge=60, le=12 * 3600)
    stale_upload_after_hours: float = Field(default=24.0, gt=0)
    progress_broadcasts_per_second: float = Field(default=4.0, gt=0, le=4.0)
    # A report is broadcast only when it shows something new to a watcher: this
    # share of the file since the last broadcast, the last byte, or this long
    # without one (docs/uploads.md#progress).
    progress_step_percent: float = Field(default=5.0, gt=0, le=100)
    progress_heartbeat_seconds: float = Field(default=10.0, gt=0, le=300)

    # Playback: the URL a course member's <video> element plays and seeks.
    # `s3` hands out presigned S3 GETs (the local stack, tests); `cloudfront`
    # signs URLs of the distribution in front of the bucket (infra/template.json)
    # with the key pair whose private key (PEM) is the Secrets Manager secret
    # PLAYBACK_PRIVATE_KEY_SECRET and whose public key is PLAYBACK_KEY_PAIR_ID.
    playback_signer: Literal["s3", "cloudfront"] = "s3"
    playback_domain: str = ""
    playback_key_pair_id: str = ""
    playback_private_key_secret: str = ""
    # Long enough for a lecture watched with pauses: a player keeps sending
    # Range requests with the same URL, and each must still be valid.
    playback_url_expiry_seconds: int = Field(default=4 * 3600, ge=60, le=7 * 24 * 3600)

    # Processing (docs/processing.md): the queue completion sends each new media
    # file to. Empty: this deployment has no processing step, and new files are
    # `ready` without metadata (reason `not_processed`) instead of waiting forever.
    processing_queue: str = ""
    # The queue's redrive maxReceiveCount (infra/template.json): the attempt that
    # reaches it ends the file `failed` rather than leaving it to the DLQ.
    processing_max_receives: int = Field(default=3, ge=1, le=1000)

    # Realtime
    event_retention_hours: float = Field(default=24.0, gt=0)
    broadcast_workers: int = Field(default=32, ge=1, le=256)
    max_ws_message_bytes: int = Field(default=128 * 1024, ge=1024)
    # How committed events reach connections. `stream`: the OutboxTable's
    # stream and the outbox_delivery Lambda, alone (every deployment, the local
    # stack). `inline`: the committing Lambda also delivers right after its
    # commit, for tests that run no event source (docs/realtime.md).
    outbox_delivery: Literal["stream", "inline"] = "stream"
    # How long committed events stay in the outbox: longer than the on-failure
    # queue keeps a failed batch's note (14 days), so a redrive can read them.
    outbox_retention_hours: float = Field(default=15 * 24.0, gt=0)

    # Sharded delivery (chalicelib/shards.py, docs/realtime.md#sharded-delivery).
    # The FIFO queue the delivery shards go to; empty keeps every channel inline.
    fanout_queue: str = ""
    # A channel with more connections than this is delivered by the fanout
    # workers; one with fewer keeps the inline path (no queue, no extra hop).
    fanout_threshold: int = Field(default=1000, ge=1)
    # Connections per delivery shard (one SQS message, one worker invocation's unit).
    fanout_shard_size: int = Field(default=500, ge=1, le=2000)
    # Groups a channel's connections are hashed into, by connection id: one
    # FIFO message group each, so a connection's events stay in order. Change it
    # only with the queue drained: a new count moves connections between groups.
    fanout_groups: int = Field(default=10, ge=1, le=1000)
    # The delivery budget: posts per second across every worker, a share of
    # the account's @connections throttle, and the workers' reserved
    # concurrency (infra/template.json sets both from FanoutConcurrency):
    # each worker container posts at most budget / concurrency a second.
    fanout_posts_per_second: float = Field(default=5000.0, gt=0)
    fanout_concurrency: int = Field(default=10, ge=1)
    # A shard that failed is visible again after this many seconds (not after
    # the queue's visibility timeout), so its group's later events wait little.
    fanout_retry_seconds: int = Field(default=1, ge=0, le=900)

    @model_validator(mode="after")
    def _auth_is_complete(self) -> Settings:
        if self.auth_mode == "hs256" and (problem := hs256_secret_problem(self.auth_jwt_secret)):
            raise ValueError(problem)
        if self.page_token_secret and len(self.page_token_secret) < 32:
            raise ValueError("PAGE_TOKEN_SECRET must be at least 32 characters")
        if self.auth_mode == "jwks" and not (
            self.auth_jwks_url and self.auth_issuer and self.auth_audience
        ):
            raise ValueError("jwks mode needs AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE")
        if self.playback_signer == "cloudfront" and not (
            self.playback_domain and self.playback_key_pair_id and self.playback_private_key_secret
        ):
            raise ValueError(
                "cloudfront playback needs PLAYBACK_DOMAIN, PLAYBACK_KEY_PAIR_ID and "
                "PLAYBACK_PRIVATE_KEY_SECRET"
            )
        if self.auth_mode == "jwks" and not self.page_token_secret:
            raise ValueError("jwks mode needs PAGE_TOKEN_SECRET (signs page tokens)")
        return self

    @property
    def page_token_key_source(self) -> str:
        return self.page_token_secret or self.auth_jwt_secret

    @property
    def allowed_types(self) -> tuple[str, ...]:
        return parse_types(self.upload_allowed_types)


def parse_types(listed: str) -> tuple[str, ...]:
    """UPLOAD_ALLOWED_TYPES, `video/*,application/pdf`, as the policy reads it."""
    return tuple(t.strip().lower() for t in listed.split(",") if t.strip())


def default_allowed_types() -> tuple[str, ...]:
    """The content types a deployment allows unless UPLOAD_ALLOWED_TYPES says
    otherwise; docs/openapi.json states these."""
    return parse_types(str(Settings.model_fields["upload_allowed_types"].default))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    # Matched without regard to case, as the variables' names always were.
    fields = {name.upper(): name for name in Settings.model_fields}
    values = {fields[key.upper()]: value for key, value in environ.items() if key.upper() in fields}
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(f"invalid course-media configuration: {problems}") from None


@cache
def get_settings() -> Settings:
    return load_settings()
