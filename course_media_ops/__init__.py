"""course-media-ops: the operator's CLI for a deployed stack or the local stack.

Reads by default; every command that changes something says what it would do
and does it only with `--yes`. `--json` prints machine-readable output.
docs/OPERATIONS.md#operator-cli lists the commands.
"""
