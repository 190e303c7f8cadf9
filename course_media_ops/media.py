"""`media reprocess`: run the processing step again over a selection of media
files, behind a progress bar.

Each file goes back to `processing` (its status and reason reset with one
conditional write, so a file deleted meanwhile is not brought back) and one
message naming it goes to the processing queue, the stack's `ProcessingQueue`
(docs/processing.md), carrying this run's correlation id. The processing
Lambda then reads it as it read it the first time and announces the outcome
(`media.updated`). A stack without that queue is refused before anything
changes."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from chalicelib import correlation
from chalicelib.errors import DomainError
from chalicelib.models import MediaFile
from chalicelib.store.dynamo import ConditionFailed
from chalicelib.store.media import media_from_item
from course_media_ops.render import Row, advance
from course_media_ops.target import Target, TargetError

app = typer.Typer(help="Media files: run processing again.")
QUEUE = "ProcessingQueue"
STATUSES = ("processing", "ready", "failed")
COLUMNS = ("mediaId", "userId", "filename", "status", "reason", "createdAt")


def _row(media: MediaFile) -> Row:
    return {
        "mediaId": media.media_id,
        "userId": media.user_id,
        "filename": media.filename,
        "status": media.status,
        "reason": media.reason,
        "createdAt": media.created_at.isoformat(),
    }


def select(
    target: Target, media_ids: list[str], user: str | None, status: str | None, reason: str | None
) -> list[Row]:
    table = target.container.settings.media_table
    if media_ids:
        found = [target.container.media_store.get(m) for m in media_ids]
        rows = [_row(m) for m in found if m is not None]
    else:
        parts: list[str] = []
        values: dict[str, Any] = {}
        names: dict[str, str] = {}
        if user is not None:
            parts.append("userId = :u")
            values[":u"] = user
        if status is not None:
            parts.append("#s = :s")
            values[":s"] = status
            names["#s"] = "status"
        if reason is not None:
            parts.append("#r = :r")
            values[":r"] = reason
            names["#r"] = "reason"
        items = target.scan(table, " AND ".join(parts), values, names)
        rows = [_row(media_from_item(item)) for item in items]
    return sorted(rows, key=lambda r: str(r["createdAt"]))


def reprocess(
    ctx: typer.Context,
    media_ids: Annotated[list[str] | None, typer.Argument(help="media files to reprocess")] = None,
    user: Annotated[str | None, typer.Option("--user", help="this owner's files")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help=f"files in this status ({', '.join(STATUSES)})")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="files that ended so")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="do it (without: only list them)")] = False,
) -> None:
    """Process media files again: named ones, or those --user/--status/--reason select."""
    target, out = ctx.obj.target(), ctx.obj.output
    if not media_ids and user is None and status is None and reason is None:
        out.say("name media files, or select them with --user, --status and/or --reason")
        raise typer.Exit(2)
    if status is not None and status not in STATUSES:
        raise typer.BadParameter(f"status must be one of {', '.join(STATUSES)}")
    try:
        queue = target.queue_url(QUEUE)
    except TargetError:
        out.say(f"{target.name} has no processing queue ({QUEUE}): nothing to reprocess with")
        raise typer.Exit(2) from None
    rows = select(target, list(media_ids or []), user, status, reason)
    if not yes:
        out.rows("media to reprocess", rows, COLUMNS)
        out.dry_run("reprocess", len(rows))
        return
    # The run's id (course_media_ops/cli.py) goes along: the processing
    # Lambda's lines for these files carry it.
    results: list[Row] = []
    with out.progress("reprocessing", len(rows)) as bar:
        for row in rows:
            results.append(_reprocess_one(target, queue, str(row["mediaId"])))
            advance(bar)
    out.rows("queued for processing", results, ("mediaId", "queued", "error"))
    if any(r["error"] for r in results):
        raise typer.Exit(1)


def _reprocess_one(target: Target, queue: str, media_id: str) -> Row:
    table = target.container.aws.table(target.container.settings.media_table, "the media store")
    try:
        table.update(
            {"mediaId": media_id},
            "SET #s = :processing REMOVE #r",
            condition="attribute_exists(mediaId)",
            names={"#s": "status", "#r": "reason"},
            values={":processing": "processing"},
        )
    except ConditionFailed:
        return {"mediaId": media_id, "queued": False, "error": "deleted meanwhile"}
    except DomainError as err:
        return {"mediaId": media_id, "queued": False, "error": str(err)}
    # The processing queue's message (chalicelib/domain/processing.py's ProcessingMessage).
    target.client("sqs").send_message(
        QueueUrl=queue,
        MessageBody=json.dumps({"mediaId": media_id}, separators=(",", ":")),
        MessageAttributes=correlation.sqs_attributes(),
    )
    return {"mediaId": media_id, "queued": True, "error": None}


app.command("reprocess")(reprocess)
