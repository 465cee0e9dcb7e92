"""A remote file read as a stream, with a bounded number of read requests in flight.

paramiko's own ``prefetch`` asks for the whole file ahead and, when its bookkeeping races with the reader, keeps
the rest of the file in memory; a 200 MB drawing must not. Here the reader itself keeps ``WINDOW`` requests of
``REQUEST_BYTES`` outstanding (about 1 MiB in flight): as fast as prefetch over a real network, in flat memory.
The requests go through paramiko's SFTP request layer, which hands each reply to the ``_async_response`` of the
object that asked (as it does for its own prefetch).
"""

from __future__ import annotations

import collections
import io
from typing import Any

import paramiko
from paramiko.sftp import CMD_DATA, CMD_READ, CMD_STATUS, int64

from brygga_adapters.sftp.session import remote_faults
from brygga_adapters.sftp.settings import SftpSettings

REQUEST_BYTES = 32 * 1024  # what every SFTP server serves in one reply (OpenSSH's and paramiko's limit)
WINDOW = 32

_END = object()


class PipelinedReader(io.RawIOBase):
    """``read``/``readinto`` over an open remote file; ``close`` closes the remote handle."""

    def __init__(self, remote: paramiko.SFTPFile, settings: SftpSettings, location: str) -> None:
        super().__init__()
        self._remote = remote
        self._sftp: paramiko.SFTPClient = remote.sftp
        self._settings = settings
        self._location = location
        self._pending: collections.deque[tuple[int, int, int]] = collections.deque()  # (request, offset, length)
        self._replies: dict[int, Any] = {}  # request number -> bytes, _END or the exception
        self._next_offset = 0  # of the next request to send
        self._end_seen = False  # a request at or past the end came back: ask for nothing further
        self._block = memoryview(b"")

    def readable(self) -> bool:
        return True

    def _ask(self, offset: int, length: int, *, first: bool = False) -> None:
        number = self._sftp._async_request(self, CMD_READ, self._remote.handle, int64(offset), int(length))
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
        if kind == CMD_DATA:
            self._replies[number] = msg.get_binary()
        elif kind == CMD_STATUS:
            try:
                self._sftp._convert_status(msg)
                self._replies[number] = OSError("an SFTP read was answered without data")
            except EOFError:
                self._replies[number] = _END
            except Exception as exc:  # a status such as permission denied: raised where it is read
                self._replies[number] = exc
        else:
            self._replies[number] = OSError(f"an SFTP read was answered with message type {kind}")

    def _next_block(self) -> bytes:
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

    def readinto(self, buffer: Any) -> int:
        if not self._block:
            with remote_faults(self._settings, "read a file in", self._location, self._sftp):
                self._block = memoryview(self._next_block())
        count = min(len(buffer), len(self._block))
        buffer[:count] = self._block[:count]
        self._block = self._block[count:]
        return count

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._drop_pending()
            self._remote.close()
        except (OSError, EOFError, paramiko.SSHException):
            pass  # the session is gone: the server closes the handle with it
        finally:
            super().close()
