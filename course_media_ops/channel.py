"""`channel tail` and `events replay`: a channel's durable events as they are
numbered, and sending retained ones again to the channel's subscribers.

Both read the events table (chalicelib/store/events.py), where every durable
event is kept with its seq for the retention period; progress events are not
durable and are never kept, so neither command sees them. A replay posts the
stored copies (same id, same seq) to the channel's current connections through
the app's own fan-out: clients drop an id they already have, so a replay fills
gaps and duplicates nothing a client shows."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from chalicelib.broadcast import encode, forget_gone
from chalicelib.events import Envelope
from chalicelib.ids import parse_channel, utcnow
from course_media_ops.render import Output, Row, advance
from course_media_ops.target import Target
from course_media_ops.uploads import duration

app = typer.Typer(help="Follow a channel's events as they are published.")
events_app = typer.Typer(help="Events kept for replay: send them again.")
COLUMNS = ("seq", "type", "id", "at", "about")


def _channel(text: str) -> str:
    if parse_channel(text) is None:
        raise typer.BadParameter(f"{text!r} is not a channel (course:ID or user:ID)")
    return text


def _row(event: Envelope) -> Row:
    return {
        "seq": event.seq,
        "type": event.type,
        "id": event.id,
        "at": event.at.isoformat(),
        "about": ", ".join(event.resources),
    }


def _print(out: Output, event: Envelope) -> None:
    if out.as_json:
        # One JSON document per line: a script reads events as they come.
        out.console.file.write(event.to_json() + "\n")
        out.console.file.flush()
    else:
        out.console.print(
            f"[bold]{event.seq:>6}[/bold]  {event.at.isoformat()}  [cyan]{event.type}[/cyan]  "
            f"{event.id}  {', '.join(event.resources)}"
        )


def tail(
    ctx: typer.Context,
    channel: Annotated[str, typer.Argument(help="course:ID or user:ID", callback=_channel)],
    since: Annotated[
        int | None, typer.Option(help="start after this seq (default: only new events)")
    ] = None,
    interval: Annotated[float, typer.Option(help="seconds between reads")] = 1.0,
    count: Annotated[int | None, typer.Option(help="stop after this many events")] = None,
    timeout: Annotated[float | None, typer.Option(help="stop after this many seconds")] = None,
) -> None:
    """Print the channel's durable events as they are published (Ctrl-C stops)."""
    target, out = ctx.obj.target(), ctx.obj.output
    log = target.container.event_log
    last = log.current_seq(channel) if since is None else since
    if not out.as_json:
        out.say(f"following {channel} after seq {last} (durable events only; Ctrl-C stops)")
    shown = 0
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while deadline is None or time.monotonic() < deadline:
            for event in log.since(channel, last):
                _print(out, event)
                last = max(last, event.seq or last)
                shown += 1
                if count is not None and shown >= count:
                    return
            time.sleep(interval)
    except KeyboardInterrupt:
        return


def _retained(target: Target, channel: str, since: str) -> list[Envelope]:
    log = target.container.event_log
    if since.isdigit():
        return log.since(channel, int(since))
    cutoff = utcnow() - duration(since)
    return [e for e in log.since(channel, 0) if e.at >= cutoff]


def replay(
    ctx: typer.Context,
    channel: Annotated[str, typer.Option(help="course:ID or user:ID", callback=_channel)],
    since: Annotated[str, typer.Option(help="a seq (events after it) or an age like 30m")],
    yes: Annotated[bool, typer.Option("--yes", help="send them (without: only list them)")] = False,
) -> None:
    """Send a channel's retained events again to its current subscribers."""
    target, out = ctx.obj.target(), ctx.obj.output
    events = _retained(target, channel, since)
    if not yes:
        out.rows(f"events on {channel}", [_row(e) for e in events], COLUMNS)
        out.dry_run("replay", len(events))
        return
    container = target.container
    connection_ids = container.connections.connections_on(channel)
    totals: dict[str, Any] = {"events": 0, "delivered": 0, "gone": 0, "failed": 0}
    with out.progress(f"replaying to {len(connection_ids)} connection(s)", len(events)) as bar:
        for event in events:
            payload = encode(event, container.settings.max_ws_message_bytes)
            report = container.fanout.send([(cid, payload) for cid in connection_ids])
            if report.gone:
                for gone in sorted(set(report.gone)):
                    forget_gone(container.connections, gone)
                connection_ids = [c for c in connection_ids if c not in set(report.gone)]
            totals["events"] += 1
            totals["delivered"] += report.delivered
            totals["gone"] += len(report.gone)
            totals["failed"] += len(report.failed)
            advance(bar)
    out.record(f"replayed on {channel}", {"channel": channel, **totals})


app.command("tail")(tail)
events_app.command("replay")(replay)
