"""Fixtures of the bus tests: the embedded bus on SQLite and on a PostgreSQL database of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

POSTGRES_ADMIN_URL = os.environ.get("BRYGGA_TEST_POSTGRES_URL",
                                    "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of its own on the local PostgreSQL, dropped afterwards; skipped when none answers."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"brygga_bus_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {POSTGRES_ADMIN_URL} (BRYGGA_TEST_POSTGRES_URL): {exc.orig}")
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def embedded_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The embedded bus: in a SQLite file (WAL) as beside the default ledger, or in a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqla+sqlite:///{tmp_path / 'ledger.sqlite'}"
    return "sqla+" + request.getfixturevalue("postgres_database")
