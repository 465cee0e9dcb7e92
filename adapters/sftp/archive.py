"""SFTP archive target: hands FGS/E-ARK packages to an e-archive's SFTP intake folder.

A package is uploaded under a hidden temporary name (``.<name>.partial-<random>``), each file's size checked, and
renamed into place in one step, so the archive's intake never sees half a package. Packages have stable names:
one already in place is delivered, and a second hand-over uploads nothing.
"""

from __future__ import annotations

import logging
import os
import posixpath
import secrets
import stat
import time
from pathlib import Path
from typing import Any, ClassVar

import paramiko

from brygga.connections import Connection
from brygga.errors import TargetRejected, TargetUnavailable
from brygga.plugins import configure
from brygga_adapters.sftp.paths import relative_remote_path
from brygga_adapters.sftp.session import TRANSPORT_FAULTS, SftpSession, remote_faults
from brygga_adapters.sftp.settings import CONNECTION_FIELDS, SftpSettings, sftp_settings

log = logging.getLogger("brygga.adapters.sftp")

ADAPTER = "sftp-archive"
PARTIAL = ".partial-"
# Another package's partial upload this old was interrupted (its worker killed); younger ones may be under way.
STALE_UPLOAD_SECONDS = 6 * 3600


def _exists(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        sftp.lstat(path)
    except FileNotFoundError:
        return False
    return True


def _make_folders(sftp: paramiko.SFTPClient, path: str) -> None:
    """mkdir -p: the drop folder is made when it is missing."""
    if path in ("", ".", "/") or _exists(sftp, path):
        return
    _make_folders(sftp, posixpath.dirname(path))
    try:
        sftp.mkdir(path)
    except OSError:
        if not _exists(sftp, path):  # another hand-over made it meanwhile: fine
            raise


def _remove_tree(sftp: paramiko.SFTPClient, path: str) -> None:
    """Remove a remote file or folder tree, never following links."""
    if not stat.S_ISDIR(sftp.lstat(path).st_mode or 0):
        sftp.remove(path)
        return
    for entry in sftp.listdir_attr(path):
        if entry.filename not in (".", ".."):
            _remove_tree(sftp, posixpath.join(path, entry.filename))
    sftp.rmdir(path)


class SftpArchiveTarget:
    connection_fields: ClassVar[dict[str, str]] = CONNECTION_FIELDS
    config_spec: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "path": {"type": "string", "default": "",
                     "description": "Remote drop folder, relative to the connection's path."},
        },
    }

    def __init__(self, config: dict[str, Any], connection: Connection | None = None) -> None:
        config = configure(ADAPTER, self.config_spec, config)
        self.settings: SftpSettings = sftp_settings(connection, ADAPTER)
        self.folder = self.settings.remote_path(relative_remote_path(ADAPTER, "path", config["path"]))

    def deliver_package(self, package: Path) -> str:
        final = posixpath.join(self.folder, package.name)
        location = self.settings.location(final)
        with SftpSession(self.settings) as session:
            sftp = session.sftp
            with remote_faults(self.settings, "write to", self.settings.location(self.folder), sftp):
                _make_folders(sftp, self.folder)
                if _exists(sftp, final):
                    return location  # packages are named by a stable id: delivered earlier
                self._sweep_partials(sftp, package.name)
            partial = posixpath.join(self.folder, f".{package.name}{PARTIAL}{secrets.token_hex(6)}")
            try:
                with remote_faults(self.settings, "write", location, sftp):
                    self._upload(sftp, package, partial)
                    if self._rename(sftp, partial, final):
                        return location
                    # Another hand-over of the same package got there first: it is delivered.
                    _remove_tree(sftp, partial)
                    return location
            except BaseException:  # interrupted or refused: leave no half package behind; the next run uploads again
                self._discard(sftp, partial)
                raise

    def _sweep_partials(self, sftp: paramiko.SFTPClient, name: str) -> None:
        """Remove uploads that were cut off: this package's at once (the archive step hands one package over
        at a time), other packages' once they are stale."""
        now = time.time()
        for entry in sftp.listdir_attr(self.folder):
            if not entry.filename.startswith(".") or PARTIAL not in entry.filename:
                continue
            mine = entry.filename.startswith(f".{name}{PARTIAL}")
            if mine or now - (entry.st_mtime or now) > STALE_UPLOAD_SECONDS:
                log.info("SFTP archive %s: removing an interrupted upload", self.settings.location(self.folder))
                self._discard(sftp, posixpath.join(self.folder, entry.filename))

    def _upload(self, sftp: paramiko.SFTPClient, package: Path, partial: str) -> None:
        if package.is_file():
            self._put(sftp, package, partial, package.name)
            return
        sftp.mkdir(partial)
        for folder, dirs, files in os.walk(package):
            dirs.sort()
            local_folder = Path(folder)
            relative = local_folder.relative_to(package).as_posix()
            remote_folder = partial if relative == "." else posixpath.join(partial, relative)
            for name in dirs:
                if (local_folder / name).is_symlink():
                    raise TargetRejected(f"package {package.name}: {relative}/{name} is a symbolic link; a package "
                                         "holds regular files and folders only")
                sftp.mkdir(posixpath.join(remote_folder, name))
            for name in sorted(files):
                shown = posixpath.normpath(posixpath.join(relative, name))
                self._put(sftp, local_folder / name, posixpath.join(remote_folder, name), f"{package.name}/{shown}")

    def _put(self, sftp: paramiko.SFTPClient, local: Path, remote: str, shown: str) -> None:
        if local.is_symlink() or not local.is_file():
            raise TargetRejected(f"package {shown} is not a regular file; a package holds regular files and "
                                 "folders only")
        size = local.stat().st_size
        sftp.put(str(local), remote, confirm=False)  # streamed in pipelined 32 KiB writes
        uploaded = sftp.stat(remote).st_size
        if uploaded != size:
            raise TargetUnavailable(f"connection {self.settings.conn_id!r}: {shown} has {uploaded} bytes on the SFTP "
                                    f"server after upload, {size} were sent (a full disk?); uploaded again later")

    def _rename(self, sftp: paramiko.SFTPClient, partial: str, final: str) -> bool:
        """Rename into place; False when the final name was taken meanwhile."""
        try:
            # posix-rename@openssh.com: one atomic rename(2); never replaces a folder that has content.
            sftp.posix_rename(partial, final)
            return True
        except PermissionError:
            raise
        except OSError:
            if _exists(sftp, final):
                return False
        sftp.rename(partial, final)  # a server without the posix-rename extension: the standard SFTP rename
        return True

    def _discard(self, sftp: paramiko.SFTPClient, path: str) -> None:
        try:
            _remove_tree(sftp, path)
        except FileNotFoundError:
            pass
        except TRANSPORT_FAULTS:
            log.warning("SFTP archive %s: an interrupted upload could not be removed now; the next hand-over "
                        "removes it", self.settings.location(self.folder))
