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
    """Around a handler module's imports (and app.py's): no cyclic collection
    runs while they build the modules, classes and boto3 service models that
    live as long as the process, and would be walked again by every full
    collection the allocations trigger: about 25 ms of CPU of the REST
    function's import (docs/PERFORMANCE.md#cold-start). Nested, as when app.py
    imports the handler modules, only the outermost turns collection back on;
    it is back on however the imports end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # Frozen first: the next allocation would otherwise make the young
            # generation, which now holds everything the imports built, be
            # walked once more at once.
            gc.freeze()
            gc.enable()


def loaded() -> None:
    """The last call of a handler module (and of app.py): what its imports
    built (modules, classes, boto3's service models, pydantic's schemas) lives
    as long as the process, so the cyclic collector stops walking it.

    Otherwise every full collection traverses those tens of thousands of
    objects again, the interpreter's last one at exit too: 20 to 50 ms of CPU
    of a function's import and first invocation, and 50 to 80 ms at exit,
    which bench/coldstart.py's whole processes also count
    (docs/PERFORMANCE.md#cold-start)."""
    gc.freeze()
