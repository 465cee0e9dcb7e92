"""One SSH connection with its SFTP channel, opened with host key checking always on, and the fault mapping.

Faults become Brygga's errors: unreachable or timed out -> TargetUnavailable; a refused login ->
CredentialsRefused; a host key other than the connection's -> HostKeyMismatch (permanent, fix the connection);
permission denied -> TargetRejected. Messages name the connection, host:port and remote paths, never credentials.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator

import paramiko

from brygga.errors import ConfigError, CredentialsRefused, TargetRejected, TargetUnavailable
from brygga_adapters.sftp.host_keys import fingerprint
from brygga_adapters.sftp.settings import SftpSettings

# What a broken or silent connection raises in paramiko: socket faults (OSError, timeouts among them),
# a dropped transport (EOFError) and protocol faults (SSHException).
TRANSPORT_FAULTS = (OSError, EOFError, paramiko.SSHException)


class HostKeyMismatch(ConfigError):
    """The server presented a host key other than the connection's ``host_key``: possibly another machine.

    Permanent until someone checks the server and updates the connection; fingerprints are not secret."""


def _mismatch(settings: SftpSettings, seen: paramiko.PKey) -> HostKeyMismatch:
    expected = ", ".join(fingerprint(key) for key in settings.host_keys)
    return HostKeyMismatch(
        f"connection {settings.conn_id!r}: the SFTP server at {settings.where} presented host key "
        f"{fingerprint(seen)}, but the connection's extra 'host_key' expects {expected}; nothing was sent. If the "
        "server's key was changed on purpose, put its new key in 'host_key' (rule: sftp-host-key)")


class _OnlyTheConnectionsKey(paramiko.RejectPolicy):
    """RejectPolicy that says which key was seen: a server key of a type the connection has no key for."""

    def __init__(self, settings: SftpSettings) -> None:
        self._settings = settings

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise _mismatch(self._settings, key)


def _known_name(settings: SftpSettings) -> str:
    """The name paramiko looks the server up by, as in known_hosts."""
    return settings.host if settings.port == 22 else f"[{settings.host}]:{settings.port}"


class SftpSession:
    """An open SFTP session; ``sftp`` is paramiko's SFTPClient. Close it (or use ``with``)."""

    def __init__(self, settings: SftpSettings) -> None:
        self.settings = settings
        self._client = paramiko.SSHClient()
        try:
            self.sftp = self._connect()
        except BaseException:
            self._client.close()
            raise

    def _connect(self) -> paramiko.SFTPClient:
        settings, client = self.settings, self._client
        # Only the connection's keys: no ~/.ssh/known_hosts, no agent, no key files found lying around.
        for key in settings.host_keys:
            client.get_host_keys().add(_known_name(settings), key.get_name(), key)
        client.set_missing_host_key_policy(_OnlyTheConnectionsKey(settings))
        try:
            client.connect(
                settings.host, port=settings.port, username=settings.login, password=settings.password,
                pkey=settings.private_key, timeout=settings.connect_timeout, banner_timeout=settings.connect_timeout,
                auth_timeout=settings.auth_timeout, allow_agent=False, look_for_keys=False,
            )
        except paramiko.BadHostKeyException as exc:
            raise _mismatch(settings, exc.key) from None
        except paramiko.AuthenticationException:
            how = "private key" if settings.private_key is not None else "password"
            raise CredentialsRefused(f"connection {settings.conn_id!r}: the SFTP server at {settings.where} refused "
                                     f"the login with the connection's {how}; check login and credentials") from None
        except TRANSPORT_FAULTS as exc:
            raise TargetUnavailable(f"connection {settings.conn_id!r}: the SFTP server at {settings.where} could "
                                    f"not be reached: {_kind(exc)}") from None
        try:
            sftp = client.open_sftp()
        except TRANSPORT_FAULTS as exc:
            raise TargetUnavailable(f"connection {settings.conn_id!r}: the server at {settings.where} opened no SFTP "
                                    f"session: {_kind(exc)}") from None
        channel = sftp.get_channel()
        if channel is not None:
            channel.settimeout(settings.read_timeout)
        return sftp

    def close(self) -> None:
        self._client.close()

    @property
    def active(self) -> bool:
        transport = self._client.get_transport()
        return transport is not None and transport.is_active()

    def __enter__(self) -> SftpSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _kind(exc: BaseException) -> str:
    """The kind of fault without details a server chose to send: refused, timed out, closed."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError | ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, EOFError | ConnectionError):
        return "the connection was closed"
    if isinstance(exc, paramiko.SSHException):
        return f"SSH protocol failure ({type(exc).__name__})"
    return f"{type(exc).__name__} (errno {exc.errno})" if isinstance(exc, OSError) and exc.errno else type(exc).__name__


@contextlib.contextmanager
def remote_faults(settings: SftpSettings, action: str, location: str,
                  sftp: paramiko.SFTPClient | None = None) -> Iterator[None]:
    """Turn what an SFTP operation raises into Brygga's errors. ``action`` says what was done ("write", "read").

    FileNotFoundError is left as it is: whether a missing file is a fault depends on the caller. ``sftp``, when
    given, tells a closed session (paramiko's plain OSError) from a failure status the server answered with."""
    try:
        yield
    except (FileNotFoundError, ConfigError, TargetRejected, TargetUnavailable):
        raise
    except PermissionError:
        raise TargetRejected(f"connection {settings.conn_id!r}: the SFTP server refused to {action} {location} "
                             "(permission denied); the account needs that right (rule: sftp-permission)") from None
    except (TimeoutError, EOFError, ConnectionError, paramiko.SSHException) as exc:
        raise _broke_off(settings, action, location, exc) from None
    except OSError as exc:
        if sftp is not None and sftp.sock.closed:
            raise _broke_off(settings, action, location, EOFError()) from None
        # An SFTP failure status (a full disk, a server fault); its text is the server's own.
        code = f" ({errno.errorcode.get(exc.errno, exc.errno)})" if exc.errno else ""
        raise TargetUnavailable(f"connection {settings.conn_id!r}: the SFTP server could not {action} "
                                f"{location}: it answered with a failure status{code}") from None


def _broke_off(settings: SftpSettings, action: str, location: str, exc: BaseException) -> TargetUnavailable:
    return TargetUnavailable(f"connection {settings.conn_id!r}: the SFTP session broke off while trying to "
                             f"{action} {location}: {_kind(exc)}")
