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


# Extras other tools use to switch certificate checks off (requests' and Airflow's ``verify``, curl's
# ``insecure``, ...), each with the value that keeps them on. Brygga has no such switch: anything else is refused
# rather than ignored, so nobody believes a target unchecked, or a CA file given here trusted.
_TLS_SWITCHES = {
    "verify": True,
    "verify_ssl": True,
    "ssl_verify": True,
    "tls_verify": True,
    "verify_tls": True,
    "insecure": False,
    "ssl_insecure": False,
    "tls_insecure": False,
    "insecure_skip_verify": False,
    "no_verify": False,
    "skip_verify": False,
    "disable_ssl_verification": False,
    "disable_tls_verification": False,
}
TLS_ALWAYS_ON = (
    "TLS certificate verification is always on and cannot be switched off; to trust a private CA, give its PEM "
    "file in the 'ca_bundle' extra (rule: tls-verify)"
)


def refuse_tls_off(connection: Connection) -> None:
    """Refuse any extra that would switch TLS certificate verification off (or is not a clear "keep it on")."""
    for key, keeps_it_on in _TLS_SWITCHES.items():
        value = (connection.extra.get(key) or "").strip().lower()
        if not value or value in (_TRUE if keeps_it_on else _FALSE):
            continue  # absent, blank, or a request to keep verification on: what Brygga does anyway
        raise ConfigError(f"connection {connection.conn_id!r}: extra {key!r} is refused: {TLS_ALWAYS_ON}")


def choice(connection: Connection, key: str, allowed: tuple[str, ...]) -> str | None:
    """One of ``allowed`` (case-insensitive), None when absent or blank; anything else is refused, naming the
    extra and the allowed values but never the value given."""
    value = (connection.extra.get(key) or "").strip().lower()
    if not value:
        return None
    if value not in allowed:
        raise ConfigError(f"connection {connection.conn_id!r}: extra {key!r} must be one of {', '.join(allowed)}")
    return value
