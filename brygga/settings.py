"""Where Brygga keeps its state and reads its configuration. Everything has an embedded default.

State lives under one home folder (``BRYGGA_HOME``). Configuration is the routes file, the mappings folder and
extra case types: by default the bundled examples; ``BRYGGA_CONFIG=DIR`` takes a kommun's own folder instead
(``DIR/routes.yaml``, ``DIR/mappings/``, ``DIR/case-types/``), and ``BRYGGA_ROUTES``, ``BRYGGA_MAPPINGS`` and
``BRYGGA_CASE_TYPES`` override one part each (docs/integrators.md).
"""

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
    # Case types besides the bundled ones (schemas/canonical/types/), which are always registered.
    case_types_dirs: tuple[Path, ...] = ()

    @property
    def landing(self) -> Path:
        """Raw bytes of every submission, stored before anything else happens."""
        return self.home / "landing"

    @property
    def content(self) -> Path:
        """Decoded attachments, addressed by sha256."""
        return self.home / "content"

    def shown(self, mapping: Path) -> str:
        """A mapping file as problems name it: relative to the mappings folder's parent (``mappings/x.yaml``)."""
        root = self.mappings_dir.resolve().parent
        resolved = mapping.resolve()
        return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(mapping)

    def ensure_dirs(self) -> None:
        # Inbox and archive folders belong to the adapters that use them, relative to this home.
        for path in (self.home, self.landing, self.content):
            path.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        home = Path(env.get("BRYGGA_HOME") or default_home()).resolve()
        config = Path(env["BRYGGA_CONFIG"]) if env.get("BRYGGA_CONFIG") else None
        # A config folder may have no case types of its own; a folder named in BRYGGA_CASE_TYPES must exist.
        case_types = env.get("BRYGGA_CASE_TYPES") or (
            config / "case-types" if config and (config / "case-types").is_dir() else None)
        return cls(
            home=home,
            database_url=env.get("BRYGGA_DATABASE_URL", f"sqlite:///{home / 'ledger.sqlite'}"),
            routes_file=Path(env.get("BRYGGA_ROUTES") or (config / "routes.yaml" if config
                                                          else resource("routes", "routes.yaml"))),
            mappings_dir=Path(env.get("BRYGGA_MAPPINGS") or (config / "mappings" if config else resource("mappings"))),
            case_types_dirs=(Path(case_types),) if case_types else (),
        )
