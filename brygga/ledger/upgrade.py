"""Bring a ledger made by an earlier Brygga up to date, in place: missing tables are created, missing columns added,
with the unique constraints and indexes that go with them.

Only additive changes are made: a column that may be NULL, or whose default every existing row can take. Anything
else is refused with a plain reason, never guessed at. Two workers upgrading at once is fine: a column the other
one added meanwhile is taken as added.
"""

from __future__ import annotations

import logging

from sqlalchemy import Column, Table, UniqueConstraint, inspect, text
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


def _add_missing_keys(engine: Engine, table: Table) -> list[str]:
    """A unique constraint (as a unique index: SQLite cannot add constraints) or an index the table lacks.

    A unique key that existing rows break is refused plainly: the ledger's guards rest on these keys.
    """
    found = inspect(engine)
    existing = {c["name"] for c in found.get_unique_constraints(table.name)} | {
        i["name"] for i in found.get_indexes(table.name)}
    quote = engine.dialect.identifier_preparer.quote
    wanted = [(c.name, [col.name for col in c.columns], "UNIQUE ") for c in table.constraints
              if isinstance(c, UniqueConstraint) and isinstance(c.name, str)]
    wanted += [(i.name, [col.name for col in i.columns], "UNIQUE " if i.unique else "") for i in table.indexes
               if isinstance(i.name, str)]
    made = []
    for name, columns, unique in wanted:
        if name in existing:
            continue
        ddl = (f"CREATE {unique}INDEX IF NOT EXISTS {quote(name)} ON {quote(table.name)} "
               f"({', '.join(quote(c) for c in columns)})")
        try:
            with engine.begin() as conn:
                conn.execute(text(ddl))
        except DBAPIError:
            raise ConfigError(f"the ledger's table {table.name} cannot get the key {name} ({', '.join(columns)}): "
                              "existing rows break it; keep the old ledger for its history and start a new one "
                              "(BRYGGA_DATABASE_URL)") from None
        made.append(f"{table.name}.{name}")
    return made


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
        added += _add_missing_keys(engine, table)
    if added:
        log.warning("ledger at %s upgraded in place: added %s", engine.url.render_as_string(hide_password=True),
                    ", ".join(added))
    return added
