"""The Chalice commands this project does not support stop before they act.

Chalice imports app.py for every command. `chalice deploy` would deploy the
functions without infra/template.json (no tables, bucket, queues, roles or
alarms, and an S3-event source on a queue name typed in app.py) and
`chalice local` would serve routes that fail with a SettingsError, having no
local stack's resources. So the import stops them first, naming the supported
path; `chalice package` (what `make package` runs) and every other importer of
app.py (Lambda, the tests, the local stack) are untouched.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from pathlib import PurePath

REFUSED = {
    "deploy": (
        "chalice deploy is not supported here: course-media deploys as one CloudFormation "
        "stack, whose tables, bucket, queues, per-function roles, alarms and dashboard live "
        "in infra/template.json, which chalice deploy ignores. Build it with `make package` "
        "and deploy it as docs/OPERATIONS.md#deploy says. Nothing was sent to AWS."
    ),
    "local": (
        "chalice local is not supported here: the app needs the local stack's tables, "
        "bucket, S3-event queue and WebSocket gateway, which chalice local does not "
        "provide. Run `make run` instead (docs/local-stack.md): it serves this app with "
        "them on http://127.0.0.1:8000."
    ),
}
# Chalice's own options before the command; only --project-dir takes a value.
_VALUED = {"--project-dir"}


def chalice_command(argv: Sequence[str]) -> str | None:
    """The Chalice CLI command this process runs, or None when it is not the CLI."""
    if not argv or PurePath(argv[0]).name != "chalice":
        return None
    rest = list(argv[1:])
    while rest:
        token = rest.pop(0)
        if token in _VALUED:
            if rest:
                rest.pop(0)
        elif token.startswith("--project-dir="):
            continue
        elif not token.startswith("-"):
            return token
    return None


def refuse_unsupported(argv: Sequence[str] | None = None) -> None:
    command = chalice_command(sys.argv if argv is None else argv)
    if command not in REFUSED:
        return
    message = f"course-media: {REFUSED[command]}"
    if threading.current_thread() is threading.main_thread():
        raise SystemExit(message)
    # `chalice local` imports the app in its server thread, where SystemExit
    # would end only that thread and leave the process watching files forever.
    print(message, file=sys.stderr, flush=True)
    os._exit(1)
