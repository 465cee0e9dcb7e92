"""What an SFTP adapter needs from its Connection, checked before anything connects.

Fields: scheme ``sftp``, host, port (22), login, and either the password or the extra ``private_key_file``
(then the password, if any, is that key's passphrase and is never sent to the server). Extra ``host_key`` is
required. Timeouts in seconds: ``connect_timeout`` (TCP, banner and key exchange), ``auth_timeout`` and
``read_timeout`` (each SFTP request's reply).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga_adapters.http.extras import flag, seconds, text
from brygga_adapters.sftp.host_keys import expected_host_keys

DEFAULT_PORT = 22
# Extras other SSH tools use to switch host key checking off; Brygga has no such switch.
_HOST_KEY_CHECK_OFF = ("no_host_key_check", "allow_host_key_change", "insecure", "strict_host_key_checking_off")


@dataclass(frozen=True)
class SftpSettings:
    conn_id: str
    host: str
    port: int
    base_path: str  # the connection's path: '' (the login's own folder) or an absolute '/a/b'
    login: str
    host_keys: tuple[paramiko.PKey, ...] = field(repr=False)
    password: str | None = field(default=None, repr=False)
    private_key: paramiko.PKey | None = field(default=None, repr=False)
    connect_timeout: float = 10.0
    auth_timeout: float = 30.0
    read_timeout: float = 60.0

    @property
    def where(self) -> str:
        """Host and port, for messages: never credentials."""
        return f"{self.host}:{self.port}"

    def remote_path(self, relative: str) -> str:
        """A route config path below the connection's path; '.' is the login's own folder."""
        return posixpath.normpath(posixpath.join(self.base_path or ".", relative or "."))

    def location(self, remote_path: str) -> str:
        """``sftp://<conn_id>/<path>``: where something is, for the ledger; names no host or credentials."""
        return f"sftp://{self.conn_id}/{remote_path.lstrip('/').removeprefix('./')}"


def _private_key(connection: Connection) -> paramiko.PKey | None:
    path = text(connection, "private_key_file")
    if path is None:
        return None
    where = f"connection {connection.conn_id!r}: extra 'private_key_file'"
    if not Path(path).is_file():
        raise ConfigError(f"{where} names no readable file")
    passphrase = connection.password.encode() if connection.password else None
    try:
        return paramiko.PKey.from_path(path, passphrase=passphrase)
    except (paramiko.PasswordRequiredException, TypeError) as exc:
        # cryptography says "no passphrase for an encrypted key" with a TypeError, which paramiko lets through.
        if passphrase is None:
            raise ConfigError(f"{where} is an encrypted key: put its passphrase in the connection's password") from None
        raise ConfigError(f"{where} could not be read: {type(exc).__name__}") from None
    except (paramiko.SSHException, ValueError, OSError) as exc:
        raise ConfigError(f"{where} could not be read as an OpenSSH or PEM private key (a wrong passphrase, or "
                          f"not a private key): {type(exc).__name__}") from None


def sftp_settings(connection: Connection | None, adapter: str) -> SftpSettings:
    if connection is None:
        raise ConfigError(f"adapter {adapter!r} needs a connection (an sftp:// URI or an Airflow SFTP connection)")
    conn_id = connection.conn_id
    if connection.scheme != "sftp":
        raise ConfigError(f"connection {conn_id!r}: adapter {adapter!r} needs scheme 'sftp' (sftp://host/path or "
                          "conn_type sftp)")
    if not connection.login:
        raise ConfigError(f"connection {conn_id!r}: the SFTP login is empty; set the connection's login")
    for key in _HOST_KEY_CHECK_OFF:
        if key in connection.extra and flag(connection, key):
            raise ConfigError(f"connection {conn_id!r}: extra {key!r} is refused: host key checking is always on; "
                              "put the server's key in 'host_key' (rule: sftp-host-key)")
    private_key = _private_key(connection)
    if private_key is None and not connection.password:
        raise ConfigError(f"connection {conn_id!r}: give the SFTP login a password or the extra 'private_key_file'")
    return SftpSettings(
        conn_id=conn_id,
        host=connection.host,
        port=connection.port or DEFAULT_PORT,
        base_path=connection.path,
        login=connection.login,
        host_keys=tuple(expected_host_keys(connection)),
        password=None if private_key is not None else connection.password,
        private_key=private_key,
        connect_timeout=seconds(connection, "connect_timeout", 10.0),
        auth_timeout=seconds(connection, "auth_timeout", 30.0),
        read_timeout=seconds(connection, "read_timeout", 60.0),
    )


# What an SFTP connection holds (README.md, "The connection"), for `brygga adapters list`.
CONNECTION_FIELDS: dict[str, str] = {
    "conn_type": "sftp (or a URI sftp://login@host:port/base?host_key=... as BRYGGA_CONN_<ID>)",
    "host, port": "the server; port 22 by default",
    "extra path": "the base folder the config's path is relative to (empty: the login's own folder)",
    "login": "the SFTP account",
    "password": "its password, or with extra private_key_file that key's passphrase (then never sent)",
    "extra private_key_file": "an OpenSSH or PEM private key file, for key login",
    "extra host_key": "required: the server's public key as a known_hosts line (ssh-ed25519 AAAA...)",
    "extra connect_timeout": "seconds for connect, banner and key exchange (10)",
    "extra auth_timeout": "seconds for the login (30)",
    "extra read_timeout": "seconds to wait for each SFTP reply (60)",
}
