"""The `course-media-ops` command: global options pick the stack and the output,
each command group lives in its own module."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import typer

from chalicelib import correlation
from chalicelib.ids import new_id
from course_media_ops import channel, connections, media, outbox, queues, uploads
from course_media_ops.render import Output
from course_media_ops.target import LOCAL_GATEWAY, LOCAL_MOTO, Target, TargetError, deployed, local

app = typer.Typer(
    name="course-media-ops",
    help="Operate course-media: uploads, dead-letter queues, the outbox, WebSocket "
    "connections, channels and events, on a deployed stack (--stack NAME) or the local stack. "
    "Reads by default; changes only with --yes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@dataclass
class Context:
    """What every command gets as ctx.obj: the output, and the stack on first use."""

    output: Output
    stack: str | None
    region: str | None
    profile: str | None
    moto_url: str
    gateway_url: str
    _target: Target | None = field(default=None)

    def target(self) -> Target:
        if self._target is None:
            try:
                self._target = (
                    deployed(self.stack, self.region, self.profile)
                    if self.stack
                    else local(self.moto_url, self.gateway_url)
                )
            except TargetError as err:
                self.output.say(f"[red]{err}[/red]")
                raise typer.Exit(2) from None
        return self._target


@app.callback()
def options(
    ctx: typer.Context,
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack",
            envvar="COURSE_MEDIA_STACK",
            help="the deployed CloudFormation stack's name (default: the local stack)",
        ),
    ] = None,
    region: Annotated[str | None, typer.Option(help="AWS region of --stack")] = None,
    profile: Annotated[str | None, typer.Option(help="AWS profile for --stack")] = None,
    moto_url: Annotated[
        str, typer.Option(help="the local stack's AWS endpoint (moto's server)")
    ] = LOCAL_MOTO,
    gateway_url: Annotated[
        str, typer.Option(help="the local stack's gateway (REST, WebSocket)")
    ] = LOCAL_GATEWAY,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON for scripts")] = False,
) -> None:
    if ctx.obj is None:
        ctx.obj = Context(Output(), stack, region, profile, moto_url, gateway_url)
    # What this run changes logs and publishes under one id of its own.
    correlation.adopt(new_id("ops"))
    ctx.obj.output.as_json = ctx.obj.output.as_json or as_json


app.add_typer(uploads.app, name="uploads")
app.add_typer(queues.app, name="dlq")
app.add_typer(connections.app, name="connections")
app.add_typer(channel.app, name="channel")
app.add_typer(channel.events_app, name="events")
app.add_typer(media.app, name="media")
app.add_typer(outbox.app, name="outbox")


def main() -> None:
    app()
