"""Where Brygga keeps its state. Everything has an embedded default under one home folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


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
        home = Path(env.get("BRYGGA_HOME", REPO_ROOT / "var")).resolve()
        return cls(
            home=home,
            database_url=env.get("BRYGGA_DATABASE_URL", f"sqlite:///{home / 'ledger.sqlite'}"),
            routes_file=Path(env.get("BRYGGA_ROUTES", REPO_ROOT / "routes" / "routes.yaml")),
            mappings_dir=Path(env.get("BRYGGA_MAPPINGS", REPO_ROOT / "mappings")),
        )
