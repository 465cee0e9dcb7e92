"""SFTP inbox source: a partner drops files in a folder on an SFTP server; each regular file is one submission.

Files are listed (regular files only: no links, no folders), read as streams with a bounded read-ahead, and only
after their raw bytes are landed deleted or moved on the server (``after``). Uploads under way are left alone: the
``ignore`` globs (dot files, .tmp, .part, .filepart by default) and ``min_age_seconds``, counted from the file's
modification time on the server (so the two clocks should agree); a file that changes while it is read is refused
at its end (``reader``) and taken whole by a later run.

No session outlives a step: ``poll`` lists and closes its session before it yields the first item, and each
item's session (opened by ``open``) is closed by its ``acknowledge``. So an intake that stops early (its
batch_size) leaves nothing open while the generator waits for garbage collection.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import logging
import posixpath
import stat
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

import paramiko

from brygga.connections import Connection
from brygga.errors import TargetRejected
from brygga.plugins import IncomingItem, configure
from brygga_adapters.sftp.paths import relative_remote_path
from brygga_adapters.sftp.reader import Identity, identity, open_reader
from brygga_adapters.sftp.session import SftpSession, remote_faults
from brygga_adapters.sftp.settings import CONNECTION_FIELDS, sftp_settings

log = logging.getLogger("brygga.adapters.sftp")

ADAPTER = "sftp-inbox"
DEFAULT_IGNORE = [".*", "*.tmp", "*.part", "*.filepart"]


class SftpInboxSource:
    connection_fields: ClassVar[dict[str, str]] = CONNECTION_FIELDS
    config_spec: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "path": {"type": "string", "default": "",
                     "description": "Remote inbox folder, relative to the connection's path."},
            "pattern": {"type": "string", "default": "*", "description": "Glob the file names must match."},
            "ignore": {"type": "array", "items": {"type": "string"}, "default": DEFAULT_IGNORE,
                       "description": "Globs of uploads under way, never taken in."},
            "min_age_seconds": {"type": "number", "minimum": 0, "default": 0,
                                "description": "Take a file only once it is this old (server's modification time)."},
            "after": {"enum": ["delete", "move"], "default": "delete",
                      "description": "What happens to a file on the server once its bytes are landed."},
            "move_to": {"type": "string", "description": "With after: move, the folder (relative to the "
                                                          "connection's path) the file is moved into."},
        },
        "if": {"properties": {"after": {"const": "move"}}, "required": ["after"]},
        "then": {"required": ["move_to"]},
    }

    def __init__(self, config: dict[str, Any], connection: Connection | None = None) -> None:
        config = configure(ADAPTER, self.config_spec, config)
        self.settings = sftp_settings(connection, ADAPTER)
        self.folder = self.settings.remote_path(relative_remote_path(ADAPTER, "path", config["path"]))
        self.pattern: str = config["pattern"]
        self.ignore: list[str] = list(config["ignore"])
        self.min_age_seconds: float = config["min_age_seconds"]
        self.after: str = config["after"]
        self.move_to = (self.settings.remote_path(relative_remote_path(ADAPTER, "move_to", config["move_to"]))
                        if self.after == "move" else None)
        self._session: SftpSession | None = None
        self._read: dict[str, Identity] = {}  # what was read, by location: see acknowledge
        self._remote_paths: dict[str, str] = {}  # location -> remote path

    # -- the session: opened when first needed, closed after the listing and after each acknowledge ----------
    def _sftp(self) -> paramiko.SFTPClient:
        if self._session is None or not self._session.active:
            self.close()
            self._session = SftpSession(self.settings)
        return self._session.sftp

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- listing ---------------------------------------------------------------------------------------------
    def _ignored(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, glob) for glob in self.ignore)

    def _waiting(self) -> list[paramiko.SFTPAttributes]:
        where = self.settings.location(self.folder)
        sftp = self._sftp()
        try:
            with remote_faults(self.settings, "list", where, sftp):
                entries = sftp.listdir_attr(self.folder)
        except FileNotFoundError:
            log.warning("SFTP inbox %s does not exist on the server; nothing taken in", where)
            return []
        now = time.time()
        takeable = [e for e in entries
                    if "/" not in e.filename and e.filename not in (".", "..")
                    and e.st_mode is not None and stat.S_ISREG(e.st_mode)  # listed as lstat: links are not regular
                    and not self._ignored(e.filename)]
        matching = [e for e in takeable if fnmatch.fnmatchcase(e.filename, self.pattern)]
        self._report_unmatched([e for e in takeable if not fnmatch.fnmatchcase(e.filename, self.pattern)], where)
        ripe = [e for e in matching if now - (e.st_mtime or 0) >= self.min_age_seconds]
        return sorted(ripe, key=lambda e: e.filename)

    def _report_unmatched(self, others: list[paramiko.SFTPAttributes], where: str) -> None:
        """File names may name a person: the warning gives their count and kinds only."""
        if not others:
            return
        kinds = Counter(posixpath.splitext(e.filename)[1].lower() or "(no extension)" for e in others)
        log.warning("SFTP inbox %s: %d file(s) do not match the pattern %r and are not taken in (%s)", where,
                    len(others), self.pattern, ", ".join(f"{n} x {kind}" for kind, n in sorted(kinds.items())))

    def poll(self) -> Iterator[IncomingItem]:
        try:
            waiting = self._waiting()
        finally:
            self.close()  # before the first yield: a consumer that stops early holds no session
        try:
            for entry in waiting:
                remote = posixpath.join(self.folder, entry.filename)
                location = self.settings.location(remote)
                self._remote_paths[location] = remote
                yield IncomingItem(name=entry.filename, location=location, size=entry.st_size,
                                   open=functools.partial(self._open, remote, location))
        finally:
            self.close()

    # -- reading and acknowledging ---------------------------------------------------------------------------
    def _open(self, remote: str, location: str) -> BinaryIO:
        """A fresh stream of the remote file; FileNotFoundError when it vanished since the listing."""
        folder = self.settings.location(self.folder)
        sftp = self._sftp()
        with remote_faults(self.settings, "read a file in", folder, sftp):
            handle = sftp.open(remote, "rb")
            try:
                opened = identity(handle.stat())
            except BaseException:
                handle.close()
                raise
        self._read[location] = opened
        return open_reader(handle, self.settings, folder, opened)  # type: ignore[return-value]

    def acknowledge(self, item: IncomingItem) -> None:
        """Delete or move the file that was read, and only that one: a new upload under the same name since
        (another run took the first in) is left for the next run. Closes the session: the item is done."""
        remote = self._remote_paths.pop(item.location, None)
        read = self._read.pop(item.location, None)
        if remote is None:
            return  # not listed by this source
        folder = self.settings.location(self.folder)
        try:
            sftp = self._sftp()
            with remote_faults(self.settings, "delete or move a file in", folder, sftp):
                if read is not None and identity(sftp.lstat(remote)) != read:
                    log.info("SFTP inbox %s: a new file arrived under a name just taken in; left for the next run",
                             folder)
                    return
                if self.move_to is None:
                    sftp.remove(remote)
                else:
                    self._move(sftp, remote, posixpath.join(self.move_to, item.name))
        except FileNotFoundError:
            pass  # another run took it in and removed it
        finally:
            self.close()  # the consumer may stop after any item (batch_size): the next open starts a session

    def _move(self, sftp: paramiko.SFTPClient, remote: str, target: str) -> None:
        assert self.move_to is not None
        try:
            sftp.stat(self.move_to)
        except FileNotFoundError:
            try:
                sftp.mkdir(self.move_to)
            except FileNotFoundError:
                raise TargetRejected(f"connection {self.settings.conn_id!r}: config/move_to: the folder above "
                                     f"{self.settings.location(self.move_to)} does not exist on the server") from None
        try:
            sftp.posix_rename(remote, target)  # replaces an earlier file of that name
        except (PermissionError, FileNotFoundError):
            raise
        except OSError:  # a server without the posix-rename extension, whose rename will not replace a file
            with contextlib.suppress(FileNotFoundError):
                sftp.remove(target)  # the older file of that name: this one was read and landed since
            sftp.rename(remote, target)
