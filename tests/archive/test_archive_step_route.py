"""The archive step of the bundled route, building in the archive folder's own staging folder."""

from __future__ import annotations

import errno
from typing import Any

import pytest
from simulator_fixtures import byggr, callback, ecos, mailbox, register, route, workorder

from brygga.archive import package as package_mod
from brygga.archive import verify_package
from brygga.ledger import State

__all__ = ["byggr", "callback", "ecos", "mailbox", "register", "route", "workorder"]
SAMPLE = "bygglov-person.xml"


def test_a_full_disk_while_building_at_the_archive_fails_the_run_leaves_nothing_and_heals(route, monkeypatch):
    real_open = open

    def open_on_a_full_disk(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        # The package is built in the drop folder's staging folder: its first document fills the disk.
        if "x" in mode and "archive-out" in str(file) and "/data/001-" in str(file):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(package_mod, "open", open_on_a_full_disk, raising=False)
    route.drop(SAMPLE)
    with pytest.raises(OSError, match="No space left"):
        route.run()
    submission = route.submission(SAMPLE)
    archive_out = route.home / "archive-out"
    assert submission.state == State.DELIVERED and route.context().ledger.quarantine_reasons(submission.id) == []
    assert list(archive_out.iterdir()) == [], "no staging folder or half package left in the drop folder"
    assert not any((route.home / "archive-staging").iterdir())
    monkeypatch.delattr(package_mod, "open")
    route.run()
    (package,) = archive_out.iterdir()
    assert route.submission(SAMPLE).state == State.COMPLETED and verify_package(package) == []
