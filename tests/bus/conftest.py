"""Fixtures of the bus tests: the embedded bus on SQLite and on a PostgreSQL database of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres import throwaway_database


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    with throwaway_database("brygga_bus") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def embedded_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The embedded bus: in a SQLite file (WAL) as beside the default ledger, or in a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqla+sqlite:///{tmp_path / 'ledger.sqlite'}"
    return "sqla+" + request.getfixturevalue("postgres_database")
