"""Reading typed values from a connection's extras, with errors that name the connection and the extra."""

from __future__ import annotations

from brygga.connections import Connection
from brygga.errors import ConfigError

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


def flag(connection: Connection, key: str) -> bool:
    """A boolean extra; absent means false. Anything but a clear yes/no is refused rather than guessed."""
    raw = connection.extra.get(key)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"connection {connection.conn_id!r}: extra {key!r} must be true or false")


def seconds(connection: Connection, key: str, default: float) -> float:
    raw = connection.extra.get(key)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"connection {connection.conn_id!r}: extra {key!r} must be a number of seconds") from None
    if value <= 0:
        raise ConfigError(f"connection {connection.conn_id!r}: extra {key!r} must be more than 0 seconds")
    return value


def text(connection: Connection, key: str) -> str | None:
    """A string extra, None when absent or blank."""
    value = (connection.extra.get(key) or "").strip()
    return value or None
