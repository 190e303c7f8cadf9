"""Chalice wiring only: routes live in chalicelib/routes as blueprints, logic in
the services the composition root (chalicelib/services.py) builds.

The `on_ws_*` handlers stay here: Chalice does not wrap them inside a Blueprint.
"""

from __future__ import annotations

from chalice.app import (
    Chalice,
    CloudWatchEvent,
    DynamoDBEvent,
    Rate,
    Response,
    SQSEvent,
    WebsocketEvent,
)

from chalicelib.chalice_cli import refuse_unsupported
from chalicelib.correlation import adopt_websocket
from chalicelib.errors import DomainError
from chalicelib.http import error_response, http_middleware
from chalicelib.logging import SERVICE, share_json_logs
from chalicelib.routes import courses as course_routes
from chalicelib.routes import health, uppy_signer
from chalicelib.routes import media as media_routes
from chalicelib.routes import playback as playback_routes
from chalicelib.routes import uploads as upload_routes
from chalicelib.routes import uppy as uppy_routes
from chalicelib.services import container

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


# ---- WebSocket: parse the API Gateway event, delegate to chalicelib/realtime.py


@app.on_ws_connect()
def on_ws_connect(event: WebsocketEvent) -> Response | None:
    adopt_websocket(event.to_dict())
    params = event.to_dict().get("queryStringParameters") or {}
    try:
        container().realtime.connect(event.connection_id, params.get("token"))
    except DomainError as err:
        # A non-2xx answer to $connect makes API Gateway refuse the upgrade.
        return error_response(err)
    return None


@app.on_ws_message()
def on_ws_message(event: WebsocketEvent) -> None:
    adopt_websocket(event.to_dict())
    # The raw body: WebsocketEvent.body is the string 'None' when there is none.
    container().realtime.receive(event.connection_id, event.to_dict().get("body"))


@app.on_ws_disconnect()
def on_ws_disconnect(event: WebsocketEvent) -> None:
    adopt_websocket(event.to_dict())
    container().realtime.disconnect(event.connection_id)


# ---- uploads: S3 ObjectCreated -> SQS, and the stale-upload sweep -----------
# The queue name is a placeholder: infra/template.json points the event source at
# its own queue and turns on ReportBatchItemFailures, which the returned
# `batchItemFailures` relies on.


@app.on_sqs_message(queue="course-media-s3-events", batch_size=10, name="s3_events")
def on_s3_events(event: SQSEvent) -> dict[str, list[dict[str, str]]]:
    return container().s3_events.handle(event.to_dict())


@app.schedule(Rate(15, unit=Rate.MINUTES), name="expire_stale_uploads")
def expire_stale_uploads(event: CloudWatchEvent) -> None:
    container().upload_completion.expire_stale()


# ---- realtime delivery: the outbox's stream -> event log -> connections -----
# The stream ARN is a placeholder, as the queue's above: infra/template.json
# points the event source at OutboxTable's stream and sets what Chalice cannot
# (report item failures, bisect on error, retries, the on-failure queue, the
# filter that passes only event inserts).


@app.on_dynamodb_record(
    stream_arn="arn:aws:dynamodb:us-east-1:000000000000:table/OutboxTable/stream/placeholder",
    batch_size=10,
    starting_position="TRIM_HORIZON",
    name="outbox_delivery",
)
def deliver_outbox(event: DynamoDBEvent) -> dict[str, list[dict[str, str]]]:
    return container().outbox_consumer.handle(event.to_dict())
