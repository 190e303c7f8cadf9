"""The entry points of the functions that serve no REST route, one module per
kind: websocket.py ($connect, $default, $disconnect), uploads.py (S3 events
and the stale-upload sweep), outbox.py (realtime delivery), processing.py (the
processing step, docs/processing.md), fanout.py (the fanout workers).

Each is a Chalice Blueprint that app.py registers, so `chalice package` names
each function's Handler after the module it lives in
(`chalicelib.functions.uploads.on_s3_events`) and Lambda imports that module,
never app.py: a function does not import the REST routes, their request models
or the modules of the services it never builds (docs/PERFORMANCE.md#cold-start).
The handlers are the same objects whether Lambda, app.py's test client or the
local stack calls them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from chalice.app import Blueprint, WebsocketAPI


class FunctionBlueprint(Blueprint):
    """A Blueprint whose WebSocket handlers Chalice wraps as it wraps an app's.

    Chalice wraps `on_ws_*` handlers (event parsing, the 200 answer) only on an
    object that has a `websocket_api`, which a plain Blueprint lacks."""

    def __init__(self, import_name: str) -> None:
        super().__init__(import_name)
        self.websocket_api = WebsocketAPI()


@contextmanager
def loading() -> Iterator[None]:
    """Around a handler module's imports (and app.py's). What they build
    (modules, classes, boto3's service models, pydantic's schemas) lives as
    long as the process, yet the cyclic collector would walk it again in every
    full collection: those the imports' own allocations trigger (about 15 ms
    of CPU of the REST function's import), every one after, and the
    interpreter's last one at exit (50 to 80 ms; docs/PERFORMANCE.md#cold-start).
    So no collection runs during the imports, and what they built is frozen out
    of the collector's generations before it is turned back on. Nested, as when
    app.py imports the handler modules, only the outermost does this; it
    happens however the imports end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # Frozen before the collector is back: the young generation holds
            # everything the imports built, and the next allocation would
            # otherwise have it walked at once.
            gc.freeze()
            gc.enable()
