"""The ledger the admin view reads: the one the routes write (``BRYGGA_HOME`` or ``BRYGGA_DATABASE_URL``), opened
once per database and never created here: a view of a ledger that is not there says so instead."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from brygga.ledger import Ledger, Submission
from brygga.settings import Settings
from brygga_airflow.admin_view.errors import ViewError


class NoLedger(ViewError):
    """The configured ledger does not exist (yet): nothing has run with this BRYGGA_HOME."""

    status = 503


def shown(database_url: str) -> str:
    return make_url(database_url).render_as_string(hide_password=True)


def _sqlite_file(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


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
                sqlite_file = _sqlite_file(url)
                if sqlite_file is not None and not sqlite_file.is_file():
                    raise NoLedger(f"there is no ledger at {shown(url)} yet: no route has run with this "
                                   f"BRYGGA_HOME (the scheduler, the workers and the API server must share it)")
                self._open[url] = Ledger(url)
            return self._open[url]


def present_values(ledger: Ledger) -> tuple[list[str], list[str]]:
    """The route ids and kommunkoder the ledger holds, for the search form's choices."""
    with ledger.session() as s:
        routes = sorted(s.scalars(select(Submission.route_id).distinct()))
        tenants = sorted(s.scalars(select(Submission.tenant).distinct()))
    return routes, tenants
