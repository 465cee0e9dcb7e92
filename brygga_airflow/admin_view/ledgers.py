"""The ledger the admin view reads: the one the routes write (``BRYGGA_HOME`` or ``BRYGGA_DATABASE_URL``), opened
once per database and never created here: a view of a ledger that is not there says so instead."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import select

from brygga.admin.query import route_ids
from brygga.ledger import Ledger, Submission
from brygga.ledger.open import LedgerMissing, open_existing_ledger
from brygga.settings import Settings
from brygga_airflow.admin_view.errors import ViewError


class NoLedger(ViewError):
    """The configured ledger does not exist (yet), or cannot be opened: nothing has run with this BRYGGA_HOME."""

    status = 503


# After "no ledger at PATH; ": why a view finds none, and what must be true for it to find one.
WHY_NONE = ("no route has run with this BRYGGA_HOME yet (the scheduler, the workers and the API server must share "
            "it)")


class Ledgers:
    """One ``Ledger`` per database URL, opened on first use (settings are read per request)."""

    def __init__(self, settings_factory: Callable[[], Settings]) -> None:
        self._settings = settings_factory
        self._lock = threading.Lock()
        self._open: dict[str, Ledger] = {}

    def get(self) -> Ledger:
        url = self._settings().database_url
        with self._lock:
            if url not in self._open:
                try:
                    self._open[url] = open_existing_ledger(url, hint=WHY_NONE)
                except LedgerMissing as exc:
                    raise NoLedger(str(exc)) from None
            return self._open[url]


def present_values(ledger: Ledger) -> tuple[list[str], list[str]]:
    """The route ids and kommunkoder the ledger holds, for the search form's choices."""
    with ledger.session() as s:
        routes = sorted(route_ids(s))
        tenants = sorted(s.scalars(select(Submission.tenant).distinct()))
    return routes, tenants
