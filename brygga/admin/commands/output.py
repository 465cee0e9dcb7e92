"""What the administrator's commands print: rich tables and text on stdout (plain, one line a row, off a terminal,
so that a reader that goes away is noticed as a BrokenPipeError), JSON, and messages and hints on stderr."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from brygga.cli_exits import NOTHING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

NONE = "-"  # a cell without a value


def console(stream: TextIO | None = None) -> Console:
    """A rich console on stdout (or ``stream``). Off a terminal it is plain text, and wide enough that no table row
    wraps: a pipe into grep or head sees one line per row."""
    from rich.console import Console

    file = stream or sys.stdout
    terminal = bool(getattr(file, "isatty", lambda: False)())
    # markup off: ids, reasons and file names come from outside and may hold [brackets].
    return Console(file=file, highlight=False, markup=False, emoji=False, width=None if terminal else 4000)


def emit(*renderables: Any) -> None:
    """Print tables and text on stdout; off a terminal without the cells' trailing padding."""
    out = console()
    if out.is_terminal:
        for renderable in renderables:
            out.print(renderable)
        return
    with out.capture() as captured:
        for renderable in renderables:
            out.print(renderable)
    for line in captured.get().splitlines():  # line by line: a reader that went away is noticed (BrokenPipeError)
        sys.stdout.write(line.rstrip() + "\n")


def table(*columns: str, title: str | None = None) -> Table:
    from rich import box
    from rich.table import Table

    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=title, title_justify="left")
    for name in columns:
        grid.add_column(name, no_wrap=name in ("id", "submission"), min_width=36 if name == "id" else None)
    return grid


def cells(*values: object) -> list[Any]:
    """Table cells as plain text: never read as markup."""
    from rich.text import Text

    return [Text(NONE if value is None or value == "" else str(value)) for value in values]


def lines(texts: Sequence[str]) -> str:
    """Several texts in one cell (a submission's quarantine reasons): a line each on a terminal, joined by "; "
    off one, where a row is one line."""
    return ("\n" if sys.stdout.isatty() else "; ").join(texts)


def blank() -> Any:
    """An empty line between sections."""
    from rich.text import Text

    return Text("")


def print_rows(items: Sequence[Any], *, as_json: bool, columns: Sequence[str],
               row: Callable[[Any], Sequence[object]]) -> None:
    """``items`` as JSON (each as its dataclass' fields, file names masked), or as a table of ``columns`` whose
    cells ``row`` gives per item; nothing at all for no items in a table."""
    if as_json:
        print_json([as_dict(item) for item in items])
    elif items:
        grid = table(*columns)
        for item in items:
            grid.add_row(*cells(*row(item)))
        emit(grid)


def print_json(value: Any) -> None:
    def plain(item: Any) -> Any:
        if isinstance(item, datetime):
            return item.isoformat()
        raise TypeError(f"{type(item).__name__} is not JSON")

    print(json.dumps(value, ensure_ascii=False, indent=2, default=plain))


def as_dict(row: Any, *, reveal: bool = False) -> dict[str, Any]:
    """A row as JSON data. A file name may carry a personnummer (docs/retention.md): masked by shape, as the
    quarantine reasons are, unless revealed."""
    data = dataclasses.asdict(row)
    return data if reveal else _masked_names(data)


def _masked_names(value: Any) -> Any:
    from brygga.redact import redact

    if isinstance(value, dict):
        return {key: redact(item) if key == "source_name" and isinstance(item, str) else _masked_names(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_masked_names(item) for item in value]
    return value


def shown_rate(rate: float) -> str:
    return f"{rate:.0%}"


def fail(command: str, message: str, code: int = NOTHING) -> int:
    """Say why on stderr, as ``brygga COMMAND: MESSAGE``; the exit code."""
    print(f"brygga {command}: {message}", file=sys.stderr)
    return code


def hint(text: str) -> None:
    """A next step for a person at a terminal; scripts reading the output do not get it."""
    if sys.stdout.isatty():
        print(text, file=sys.stderr)
