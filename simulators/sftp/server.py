"""An asyncssh SFTP server, chrooted to a folder, with its event loop in a daemon thread."""

from __future__ import annotations

import asyncio
import hmac
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncssh

# Starting and stopping are local socket work; anything slower than this is a fault worth seeing.
_STARTUP_SECONDS = 10.0


class _Connections:
    """The client connections open now; a test thread can wait for their number (they close on the loop's
    thread, after the client has let go)."""

    def __init__(self) -> None:
        self._open: set[asyncssh.SSHServerConnection] = set()
        self._changed = threading.Condition()

    def add(self, conn: asyncssh.SSHServerConnection) -> None:
        with self._changed:
            self._open.add(conn)
            self._changed.notify_all()

    def discard(self, conn: asyncssh.SSHServerConnection) -> None:
        with self._changed:
            self._open.discard(conn)
            self._changed.notify_all()

    def snapshot(self) -> list[asyncssh.SSHServerConnection]:
        with self._changed:
            return list(self._open)

    def wait_for(self, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self._open) == count, timeout)


class _Accounts(asyncssh.SSHServer):
    """Password and public-key logins for the configured users; one instance per client connection."""

    def __init__(self, passwords: Mapping[str, str], authorized_keys: Mapping[str, asyncssh.SSHAuthorizedKeys],
                 connections: _Connections) -> None:
        self._passwords = passwords
        self._authorized_keys = authorized_keys
        self._connections = connections
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        keys = self._authorized_keys.get(username)
        if keys is not None and self._conn is not None:
            self._conn.set_authorized_keys(keys)
        return True  # every login must authenticate

    def password_auth_supported(self) -> bool:
        return bool(self._passwords)

    def validate_password(self, username: str, password: str) -> bool:
        expected = self._passwords.get(username)
        return expected is not None and hmac.compare_digest(expected.encode(), password.encode())

    def public_key_auth_supported(self) -> bool:
        return bool(self._authorized_keys)


class _ReadOnlySftp(asyncssh.SFTPServer):
    """Refuses every change with 'permission denied', as a partner's read-only account does.

    Root bypasses file modes, so a test running as root cannot get the refusal from chmod alone."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise asyncssh.SFTPPermissionDenied("read-only account")

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        if pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_APPEND | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC):
            self._refuse()
        return super().open(path, pflags, attrs)

    mkdir = rmdir = remove = rename = posix_rename = setstat = symlink = link = _refuse  # type: ignore[assignment]


def _without_posix_rename(base: type[asyncssh.SFTPServer]) -> type[asyncssh.SFTPServer]:
    """Answers posix-rename@openssh.com with 'operation unsupported', as servers without the extension do; the
    standard rename then refuses to replace an existing name."""

    class NoPosixRename(base):  # type: ignore[valid-type, misc]
        def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
            raise asyncssh.SFTPOpUnsupported("posix-rename@openssh.com is not supported")

    return NoPosixRename


def _short_reads(base: type[asyncssh.SFTPServer], limit: int) -> type[asyncssh.SFTPServer]:
    """Answers each read with at most ``limit`` bytes, as the SFTP protocol allows any server to."""

    class ShortReads(base):  # type: ignore[valid-type, misc]
        def read(self, file_obj: object, offset: int, size: int) -> bytes:
            return super().read(file_obj, offset, min(size, limit))

    return ShortReads


class RunningSftpServer:
    """A started server: ``host``, ``port``, ``host_key_line`` (for a connection's ``host_key``) and ``root``."""

    def __init__(self, root: Path, host: str, port: int, host_key_line: str, loop: asyncio.AbstractEventLoop,
                 thread: threading.Thread, acceptor: asyncssh.SSHAcceptor, connections: _Connections) -> None:
        self.root = root
        self.host = host
        self.port = port
        self.host_key_line = host_key_line
        self._loop = loop
        self._thread = thread
        self._acceptor = acceptor
        self._connections = connections

    @property
    def open_sessions(self) -> int:
        """How many client connections are open now."""
        return len(self._connections.snapshot())

    def wait_for_sessions(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until exactly ``count`` client connections are open; False if that did not happen in time."""
        return self._connections.wait_for(count, timeout)

    def stop(self) -> None:
        """Stop listening, close the sessions still open and end the loop's thread. Safe to call twice."""
        if not self._thread.is_alive():
            return

        async def shut_down() -> None:
            self._acceptor.close()
            for conn in self._connections.snapshot():
                conn.close()
            await self._acceptor.wait_closed()
            for conn in self._connections.snapshot():
                await conn.wait_closed()

        asyncio.run_coroutine_threadsafe(shut_down(), self._loop).result(_STARTUP_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_STARTUP_SECONDS)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> RunningSftpServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _authorized(authorized_keys: Mapping[str, str | Iterable[str]] | None) -> dict[str, asyncssh.SSHAuthorizedKeys]:
    """Per user, OpenSSH public key lines (one string of lines, or a list of them)."""
    result = {}
    for user, lines in (authorized_keys or {}).items():
        text = lines if isinstance(lines, str) else "\n".join(lines)
        result[user] = asyncssh.import_authorized_keys(text)
    return result


def start_sftp_server(
    root: Path,
    *,
    users: Mapping[str, str] | None = None,
    authorized_keys: Mapping[str, str | Iterable[str]] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    host_key: asyncssh.SSHKey | None = None,
    read_only: bool = False,
    max_read_bytes: int | None = None,
    posix_rename: bool = True,
) -> RunningSftpServer:
    """Serve SFTP over ``root`` on a real socket (port 0: a free one is picked).

    ``users`` maps login to password (default ``{"partner": "pw"}``; ``{}`` for key logins only),
    ``authorized_keys`` maps login to OpenSSH public key lines. A fresh ed25519 host key is made per start unless
    ``host_key`` is given. With ``read_only`` every write, rename and removal is refused as permission denied;
    with ``max_read_bytes`` each read is answered with at most that many bytes (short reads before the end);
    without ``posix_rename`` the posix-rename@openssh.com extension is answered as unsupported.
    """
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    passwords = dict({"partner": "pw"} if users is None else users)
    keys = _authorized(authorized_keys)
    server_key = host_key or asyncssh.generate_private_key("ssh-ed25519")
    host_key_line = server_key.export_public_key("openssh").decode("ascii").split()[:2]
    connections = _Connections()
    sftp_class: type[asyncssh.SFTPServer] = _ReadOnlySftp if read_only else asyncssh.SFTPServer
    if not posix_rename:
        sftp_class = _without_posix_rename(sftp_class)
    if max_read_bytes is not None:
        sftp_class = _short_reads(sftp_class, max_read_bytes)

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name=f"sftp-simulator-{root.name}", daemon=True)
    thread.start()

    async def listen() -> asyncssh.SSHAcceptor:
        return await asyncssh.create_server(
            lambda: _Accounts(passwords, keys, connections), host, port,
            server_host_keys=[server_key],
            sftp_factory=lambda chan: sftp_class(chan, chroot=str(root).encode()),
            allow_scp=False,
        )

    try:
        acceptor = asyncio.run_coroutine_threadsafe(listen(), loop).result(_STARTUP_SECONDS)
    except BaseException:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_STARTUP_SECONDS)
        raise
    bound_port = acceptor.sockets[0].getsockname()[1]
    return RunningSftpServer(root, host, bound_port, " ".join(host_key_line), loop, thread, acceptor, connections)
