"""Archive drop folder: the e-archive's intake picks packages up from here.

A package appears under its name whole or not at all. One built in ``staging_folder()`` (a hidden folder in the
drop folder, so on its file system) is moved into place by one rename; any other is copied under a hidden
temporary name and renamed, and the caller keeps its own.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

from brygga.connections import Connection
from brygga.plugins import configure
from brygga_adapters.file.paths import resolve_config_path

# Hidden, as the ".incoming-" copies are: the archive's intake takes no dot names.
STAGING = ".brygga-staging"
# A copy under way this long was interrupted (its worker killed): its documents must not stay behind.
STALE_COPY_SECONDS = 6 * 3600
# The sweep lists the whole drop folder, which may hold 100,000 packages after a migration: not on every package.
SWEEP_EVERY_SECONDS = 600


def _sweep_stale_copies(root: Path) -> None:
    for entry in root.glob(".incoming-*"):
        try:
            if time.time() - entry.stat().st_mtime > STALE_COPY_SECONDS:
                shutil.rmtree(entry, ignore_errors=True)
        except FileNotFoundError:
            continue


def _copy_failure(root: Path, exc: OSError) -> OSError:
    """copytree collects its files' failures (a full or read-only disk) into one shutil.Error without an errno;
    keep the first failure's (28: disk full, 30: read-only), which decides how the fault is handled."""
    if not isinstance(exc, shutil.Error):
        return exc
    failures = exc.args[0] if exc.args and isinstance(exc.args[0], list) else []
    first = str(failures[0][2]) if failures else ""
    code = re.match(r"\[Errno (\d+)\]", first)
    return OSError(int(code.group(1)) if code else errno.EIO,
                   f"the package could not be copied into {root}; {len(failures)} file(s) failed: {first}")


class ArchiveFolderTarget:
    config_spec: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["path"],
        "properties": {"path": {"type": "string", "description": "Drop folder; relative to BRYGGA_HOME."}},
    }

    def __init__(self, config: dict[str, Any], connection: Connection | None = None) -> None:
        self.root = resolve_config_path(configure("archive-folder", self.config_spec, config)["path"])
        self._swept_at: float | None = None

    def staging_folder(self) -> Path:
        """Where to build a package so that ``deliver_package`` can rename it into place instead of copying it.

        What the caller puts here is its own to clean up; what it hands over from here is moved, not copied.
        """
        folder = self.root / STAGING
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def deliver_package(self, package: Path) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        if self._swept_at is None or time.monotonic() - self._swept_at > SWEEP_EVERY_SECONDS:
            _sweep_stale_copies(self.root)
            self._swept_at = time.monotonic()
        final = self.root / package.name
        if final.exists():
            return str(final)  # packages are named by a stable id: already delivered
        built_here = package.absolute().is_relative_to((self.root / STAGING).absolute())
        if built_here and package.is_dir() and self._moved(package, final):
            return str(final)
        # A name of this hand-over's own: two runs handing the same package over at once must not mix their copies.
        staging = self.root / f".incoming-{package.name}-{uuid.uuid4().hex[:12]}"
        try:
            if package.is_dir():
                shutil.copytree(package, staging)
            else:
                shutil.copy2(package, staging)
            staging.rename(final)
        except OSError as exc:  # a full or read-only disk, or another hand-over's rename first
            shutil.rmtree(staging, ignore_errors=True)
            if final.exists():  # another hand-over of the same package got there first: it is delivered
                return str(final)
            raise _copy_failure(self.root, exc) from None
        except BaseException:  # interrupted: leave nothing half-written behind; the next run copies it again
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return str(final)

    def _moved(self, package: Path, final: Path) -> bool:
        """Rename a package built in the staging folder into place: atomic, so the intake sees all of it or
        nothing. False when that cannot be done on this file system, and the package is then copied."""
        try:
            os.rename(package, final)  # never onto a package already there: a non-empty folder is not replaced
        except OSError as exc:
            if exc.errno == errno.EXDEV:  # the staging folder is a mount of its own: copy, as for any package
                return False
            if final.exists():  # another hand-over of the same package got there first: it is delivered
                return True
            raise _copy_failure(self.root, exc) from None
        return True
