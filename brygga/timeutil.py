"""Times read back from the ledger, made comparable: one rule for every module that reads them."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC. SQLite gives naive datetimes back and PostgreSQL its session's time zone; everything
    Brygga writes is UTC, so a naive time (from the ledger, or a bound someone typed) is taken as UTC."""
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def optional_utc(moment: datetime | None) -> datetime | None:
    """``as_utc`` of a column that may be NULL."""
    return as_utc(moment) if moment is not None else None
