"""A remote file read as a stream, checked at its end to be the whole file as it was when opened.

paramiko's own ``prefetch`` asks for the whole file ahead and, when its bookkeeping races with the reader, keeps
the rest of the file in memory; a 200 MB drawing must not. ``PipelinedReader`` keeps ``WINDOW`` requests of
``REQUEST_BYTES`` outstanding itself (about 1 MiB in flight): as fast as prefetch over a real network, in flat
memory. Its requests go through paramiko's private SFTP request layer (``_async_request``, ``_read_response``,
``_convert_status``: it hands each reply to the ``_async_response`` of the object that asked, as for its own
prefetch). Those are checked at import; a paramiko without them gets ``SequentialReader``, plain reads one after
the other (slower over a long network path), and a warning in the log.

Either reader, at the end of the file, compares the bytes read with the open handle's size and modification time,
and those with what they were at open: a file still being written under its final name is refused
(``TargetUnavailable``, raised before the end is reported, so nothing is landed) instead of landed truncated and
then landed again, whole, as a second submission.
"""

from __future__ import annotations

import abc
import collections
import io
import logging
from typing import Any

import paramiko
from paramiko import sftp as protocol

from brygga.errors import TargetUnavailable
from brygga_adapters.sftp.session import remote_faults
from brygga_adapters.sftp.settings import SftpSettings

log = logging.getLogger("brygga.adapters.sftp")

REQUEST_BYTES = 32 * 1024  # what every SFTP server serves in one reply (OpenSSH's and paramiko's limit)
WINDOW = 32
SEQUENTIAL_BLOCK_BYTES = 1024 * 1024  # the most one sequential read asks paramiko for (in 32 KiB requests)

Identity = tuple[int | None, int | None]  # (size, modification time) of a remote file

_END = object()
_PRIVATE_CLIENT_APIS = ("_async_request", "_read_response", "_convert_status")
_PROTOCOL_NAMES = ("CMD_DATA", "CMD_READ", "CMD_STATUS", "int64")


def missing_private_apis() -> list[str]:
    """The parts of paramiko's private request layer ``PipelinedReader`` needs that this paramiko lacks."""
    missing = [f"SFTPClient.{name}" for name in _PRIVATE_CLIENT_APIS
               if not callable(getattr(paramiko.SFTPClient, name, None))]
    return missing + [f"paramiko.sftp.{name}" for name in _PROTOCOL_NAMES if not hasattr(protocol, name)]


# pyproject allows paramiko>=3.5,<5: a release may drop or change what is private to it.
MISSING_PRIVATE_APIS = missing_private_apis()
_fallback_reported = False


def identity(attrs: paramiko.SFTPAttributes) -> Identity:
    return attrs.st_size, attrs.st_mtime


def open_reader(remote: paramiko.SFTPFile, settings: SftpSettings, location: str, opened: Identity) -> io.RawIOBase:
    """The stream of an open remote file: pipelined where paramiko allows it, else sequential."""
    global _fallback_reported
    if not MISSING_PRIVATE_APIS:
        return PipelinedReader(remote, settings, location, opened)
    if not _fallback_reported:
        _fallback_reported = True
        log.warning("paramiko %s lacks %s, which the SFTP read-ahead uses: files are read with plain sequential "
                    "requests instead (correct, but slower over a long network path)", paramiko.__version__,
                    ", ".join(MISSING_PRIVATE_APIS))
    return SequentialReader(remote, settings, location, opened)


class _RemoteStream(io.RawIOBase):
    """``read``/``readinto`` over an open remote file, the end checked; ``close`` closes the remote handle."""

    def __init__(self, remote: paramiko.SFTPFile, settings: SftpSettings, location: str, opened: Identity) -> None:
        super().__init__()
        self._remote = remote
        self._sftp: paramiko.SFTPClient = remote.sftp
        self._settings = settings
        self._location = location
        self._opened = opened
        self._total = 0  # bytes handed out
        self._ended = False
        self._block = memoryview(b"")

    def readable(self) -> bool:
        return True

    @abc.abstractmethod  # io.RawIOBase is an ABC: a reader without this cannot be made
    def _next_block(self, wanted: int) -> bytes:
        """The next bytes of the file in order, b"" at its end."""

    def _check_whole(self) -> None:
        """The bytes read are the file as it was opened: same size, same size and time as at open."""
        now = identity(self._remote.stat())  # FSTAT on the handle: the file read, even if renamed since
        if (now[0] is not None and now[0] != self._total) or now != self._opened:
            raise TargetUnavailable(
                f"connection {self._settings.conn_id!r}: a file in {self._location} changed while it was read "
                "(its size or modification time moved: still being uploaded?); nothing of it is taken in, the next "
                "run takes it whole. Uploads should use a temporary name (see ignore) or set min_age_seconds")

    def readinto(self, buffer: Any) -> int:
        if not self._block and not self._ended:
            with remote_faults(self._settings, "read a file in", self._location, self._sftp):
                block = self._next_block(len(buffer))
                if not block:
                    self._check_whole()  # raises before the end is reported: a reader never sees b"" then
                    self._ended = True
            self._total += len(block)
            self._block = memoryview(block)
        count = min(len(buffer), len(self._block))
        buffer[:count] = self._block[:count]
        self._block = self._block[count:]
        return count

    def _before_close(self) -> None:
        pass

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._before_close()
            self._remote.close()
        except (OSError, EOFError, paramiko.SSHException):
            pass  # the session is gone: the server closes the handle with it
        finally:
            super().close()


class SequentialReader(_RemoteStream):
    """Plain reads through paramiko's public file API, one request after the other."""

    def _next_block(self, wanted: int) -> bytes:
        return self._remote.read(min(max(wanted, REQUEST_BYTES), SEQUENTIAL_BLOCK_BYTES))


class PipelinedReader(_RemoteStream):
    """``WINDOW`` read requests in flight through paramiko's private request layer (see the module's doc)."""

    def __init__(self, remote: paramiko.SFTPFile, settings: SftpSettings, location: str, opened: Identity) -> None:
        super().__init__(remote, settings, location, opened)
        self._pending: collections.deque[tuple[int, int, int]] = collections.deque()  # (request, offset, length)
        self._replies: dict[int, Any] = {}  # request number -> bytes, _END or the exception
        self._next_offset = 0  # of the next request to send
        self._end_seen = False  # a request at or past the end came back: ask for nothing further

    def _ask(self, offset: int, length: int, *, first: bool = False) -> None:
        number = self._sftp._async_request(self, protocol.CMD_READ, self._remote.handle, protocol.int64(offset),
                                           int(length))
        entry = (number, offset, length)
        self._pending.appendleft(entry) if first else self._pending.append(entry)

    def _fill_window(self) -> None:
        while not self._end_seen and len(self._pending) < WINDOW:
            self._ask(self._next_offset, REQUEST_BYTES)
            self._next_offset += REQUEST_BYTES

    def _async_response(self, kind: int, msg: paramiko.Message, number: int) -> None:
        """Called by paramiko for each reply to a request of ours."""
        if all(pending != number for pending, _, _ in self._pending):
            return  # a request dropped after the end, or on close
        if kind == protocol.CMD_DATA:
            self._replies[number] = msg.get_binary()
        elif kind == protocol.CMD_STATUS:
            try:
                self._sftp._convert_status(msg)
                self._replies[number] = OSError("an SFTP read was answered without data")
            except EOFError:
                self._replies[number] = _END
            except Exception as exc:  # a status such as permission denied: raised where it is read
                self._replies[number] = exc
        else:
            self._replies[number] = OSError(f"an SFTP read was answered with message type {kind}")

    def _next_block(self, wanted: int) -> bytes:
        """The bytes at the current offset, in order: waits for the oldest request's reply."""
        self._fill_window()
        if not self._pending:
            return b""
        number, offset, length = self._pending[0]
        while number not in self._replies:
            self._sftp._read_response()
        self._pending.popleft()
        reply = self._replies.pop(number)
        if reply is _END:
            self._end_seen = True
            self._drop_pending()
            return b""
        if isinstance(reply, BaseException):
            raise reply
        if 0 < len(reply) < length:  # a server may answer short before the end: ask for the rest at once
            self._ask(offset + len(reply), length - len(reply), first=True)
        if not reply:
            self._end_seen = True
            self._drop_pending()
        return reply

    def _drop_pending(self) -> None:
        # Replies still to come for these are dropped on arrival (see _async_response).
        self._pending.clear()
        self._replies.clear()

    def _before_close(self) -> None:
        self._drop_pending()
