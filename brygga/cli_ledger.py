"""The ledger as a command sees it: the one the settings name (``BRYGGA_HOME``, ``brygga --home DIR`` or
``BRYGGA_DATABASE_URL``), never created by a command that only looks; and who acts on it, for the audit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brygga.settings import Settings

if TYPE_CHECKING:
    from brygga.ledger import Ledger

ACTOR_ENV = "BRYGGA_ACTOR"
MAX_ACTOR = 100  # audit.actor is String(100)

# After "no ledger at PATH; ": where a person at the command line should point the command instead.
WHERE_TO_LOOK = ("set BRYGGA_HOME, or pass --home DIR, to the Brygga home the workers use (the demo's is var/demo: "
                 "brygga --home var/demo …), or BRYGGA_DATABASE_URL to its database")


def open_ledger() -> Ledger:
    """The settings' ledger; ``LedgerMissing`` (exit 3 in ``brygga.cli.main``) when it is not there."""
    from brygga.ledger.open import open_existing_ledger

    return open_existing_ledger(Settings.from_env().database_url, hint=WHERE_TO_LOOK)


def os_user() -> str:
    """Who acts, for the audit: ``BRYGGA_ACTOR`` when set (under ``docker compose run`` the OS user is the
    container's, the same for everyone), else the OS user running the command. At most ``MAX_ACTOR`` characters,
    what the audit log keeps."""
    import os

    named = " ".join(os.environ.get(ACTOR_ENV, "").split())  # one line: it is shown in a table cell
    if named:
        return named[:MAX_ACTOR]
    import getpass

    try:
        return getpass.getuser()[:MAX_ACTOR]
    except (KeyError, OSError):  # a container user without a passwd entry or LOGNAME
        return "unknown"
