"""Opening a ledger that must be there already. The admin's commands and view read the ledger the workers write:
opening a SQLite file that does not exist would create an empty ledger, and its folder, wherever ``BRYGGA_HOME``
happened to point, and answer "nothing found" from it."""

from __future__ import annotations

from pathlib import Path

from brygga.errors import BryggaError
from brygga.ledger.store import Ledger


class LedgerMissing(BryggaError):
    """The ledger does not exist or cannot be opened; nothing was created. The message names the place (with any
    password hidden), never a value from the ledger."""


def open_existing_ledger(database_url: str, *, hint: str = "") -> Ledger:
    """The ledger at ``database_url``. A SQLite file that does not exist is refused (``no ledger at PATH; HINT``);
    another database is opened as it is, and one that cannot be opened (nobody answers, no such driver installed)
    is refused too."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        parsed = make_url(database_url)
    except ArgumentError:
        raise LedgerMissing("BRYGGA_DATABASE_URL is not a database URL") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_file():
            raise LedgerMissing(f"no ledger at {path}" + (f"; {hint}" if hint else ""))
    shown = parsed.render_as_string(hide_password=True)
    try:
        return Ledger(database_url)
    except SQLAlchemyError as exc:
        raise LedgerMissing(f"cannot open the ledger at {shown}: {exc.__class__.__name__}") from None
    except ImportError as exc:  # the URL names a database driver that is not installed
        raise LedgerMissing(f"cannot open the ledger at {shown}: its driver {exc.name} is not installed") from None
