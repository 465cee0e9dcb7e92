"""Counting the ledger's transactions: every one the engine commits, and those among them that wrote (each of those
is a write to the ledger's log, an fsync on PostgreSQL and on SQLite with synchronous=FULL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_WRITES = ("insert", "update", "delete", "replace")
_WROTE = "brygga_test_wrote"


@dataclass
class Transactions:
    commits: int = 0
    writes: int = 0
    statements: list[str] = field(default_factory=list)  # the writing ones, for a failing assertion's message

    def take(self) -> tuple[int, int]:
        """(commits, writes) since the last take, and start again."""
        counted = (self.commits, self.writes)
        self.commits = self.writes = 0
        self.statements.clear()
        return counted


@contextmanager
def counting(engine: Engine) -> Iterator[Transactions]:
    counted = Transactions()

    def on_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().lower().startswith(_WRITES):
            conn.info[_WROTE] = True
            counted.statements.append(statement.split("(")[0][:60])

    def on_commit(conn: Any) -> None:
        counted.commits += 1
        if conn.info.pop(_WROTE, False):
            counted.writes += 1

    def on_rollback(conn: Any) -> None:
        conn.info.pop(_WROTE, None)

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)
        event.remove(engine, "rollback", on_rollback)
