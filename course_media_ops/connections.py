"""`connections list|purge`: the WebSocket connections the app knows, and
removing those that should not be there (what the local stack's
/dev/connections showed, for any stack).

Listing reads the connections table (a scan of connection items, or one
`byChannel` query for --channel). Purging removes a connection's item and its
subscriptions the way the app forgets a gone connection (ConnectionStore.remove):
nothing is posted to it afterwards. A connection still open in API Gateway
keeps its socket but receives nothing until it reconnects, so the default
selection is the stale ones (past their connection or token expiry)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from course_media_ops.render import Row, advance
from course_media_ops.target import Target

app = typer.Typer(help="WebSocket connections: list them, purge them.")
COLUMNS = ("connectionId", "userId", "connectedAt", "expiresAt", "channels", "stale")
CONNECTION_SK = "conn"
PK_PREFIX = "conn#"

User = Annotated[str | None, typer.Option("--user", help="only this user's connections")]
Channel = Annotated[
    str | None, typer.Option("--channel", help="only connections subscribed to this channel")
]


def _when(epoch: Any) -> str | None:
    return datetime.fromtimestamp(int(epoch), UTC).isoformat() if epoch is not None else None


def _row(item: dict[str, Any], now: float) -> Row:
    expires = int(item.get("expiresAt", 0))
    rights_until = min(expires, int(item.get("tokenExpiresAt") or expires))
    return {
        "connectionId": str(item["pk"]).removeprefix(PK_PREFIX),
        "userId": item.get("userId"),
        "connectedAt": _when(item.get("connectedAt")),
        "expiresAt": _when(item.get("expiresAt")),
        "channels": sorted(item.get("channels", set())),
        "stale": rights_until <= now,
    }


def select(target: Target, user: str | None, channel: str | None) -> list[Row]:
    condition, values = "sk = :conn", {":conn": CONNECTION_SK}
    if user is not None:
        condition, values = f"{condition} AND userId = :u", {**values, ":u": user}
    if channel is not None:
        condition, values = f"{condition} AND contains(channels, :ch)", {**values, ":ch": channel}
    table = target.container.settings.connections_table
    now = time.time()
    rows = [_row(item, now) for item in target.scan(table, condition, values)]
    return sorted(rows, key=lambda r: str(r["connectedAt"]))


def list_connections(ctx: typer.Context, user: User = None, channel: Channel = None) -> None:
    """List connections with their user, channels and whether they are stale."""
    target, out = ctx.obj.target(), ctx.obj.output
    out.rows("connections", select(target, user, channel), COLUMNS)


def purge(
    ctx: typer.Context,
    connection_ids: Annotated[list[str] | None, typer.Argument(help="connections to purge")] = None,
    user: User = None,
    channel: Channel = None,
    include_open: Annotated[
        bool, typer.Option("--include-open", help="also connections that are not stale")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="do it (without: only list them)")] = False,
) -> None:
    """Remove connections and their subscriptions: the stale ones by default,
    named ones, or by --user/--channel (with --include-open for live ones)."""
    target, out = ctx.obj.target(), ctx.obj.output
    rows = select(target, user, channel)
    if connection_ids:
        rows = [r for r in rows if r["connectionId"] in set(connection_ids)]
    elif not include_open:
        rows = [r for r in rows if r["stale"]]
    if not yes:
        out.rows("connections to purge", rows, COLUMNS)
        out.dry_run("purge", len(rows))
        return
    store = target.container.connections
    with out.progress("purging", len(rows)) as bar:
        for found in rows:
            store.remove(str(found["connectionId"]))
            advance(bar)
    out.rows("purged", rows, ("connectionId", "userId", "stale"))


app.command("list")(list_connections)
app.command("purge")(purge)
