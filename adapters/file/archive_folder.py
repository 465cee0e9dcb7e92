"""Archive drop folder: the e-archive's intake picks packages up from here.

A package is copied under a temporary name and renamed, so the archive never sees half a package.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, ClassVar

from brygga.connections import Connection
from brygga.plugins import configure
from brygga_adapters.file.paths import resolve_config_path


class ArchiveFolderTarget:
    config_spec: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["path"],
        "properties": {"path": {"type": "string", "description": "Drop folder; relative to BRYGGA_HOME."}},
    }

    def __init__(self, config: dict[str, Any], connection: Connection | None = None) -> None:
        self.root = resolve_config_path(configure("archive-folder", self.config_spec, config)["path"])

    def deliver_package(self, package: Path) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / package.name
        if final.exists():
            return str(final)  # packages are named by a stable id: already delivered
        staging = self.root / f".incoming-{package.name}"
        shutil.rmtree(staging, ignore_errors=True)
        if package.is_dir():
            shutil.copytree(package, staging)
        else:
            shutil.copy2(package, staging)
        staging.rename(final)
        return str(final)
