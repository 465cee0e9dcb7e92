"""Archive drop folder: the e-archive's intake picks packages up from here.

A package is copied under a temporary name and renamed, so the archive never sees half a package.
"""

from __future__ import annotations

import errno
import re
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
        try:
            if package.is_dir():
                shutil.copytree(package, staging)
            else:
                shutil.copy2(package, staging)
            staging.rename(final)
        except shutil.Error as exc:
            # copytree collects its files' failures (a full or read-only disk) into one Error without an errno.
            shutil.rmtree(staging, ignore_errors=True)
            failures = exc.args[0] if exc.args and isinstance(exc.args[0], list) else []
            first = str(failures[0][2]) if failures else ""
            # Keep the first failure's errno (28: disk full, 30: read-only), which decides how the fault is handled.
            code = re.match(r"\[Errno (\d+)\]", first)
            raise OSError(int(code.group(1)) if code else errno.EIO,
                          f"the package could not be copied into {self.root}; {len(failures)} file(s) failed: "
                          f"{first}") from None
        except BaseException:
            # A full or read-only disk: leave nothing half-written behind; the next run copies it again.
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return str(final)
