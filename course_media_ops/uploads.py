"""`uploads list|show|abort`: open and past uploads, by user, status and age.

Open uploads come from the table's sparse `openByAge` and `openByUser` indexes
(as the app reads them); another status needs a scan, which the operator's
credentials allow and the app's roles do not. Aborting goes through the app's
own lifecycle (chalicelib/uploads/lifecycle.py): the table moves to aborted,
S3 drops the multipart upload and its parts, and `upload.aborted` is published.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer

from chalicelib.domain.upload_states import OPEN_STATUSES, STATUSES
from chalicelib.domain.uploads import UploadRecord
from chalicelib.errors import DomainError
from chalicelib.ids import iso, utcnow
from chalicelib.store.upload_items import record_from_item
from course_media_ops.render import Row, advance
from course_media_ops.target import Target

app = typer.Typer(help="Uploads: list, show and abort, by user, status and age.")
COLUMNS = ("operationId", "userId", "status", "filename", "size", "bytesUploaded", "age", "target")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

User = Annotated[str | None, typer.Option("--user", help="only this user's uploads")]
Status = Annotated[
    str | None, typer.Option("--status", help=f"one of {', '.join(STATUSES)} (default: open)")
]
OlderThan = Annotated[
    str | None, typer.Option("--older-than", help="created longer ago than 30m, 2h, 3d, ...")
]
Yes = Annotated[bool, typer.Option("--yes", help="do it (without: only say what would change)")]


def duration(text: str) -> timedelta:
    found = _DURATION.match(text.strip())
    if found is None:
        raise typer.BadParameter(f"{text!r} is not a duration like 30m, 2h or 3d")
    return timedelta(**{_UNITS[found.group(2)]: float(found.group(1))})


def row(record: UploadRecord, now: datetime) -> Row:
    upload = record.upload
    found: dict[str, Any] = upload.model_dump(mode="json", by_alias=True)
    found["age"] = _age(now - upload.created_at)
    found["source"] = record.source
    return found


def _age(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h{minutes % 60:02d}m"
    return f"{minutes // (24 * 60)}d"


def select(
    target: Target, user: str | None, status: str | None, older_than: str | None
) -> list[UploadRecord]:
    """The uploads matching every filter given, oldest first."""
    if status is not None and status not in STATUSES:
        raise typer.BadParameter(f"status must be one of {', '.join(STATUSES)}")
    now = utcnow()
    cutoff = now - duration(older_than) if older_than else None
    store = target.container.upload_features.upload_store
    records: list[UploadRecord]
    if status is None or status in OPEN_STATUSES:
        if user is not None:
            records = store.open_by_user(user)
        else:
            ids = store.open_before(iso(cutoff or now + timedelta(days=1)))
            records = [r for r in (store.get(i) for i in ids) if r is not None]
    else:
        records = _scan(target, user, status)
    found = [
        r
        for r in records
        if (status is None or r.upload.status == status)
        and (user is None or r.upload.user_id == user)
        and (cutoff is None or r.upload.created_at < cutoff)
    ]
    return sorted(found, key=lambda r: r.upload.created_at)


def _scan(target: Target, user: str | None, status: str) -> list[UploadRecord]:
    condition, values = "#s = :s", {":s": status}
    if user is not None:
        condition, values = f"{condition} AND userId = :u", {**values, ":u": user}
    table = target.container.settings.uploads_table
    items = target.scan(table, condition, values, {"#s": "status"})
    return [record_from_item(item) for item in items]


def list_uploads(
    ctx: typer.Context, user: User = None, status: Status = None, older_than: OlderThan = None
) -> None:
    """List uploads (open ones unless --status says otherwise), oldest first."""
    target, out = ctx.obj.target(), ctx.obj.output
    now = utcnow()
    rows = [row(r, now) for r in select(target, user, status, older_than)]
    out.rows("uploads", rows, COLUMNS)


def show(ctx: typer.Context, operation_id: str) -> None:
    """One upload: its record and the parts S3 holds for it."""
    target, out = ctx.obj.target(), ctx.obj.output
    record = target.container.upload_features.upload_store.get(operation_id)
    if record is None:
        out.say(f"no upload {operation_id}")
        raise typer.Exit(1)
    found = row(record, utcnow())
    upload = record.upload
    if upload.status in OPEN_STATUSES and upload.upload_id:
        s3 = target.container.s3
        bucket = target.container.settings.media_bucket
        try:
            parts = s3.list_parts(Bucket=bucket, Key=upload.key, UploadId=upload.upload_id)
        except s3.exceptions.NoSuchUpload:
            found["partsInS3"] = "none: S3 has no such multipart upload"
        else:
            held = parts.get("Parts", [])
            found["partsInS3"] = len(held)
            found["bytesInS3"] = sum(int(p["Size"]) for p in held)
    out.record(f"upload {operation_id}", found)


def abort(
    ctx: typer.Context,
    operation_ids: Annotated[list[str] | None, typer.Argument(help="uploads to abort")] = None,
    user: User = None,
    older_than: OlderThan = None,
    yes: Yes = False,
) -> None:
    """Abort open uploads, named or selected by --user and --older-than: the
    table and S3 both, and subscribers see upload.aborted."""
    target, out = ctx.obj.target(), ctx.obj.output
    store = target.container.upload_features.upload_store
    if operation_ids:
        records = [r for r in (store.get(i) for i in operation_ids) if r is not None]
        missing = sorted(set(operation_ids) - {r.upload.operation_id for r in records})
        for operation_id in missing:
            out.say(f"no upload {operation_id}")
    elif user is not None or older_than is not None:
        records, missing = select(target, user, None, older_than), []
    else:
        out.say("name uploads, or select them with --user and/or --older-than")
        raise typer.Exit(2)
    records = [r for r in records if r.upload.status in OPEN_STATUSES]
    now = utcnow()
    if not yes:
        out.rows("uploads to abort", [row(r, now) for r in records], COLUMNS)
        out.dry_run("abort", len(records))
        return
    results: list[Row] = []
    with out.progress("aborting", len(records)) as bar:
        for record in records:
            results.append(_abort_one(target, record))
            advance(bar)
    out.rows("aborted", results, ("operationId", "status", "error"))
    if missing or any(r.get("error") for r in results):
        raise typer.Exit(1)


def _abort_one(target: Target, record: UploadRecord) -> Row:
    try:
        upload = target.container.uploads.abort(record)
    except DomainError as err:
        return {"operationId": record.upload.operation_id, "status": None, "error": str(err)}
    return {"operationId": upload.operation_id, "status": upload.status, "error": None}


app.command("list")(list_uploads)
app.command("show")(show)
app.command("abort")(abort)
