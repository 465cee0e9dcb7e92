"""Where Brygga keeps its state. Everything has an embedded default under one home folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from brygga.resources import SOURCE_ROOT, is_source_checkout, resource

# Kept for tests and tools that work inside a source checkout.
REPO_ROOT = SOURCE_ROOT


def default_home() -> Path:
    """``var/`` in a source checkout; for an installed Brygga, the user's data folder."""
    if is_source_checkout():
        return SOURCE_ROOT / "var"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "brygga"


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    routes_file: Path
    mappings_dir: Path

    @property
    def landing(self) -> Path:
        """Raw bytes of every submission, stored before anything else happens."""
        return self.home / "landing"

    @property
    def content(self) -> Path:
        """Decoded attachments, addressed by sha256."""
        return self.home / "content"

    def ensure_dirs(self) -> None:
        # Inbox and archive folders belong to the adapters that use them, relative to this home.
        for path in (self.home, self.landing, self.content):
            path.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        home = Path(env.get("BRYGGA_HOME") or default_home()).resolve()
        return cls(
            home=home,
            database_url=env.get("BRYGGA_DATABASE_URL", f"sqlite:///{home / 'ledger.sqlite'}"),
            routes_file=Path(env.get("BRYGGA_ROUTES") or resource("routes", "routes.yaml")),
            mappings_dir=Path(env.get("BRYGGA_MAPPINGS") or resource("mappings")),
        )
