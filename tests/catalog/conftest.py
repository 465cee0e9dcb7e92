"""The catalog tests read the bundled schemas, routes and mappings only: none of the shell's Brygga settings."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _bundled_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BRYGGA_CONFIG", "BRYGGA_CASE_TYPES", "BRYGGA_ROUTES", "BRYGGA_MAPPINGS"):
        monkeypatch.delenv(name, raising=False)
