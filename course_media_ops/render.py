"""How results reach the operator: Rich tables and progress bars on a terminal,
JSON (one document on stdout) for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

Row = dict[str, Any]
PIPED_WIDTH = 240


@dataclass
class Output:
    """The one place commands print through."""

    as_json: bool = False
    console: Console = field(default_factory=lambda: _console(stderr=False))
    errors: Console = field(default_factory=lambda: _console(stderr=True))

    def rows(self, title: str, rows: Sequence[Row], columns: Sequence[str]) -> None:
        if self.as_json:
            self.document(list(rows))
            return
        table = Table(title=f"{title} ({len(rows)})", title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(_cell(row.get(column)) for column in columns))
        self.console.print(table)

    def record(self, title: str, row: Row) -> None:
        if self.as_json:
            self.document(row)
            return
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value")
        for key, value in row.items():
            table.add_row(key, _cell(value))
        self.console.print(table)

    def document(self, value: Any) -> None:
        sys.stdout.write(json.dumps(value, indent=1, default=str) + "\n")
        sys.stdout.flush()

    def say(self, message: str) -> None:
        """A line for a person; with --json it goes to stderr, stdout stays JSON."""
        (self.errors if self.as_json else self.console).print(message)

    def dry_run(self, what: str, count: int) -> None:
        self.say(f"would {what} {count}; nothing changed: run again with --yes to do it")

    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Progress]:
        """A progress bar on stderr (drawn live on a terminal), so stdout keeps
        the command's result."""
        bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.errors,
            transient=False,
        )
        with bar:
            bar.add_task(description, total=total)
            yield bar


def _console(*, stderr: bool) -> Console:
    """A terminal's own width; piped, wide enough that ids are never cut."""
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=PIPED_WIDTH)
    return console


def advance(bar: Progress, steps: int = 1) -> None:
    bar.advance(bar.task_ids[0], steps)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def pick(rows: Iterable[Row], *keys: str) -> list[Row]:
    return [{k: row.get(k) for k in keys} for row in rows]
