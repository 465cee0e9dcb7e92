"""Bring a ledger made by an earlier Brygga up to date, in place: missing tables are created, missing columns added.

Only additive changes are made: a column that may be NULL, or whose default every existing row can take. Anything
else is refused with a plain reason, never guessed at. Two workers upgrading at once is fine: a column the other
one added meanwhile is taken as added.
"""

from __future__ import annotations

import logging

from sqlalchemy import Column, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from brygga.errors import ConfigError
from brygga.ledger.models import Base

log = logging.getLogger(__name__)


def _default_for_existing_rows(column: Column) -> str | None:  # type: ignore[type-arg]
    """The SQL literal existing rows get, or None when NULL will do."""
    scalar = column.default.arg if column.default is not None and column.default.is_scalar else None
    if isinstance(scalar, bool | int):
        return str(int(scalar))
    if column.nullable:
        return None
    raise ConfigError(f"the ledger's table {column.table.name} lacks {column.name}, which existing rows cannot be "
                      "given automatically; keep the old ledger for its history and start a new one "
                      "(BRYGGA_DATABASE_URL)")


def upgrade(engine: Engine) -> list[str]:
    """Add the columns the ledger lacks; the ``table.column`` names added."""
    Base.metadata.create_all(engine)
    quote = engine.dialect.identifier_preparer.quote
    added = []
    for table in Base.metadata.sorted_tables:
        existing = {c["name"] for c in inspect(engine).get_columns(table.name)}
        for column in table.columns:
            if column.name in existing:
                continue
            default = _default_for_existing_rows(column)
            ddl = (f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} "
                   f"{column.type.compile(engine.dialect)}" + (f" DEFAULT {default}" if default is not None else ""))
            try:
                with engine.begin() as conn:
                    conn.execute(text(ddl))
            except DBAPIError:
                if column.name not in {c["name"] for c in inspect(engine).get_columns(table.name)}:
                    raise
                continue  # another worker added it meanwhile
            added.append(f"{table.name}.{column.name}")
    if added:
        log.warning("ledger at %s upgraded in place: added %s", engine.url.render_as_string(hide_password=True),
                    ", ".join(added))
    return added
