"""What the admin asks of a SQLite ledger, statement by statement, and how SQLite runs it (EXPLAIN QUERY PLAN)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from brygga.ledger import Ledger

# A plan line that reads a whole table ("SCAN submissions", "SCAN deliveries USING INDEX ..." walks every row of
# the index); a search through an index reads "SEARCH ...". A CTE's own rows ("SCAN routes") are not a table.
_FULL_SCAN = re.compile(r"^SCAN (submissions|deliveries|quarantine|person_keys|steps)\b")


@contextmanager
def statements(ledger: Ledger) -> Iterator[list[tuple[str, Any]]]:
    """The SELECT statements (with their parameters) the ledger's engine runs inside the block."""
    seen: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(ledger.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(ledger.engine, "before_cursor_execute", record)


def plans(ledger: Ledger, work: Callable[[], object]) -> list[str]:
    """Every plan line of the statements ``work`` runs, each with the start of its statement."""
    with statements(ledger) as seen:
        work()
    assert seen, "the work ran no SELECT"
    found = []
    with ledger.engine.connect() as conn:
        for statement, parameters in seen:
            found += [f"{row[-1]}  <-  {' '.join(statement.split())[:200]}"
                      for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    return found


def full_scans(ledger: Ledger, work: Callable[[], object]) -> list[str]:
    """The plan lines of the statements ``work`` runs that read a whole table."""
    return [line for line in plans(ledger, work) if _FULL_SCAN.match(line)]
